"""Running the comparison: configurations (``sweep``, ``resolve_config``, ``base_spec``)
compiled and run on the emulator against one float reference (``compare``), the width
search (``smallest_width``, ``smallest_passing``) and the float model of what a
configuration's registers realise (``realised_float_run``)."""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np

from ...hardware.fixed import RegisterOverflowError
from ...hardware.spec import CoreSpec, SpecError
from ..metrics import netlist_metrics, netlist_of
from .metrics import (DEFAULT_TAU, DEFAULT_WINDOW, first_difference,
                      first_difference_per_neuron, match_spikes, van_rossum)
from .results import (DEFAULT_METRIC, SEARCH_METRICS, ComparisonResult, WidthSearch, label_of,
                      passes)

# "asked": compiler.float_run, the netlist's parameters (error = parameter quantisation +
# arithmetic); "realised": the float model of what each configuration's registers hold
# (error = the arithmetic's alone, bounded in docs/error-bounds.md)
REFERENCES = ("asked", "realised")
# the CoreSpec fields a result reports (widths and modes; capacities are the chip's business)
SPEC_FIELDS = ("dialect", "v_bits", "i_bits", "w_bits", "theta_bits", "w_exp_bits",
               "ref_bits", "rounding", "overflow")


def base_spec(expanded, mesh: tuple[int, int] = (2, 2)) -> CoreSpec:
    """A core with room for the network spread over ``mesh``: ``n_slots`` the neurons per
    core, generous axons, synapse words and routing entries (as ``neurochip run``)."""
    from ...compiler.pipeline import roomy_core_spec

    cores = mesh[0] * mesh[1]
    delays = np.unique(np.maximum(expanded.delay_ticks(), 1)).size if expanded.delay.size else 1
    return roomy_core_spec(-(-expanded.n // cores), cores, delays)


def resolve_config(config, base: CoreSpec) -> CoreSpec:
    """A ``CoreSpec`` is used as it is; a mapping of ``CoreSpec`` fields is applied to
    ``base``, with ``theta_bits`` following ``v_bits`` unless given (as in ``neurochip
    run``: the threshold offset is held in the membrane's LSB). A mapping that names a
    ``dialect`` starts from that dialect's preset widths (``dialects.dialect_spec``)."""
    if isinstance(config, CoreSpec):
        return config
    if not isinstance(config, Mapping):
        raise SpecError(f"a configuration is a CoreSpec or a dict of its fields, got "
                        f"{config!r}")
    changes = dict(config)
    if "dialect" in changes:
        from ...compiler.dialects import PRESETS, check_dialect
        changes = {**PRESETS[check_dialect(changes["dialect"])], **changes}
    if "v_bits" in changes and "theta_bits" not in changes:
        changes["theta_bits"] = changes["v_bits"]
    return base.replace(**changes)


def sweep(v_bits: Sequence[int] = (16,), i_bits: Sequence[int] = (16,),
          w_bits: Sequence[int] = (8,), rounding: Sequence[str] = ("floor",)) -> list[dict]:
    """Every combination as configuration dicts: rounding, then i, then w, then v
    (so that each v sweep is contiguous)."""
    return [{"v_bits": v, "i_bits": i, "w_bits": w, "rounding": r}
            for r, i, w, v in itertools.product(rounding, i_bits, w_bits, v_bits)]


def expanded_network(netlist):
    """``netlist`` (a path, a ``Netlist`` or an ``ExpandedNetwork``) as an
    ``ExpandedNetwork``."""
    from ...formats.netlist import ExpandedNetwork, expand, load_netlist

    if isinstance(netlist, ExpandedNetwork):
        return netlist
    if isinstance(netlist, (str, os.PathLike)):
        netlist = load_netlist(netlist)
    return expand(netlist)


def _check_mesh(mesh) -> tuple[int, int]:
    try:
        w, h = mesh
    except (TypeError, ValueError):
        raise SpecError(f"mesh must be (width, height), got {mesh!r}") from None
    if not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in (w, h)):
        raise SpecError(f"mesh must be two positive integers, got {mesh!r}")
    return w, h


def realised_float_run(compiled, ticks: int | None = None, seed: int | None = None):
    """The float reference of what ``compiled``'s registers realise: the LIF parameters
    ``compiled.quantised.realised``, every synaptic and input weight as realised (the
    compiler's report: mantissa times ``2^w_exp`` times its target's weight LSB, in the
    dialect's weight format), the bias schedule (``I_bias`` with dc and step currents) as
    its register values (as the dialect encodes them) times ``i_lsb``, delays in whole
    ticks. Against
    it an emulator run differs by its arithmetic alone (``docs/error-bounds.md``)."""
    from dataclasses import replace

    from firmware_models.lif.reference import simulate

    from ...hardware.synapses import row_words

    ex, net, q = compiled.expanded, compiled.network, compiled.quantised
    ticks = ex.ticks if ticks is None else ticks
    n, i_lsb = ex.n, q.scales.i_lsb
    # realised weights (A): recurrent synapses, then input channels, as the compiler
    # quantised them (the dialect's weight format and scale included)
    realised_w = np.asarray(compiled.report.weight_error.realised, dtype=float)
    syn_w, input_w = realised_w[:net.w.size], realised_w[net.w.size:]
    # input events: each event on a channel reaches every input synapse of that channel
    tick, channel = compiled.input_events
    keep = tick < ticks
    syn_input = np.zeros((ticks, n))
    order = np.argsort(net.input_channel, kind="stable")
    start = np.concatenate([[0], np.cumsum(np.bincount(net.input_channel,
                                                       minlength=net.n_inputs))])
    words, lengths = row_words(start, channel[keep])
    s = order[words]
    np.add.at(syn_input, (np.repeat(tick[keep], lengths), net.input_post[s]), input_w[s])
    # bias registers per segment, held as a current
    starts, biases = compiled.bias_schedule
    I_ext = np.zeros((ticks, n))
    bounds = [*[int(t) for t in starts], ticks]
    from ...compiler.dialects import dialect_quantiser
    encode = dialect_quantiser(compiled.dialect).with_bias
    for k in range(len(starts)):
        I_ext[min(bounds[k], ticks):min(bounds[k + 1], ticks)] = \
            encode(net.params, biases[k]).bias * i_lsb
    # recurrent synapses, grouped by pre neuron
    by_pre = np.argsort(net.pre, kind="stable")
    pre_start = np.concatenate([[0], np.cumsum(np.bincount(net.pre, minlength=n))])
    post, delay = net.post[by_pre], net.delay[by_pre]
    weight = syn_w[by_pre]

    def feedback(k, fired, future):
        synapses, _ = row_words(pre_start, np.flatnonzero(fired))
        arrive = k + delay[synapses]
        inside = arrive < ticks
        np.add.at(future, (arrive[inside], post[synapses][inside]), weight[synapses][inside])

    return simulate(replace(q.realised, I_bias=0.0), ex.dt, ticks, n=n, syn_input=syn_input,
                    I_ext=I_ext, seed=seed, feedback=feedback)


class _Reference:
    """The network and its float run (asked parameters), shared by every configuration;
    with ``reference="realised"`` each configuration gets its own float run."""

    def __init__(self, netlist, ticks, mesh, window, tau, base, reference="asked",
                 float_reference=None):
        from ...compiler.pipeline import float_run

        if reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
        self.reference = reference
        self.ex = expanded_network(netlist)
        self.netlist = netlist_of(netlist)   # its inputs' synapses: the dense count
        self.mesh = _check_mesh(mesh)
        self.ticks = self.ex.ticks if ticks is None else ticks
        if isinstance(self.ticks, bool) or not isinstance(self.ticks, (int, np.integer)) \
                or not 1 <= self.ticks <= self.ex.ticks:
            raise ValueError(f"ticks must be an integer in 1..{self.ex.ticks} (the netlist's "
                             f"duration), got {ticks!r}")
        self.ticks = int(self.ticks)
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 0:
            raise ValueError(f"window must be a whole number of ticks >= 0, got {window!r}")
        if not (isinstance(tau, (int, float)) and tau > 0 and math.isfinite(tau)):
            raise ValueError(f"tau must be a positive number of seconds, got {tau!r}")
        self.window, self.tau = int(window), float(tau)
        self.base = base if base is not None else base_spec(self.ex, self.mesh)
        if float_reference is not None and reference == "asked":
            self.trace = float_reference   # any run with spikes and V (ticks, n)
        else:
            self.trace = float_run(self.ex, self.ticks, seed=self.ex.seed) \
                if reference == "asked" else None

    def run(self, spec: CoreSpec, partitioner: str, backend, keep_traces: bool
            ) -> ComparisonResult:
        from ...hardware.chip import ChipSpec
        from ...compiler.pipeline import compile_netlist

        ex, ticks, dt = self.ex, self.ticks, self.ex.dt
        info = {name: getattr(spec, name) for name in SPEC_FIELDS}
        head = {"label": label_of(spec), "spec": info, "ticks": ticks, "dt": dt,
                "window": self.window, "tau": self.tau, "reference": self.reference}
        try:
            compiled = compile_netlist(ex, ChipSpec(*self.mesh, core=spec),
                                       partitioner=partitioner)
            rec = compiled.run(ticks, record=("spikes", "v"), backend=backend)
        except (ValueError, RegisterOverflowError) as error:  # SpecError is a ValueError
            return ComparisonResult(**head, error=str(error))
        trace = self.trace if self.trace is not None else \
            realised_float_run(compiled, ticks, seed=ex.seed)
        F = np.asarray(trace.spikes, dtype=bool)
        E = np.asarray(rec.spikes, dtype=bool)  # a slot that fired in a tick (Xylo: >= 1)
        v_float = trace.V
        v = compiled.quantised.scales.volts(rec["v"])
        # counts include every spike of a multi-spike tick (Xylo); timing uses the ticks
        counts_float, counts = F.sum(axis=0), np.asarray(rec.spikes).sum(axis=0)
        scale = max(int(counts_float.sum()), 1)
        dev, missed, extra = [], 0, 0
        for j in range(ex.n):
            m = match_spikes(np.flatnonzero(F[:, j]), np.flatnonzero(E[:, j]), self.window)
            dev.append(m.deviations)
            missed += m.missed
            extra += m.extra
        dev = np.concatenate(dev) if dev else np.zeros(0, dtype=np.int64)
        first_neuron = first_difference_per_neuron(F, E)
        agreed = np.arange(ticks)[:, None] < np.where(first_neuron < 0, ticks, first_neuron)
        sq = (v - v_float) ** 2
        report = compiled.report
        return ComparisonResult(
            **head, counts_float=counts_float, counts=counts,
            rate_error_total=abs(int(counts.sum()) - int(counts_float.sum())) / scale,
            rate_error_neuron=float(np.abs(counts - counts_float).sum()) / scale,
            rate_mae_hz=float(np.mean(np.abs(counts - counts_float))) / (ticks * dt)
            if ex.n else 0.0,
            matched=int(dev.size), missed=missed, extra=extra,
            deviation_mean_abs=float(np.mean(np.abs(dev))) if dev.size else None,
            deviation_max_abs=int(np.max(np.abs(dev))) if dev.size else None,
            deviation_mean=float(np.mean(dev)) if dev.size else None,
            van_rossum=van_rossum(E.astype(float), F.astype(float), self.tau / dt)
            .reshape(-1),
            first_difference=first_difference(F, E), first_difference_neuron=first_neuron,
            identical_fraction=float(np.mean(first_neuron < 0)) if ex.n else 1.0,
            v_rmse=float(np.sqrt(np.mean(sq))) if sq.size else 0.0,
            v_rmse_agreed=float(np.sqrt(np.mean(sq[agreed]))) if agreed.any() else None,
            overflow={k: int(c) for k, c in rec.overflow.items()},
            parameter_errors={e.name: e.max_relative for e in
                              (*report.parameter_errors, report.weight_error)},
            weights_clipped=report.weights_clipped, weights_zeroed=report.weights_zeroed,
            compile_warnings=tuple(report.warnings),
            spikes_float=F if keep_traces else None, spikes=E if keep_traces else None,
            v_float=v_float if keep_traces else None, v=v if keep_traces else None,
            metrics_float=netlist_metrics(ex, trace.spikes, v_float, "float", self.netlist),
            metrics=netlist_metrics(ex, rec.spikes, rec["v"], "chip", self.netlist))


def compare(netlist, configs, mesh: tuple[int, int] = (2, 2), ticks: int | None = None, *,
            window: int = DEFAULT_WINDOW, tau: float = DEFAULT_TAU,
            partitioner: str = "greedy", base: CoreSpec | None = None, backend=None,
            keep_traces: bool = True, reference: str = "asked",
            progress=None, float_reference=None, client=None) -> list[ComparisonResult]:
    """Run ``netlist`` (a path, a ``Netlist`` or an ``ExpandedNetwork``) on the float
    reference once and on the emulator once per configuration (a ``CoreSpec``, used as
    is, or a dict of ``CoreSpec`` fields applied to ``base``, by default
    ``base_spec(netlist, mesh)``), for ``ticks`` ticks (the netlist's duration), and
    compare each emulator run with the float one. A configuration the compiler refuses
    gives a result with ``error`` set. ``keep_traces`` keeps the spike and membrane
    arrays on the results (needed by ``plot_comparison``). ``reference="realised"``
    compares with ``realised_float_run`` of each configuration instead of the netlist's
    parameters as asked, which leaves the arithmetic's error alone. ``progress(result)``,
    when given, is called after each configuration has run. ``float_reference`` (with
    ``reference="asked"``) is a float run to compare with instead of the netlist's: any
    object with ``spikes`` and ``V`` of shape ``(ticks, n)`` in netlist order, such as
    ``lab.nir_runs.float_reference`` of a NIR graph. ``client`` (a
    ``dask.distributed.Client``, e.g. from ``dask_sweep.dask_client``) runs the
    configurations as tasks on its cluster: the same results, in the same order
    (``dask_sweep.run_configs``)."""
    reference = _Reference(netlist, ticks, mesh, window, tau, base, reference,
                           float_reference)
    specs = [resolve_config(c, reference.base) for c in configs]
    if client is not None:
        from .dask_sweep import run_configs
        return run_configs(client, reference, specs, partitioner, backend, keep_traces,
                           progress)
    results = []
    for spec in specs:
        results.append(reference.run(spec, partitioner, backend, keep_traces))
        if progress is not None:
            progress(results[-1])
    return results


def smallest_width(netlist, config=None, v_bits: Sequence[int] = tuple(range(4, 17)),
                   tolerance: float = 0.05, metric: str = DEFAULT_METRIC,
                   mesh: tuple[int, int] = (2, 2), ticks: int | None = None, *,
                   exhaustive: bool = False, window: int = DEFAULT_WINDOW,
                   tau: float = DEFAULT_TAU, partitioner: str = "greedy",
                   base: CoreSpec | None = None, backend=None,
                   reference: str = "asked") -> WidthSearch:
    """The smallest membrane width among ``v_bits`` whose ``metric`` (one of
    ``SEARCH_METRICS``, all "smaller is better") is at most ``tolerance``, with the other
    fields of ``config`` fixed (``theta_bits`` follows ``v_bits`` unless ``config`` sets
    it). Widths are tried in increasing order and the search stops at the first that
    passes unless ``exhaustive``: passing is not monotone in the width (a wider membrane
    changes the voltage scale and so every rounding), so a width that passes says
    nothing about wider ones."""
    if metric not in SEARCH_METRICS:
        raise ValueError(f"metric must be one of {SEARCH_METRICS}, got {metric!r}")
    if not (isinstance(tolerance, (int, float)) and tolerance >= 0):
        raise ValueError(f"tolerance must be a number >= 0, got {tolerance!r}")
    widths = tuple(sorted({int(b) for b in v_bits}))
    if not widths:
        raise ValueError("v_bits: no width to try")
    reference = _Reference(netlist, ticks, mesh, window, tau, base, reference)
    if isinstance(config, CoreSpec):
        follow = config.theta_bits == config.v_bits
        specs = [config.replace(v_bits=b, **({"theta_bits": b} if follow else {}))
                 for b in widths]
    else:
        specs = [resolve_config({**dict(config or {}), "v_bits": b}, reference.base)
                 for b in widths]
    results, smallest = [], None
    for b, spec in zip(widths, specs):
        result = reference.run(spec, partitioner, backend, keep_traces=False)
        results.append(result)
        if smallest is None and passes(result, tolerance, metric):
            smallest = b
            if not exhaustive:
                break
    return WidthSearch(metric, float(tolerance), widths, smallest, results)


def smallest_passing(results: Sequence[ComparisonResult], tolerance: float,
                     metric: str = DEFAULT_METRIC) -> list[dict]:
    """From results already run: per group of configurations alike in everything but
    ``v_bits`` (and ``theta_bits``), the smallest ``v_bits`` that passes (None if none)."""
    groups: dict[tuple, dict] = {}
    for r in results:
        rest = {k: v for k, v in r.spec.items() if k not in ("v_bits", "theta_bits")}
        key = tuple(sorted(rest.items()))
        group = groups.setdefault(key, {**rest, "tried": [], "smallest_v_bits": None})
        group["tried"].append(r.spec["v_bits"])
        if passes(r, tolerance, metric):
            best = group["smallest_v_bits"]
            group["smallest_v_bits"] = r.spec["v_bits"] if best is None else \
                min(best, r.spec["v_bits"])
    return list(groups.values())
