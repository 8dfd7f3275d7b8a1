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


def scale_floors(ex, q, zero: np.ndarray, spec, groups: list[slice], post: np.ndarray,
                 weight: np.ndarray, total_current: np.ndarray,
                 calibration: Calibration | None, headroom: float = 2.0) -> np.ndarray:
    """The smallest ``v_lsb`` (V) each population may have, per neuron (the population's
    largest): weights into it fit, its observed range fits (with ``calibration``), and a
    never-firing population's bound fits (without one). ``post``/``weight`` are every
    synapse's and input channel's target and weight (A); ``q`` the broadcast parameters."""
    n, dt = ex.n, ex.dt
    m_v, k_v = leak_fields(q.tau_m, dt, spec.max_shift, spec.leak_bits)  # as quantised
    gain = q.R * leak_fraction(m_v, k_v)              # volts per tick per ampere
    v_max = (1 << (spec.v_bits - 1)) - 1
    i_max = (1 << (spec.i_bits - 1)) - 1
    # a weight must fit the largest mantissa at the largest exponent, and one event of it
    # the i register with headroom
    w_room = min(((1 << (spec.w_bits - 1)) - 1) * 2.0 ** spec.max_w_exp, i_max / headroom)
    per_weight = np.zeros(n)
    if weight.size:
        np.maximum.at(per_weight, post, np.abs(weight) * gain[post] / w_room)
    floor = per_weight
    if calibration is not None:
        if calibration.n != n:
            raise ValueError(f"the calibration has {calibration.n} neurons, the network {n}")
        floor = np.maximum(floor, headroom * calibration.v_range(zero) / v_max)
        floor = np.maximum(floor, headroom * calibration.I_abs * gain / i_max)
    else:
        never = np.abs(q.V_th) >= NEVER_FIRES
        if never.any():
            floor = np.maximum(floor, np.where(never, headroom * _range_bound(
                ex, q, post, weight, total_current) / v_max, 0.0))
    return _group_max(floor, groups)


def _range_bound(ex, q, post, weight, total_current) -> np.ndarray:
    """``|V - zero|`` can reach at most this (V) when every synapse delivers in every tick
    and the input events arrive as given: ``R`` times the steady current (``total_current``
    holds the bias, and the leak current of a zero below ``E_L``)."""
    n = ex.n
    recurrent = np.zeros(n)
    syn = ex.weight.size
    np.add.at(recurrent, post[:syn], np.abs(weight[:syn]))
    jumps = np.abs(ex.input_jumps()) if ex.event_neuron.size else np.zeros((1, n))
    per_tick = recurrent + np.max(jumps, axis=0, initial=0.0)
    with np.errstate(over="ignore"):
        decay = np.exp(-ex.dt / q.tau_syn)
    current = per_tick / (1.0 - decay) + np.max(np.abs(total_current), axis=0, initial=0.0)
    return q.R * current
