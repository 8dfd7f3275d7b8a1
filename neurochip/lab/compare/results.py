"""What a comparison gives: one ``ComparisonResult`` per configuration, a
``WidthSearch`` over membrane widths, and ``passes`` (a result within a tolerance)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...hardware.spec import CoreSpec
from ..metrics import Metrics
from .metrics import DEFAULT_TAU, DEFAULT_WINDOW

# metrics the width search may use: every one is "smaller is better", passing is <= tolerance
SEARCH_METRICS = ("rate_error_total", "rate_error_neuron", "differing_fraction",
                  "van_rossum_mean")
DEFAULT_METRIC = "rate_error_neuron"   # the total can pass by errors of opposite sign


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
    compile_warnings: tuple[str, ...] = ()     # the compile report's warnings
    spikes_float: np.ndarray | None = field(default=None, repr=False)
    spikes: np.ndarray | None = field(default=None, repr=False)
    v_float: np.ndarray | None = field(default=None, repr=False)   # V
    v: np.ndarray | None = field(default=None, repr=False)         # V
    # NeuroBench's counts over the netlist's populations (lab.metrics.netlist_metrics,
    # docs/metrics.md) of the float reference's run and of the emulator's
    metrics_float: Metrics | None = field(default=None, repr=False)
    metrics: Metrics | None = field(default=None, repr=False)

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
            "neurobench": None if self.metrics is None else
            {"float": neurobench_json(self.metrics_float), "chip": neurobench_json(self.metrics)},
        }


def neurobench_json(metrics: Metrics | None) -> dict | None:
    """``metrics`` in NeuroBench's names: the totals and, per population, the same."""
    if metrics is None:
        return None
    return {**metrics.to_neurobench(), "populations": metrics.per_node()}


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


def label_of(spec: CoreSpec) -> str:
    if spec.dialect != "lif":  # a dialect fixes its own rounding and has no theta
        return f"{spec.dialect} v{spec.v_bits} i{spec.i_bits} w{spec.w_bits}"
    text = f"v{spec.v_bits} i{spec.i_bits} w{spec.w_bits} {spec.rounding}"
    if spec.theta_bits != spec.v_bits:
        text += f" θ{spec.theta_bits}"
    return text
