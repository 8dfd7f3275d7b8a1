"""Voltage scales from the network's actual range (post-training calibration).

``compile_netlist`` gives every population its own voltage scale ``v_lsb``
(docs/quantisation.md). The quantiser's rule looks at the thresholds alone; this module
adds the floors that make the registers hold what the network does:

* **observed range** (``Calibration``, from a float reference run on the user's input:
  ``compiler.pipeline.float_run`` or ``formats.nir.run_float``): the largest
  ``|V - zero|`` plus ``headroom`` must fit the ``v`` register and the largest
  ``|I_syn|`` plus ``headroom`` the ``i`` register (which holds it in ``i_lsb``);
* **never-firing populations** (NIR LI, CubaLI, I: ``V_th`` of 1e10 V and more) without a
  calibration: the bound of their range if every presynaptic neuron fired in every tick
  (and the input events as given), so that they cannot overflow;
* **weights**: the largest weight into a population, in its ``i_lsb``, must fit the
  largest mantissa at the largest exponent, and the ``i`` register with ``headroom`` --
  the scale is coarsened rather than the weight clipped (so more ``v_bits`` never clip a
  weight that fewer bits kept).

Every floor is a lower bound on ``v_lsb``; the quantiser takes the largest of them and of
its own rule. A floor either does not depend on ``v_bits`` (weights, ``i`` register) or
is a range over ``2^(v_bits-1) - 1``, so a wider ``v`` never gets a coarser scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_models.lif.quantiser import NEVER_FIRES, leak_fields, leak_fraction

__all__ = ["Calibration", "register_zero", "scale_floors"]


@dataclass(frozen=True)
class Calibration:
    """What a float reference run of the network did, per neuron (netlist order):
    the lowest and highest membrane potential (V) and the largest ``|I_syn|`` (A)."""

    V_min: np.ndarray
    V_max: np.ndarray
    I_abs: np.ndarray

    @classmethod
    def from_run(cls, run) -> "Calibration":
        """From any run with ``V`` and ``I_syn`` arrays ``(ticks, n)``: the trace of
        ``compiler.pipeline.float_run`` or the ``FloatRun`` of ``formats.nir.run_float``."""
        V = np.asarray(run.V, dtype=float)
        I = np.asarray(run.I_syn, dtype=float)
        if V.ndim != 2 or V.shape != I.shape:
            raise ValueError(f"a calibration run needs V and I_syn of shape (ticks, n), "
                             f"got {V.shape} and {I.shape}")
        finite = np.where(np.isfinite(V), V, np.nan)
        return cls(np.nan_to_num(np.nanmin(finite, axis=0, initial=np.inf), posinf=0.0),
                   np.nan_to_num(np.nanmax(finite, axis=0, initial=-np.inf), neginf=0.0),
                   np.max(np.abs(np.nan_to_num(I)), axis=0, initial=0.0))

    @property
    def n(self) -> int:
        return int(np.size(self.I_abs))

    def v_range(self, zero) -> np.ndarray:
        """The largest ``|V - zero|`` seen, per neuron."""
        return np.maximum(np.abs(self.V_max - zero), np.abs(self.V_min - zero))


def register_zero(q) -> np.ndarray:
    """Where each neuron's ``v = 0`` lies: ``E_L``, or ``V_th`` when the threshold lies
    below ``E_L`` (the unsigned threshold field holds only ``V_th`` at or above the zero).
    Below ``E_L`` the leak towards ``E_L`` is the current ``g_L (E_L - zero)``."""
    reach = np.where(np.abs(q.V_th) < NEVER_FIRES, q.V_th, np.inf)
    return np.minimum(q.E_L, reach)


def _group_max(values: np.ndarray, groups: list[slice]) -> np.ndarray:
    out = np.zeros(values.size)
    for g in groups:
        out[g] = np.max(values[g], initial=0.0)
    return out


def scale_floors(ex, q, zero: np.ndarray, spec, groups: list[slice], post, weight,
                 total_current: np.ndarray, calibration: Calibration | None,
                 headroom: float = 2.0) -> np.ndarray:
    """The smallest ``v_lsb`` (V) each population may have, per neuron (the population's
    largest): weights into it fit, its observed range fits (with ``calibration``), and a
    never-firing population's bound fits (without one). ``post``/``weight`` are every
    synapse's and input channel's target and weight (A): arrays, or tuples of arrays
    (the recurrent synapses, then the input channels) read in chunks without joining
    them; ``q`` the broadcast parameters."""
    posts, weights = _as_parts(post), _as_parts(weight)
    n, dt = ex.n, ex.dt
    m_v, k_v = leak_fields(q.tau_m, dt, spec.max_shift, spec.leak_bits)  # as quantised
    gain = q.R * leak_fraction(m_v, k_v)              # volts per tick per ampere
    v_max = (1 << (spec.v_bits - 1)) - 1
    i_max = (1 << (spec.i_bits - 1)) - 1
    # a weight must fit the largest mantissa at the largest exponent, and one event of it
    # the i register with headroom
    w_room = min(((1 << (spec.w_bits - 1)) - 1) * 2.0 ** spec.max_w_exp, i_max / headroom)
    floor = _weight_floor(posts, weights, gain, w_room, groups, n)
    if calibration is not None:
        if calibration.n != n:
            raise ValueError(f"the calibration has {calibration.n} neurons, the network {n}")
        floor = np.maximum(floor, headroom * calibration.v_range(zero) / v_max)
        floor = np.maximum(floor, headroom * calibration.I_abs * gain / i_max)
    else:
        never = np.abs(q.V_th) >= NEVER_FIRES
        if never.any():
            floor = np.maximum(floor, np.where(never, headroom * _range_bound(
                ex, q, posts, weights, total_current) / v_max, 0.0))
    return _group_max(floor, groups)


CHUNK = 1 << 21     # weights per chunk


def _as_parts(values) -> list[np.ndarray]:
    return [np.asarray(v) for v in values] if isinstance(values, tuple) \
        else [np.asarray(values)]


def _weight_floor(posts, weights, gain, w_room: float, groups: list[slice],
                  n: int) -> np.ndarray:
    """Per neuron, the largest ``|w| gain[post] / w_room`` of the weights into its group
    (0 where none): what ``maximum.at`` per neuron and then the group's largest give, in
    chunks (a maximum is the same in any order)."""
    group_of = np.full(n, len(groups), dtype=np.int64)
    for k, g in enumerate(groups):
        group_of[g] = k
    largest = np.zeros(len(groups) + 1)
    for p, w in zip(posts, weights):
        for a in range(0, p.size, CHUNK):
            target = p[a:a + CHUNK]
            value = np.abs(w[a:a + CHUNK]) * gain[target] / w_room
            group = group_of[target]
            if group[0] == group[-1] and np.all(group == group[0]):   # one group: no sort
                largest[group[0]] = max(largest[group[0]], float(value.max()))
                continue
            order = np.argsort(group, kind="stable")
            cuts = np.concatenate([[0], np.flatnonzero(np.diff(group[order])) + 1])
            keys = group[order][cuts]
            largest[keys] = np.maximum(largest[keys],
                                       np.maximum.reduceat(value[order], cuts))
    return largest[group_of] if n else np.zeros(0)


def _range_bound(ex, q, posts, weights, total_current) -> np.ndarray:
    """``|V - zero|`` can reach at most this (V) when every synapse delivers in every tick
    and the input events arrive as given: ``R`` times the steady current (``total_current``
    holds the bias, and the leak current of a zero below ``E_L``)."""
    n = ex.n
    syn = ex.weight.size
    post = np.concatenate(posts)[:syn] if len(posts) > 1 else posts[0][:syn]
    weight = np.concatenate(weights)[:syn] if len(weights) > 1 else weights[0][:syn]
    # the sums in synapse order, as add.at made them (bincount adds in that order too)
    recurrent = np.bincount(post.astype(np.int64), weights=np.abs(weight), minlength=n) \
        if syn else np.zeros(n)
    jumps = np.abs(ex.input_jumps()) if ex.event_neuron.size else np.zeros((1, n))
    per_tick = recurrent + np.max(jumps, axis=0, initial=0.0)
    with np.errstate(over="ignore"):
        decay = np.exp(-ex.dt / q.tau_syn)
    current = per_tick / (1.0 - decay) + np.max(np.abs(total_current), axis=0, initial=0.0)
    return q.R * current
