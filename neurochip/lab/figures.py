"""What every figure of the lab shares: a figure of its own (not pyplot's global one),
legends beside the data, log axes whose tick labels do not run into each other, titled
and marked rasters, and the write to a PNG.

Figures are ``matplotlib.figure.Figure`` objects on an Agg canvas, made without pyplot,
so that building one neither needs a display nor leaks a figure; tests read them
(``fig.canvas.draw()``, then the artists' window extents).
"""

from __future__ import annotations

import math

#: the ``gid`` of axes that hold a spike raster: every one has a title that says what
#: ran (emulator or float reference, dialect, widths); tests find the rasters by it
RASTER = "raster"


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kwargs):
    """``(figure, axes)`` as ``pyplot.subplots`` gives them, on an Agg canvas of their
    own; ``kwargs`` go to ``Figure.subplots`` (``sharex``, ``squeeze``,
    ``gridspec_kw``...)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def legend_beside(ax, *, fontsize: float = 7, handles=None, labels=None, **kwargs):
    """A legend to the right of ``ax``, outside its data area (``tight_layout`` makes
    room for it): it never hides a spike or a point."""
    options = dict(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                   fontsize=fontsize, **kwargs)
    if handles is not None:
        return ax.legend(handles, labels, **options)
    return ax.legend(**options)


def raster_title(ax, title: str, fontsize: float = 9) -> None:
    """Title ``ax`` as a raster (``title`` says what ran) and mark it ``RASTER``."""
    ax.set_title(title, fontsize=fontsize)
    ax.set_gid(RASTER)


def chip_label(kind: str, *, dialect: str | None = None, v_bits: int | None = None,
               i_bits: int | None = None, w_bits: int | None = None,
               rounding: str | None = None) -> str:
    """``"emulator (lif dialect, v16 i16 w8, floor rounding)"``: what ran, for titles;
    ``kind`` is ``"emulator"`` or ``"float reference"``, the widths those given."""
    widths = " ".join(f"{name}{value}" for name, value in (("v", v_bits), ("i", i_bits),
                                                            ("w", w_bits)) if value)
    parts = [f"{dialect} dialect" if dialect else "", widths,
             f"{rounding} rounding" if rounding else ""]
    inside = ", ".join(p for p in parts if p)
    return f"{kind} ({inside})" if inside else kind


def readable_log_ticks(ax, which: str = "both") -> None:
    """Major ticks of a log axis labelled as plain numbers (``0.2``, ``5``, ``1e+03``):
    at every digit when the axis spans at most half a decade, at 1, 2, 3, 5 up to 1.2
    decades, at 1, 2, 5 up to three, at every power of ten up to six and fewer beyond;
    minor ticks unlabelled. (matplotlib labels minor
    ticks when an axis spans less than a decade or two, and those labels run into each
    other.) Call it once the data are drawn: it reads the limits."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for axis, lim in (("x", ax.get_xlim()), ("y", ax.get_ylim())):
        if which not in (axis, "both"):
            continue
        target = ax.xaxis if axis == "x" else ax.yaxis
        if target.get_scale() != "log":
            continue
        lo, hi = sorted(abs(v) for v in lim)
        decades = math.log10(hi / lo) if lo > 0 else 10.0
        subs = (tuple(range(1, 10)) if decades <= 0.5 else (1, 2, 3, 5) if decades <= 1.2
                else (1, 2, 5) if decades <= 3 else (1,))
        target.set_major_locator(LogLocator(base=10, subs=subs,
                                            numticks=7 if decades > 6 else 12))
        target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        target.set_minor_locator(LogLocator(base=10, subs=tuple(range(2, 10)), numticks=12))
        target.set_minor_formatter(NullFormatter())


def save(fig, path: str, dpi: int = 110) -> None:
    """Lay ``fig`` out tightly (legends beside the axes included) and write it."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
