"""The figures, read as objects: every raster is titled with what ran (emulator or float
reference; dialect and widths), legends stay off the data (rasters' legends outside the
data area altogether), neighbouring tick labels do not overlap, the throughput heatmap's
colorbar says its unit and the cycles plot draws the real-time budget.

Each figure is drawn (``fig.canvas.draw()``, Agg) and its artists' window extents are
compared in display pixels. The checks are first shown to catch a figure made wrong."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from matplotlib.collections import LineCollection, PathCollection  # noqa: E402

from neurochip.lab.figures import RASTER, new_figure  # noqa: E402

EXAMPLE = str(Path(__file__).parent.parent / "examples" / "balanced.json")


# ------------------------------------------------------------------ what the checks read

def drawn(fig):
    fig.tight_layout()
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def rasters(fig) -> list:
    return [ax for ax in fig.axes if ax.get_gid() == RASTER]


def _inside(points: np.ndarray, box) -> np.ndarray:
    return ((points[:, 0] > box.x0) & (points[:, 0] < box.x1) &
            (points[:, 1] > box.y0) & (points[:, 1] < box.y1))


def data_pixels(ax) -> np.ndarray:
    """Display coordinates of what ``ax`` draws as data, within its data area: the
    vertices of its lines (and 8 points along each segment) in data coordinates, the
    points of its scatters and the ends of its vertical/horizontal segment collections
    (vlines, error bars). Reference lines (axhline, axvline: partly in axes coordinates)
    are not data."""
    found = []
    for line in ax.lines:
        if line.get_transform() != ax.transData or not line.get_visible():
            continue
        xy = np.asarray(line.get_xydata(), dtype=float)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) == 0:
            continue
        px = ax.transData.transform(xy)
        if line.get_linestyle() not in ("None", "", " ") and len(px) > 1:
            t = np.linspace(0, 1, 8)[:, None, None]
            px = np.vstack([px, (px[:-1] + t * (px[1:] - px[:-1])).reshape(-1, 2)])
        found.append(px)
    for c in ax.collections:
        if isinstance(c, PathCollection) and len(c.get_offsets()):
            found.append(c.get_offset_transform().transform(np.asarray(c.get_offsets())))
        elif isinstance(c, LineCollection):
            for seg in c.get_segments():
                if len(seg):
                    t = np.linspace(0, 1, 5)[:, None]
                    seg = np.asarray(seg, dtype=float)
                    found.append(c.get_transform().transform(seg[0] + t * (seg[-1] - seg[0])))
    if not found:
        return np.zeros((0, 2))
    px = np.vstack(found)
    px = px[np.isfinite(px).all(axis=1)]
    return px[_inside(px, ax.get_window_extent())]


def legends(fig) -> list:
    return [(ax, ax.get_legend()) for ax in fig.axes if ax.get_legend() is not None]


def legend_covers_data(fig) -> list[str]:
    """Legends (any axes' or the figure's) with a data point of any axes under them."""
    renderer = drawn(fig)
    boxes = [(ax, leg.get_window_extent(renderer)) for ax, leg in legends(fig)]
    boxes += [(None, leg.get_window_extent(renderer)) for leg in fig.legends]
    bad = []
    for owner, box in boxes:
        for ax in fig.axes:
            hits = int(_inside(data_pixels(ax), box).sum())
            if hits:
                bad.append(f"legend of {owner.get_title()!r} covers {hits} points of "
                           f"{ax.get_title()!r}")
    return bad


def legend_in_data_area(ax, renderer) -> bool:
    legend = ax.get_legend()
    a, b = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    return min(a.x1, b.x1) > max(a.x0, b.x0) and min(a.y1, b.y1) > max(a.y0, b.y0)


def overlapping_tick_labels(fig) -> list[str]:
    """Pairs of neighbouring tick labels (x or y, major and minor, in view) whose extents
    overlap, on every axes (colorbars included)."""
    renderer = drawn(fig)
    bad = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            pad = 1e-9 * max(abs(lo), abs(hi), 1)
            horizontal = axis is ax.xaxis
            labels = [t for t in axis.get_ticklabels(which="both")
                      if t.get_visible() and t.get_text().strip()
                      and lo - pad <= t.get_position()[0 if horizontal else 1] <= hi + pad]
            boxes = sorted((t.get_window_extent(renderer) for t in labels),
                           key=lambda b: b.x0 if horizontal else b.y0)
            for a, b in zip(boxes, boxes[1:]):
                if (a.x1 > b.x0 if horizontal else a.y1 > b.y0):
                    bad.append(f"{ax.get_title()!r} {'x' if horizontal else 'y'}: "
                               f"tick labels overlap at {a} / {b}")
    return bad


def check_figure(fig, *, rasters_expected: int) -> None:
    """What every figure must satisfy: its rasters titled with what ran and their legends
    outside the data area; no legend over data; no overlapping tick labels."""
    renderer = drawn(fig)
    found = rasters(fig)
    assert len(found) == rasters_expected
    for ax in found:
        title = ax.get_title()
        assert "emulator" in title or "float" in title, title
        if "emulator" in title:
            assert "dialect" in title and " v" in title.replace("(", " "), title
        if ax.get_legend() is not None:
            assert not legend_in_data_area(ax, renderer), title
    assert legend_covers_data(fig) == []
    assert overlapping_tick_labels(fig) == []


# ------------------------------------------------------ the checks catch what they check

def test_the_checks_catch_a_legend_on_the_data_and_crowded_tick_labels():
    fig, ax = new_figure(figsize=(3, 2))
    x = np.linspace(0, 1, 50)
    ax.plot(x, x, label="a line across the corner")
    ax.legend(loc="upper left")                   # the line runs under it
    ax.set_xticks(np.linspace(0, 1, 40))          # forty labels in three inches
    assert legend_covers_data(fig)
    assert overlapping_tick_labels(fig)
    assert legend_in_data_area(ax, drawn(fig))
    ax.set_gid(RASTER)
    with pytest.raises(AssertionError):
        check_figure(fig, rasters_expected=1)     # untitled raster


# ---------------------------------------------------------------------------- experiments

@pytest.fixture(scope="module")
def experiment_figures():
    from neurochip.lab.experiments import EXPERIMENTS

    return {name: run().figure() for name, run in EXPERIMENTS.items()}


@pytest.mark.parametrize("name, expected", [
    ("fi-curve", 0), ("dimensionless", 0), ("impedance", 0), ("adaptation", 1),
    ("jitter", 0), ("nonlinear-leak", 0)])
def test_experiment_figures(experiment_figures, name, expected):
    check_figure(experiment_figures[name], rasters_expected=expected)


def test_adaptation_has_one_legend_beside_its_last_panel(experiment_figures):
    fig = experiment_figures["adaptation"]
    renderer = drawn(fig)
    owners = [ax for ax, _ in legends(fig)]
    assert owners == [fig.axes[-1]]
    assert not legend_in_data_area(fig.axes[-1], renderer)
    labels = [t.get_text() for t in fig.axes[-1].get_legend().get_texts()]
    assert "16-bit core" in labels and "steady theory" in labels
    assert rasters(fig)[0].get_title().startswith("emulator (lif dialect, v16)")


# ----------------------------------------------------------------------- compare and demo

@pytest.fixture(scope="module")
def swept():
    from neurochip.lab.compare import compare, sweep

    return compare(EXAMPLE, sweep(v_bits=(8, 12), rounding=("floor", "nearest")), ticks=120,
                   backend="numpy")


@pytest.fixture(scope="module")
def dialects():
    """Configurations that differ in every width: nothing to draw a line through."""
    from neurochip.lab.compare import compare

    return compare(EXAMPLE, [{"dialect": "lif"}, {"dialect": "loihi"}, {"dialect": "xylo"}],
                   ticks=120, backend="numpy")


def test_compare_figures_of_a_sweep(swept):
    from neurochip.lab.compare.plots import comparison_figures

    figures = comparison_figures(swept, show=1)
    for name, fig in figures.items():
        check_figure(fig, rasters_expected=1 if name == "raster" else 0)
    title = rasters(figures["raster"])[0].get_title()
    assert "emulator (lif dialect, v12 i16 w8, floor rounding)" in title
    assert "float reference (asked parameters)" in title
    error = figures["error"]
    lines = [line for line in error.axes[0].lines if line.get_label() in
             ("rounding=floor", "rounding=nearest")]
    assert len(lines) == 2 and all(list(line.get_xdata()) == [8, 12] for line in lines)


def test_compare_error_figure_shows_a_bar_per_configuration_when_every_width_differs(
        dialects):
    from neurochip.lab.compare.plots import PANELS, comparison_figures

    assert {r.spec["v_bits"] for r in dialects} == {16, 24} and all(r.ok for r in dialects)
    figures = comparison_figures(dialects, show=1)
    error = figures["error"]
    check_figure(error, rasters_expected=0)
    for ax, (key, _) in zip(error.axes, PANELS):
        heights = [p.get_height() for p in ax.patches]
        expected = [getattr(r, key) * (1e3 if key == "v_rmse" else 1) for r in dialects]
        assert heights == pytest.approx(expected)
        assert [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()] == \
            [r.label for r in dialects]
    raster = rasters(figures["raster"])[0].get_title()
    assert "emulator (loihi dialect, v24 i24 w9)" in raster
    check_figure(figures["raster"], rasters_expected=1)


def test_demo_figure():
    from neurochip.lab.demo import demo_figure, run_demo

    fig = demo_figure(run_demo(ticks=300))
    check_figure(fig, rasters_expected=1)
    assert "emulator (lif dialect, v16 i16 w8, floor rounding)" in rasters(fig)[0].get_title()


# ------------------------------------------------------------------------------ run --plot

def test_run_plot_raster_through_the_cli(tmp_path, monkeypatch):
    """``neurochip run --plot`` (in process) writes the titled raster: the figure is
    caught on its way to the file."""
    from neurochip.cli.app import main
    from neurochip.lab.compare import plots

    caught = {}
    real_save = plots.save

    def catch(fig, path, dpi=110):
        caught[path] = fig
        real_save(fig, path, dpi)
    monkeypatch.setattr(plots, "save", catch)
    chip, float_run = str(tmp_path / "chip.png"), str(tmp_path / "float.png")
    assert main(["run", EXAMPLE, "--ticks", "80", "--plot", chip, "--quiet",
                 "--backend", "numpy"]) == 0
    assert main(["run", EXAMPLE, "--ticks", "80", "--plot", float_run, "--float",
                 "--quiet"]) == 0
    assert sorted(caught) == sorted([chip, float_run])
    for path, fig in caught.items():
        check_figure(fig, rasters_expected=1)
        ax = rasters(fig)[0]
        assert Path(path).read_bytes()[:4] == b"\x89PNG"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert [label.split()[0] for label in labels] == ["exc", "inh"]
    assert rasters(caught[chip])[0].get_title().startswith(
        "emulator (lif dialect, v16 i16 w8, floor rounding)\n")
    assert rasters(caught[float_run])[0].get_title().startswith("float reference\n")


# ----------------------------------------------------------------------------- throughput

@pytest.fixture(scope="module", params=[(2, 2), (12, 10)], ids=["2x2", "12x10"])
def throughput(request):
    from neurochip.hardware.energy import PRESETS
    from neurochip.lab.throughput import estimate_example, report_figures

    preset = PRESETS["loihi-2018"]
    report, mesh = estimate_example(neurons=240, fanout=12, period=20, mesh=request.param,
                                    ticks=150, dt_s=1e-3, timing=preset.timing,
                                    energy=preset.energy, clock_hz=preset.clock_hz)
    return report, report_figures(report, mesh)


def test_throughput_core_load_has_a_colorbar_with_its_unit(throughput):
    report, figures = throughput
    fig = figures["core-load"]
    check_figure(fig, rasters_expected=0)
    heatmap, colorbar = fig.axes
    assert "cycles" in colorbar.get_ylabel()
    assert heatmap.get_xlabel() == "core x" and heatmap.get_ylabel() == "core y"
    shown = [t.get_text() for t in heatmap.texts]
    assert len(shown) in (0, len(report.core_busy_cycles))


def test_throughput_cycles_plot_draws_the_real_time_budget(throughput):
    report, figures = throughput
    fig = figures["cycles"]
    check_figure(fig, rasters_expected=0)
    ax = fig.axes[0]
    budget = [line for line in ax.lines if line.get_label().startswith("real-time budget")]
    assert len(budget) == 1
    assert set(budget[0].get_ydata()) == {report.clock_hz * report.dt_s} == {1e6}
    assert "1000 MHz × 1 ms = 1,000,000 cycles" in budget[0].get_label()
    low, high = ax.get_ylim()
    assert low <= report.cycles_per_tick_min and 1e6 < high    # both in view
    assert not legend_in_data_area(ax, drawn(fig))
