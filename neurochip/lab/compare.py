"""Precision lab: one network on the float reference and on the emulator under CoreSpecs.

``compare(netlist, configs)`` runs the netlist once on the float reference
(``compiler.float_run``, the parameters as asked) and once per configuration on the
emulator (``compile_netlist`` onto a chip large enough for it), with the same inputs,
and measures how far each emulator run is from the float one (``docs/compare.md``):

* spike counts per neuron and in total, and the rate error (relative, of the total and
  of the per-neuron counts);
* matched-spike timing: each float spike is matched, in time order, to the nearest
  unmatched emulator spike of the same neuron within ``window`` ticks
  (``match_spikes``); the deviation is emulator tick minus float tick;
* the van Rossum distance per neuron (``van_rossum``, exact for binned trains,
  normalised so that one unmatched spike is 1);
* the first tick at which the spike trains differ, the fraction of neurons whose trains
  are identical, the membrane RMSE in volts, and the overflow counts.

``smallest_width`` searches the membrane width ``v_bits`` (the other widths fixed) for
the smallest that meets a tolerance; ``plot_comparison`` draws the errors against the
widths, a raster overlay and a membrane trace overlay. ``add_compare_arguments`` and
``compare_command`` are the ``neurochip compare`` command.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..hardware.fixed import ROUNDING_MODES, RegisterOverflowError
from ..hardware.spec import CoreSpec, SpecError

DEFAULT_WINDOW = 5      # ticks: how far apart a float and an emulator spike may be matched
DEFAULT_TAU = 10e-3     # s: the van Rossum kernel's time constant
# metrics the width search may use: every one is "smaller is better", passing is <= tolerance
SEARCH_METRICS = ("rate_error_total", "rate_error_neuron", "differing_fraction",
                  "van_rossum_mean")
DEFAULT_METRIC = "rate_error_neuron"   # the total can pass by errors of opposite sign
# "asked": compiler.float_run, the netlist's parameters (error = parameter quantisation +
# arithmetic); "realised": the float model of what each configuration's registers hold
# (error = the arithmetic's alone, bounded in docs/error-bounds.md)
REFERENCES = ("asked", "realised")
# the CoreSpec fields a result reports (widths and modes; capacities are the chip's business)
SPEC_FIELDS = ("dialect", "v_bits", "i_bits", "w_bits", "theta_bits", "w_exp_bits",
               "ref_bits", "rounding", "overflow")


# ====================================================================== metrics
@dataclass(frozen=True)
class Matching:
    """Float spikes matched to emulator spikes of one neuron (``match_spikes``)."""

    reference: np.ndarray   # matched float spike ticks
    other: np.ndarray       # the emulator spike tick each was matched to
    missed: int             # float spikes without a match
    extra: int              # emulator spikes without a match

    @property
    def deviations(self) -> np.ndarray:
        """Emulator tick minus float tick of every matched pair (positive: late)."""
        return self.other - self.reference


def match_spikes(reference, other, window: int = DEFAULT_WINDOW) -> Matching:
    """Match each reference spike (ticks), in increasing time, to the nearest not yet
    matched ``other`` spike within ``window`` ticks (``|other - reference| <= window``);
    of two equally near, the earlier. A reference spike with none in reach is missed;
    ``other`` spikes left over are extra. Greedy: an earlier spike may take the partner a
    later one would have preferred."""
    if window < 0:
        raise ValueError(f"window must be >= 0 ticks, got {window!r}")
    ref = np.sort(np.asarray(reference, dtype=np.int64).ravel())
    oth = np.sort(np.asarray(other, dtype=np.int64).ravel())
    used = np.zeros(oth.size, dtype=bool)
    pairs_ref, pairs_oth = [], []
    for f in ref.tolist():
        lo = int(np.searchsorted(oth, f - window, side="left"))
        hi = int(np.searchsorted(oth, f + window, side="right"))
        best, best_distance = -1, window + 1
        for j in range(lo, hi):
            distance = abs(int(oth[j]) - f)
            if not used[j] and distance < best_distance:
                best, best_distance = j, distance
        if best >= 0:
            used[best] = True
            pairs_ref.append(f)
            pairs_oth.append(int(oth[best]))
    matched = len(pairs_ref)
    return Matching(np.array(pairs_ref, dtype=np.int64), np.array(pairs_oth, dtype=np.int64),
                    int(ref.size - matched), int(oth.size - matched))


def van_rossum(a, b, tau_ticks: float):
    """Van Rossum distance between binned spike trains ``a`` and ``b`` (spike counts per
    tick: ``(ticks,)`` or ``(ticks, n)``, then one distance per column).

    With ``f``, ``g`` the trains filtered by the causal kernel ``exp(-t / tau)``,
    ``D^2 = (2 / tau) * integral_0^inf (f - g)^2 dt``, the integral taken to infinity
    (the tails after the last tick count). For trains on a tick grid this is exactly
    ``sum_k sum_l c_k c_l exp(-|k - l| / tau_ticks)`` with ``c = a - b`` per tick, which
    is what is computed (one pass over the ticks where ``c`` is not zero). One unmatched
    spike gives ``D = 1``; two spikes ``d`` ticks apart give
    ``D^2 = 2 (1 - exp(-d / tau_ticks))``.
    """
    if not tau_ticks > 0 or not math.isfinite(tau_ticks):
        raise ValueError(f"tau must be a positive number of ticks, got {tau_ticks!r}")
    c = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    one = c.ndim == 1
    c = c.reshape(c.shape[0], -1)
    decay = math.exp(-1.0 / tau_ticks)
    total = np.zeros(c.shape[1])
    tail = np.zeros(c.shape[1])   # sum over earlier ticks l of c_l decay^(k - l)
    previous = None
    for k in np.flatnonzero(np.any(c != 0, axis=1)).tolist():
        if previous is not None:
            tail = decay ** (k - previous) * (tail + c[previous])
        total += c[k] * (c[k] + 2 * tail)
        previous = k
    distance = np.sqrt(np.maximum(total, 0.0))
    return float(distance[0]) if one else distance


def first_difference(a, b) -> int | None:
    """The first tick (row) at which ``a`` and ``b`` differ in any neuron; None if never."""
    a, b = np.asarray(a), np.asarray(b)
    rows = (a != b).reshape(a.shape[0], -1).any(axis=1)
    hit = np.flatnonzero(rows)
    return int(hit[0]) if hit.size else None


def first_difference_per_neuron(a, b) -> np.ndarray:
    """Per neuron (column), the first tick at which the trains differ; -1 if never."""
    differs = np.asarray(a) != np.asarray(b)
    first = np.argmax(differs, axis=0)
    return np.where(differs.any(axis=0), first, -1).astype(np.int64)


# ====================================================================== results
@dataclass
class ComparisonResult:
    """One configuration against the float reference; ``error`` when it did not run
    (the compiler refused it), and then every metric is None."""

    label: str
    spec: dict
    ticks: int
    dt: float
    window: int = DEFAULT_WINDOW
    tau: float = DEFAULT_TAU
    reference: str = "asked"
    error: str | None = None
    counts_float: np.ndarray | None = field(default=None, repr=False)  # spikes per neuron
    counts: np.ndarray | None = field(default=None, repr=False)        # (float; emulator)
    rate_error_total: float | None = None      # |N - N_float| / max(N_float, 1)
    rate_error_neuron: float | None = None     # sum |n_j - n_float_j| / max(N_float, 1)
    rate_mae_hz: float | None = None           # mean_j |n_j - n_float_j| / (ticks dt)
    matched: int | None = None
    missed: int | None = None
    extra: int | None = None
    deviation_mean_abs: float | None = None    # ticks, over matched spikes
    deviation_max_abs: int | None = None
    deviation_mean: float | None = None        # signed: emulator minus float
    van_rossum: np.ndarray | None = field(default=None, repr=False)    # per neuron
    first_difference: int | None = None
    first_difference_neuron: np.ndarray | None = field(default=None,
                                                       repr=False)  # -1: identical
    identical_fraction: float | None = None
    v_rmse: float | None = None                # V, every tick and neuron
    v_rmse_agreed: float | None = None         # V, each neuron before its first difference
    overflow: dict | None = None
    parameter_errors: dict | None = None       # max relative error per parameter (JSON:
    #                                            None where infinite: asked 0, realised not)
    weights_clipped: int | None = None
    weights_zeroed: int | None = None
    spikes_float: np.ndarray | None = field(default=None, repr=False)
    spikes: np.ndarray | None = field(default=None, repr=False)
    v_float: np.ndarray | None = field(default=None, repr=False)   # V
    v: np.ndarray | None = field(default=None, repr=False)         # V

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def total_float(self) -> int | None:
        return None if self.counts_float is None else int(self.counts_float.sum())

    @property
    def total(self) -> int | None:
        return None if self.counts is None else int(self.counts.sum())

    @property
    def differing_fraction(self) -> float | None:
        return None if self.identical_fraction is None else 1.0 - self.identical_fraction

    @property
    def van_rossum_mean(self) -> float | None:
        if self.van_rossum is None:
            return None
        return float(np.mean(self.van_rossum)) if self.van_rossum.size else 0.0

    @property
    def overflow_total(self) -> int | None:
        return None if self.overflow is None else int(sum(self.overflow.values()))

    def metric(self, name: str) -> float | None:
        if name not in SEARCH_METRICS:
            raise ValueError(f"metric must be one of {SEARCH_METRICS}, got {name!r}")
        return getattr(self, name)

    def to_dict(self) -> dict:
        def listed(x):
            return None if x is None else np.asarray(x).tolist()
        per_neuron = None
        if self.ok:
            per_neuron = {"spikes_float": listed(self.counts_float),
                          "spikes": listed(self.counts),
                          "van_rossum": listed(self.van_rossum),
                          "first_difference_tick": [None if t < 0 else int(t) for t in
                                                    self.first_difference_neuron.tolist()]}
        return {
            "label": self.label, "spec": dict(self.spec), "ticks": self.ticks, "dt": self.dt,
            "reference": self.reference, "error": self.error,
            "spikes_float_total": self.total_float, "spikes_total": self.total,
            "rate_error_total": self.rate_error_total,
            "rate_error_neuron": self.rate_error_neuron, "rate_mae_hz": self.rate_mae_hz,
            "window_ticks": self.window, "matched": self.matched, "missed": self.missed,
            "extra": self.extra, "deviation_mean_abs_ticks": self.deviation_mean_abs,
            "deviation_max_abs_ticks": self.deviation_max_abs,
            "deviation_mean_ticks": self.deviation_mean,
            "van_rossum_tau_s": self.tau, "van_rossum_mean": self.van_rossum_mean,
            "first_difference_tick": self.first_difference,
            "identical_fraction": self.identical_fraction,
            "differing_fraction": self.differing_fraction,
            "v_rmse_V": self.v_rmse, "v_rmse_agreed_V": self.v_rmse_agreed,
            "overflow": None if self.overflow is None else
            {**{k: int(v) for k, v in self.overflow.items()}, "total": self.overflow_total},
            "parameter_errors": None if self.parameter_errors is None else
            {k: v if math.isfinite(v) else None for k, v in self.parameter_errors.items()},
            "weights_clipped": self.weights_clipped, "weights_zeroed": self.weights_zeroed,
            "per_neuron": per_neuron,
        }


@dataclass
class WidthSearch:
    """The smallest ``v_bits`` whose ``metric`` is at most ``tolerance`` (None: none of
    those tried), with the result of every width tried, in increasing order."""

    metric: str
    tolerance: float
    widths: tuple[int, ...]
    width: int | None
    results: list[ComparisonResult]

    def to_dict(self) -> dict:
        return {"metric": self.metric, "tolerance": self.tolerance,
                "widths": list(self.widths), "smallest_v_bits": self.width,
                "tried": [{"v_bits": r.spec["v_bits"], self.metric: r.metric(self.metric),
                           "passes": passes(r, self.tolerance, self.metric),
                           "error": r.error} for r in self.results]}


def passes(result: ComparisonResult, tolerance: float, metric: str = DEFAULT_METRIC) -> bool:
    """A configuration passes when it ran and its ``metric`` is at most ``tolerance``."""
    value = result.metric(metric)
    return result.ok and value is not None and value <= tolerance


# ====================================================================== running
def label_of(spec: CoreSpec) -> str:
    if spec.dialect != "lif":  # a dialect fixes its own rounding and has no theta
        return f"{spec.dialect} v{spec.v_bits} i{spec.i_bits} w{spec.w_bits}"
    text = f"v{spec.v_bits} i{spec.i_bits} w{spec.w_bits} {spec.rounding}"
    if spec.theta_bits != spec.v_bits:
        text += f" θ{spec.theta_bits}"
    return text


def base_spec(expanded, mesh: tuple[int, int] = (2, 2)) -> CoreSpec:
    """A core with room for the network spread over ``mesh``: ``n_slots`` the neurons per
    core, generous axons, synapse words and routing entries (as ``neurochip run``)."""
    from ..compiler.pipeline import roomy_core_spec

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
        from ..compiler.dialects import PRESETS, check_dialect
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


def _expanded(netlist):
    from ..formats.netlist import ExpandedNetwork, expand, load_netlist

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

    from ..hardware.synapses import row_words

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
    from ..compiler.dialects import dialect_quantiser
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

    def __init__(self, netlist, ticks, mesh, window, tau, base, reference="asked"):
        from ..compiler.pipeline import float_run

        if reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
        self.reference = reference
        self.ex = _expanded(netlist)
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
        self.trace = float_run(self.ex, self.ticks, seed=self.ex.seed) \
            if reference == "asked" else None

    def run(self, spec: CoreSpec, partitioner: str, backend, keep_traces: bool
            ) -> ComparisonResult:
        from ..hardware.chip import ChipSpec
        from ..compiler.pipeline import compile_netlist

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
            spikes_float=F if keep_traces else None, spikes=E if keep_traces else None,
            v_float=v_float if keep_traces else None, v=v if keep_traces else None)


def compare(netlist, configs, mesh: tuple[int, int] = (2, 2), ticks: int | None = None, *,
            window: int = DEFAULT_WINDOW, tau: float = DEFAULT_TAU,
            partitioner: str = "greedy", base: CoreSpec | None = None, backend=None,
            keep_traces: bool = True, reference: str = "asked",
            progress=None) -> list[ComparisonResult]:
    """Run ``netlist`` (a path, a ``Netlist`` or an ``ExpandedNetwork``) on the float
    reference once and on the emulator once per configuration (a ``CoreSpec``, used as
    is, or a dict of ``CoreSpec`` fields applied to ``base``, by default
    ``base_spec(netlist, mesh)``), for ``ticks`` ticks (the netlist's duration), and
    compare each emulator run with the float one. A configuration the compiler refuses
    gives a result with ``error`` set. ``keep_traces`` keeps the spike and membrane
    arrays on the results (needed by ``plot_comparison``). ``reference="realised"``
    compares with ``realised_float_run`` of each configuration instead of the netlist's
    parameters as asked, which leaves the arithmetic's error alone. ``progress(result)``,
    when given, is called after each configuration has run."""
    reference = _Reference(netlist, ticks, mesh, window, tau, base, reference)
    specs = [resolve_config(c, reference.base) for c in configs]
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


# ====================================================================== output
def _fmt(value, spec: str = ".3g", none: str = "-") -> str:
    return none if value is None else format(value, spec)


def format_table(results: Sequence[ComparisonResult]) -> str:
    """One line per configuration."""
    head = (f"{'configuration':<24} {'spikes':>13} {'rate err':>9} {'per-nrn':>8} "
            f"{'match/miss/extra':>17} {'|dt| ticks':>10} {'vR mean':>8} {'1st diff':>8} "
            f"{'V RMSE mV':>9} {'identical':>9} {'overflows':>9}")
    lines = [head]
    for r in results:
        if not r.ok:
            lines.append(f"{r.label:<24} refused: {r.error}")
            continue
        lines.append(
            f"{r.label:<24} {f'{r.total}/{r.total_float}':>13} "
            f"{_fmt(r.rate_error_total):>9} {_fmt(r.rate_error_neuron):>8} "
            f"{f'{r.matched}/{r.missed}/{r.extra}':>17} {_fmt(r.deviation_mean_abs):>10} "
            f"{_fmt(r.van_rossum_mean):>8} {_fmt(r.first_difference, 'd', 'never'):>8} "
            f"{_fmt(r.v_rmse * 1e3):>9} {100 * r.identical_fraction:>8.1f}% "
            f"{r.overflow_total:>9}")
    return "\n".join(lines)


def plot_comparison(results: Sequence[ComparisonResult], prefix: str, *, show: int = 0,
                    neurons: Sequence[int] | None = None) -> list[str]:
    """Write ``PREFIX-error.png`` (rate error, differing fraction, van Rossum distance and
    membrane RMSE against the width that varies most, one line per group of the other
    fields), ``PREFIX-raster.png`` (float and emulator spikes of configuration ``show``)
    and ``PREFIX-traces.png`` (float and emulator membrane of a few neurons of it: the
    given ``neurons``, else up to three whose trains differ, else the three most
    active). Returns the paths written."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = list(results)
    if not results:
        raise ValueError("no results to plot")
    if not -len(results) <= show < len(results):
        raise ValueError(f"show must index one of the {len(results)} configurations, "
                         f"got {show}")
    shown = results[show]
    if not shown.ok:
        raise ValueError(f"configuration {shown.label!r} did not run: {shown.error}")
    if shown.spikes is None:
        raise ValueError("the results hold no traces: run compare(..., keep_traces=True)")
    paths = [f"{prefix}-error.png", f"{prefix}-raster.png", f"{prefix}-traces.png"]

    # --- errors against the width that varies most
    ran = [r for r in results if r.ok]
    axis = max(("v_bits", "i_bits", "w_bits"),
               key=lambda k: len({r.spec[k] for r in ran}))
    groups: dict[str, list[ComparisonResult]] = {}
    for r in ran:
        name = ", ".join(f"{k}={v}" for k, v in r.spec.items()
                         if k not in (axis, "theta_bits") and
                         len({x.spec[k] for x in ran}) > 1) or "all"
        groups.setdefault(name, []).append(r)
    panels = (("rate_error_total", "rate error (total, relative)"),
              ("differing_fraction", "fraction of trains differing"),
              ("van_rossum_mean", f"van Rossum distance (mean, τ = {shown.tau * 1e3:g} ms)"),
              ("v_rmse", "membrane RMSE (mV)"))
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (key, title) in zip(axes.ravel(), panels):
        for k, (name, members) in enumerate(groups.items()):
            members = sorted(members, key=lambda r: r.spec[axis])
            xs = [r.spec[axis] for r in members]
            ys = [getattr(r, key) * (1e3 if key == "v_rmse" else 1) for r in members]
            ax.plot(xs, ys, "o-", color=f"C{k}", label=name)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(axis)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"emulator vs float reference, {shown.ticks} ticks")
    fig.tight_layout()
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)

    # --- raster overlay
    t_ms = (np.arange(shown.ticks) + 1) * shown.dt * 1e3
    fig, ax = plt.subplots(figsize=(9, 5))
    ft, fn = np.nonzero(shown.spikes_float)
    et, en = np.nonzero(shown.spikes)
    ax.scatter(t_ms[ft], fn + 0.2, s=5, marker="o", color="C0", label="float reference")
    ax.scatter(t_ms[et], en - 0.2, s=7, marker="x", linewidths=0.7, color="C3",
               label=f"emulator ({shown.label})")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.legend(loc="upper right", fontsize=7, markerscale=2)
    ax.set_title(f"spikes: emulator {shown.total}, float {shown.total_float}; identical "
                 f"trains {100 * shown.identical_fraction:.1f}%", fontsize=9)
    fig.tight_layout()
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)

    # --- membrane traces
    if neurons is None:
        differing = np.flatnonzero(shown.first_difference_neuron >= 0)
        pick = differing if differing.size else np.argsort(-shown.counts_float,
                                                           kind="stable")
        neurons = [int(j) for j in pick[:3]]
    neurons = list(neurons)
    fig, axes = plt.subplots(max(len(neurons), 1), 1, figsize=(9, 2.3 * max(len(neurons), 1)),
                             sharex=True, squeeze=False)
    for ax, j in zip(axes[:, 0], neurons):
        ax.plot(t_ms, shown.v_float[:, j] * 1e3, color="C0", lw=1, label="float reference")
        ax.plot(t_ms, shown.v[:, j] * 1e3, color="C3", lw=0.8, ls="--",
                label=f"emulator ({shown.label})")
        ax.set_ylabel(f"neuron {j}\nV (mV)")
    axes[0, 0].legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(paths[2], dpi=110)
    plt.close(fig)
    return paths


# ====================================================================== the command
def _int_list(text: str) -> list[int]:
    import argparse
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers such as 8,10,12, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError(f"expected at least one integer, got {text!r}")
    return values


def _rounding_list(text: str) -> list[str]:
    import argparse
    values = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in values if x not in ROUNDING_MODES]
    if bad or not values:
        raise argparse.ArgumentTypeError(
            f"expected rounding modes from {', '.join(ROUNDING_MODES)}, got {text!r}")
    return values


def _nonnegative_int(text: str) -> int:
    import argparse
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _nonnegative_float(text: str) -> float:
    import argparse
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _dialect_list(text: str) -> list[str]:
    from ..hardware.spec import DIALECTS

    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in names if t not in DIALECTS]
    if bad or not names:
        import argparse
        raise argparse.ArgumentTypeError(f"expected a comma-separated list from "
                                         f"{','.join(DIALECTS)}, got {text!r}")
    return list(dict.fromkeys(names))


def add_compare_arguments(parser) -> None:
    """The options of ``neurochip compare`` (the parser ``cli`` made for the command)."""
    from ..cli.app import _mesh, _positive_float, _positive_int, input_file

    parser.add_argument("netlist", type=input_file(".json", ".toml"),
                        help="netlist file (.json or .toml)")
    parser.add_argument("--v-bits", type=_int_list, default=[16], metavar="LIST",
                        help="membrane widths, e.g. 8,10,12,16 (16); theta follows")
    parser.add_argument("--i-bits", type=_int_list, default=[16], metavar="LIST",
                        help="current widths (16)")
    parser.add_argument("--w-bits", type=_int_list, default=[8], metavar="LIST",
                        help="weight mantissa widths (8)")
    parser.add_argument("--rounding", type=_rounding_list, default=["floor"], metavar="LIST",
                        help=f"rounding modes from {','.join(ROUNDING_MODES)} (floor)")
    parser.add_argument("--dialects", type=_dialect_list, default=["lif"], metavar="LIST",
                        help="neuron arithmetics side by side, from lif,loihi,xylo (lif); "
                             "the width and rounding lists sweep the reference LIF, Loihi "
                             "and Xylo run at their chips' widths")
    parser.add_argument("--ticks", type=_positive_int, help="ticks to run (the netlist's "
                                                             "duration)")
    parser.add_argument("--mesh", type=_mesh, default=(2, 2), help="cores as WxH (2x2)")
    parser.add_argument("--partitioner", choices=["greedy", "sequential"], default="greedy")
    parser.add_argument("--window", type=_nonnegative_int, default=DEFAULT_WINDOW,
                        help=f"spike matching window in ticks ({DEFAULT_WINDOW})")
    parser.add_argument("--tau", type=_positive_float, default=DEFAULT_TAU * 1e3,
                        help=f"van Rossum time constant in ms ({DEFAULT_TAU * 1e3:g})")
    parser.add_argument("--tolerance", type=_nonnegative_float,
                        help="report the smallest --v-bits whose --metric is at most this, "
                             "per combination of the other options")
    parser.add_argument("--metric", choices=SEARCH_METRICS, default=DEFAULT_METRIC,
                        help=f"what --tolerance bounds ({DEFAULT_METRIC})")
    parser.add_argument("--reference", choices=REFERENCES, default="asked",
                        help="float reference: the netlist's parameters as asked, or what "
                             "each configuration's registers realise (asked)")
    parser.add_argument("--backend", choices=["compiled", "numpy"],
                        help="emulator backend (compiled when numba is installed)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--plot", metavar="PREFIX", help="write PREFIX-error.png, "
                        "PREFIX-raster.png and PREFIX-traces.png")
    parser.add_argument("--show", type=int, default=0, metavar="N",
                        help="configuration (0-based, in table order) the raster and traces "
                             "show (0)")
    parser.add_argument("--force", action="store_true", help="overwrite existing plot files")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar, no header or plot lines: the table (or JSON) "
                             "alone")


def compare_command(args, usage_error: type[Exception] | None = None) -> int:
    """``neurochip compare``: exit 0, or 1 when no configuration could run. Bad values
    raise ``usage_error`` (the caller's one-line, exit-2 error; pass the class from the
    module that catches it: under ``python -m neurochip.cli`` that is ``__main__``'s)."""
    if usage_error is None:
        from ..cli.app import UsageError as usage_error

    if args.plot:
        for suffix in ("-error.png", "-raster.png", "-traces.png"):
            if os.path.exists(args.plot + suffix) and not args.force:
                raise usage_error(f"{args.plot + suffix} exists; pass --force to overwrite it "
                                 f"or choose another --plot prefix")
    configs = []
    for dialect in getattr(args, "dialects", ["lif"]):
        configs += sweep(args.v_bits, args.i_bits, args.w_bits, args.rounding) \
            if dialect == "lif" else [{"dialect": dialect}]
    if args.plot and not -len(configs) <= args.show < len(configs):
        raise usage_error(f"--show must be in 0..{len(configs) - 1}, got {args.show}")
    probe = CoreSpec()
    for c in configs:  # widths out of range: a usage error, before anything runs
        try:
            probe.replace(**c, theta_bits=c.get("v_bits", probe.v_bits))
        except SpecError as error:
            raise usage_error(str(error).replace("CoreSpec.v_bits", "--v-bits")
                             .replace("CoreSpec.i_bits", "--i-bits")
                             .replace("CoreSpec.w_bits", "--w-bits")) from None
    ex = _expanded(args.netlist)
    if args.ticks is not None and args.ticks > ex.ticks:
        raise usage_error(f"--ticks must be at most the netlist's duration, {ex.ticks} ticks")
    from .progress import bar
    with bar(len(configs), quiet=args.quiet, desc="compare", unit="config") as shown:
        results = compare(ex, configs, mesh=args.mesh, ticks=args.ticks, window=args.window,
                          tau=args.tau * 1e-3, partitioner=args.partitioner,
                          backend=args.backend, keep_traces=bool(args.plot),
                          reference=args.reference, progress=lambda r: shown.update())
    search = None
    if args.tolerance is not None:
        search = smallest_passing(results, args.tolerance, args.metric)
    paths = []
    if args.plot and results[args.show].ok:
        paths = plot_comparison(results, args.plot, show=args.show)
    r0 = results[0]
    if args.json:
        print(json.dumps({
            "netlist": str(args.netlist), "neurons": ex.n, "ticks": r0.ticks, "dt": ex.dt,
            "reference": args.reference,
            "window_ticks": args.window, "van_rossum_tau_s": args.tau * 1e-3,
            "configs": [r.to_dict() for r in results],
            "search": None if search is None else
            {"metric": args.metric, "tolerance": args.tolerance, "groups": search},
            "plots": [os.path.abspath(p) for p in paths]}, indent=1, allow_nan=False))
    else:
        total_float = next((r.total_float for r in results if r.ok), None)
        what = "parameters as asked" if args.reference == "asked" else \
            "parameters each configuration realises"
        if not args.quiet:
            print(f"{args.netlist}: {ex.n} neurons, {r0.ticks} ticks of {ex.dt * 1e3:g} ms; "
                  f"float reference ({what})"
                  + (f": {_fmt(total_float, 'd')} spikes" if args.reference == "asked" else ""))
            print(f"matching window {args.window} ticks; van Rossum tau {args.tau:g} ms "
                  f"(1 = one unmatched spike)")
        print(format_table(results))
        if search is not None:
            print(f"smallest --v-bits with {args.metric} <= {args.tolerance:g}:")
            for g in search:
                rest = ", ".join(f"{k}={g[k]}" for k in ("i_bits", "w_bits", "rounding"))
                print(f"  {rest}: {_fmt(g['smallest_v_bits'], 'd', 'none')} "
                      f"(tried {','.join(map(str, g['tried']))})")
        for p in paths if not args.quiet else ():
            print(f"plot: {os.path.abspath(p)}")
        if args.plot and not paths:
            print(f"no plots: configuration {args.show} did not run")
    return 0 if any(r.ok for r in results) else 1
