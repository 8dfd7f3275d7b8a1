"""The comparison as figures (``plot_comparison``, ``comparison_figures``): errors
against the width, a raster overlay and a membrane trace overlay; and the raster of one
run (``run_raster_figure``, what ``neurochip run --plot`` writes)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np

from ..figures import chip_label, legend_beside, new_figure, raster_title, save
from .results import ComparisonResult

WIDTHS = ("v_bits", "i_bits", "w_bits")
PANELS = (("rate_error_total", "rate error (total, relative)"),
          ("differing_fraction", "fraction of trains differing"),
          ("van_rossum_mean", "van Rossum distance (mean, τ = {tau:g} ms)"),
          ("v_rmse", "membrane RMSE (mV)"))


def plot_comparison(results: Sequence[ComparisonResult], prefix: str, *, show: int = 0,
                    neurons: Sequence[int] | None = None) -> list[str]:
    """Write ``PREFIX-error.png``, ``PREFIX-raster.png`` and ``PREFIX-traces.png``
    (``comparison_figures``). Returns the paths written."""
    paths = []
    for name, fig in comparison_figures(results, show=show, neurons=neurons).items():
        paths.append(f"{prefix}-{name}.png")
        save(fig, paths[-1])
    return paths


def comparison_figures(results: Sequence[ComparisonResult], *, show: int = 0,
                       neurons: Sequence[int] | None = None) -> dict:
    """``{"error", "raster", "traces"}``: figures of rate error, differing fraction, van
    Rossum distance and membrane RMSE against the width that varies most, one line per
    group of the other fields (bars per configuration when no width is swept: every
    configuration differs in every width, or one ran); float and emulator spikes of
    configuration ``show``; float and emulator membrane of a few neurons of it (the
    given ``neurons``, else up to three whose trains differ, else the three most
    active)."""
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
    return {"error": error_figure(results, shown), "raster": raster_figure(shown),
            "traces": traces_figure(shown, neurons)}


def _metric(r: ComparisonResult, key: str) -> float:
    value = getattr(r, key)
    return np.nan if value is None else value * (1e3 if key == "v_rmse" else 1)


def _groups(ran: list[ComparisonResult]) -> tuple[str, dict[str, list[ComparisonResult]]]:
    """The width that varies most and the runs grouped by the other fields that vary."""
    axis = max(WIDTHS, key=lambda k: len({r.spec[k] for r in ran}))
    groups: dict[str, list[ComparisonResult]] = {}
    for r in ran:
        name = ", ".join(f"{k}={v}" for k, v in r.spec.items()
                         if k not in (axis, "theta_bits") and
                         len({x.spec[k] for x in ran}) > 1) or "all"
        groups.setdefault(name, []).append(r)
    return axis, groups


def error_figure(results: Sequence[ComparisonResult], shown: ComparisonResult):
    """The four errors against the width that varies most (a line per group), or, when
    no group has two widths to draw a line through, one bar per configuration."""
    ran = [r for r in results if r.ok]
    axis, groups = _groups(ran)
    swept = any(len(members) > 1 for members in groups.values())
    fig, axes = new_figure(2, 2, figsize=(10 if swept or len(groups) == 1 else 11, 7))
    for ax, (key, title) in zip(axes.ravel(), PANELS):
        if swept:
            for k, (name, members) in enumerate(groups.items()):
                members = sorted(members, key=lambda r: r.spec[axis])
                ax.plot([r.spec[axis] for r in members], [_metric(r, key) for r in members],
                        "o-", color=f"C{k}", label=name)
            ax.set_xlabel(axis)
        else:   # nothing to draw a line through: a bar per configuration, labelled
            values = [_metric(r, key) for r in ran]
            ax.bar(range(len(ran)), np.nan_to_num(values), color=[f"C{k}" for k in
                                                                  range(len(ran))])
            # the dialect (or v width) over the rest of the label: long labels stay apart
            ax.set_xticks(range(len(ran)), [r.label.replace(" ", "\n", 1) for r in ran],
                          fontsize=8)
            for x, v in enumerate(values):
                ax.annotate("n/a" if np.isnan(v) else f"{v:.3g}", (x, np.nan_to_num(v)),
                            ha="center", va="bottom", fontsize=7, xytext=(0, 2),
                            textcoords="offset points")
            ax.margins(y=0.15)
            ax.set_xlabel("configuration")
        ax.set_title(title.format(tau=shown.tau * 1e3), fontsize=9)
        ax.grid(alpha=0.3)
    if swept and len(groups) > 1:
        legend_beside(axes[0, 1])
    fig.suptitle(f"emulator vs float reference ({shown.reference} parameters), "
                 f"{shown.ticks} ticks of {shown.dt * 1e3:g} ms")
    return fig


def _times_ms(shown: ComparisonResult) -> np.ndarray:
    return (np.arange(shown.ticks) + 1) * shown.dt * 1e3


def _emulator(shown: ComparisonResult) -> str:
    spec = shown.spec
    dialect = spec.get("dialect", "lif")
    return chip_label("emulator", dialect=dialect, v_bits=spec.get("v_bits"),
                      i_bits=spec.get("i_bits"), w_bits=spec.get("w_bits"),
                      rounding=spec.get("rounding") if dialect == "lif" else None)


def raster_figure(shown: ComparisonResult):
    """Float and emulator spikes of one configuration, overlaid."""
    t_ms = _times_ms(shown)
    fig, ax = new_figure(figsize=(10, 5))
    ft, fn = np.nonzero(shown.spikes_float)
    et, en = np.nonzero(shown.spikes)
    ax.scatter(t_ms[ft], fn + 0.2, s=5, marker="o", color="C0",
               label=f"float reference ({shown.reference} parameters)")
    ax.scatter(t_ms[et], en - 0.2, s=7, marker="x", linewidths=0.7, color="C3",
               label=_emulator(shown))
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    legend_beside(ax, markerscale=2)
    raster_title(ax, f"{_emulator(shown)} vs float reference ({shown.reference} "
                     f"parameters)\nspikes: emulator {shown.total}, float "
                     f"{shown.total_float}; identical trains "
                     f"{100 * shown.identical_fraction:.1f}%")
    return fig


def traces_figure(shown: ComparisonResult, neurons: Sequence[int] | None):
    """Float and emulator membrane of ``neurons``, else of up to three neurons whose
    trains differ, else of the three most active."""
    t_ms = _times_ms(shown)
    if neurons is None:
        differing = np.flatnonzero(shown.first_difference_neuron >= 0)
        pick = differing if differing.size else np.argsort(-shown.counts_float,
                                                           kind="stable")
        neurons = [int(j) for j in pick[:3]]
    neurons = list(neurons)
    rows = max(len(neurons), 1)
    fig, axes = new_figure(rows, 1, figsize=(10, 2.3 * rows + 0.4), sharex=True,
                           squeeze=False)
    for ax, j in zip(axes[:, 0], neurons):
        ax.plot(t_ms, shown.v_float[:, j] * 1e3, color="C0", lw=1,
                label=f"float reference ({shown.reference} parameters)")
        ax.plot(t_ms, shown.v[:, j] * 1e3, color="C3", lw=0.8, ls="--",
                label=_emulator(shown))
        ax.set_ylabel(f"neuron {j}\nV (mV)")
    legend_beside(axes[0, 0])
    axes[0, 0].set_title(f"membrane: {_emulator(shown)} vs float reference", fontsize=9)
    axes[-1, 0].set_xlabel("time (ms)")
    return fig


def run_raster_figure(names: Sequence[str], offsets: dict, slices: dict, spikes: np.ndarray,
                      dt: float, title: str):
    """The spikes of one run, a colour per population (``names``, each at rows
    ``offsets[name]`` + its neurons, columns ``slices[name]`` of ``spikes``), titled
    ``title`` (what ran: ``figures.chip_label``)."""
    fig, ax = new_figure(figsize=(9, 4))
    for k, name in enumerate(names):
        t, j = np.nonzero(spikes[:, slices[name]])
        ax.scatter((t + 1) * dt * 1e3, j + offsets[name], s=2, color=f"C{k}",
                   label=f"{name} ({int(t.size)} spikes)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    legend_beside(ax, markerscale=4, fontsize=8)
    raster_title(ax, title)
    return fig


def run_title(summary: str, core=None) -> str:
    """The title of a run's raster: what ran (the emulator with ``core``'s dialect and
    widths, or, ``core`` None, the float reference) over the run's ``summary`` line."""
    if core is None:
        head = "float reference"
    else:
        head = chip_label("emulator", dialect=core.dialect, v_bits=core.v_bits,
                          i_bits=core.i_bits, w_bits=core.w_bits,
                          rounding=core.rounding if core.dialect == "lif" else None)
    return head + "\n" + "\n".join(textwrap.wrap(summary, 110))


def plot_run_raster(expanded, spikes: np.ndarray, path: str, *, summary: str,
                    core=None) -> None:
    """``run_raster_figure`` of an expanded network's run titled ``run_title(summary,
    core)``, written to ``path``: what ``neurochip run --plot`` writes."""
    slices = {name: expanded.slice(name) for name in expanded.names}
    save(run_raster_figure(list(expanded.names), dict(expanded.offsets), slices, spikes,
                           expanded.dt, run_title(summary, core)), path, dpi=120)
