"""The comparison as figures (``plot_comparison``): errors against the width, a raster
overlay and a membrane trace overlay."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .results import ComparisonResult


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
    _plot_errors(plt, results, shown, paths[0])
    _plot_raster(plt, shown, paths[1])
    _plot_traces(plt, shown, neurons, paths[2])
    return paths


def _plot_errors(plt, results: list[ComparisonResult], shown: ComparisonResult,
                 path: str) -> None:
    """The errors against the width that varies most, one line per group of the other
    fields."""
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
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _times_ms(shown: ComparisonResult) -> np.ndarray:
    return (np.arange(shown.ticks) + 1) * shown.dt * 1e3


def _plot_raster(plt, shown: ComparisonResult, path: str) -> None:
    """Float and emulator spikes of one configuration, overlaid."""
    t_ms = _times_ms(shown)
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
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_traces(plt, shown: ComparisonResult, neurons: Sequence[int] | None,
                 path: str) -> None:
    """Float and emulator membrane of ``neurons``, else of up to three neurons whose
    trains differ, else of the three most active."""
    t_ms = _times_ms(shown)
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
