"""The float reference run of a loaded graph (``run_float``) and its result
(``FloatRun``): the netlist expanded, ``firmware_models.lif.reference.simulate`` one
tick at a time over all neurons, spikes delivered after their delays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from firmware_models.lif.reference import simulate
from firmware_models.traces import canonical

from ...hardware.limits import over_budget
from ..netlist import expand
from .constants import NON_SPIKING
from .errors import NirError
from .network import NirNetwork


RUN_BYTES = 48.0     # per tick and neuron: spikes, V, I_syn, input jumps, currents


@dataclass(frozen=True, eq=False)
class FloatRun:
    """A float reference run: ``(ticks, n)`` arrays over all neurons (global order of
    the netlist); row ``k`` is the state after tick ``k``. Named as the chip's registers
    (``spikes``, ``v``, ``i``); ``V`` and ``I_syn`` are the same arrays."""

    network: NirNetwork
    spikes: np.ndarray
    v: np.ndarray
    i: np.ndarray

    V = property(lambda self: self.v, doc="``v``, the membrane")
    I_syn = property(lambda self: self.i, doc="``i``, the synaptic current")

    @property
    def ticks(self) -> int:
        return self.spikes.shape[0]

    def node(self, name: str, var: str = "spikes") -> np.ndarray:
        """``(ticks, *shape)`` of ``var`` (``"spikes"``, ``"v"``, ``"i"``; ``"V"`` and
        ``"I_syn"`` accepted) of neuron node ``name``."""
        m = self.network._node(name)
        if canonical(var) not in ("spikes", "v", "i"):
            raise ValueError(f"var must be 'spikes', 'v' or 'i', got {var!r}")
        return getattr(self, canonical(var))[:, m.start:m.stop].reshape(self.ticks, *m.shape)

    def population(self, name: str, var: str = "spikes") -> np.ndarray:
        """``(ticks, size)`` of ``var`` of population ``name`` (netlist name)."""
        for m in self.network.nodes.values():
            if m.population == name:
                return self.node(m.name, var).reshape(self.ticks, m.size)
        raise KeyError(f"no population {name!r}")

    def output(self, name: str | None = None) -> np.ndarray:
        """What Output node ``name`` (the only one by default) records: the spikes of the
        nodes feeding it (their membrane potential for LI, CubaLI and I), ``(ticks,
        *shape)``; several feeding nodes are concatenated."""
        outs = self.network.outputs
        if name is None:
            if len(outs) != 1:
                raise ValueError(f"name one of the Output nodes: {', '.join(outs) or 'none'}")
            (name,) = outs
        o = outs[name]
        parts = []
        for f in o.nodes:
            var = "v" if self.network.nodes[f].type in NON_SPIKING else "spikes"
            parts.append(self.node(f, var).reshape(self.ticks, -1).astype(float))
        flat = np.concatenate(parts, axis=1)
        return flat.reshape(self.ticks, *o.shape) if flat.shape[1] == int(np.prod(o.shape)) \
            else flat


def _check_budget(network: NirNetwork, ticks: int, n: int, ring: int) -> None:
    """Refuse a run whose arrays (``RUN_BYTES`` per tick and neuron, a ring of ``ring``
    ticks of delays) exceed the memory budget, before any is allocated."""
    why = over_budget(n * (ticks * RUN_BYTES + ring * 8.0),
                      f"run_float over {ticks} ticks x {n} neurons (delays of up to {ring} "
                      f"ticks)")
    if why:
        raise NirError(network.source, "", why)


def run_float(network: NirNetwork, inputs) -> FloatRun:
    """Run the float reference of a loaded graph, tick by tick.

    ``inputs``: ``(ticks, n_inputs)`` values of the input channels (spike counts or any
    real values; see ``NirNetwork.input_array``). The netlist is expanded with
    ``netlist.expand``; each tick calls ``firmware_models.lif.reference.simulate``
    (``method="exact"``: the conventions are built for it) for one tick over all neurons,
    carrying ``V``, ``I_syn`` and ``Theta``; spikes of tick ``k``
    are delivered in tick ``k + delay`` (>= 1). Refractory periods and noise are not
    carried between ticks, so the netlist must have ``T_ref = 0`` and ``sigma = 0`` (every
    loaded NIR graph has).
    """
    x = network.input_array(inputs)
    ticks = x.shape[0]
    _check_budget(network, ticks, network.netlist.n, 1)
    try:
        ex = expand(network.netlist_for(ticks))
    except ValueError as e:              # the netlist's own budget (recordings, inputs)
        raise NirError(network.source, "", f"run_float over {ticks} ticks: {e}") from None
    n, dt = ex.n, ex.dt
    q = ex.params.broadcast(n)
    if np.any(np.rint(q.T_ref / dt) > 0) or np.any(q.sigma > 0):
        raise ValueError("run_float carries no refractory counter and no noise: the netlist "
                         "needs T_ref < dt/2 and sigma = 0")
    d = ex.delay_ticks()
    L = int(d.max()) + 1 if d.size else 2
    _check_budget(network, ticks, n, L)
    jumps = network.input_jumps(x)
    current = ex.current() if ex.currents else None
    ring = np.zeros((L, n))
    order = np.argsort(ex.pre, kind="stable")
    pre, post, w, d = ex.pre[order], ex.post[order], ex.weight[order], d[order]
    starts = np.searchsorted(pre, np.arange(n + 1))
    V = q.E_L.copy()
    I = np.zeros(n)
    Theta = np.zeros(n)
    out_s = np.zeros((ticks, n), dtype=bool)
    out_V = np.empty((ticks, n))
    out_I = np.empty((ticks, n))
    for k in range(ticks):
        slot = k % L
        syn = ring[slot] + jumps[k]
        ring[slot] = 0.0
        tr = simulate(q, dt, 1, n=n, syn_input=syn[None, :],
                      I_ext=None if current is None else current[k][None, :],
                      V0=V, I0=I, Theta0=Theta)
        V, I, Theta, fired = tr.v[0], tr.i[0], tr.theta[0], tr.spikes[0]
        out_s[k], out_V[k], out_I[k] = fired, V, I
        idx = np.flatnonzero(fired)
        if idx.size and pre.size:
            lo, hi = starts[idx], starts[idx + 1]
            cnt = hi - lo
            total = int(cnt.sum())
            if total:
                sel = np.repeat(lo, cnt) + (np.arange(total) - np.repeat(np.cumsum(cnt) - cnt, cnt))
                np.add.at(ring, ((k + d[sel]) % L, post[sel]), w[sel])
    return FloatRun(network, out_s, out_V, out_I)
