"""Small multiples: one map panel per year, per quarter or per given period, on one page.

Every panel shows the same frame with the view's filters and its own dates, under a
title naming the period and its counts. The symbols share one scale: the layers size a
marker by fatalities alone (:func:`layers.style.mpl_marker_area`) and every panel is
scaled by the same factor (:func:`layers.printmap.print_scale`), so the same number of
deaths gives the same marker in every panel and in the one legend.

A page holds at most :data:`atlas.periods.MAX_PANELS` panels (4 on ``web``, 6 on
``a4``); when a view asks for more, the page shows the latest ones and says so in its
note (the reader sees the most recent periods; the note gives how many were left out).

The page is laid out once (header, grid of panels, side or bottom strip with the legend,
inset and note, footer) and then each part draws into its box. It reuses the print
page's public pieces (:mod:`layers.printmap`: font sizes, view extent, print scale,
legend handles) and the furniture (:mod:`layers.furniture`).
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple

from atlas.errors import InputError
from atlas.frame import frame_of
from atlas.i18n import fmt_date, fmt_int, t
from atlas.periods import Period, data_range, filter_periods, max_panels, panel_ranges
from layers import furniture, printmap

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.query import FilterSummary
    from atlas.spec import MapSpec

#: Panel maps are drawn smaller than the single page's map: markers, lines and labels
#: shrink by sqrt(panel area / this area in square inches), never below MIN_PANEL_SCALE.
SINGLE_MAP_IN2 = 7.0 * 5.5
MIN_PANEL_SCALE = 0.4


@dataclass
class Multiples:
    """A small-multiples page: the figure, the panels drawn (oldest first), how many
    periods the view asked for, the shared marker scale and the note printed."""

    figure: Figure
    periods: list[Period]
    total: int
    marker_scale: float
    note: str
    unit: str  # "year", "quarter" or "periods"
    summary: FilterSummary  # over every panel's dates (filters line, alt text, sidecar)
    span_spec: MapSpec  # the view with the panels' first and last day as its dates

    def titles(self) -> list[str]:
        """Every panel's title (period and counts), oldest first."""
        return [panel_title(p, self.unit, self.span_spec.lang) for p in self.periods]


def is_multiples(spec: MapSpec) -> bool:
    """True when ``spec`` asks for panels (``small_multiples`` year/quarter, or ``periods``)."""
    return spec.small_multiples != "none" or bool(spec.periods)


def period_label(lo: dt.date, hi: dt.date, unit: str, lang: str) -> str:
    """``2021``, ``Q2 2021`` (es ``T2 2021``) for a whole year or quarter, else the range."""
    if unit == "year" and (lo.month, lo.day, hi.month, hi.day) == (1, 1, 12, 31):
        return str(lo.year)
    if unit == "quarter" and lo.day == 1 and lo.month in (1, 4, 7, 10):
        q = (lo.month - 1) // 3 + 1
        end = dt.date(lo.year, lo.month + 3, 1) if q < 4 else dt.date(lo.year + 1, 1, 1)
        if hi == end - dt.timedelta(days=1):
            return t("quarter_label", lang, q=q, year=lo.year)
    return f"{fmt_date(lo, lang)} – {fmt_date(hi, lang)}"


def panel_title(period: Period, unit: str, lang: str) -> str:
    """``2021: 120 incidents, 31 deaths``: the panel's period and what it counts."""
    s = period.summary
    return t("multiples_panel", lang, period=period_label(period.start, period.end, unit, lang),
             incidents=fmt_int(s.incidents, lang), deaths=fmt_int(s.deaths, lang))  # fmt: skip


def select_periods(spec: MapSpec, data: AtlasData) -> tuple[list[tuple[dt.date, dt.date]], int]:
    """(ranges drawn, ranges asked for): the latest :func:`atlas.periods.max_panels` of
    the view's panel ranges."""
    span = data_range(data.incidents)
    if span is None:
        if spec.small_multiples != "none" and (spec.date_from is None or spec.date_to is None):
            raise InputError(
                "small multiples: no incidents are loaded and the view has no dates; "
                "load incidents or give --from and --to"
            )
        span = (spec.date_from or dt.date.today(), spec.date_to or dt.date.today())
    ranges = panel_ranges(spec, *span)
    if not ranges:
        raise InputError("small multiples: give small_multiples year or quarter, or two periods")
    limit = max_panels(spec.size)
    return ranges[-limit:], len(ranges)


def build_multiples(spec: MapSpec, data: AtlasData) -> Multiples:
    """Lay out and draw the small-multiples page for ``spec`` (see the module text)."""
    with matplotlib.rc_context(printmap.RC):
        return _build(spec, data)


# ---- private stages -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Layout:
    header_top: float
    grid: tuple[float, float, float, float]  # left, bottom, width, height (figure fraction)
    side: tuple[float, float, float, float]
    rows: int
    cols: int
    title_h: float  # figure fraction above each panel for its title
    gap_x: float
    gap_y: float


def _build(spec: MapSpec, data: AtlasData) -> Multiples:
    if spec.basemap != "outlines":
        raise InputError(
            f"small multiples: basemap {spec.basemap!r} would fetch web tiles for every "
            "panel; small multiples are drawn on the 'outlines' basemap, choose it"
        )
    ranges, total = select_periods(spec, data)
    unit = spec.small_multiples if spec.small_multiples != "none" else "periods"
    periods = filter_periods(spec, data, ranges)
    whole_spec = spec.replace(date_from=ranges[0][0], date_to=ranges[-1][1])
    whole, whole_summary = printmap.filter_view(whole_spec, data)

    width_in, height_in = spec.width / spec.dpi, spec.height / spec.dpi
    fig = Figure(figsize=(width_in, height_in), dpi=spec.dpi, facecolor="white")
    FigureCanvasAgg(fig)
    fs = printmap.FontSizes.for_page(width_in, height_in)
    frame = frame_of(spec, whole)
    layout = _layout(fig, spec, whole_spec, whole_summary, fs, frame, len(periods))

    # the grid: every panel the same box, hence the same extent and the same marker scale
    gl, gb, gw, gh = layout.grid
    box_w = (gw - (layout.cols - 1) * layout.gap_x) / layout.cols
    box_h = (gh - layout.rows * layout.title_h - (layout.rows - 1) * layout.gap_y) / layout.rows
    box_w_in, box_h_in = box_w * width_in, box_h * height_in
    extent = printmap.view_extent(spec, whole, box_w_in, box_h_in, bounds=frame)
    k = min(fs.scale, 1.0) * min(1.0, math.sqrt(box_w_in * box_h_in / SINGLE_MAP_IN2))
    k = max(k, MIN_PANEL_SCALE)
    axes = []
    # GeoDataFrame.plot asks the canvas to redraw after every layer: on an Agg canvas
    # that draws the whole page each time (panels x layers full draws). Nothing is shown
    # while the panels are drawn, so those requests are dropped on this figure only.
    fig.canvas.draw_idle = _no_redraw
    for i, period in enumerate(periods):
        row, col = divmod(i, layout.cols)
        left = gl + col * (box_w + layout.gap_x)
        bottom = gb + gh - (row + 1) * (box_h + layout.title_h) - row * layout.gap_y
        ax = fig.add_axes((left, bottom, box_w, box_h), gid=f"panel-{i}")
        _draw_panel(ax, spec.replace(date_from=period.start, date_to=period.end), period.data,
                    extent)  # fmt: skip
        printmap.print_scale(ax, k, min_font=fs.small * 0.8)
        _title(fig, ax, period, unit, spec.lang, fs.body, box_w)
        furniture.add_data_marks(fig, ax, is_sample=bool(data.is_sample),
                                 approximate=bool(data.approximate), lang=spec.lang,
                                 fontsize=fs.body)  # fmt: skip
        axes.append(ax)
    del fig.canvas.draw_idle
    furniture.scale_bar(axes[0], fontsize=fs.small, lang=spec.lang)

    note = _note(spec, len(periods), total)
    _side(fig, spec, data, whole, whole_summary, fs, layout, extent, k, note)
    return Multiples(fig, periods, total, k, note, unit, whole_summary, whole_spec)


def _layout(
    fig: Figure,
    spec: MapSpec,
    whole_spec: MapSpec,
    summary: FilterSummary,
    fs: printmap.FontSizes,
    frame: tuple[float, float, float, float],
    n: int,
) -> _Layout:
    """Header and footer drawn (their height is known only once drawn), then the boxes:
    the grid of panels and the side strip (right on a landscape page, bottom on a
    portrait one); the grid's rows x columns give the panels the largest map area."""
    width_in, height_in = fig.get_figwidth(), fig.get_figheight()
    pt = 1.0 / 72.0
    mx = max(14 * fs.body / 9.5, 6) * pt / width_in
    my = max(14 * fs.body / 9.5, 6) * pt / height_in
    top = _header(fig, spec, whole_spec, summary, fs, mx, 1.0 - my)
    bottom = my + _footer(fig, spec, fs, mx, my)
    gap_x = max(10 * pt / width_in, mx)
    gap_y = max(8 * pt / height_in, my * 0.8)
    title_h = 2.8 * fs.body * pt / height_in  # two lines when a title must wrap
    landscape = width_in / height_in >= 1.2
    if landscape:
        side_w = 0.24
        grid = (mx, bottom, 1 - 2 * mx - side_w - gap_x, top - bottom - gap_y * 0.5)
        side = (grid[0] + grid[2] + gap_x, bottom, side_w, grid[3])
    else:
        side_h = 0.2
        grid = (mx, bottom + side_h + gap_y, 1 - 2 * mx, top - bottom - side_h - gap_y * 1.5)
        side = (mx, bottom, 1 - 2 * mx, side_h)
    x0, y0, x1, y1 = frame
    ratio = (y1 - y0) * furniture.aspect_for((y0 + y1) / 2) / max(x1 - x0, 1e-9)  # h / w
    best = (1, n, -1.0)
    for rows in range(1, n + 1):
        cols = math.ceil(n / rows)
        bw = (grid[2] - (cols - 1) * gap_x) / cols * width_in
        bh = (grid[3] - rows * title_h - (rows - 1) * gap_y) / rows * height_in
        if bw <= 0 or bh <= 0:
            continue
        area = min(bw, bh / ratio) * min(bw * ratio, bh)
        if area > best[2] * 1.0001:
            best = (rows, cols, area)
    return _Layout(top, grid, side, best[0], best[1], title_h, gap_x, gap_y)


def _header(
    fig: Figure,
    spec: MapSpec,
    whole_spec: MapSpec,
    summary: FilterSummary,
    fs: printmap.FontSizes,
    mx: float,
    top: float,
) -> float:
    fig_w_pt = fig.get_figwidth() * 72.0
    width = 1 - 2 * mx
    items = [
        (spec.title, fs.title, "bold", "title", "#111111"),
        (spec.dek, fs.dek, "normal", "dek", "#333333"),
        (furniture.filters_text(whole_spec, summary), fs.small, "normal", "filters",
         furniture.MUTED),
    ]  # fmt: skip
    for raw, size, weight, gid, color in items:
        if not raw.strip():
            continue
        text = fig.text(mx, top, furniture.wrap_to_width(raw, width * fig_w_pt, size), ha="left",
                        va="top", fontsize=size, fontweight=weight, color=color, gid=gid,
                        fontfamily=furniture.FONT)  # fmt: skip
        if gid != "title":
            furniture.fit_text_block(
                fig, text, raw, (mx, 0, width, 2.6 * size / 72 / fig.get_figheight())
            )
        top -= _height(fig, text) + 0.35 * size / 72.0 / fig.get_figheight()
    return top


def _footer(fig: Figure, spec: MapSpec, fs: printmap.FontSizes, mx: float, my: float) -> float:
    height = 0.0
    both = spec.source_line.strip() and spec.byline.strip()
    for raw, x, ha, gid in ((spec.source_line, mx, "left", "source-line"),
                            (spec.byline, 1 - mx, "right", "byline")):  # fmt: skip
        if not raw.strip():
            continue
        text = fig.text(x, my, raw, ha=ha, va="bottom", fontsize=fs.small, color="#333333",
                        gid=gid, fontfamily=furniture.FONT)  # fmt: skip
        box = (mx, my, (0.48 - mx) if both else (1 - 2 * mx), 0.2)
        furniture.fit_text_block(fig, text, raw, box, min_size=4.0)
        height = max(height, _height(fig, text) + 0.4 * fs.small / 72 / fig.get_figheight())
    return height


def _draw_panel(
    ax: Axes, spec: MapSpec, data: AtlasData, extent: tuple[float, float, float, float]
) -> None:
    """Every enabled layer, as on the single page, in the shared extent."""
    from layers.registry import layers_for

    x0, y0, x1, y1 = extent
    ax.set_facecolor("#dde9f2")
    for layer in layers_for(spec.layers):
        layer.to_matplotlib(ax, data, spec)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(furniture.aspect_for((y0 + y1) / 2), adjustable="box", anchor="C")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#666666")
        spine.set_linewidth(0.6)


def _title(fig: Figure, ax: Axes, period: Period, unit: str, lang: str, size: float,
           width: float) -> None:  # fmt: skip
    """The panel's title above it: period and counts on one line when they fit the panel's
    width, else the counts on a second line; shrunk (to 5 pt) until each line fits."""
    text = panel_title(period, unit, lang)
    title = ax.set_title(text, loc="left", fontsize=size, fontweight="bold", color="#111111",
                         pad=3, fontfamily=furniture.FONT)  # fmt: skip
    title.set_gid("panel-title")
    renderer = fig.canvas.get_renderer()
    limit = width * fig.get_figwidth() * fig.dpi
    if title.get_window_extent(renderer).width > limit:
        head, _, counts = text.partition(": ")
        title.set_text(f"{head}:\n{counts}" if counts else text)
    while title.get_window_extent(renderer).width > limit and title.get_fontsize() > 5:
        title.set_fontsize(max(title.get_fontsize() * 0.92, 5))


def _no_redraw(*_args: Any, **_kwargs: Any) -> None:
    return None


def _note(spec: MapSpec, shown: int, total: int) -> str:
    parts = [t("multiples_shared_scale", spec.lang)]
    if total > shown:
        parts.append(t("multiples_latest", spec.lang, shown=shown, total=total))
    return " ".join(parts)


def _side(
    fig: Figure,
    spec: MapSpec,
    data: AtlasData,
    whole: AtlasData,
    summary: FilterSummary,
    fs: printmap.FontSizes,
    layout: _Layout,
    extent: tuple[float, float, float, float],
    k: float,
    note: str,
) -> None:
    """The one legend (at the panels' marker scale), the inset locator and the note with
    the method block, in the side strip."""
    from layers.compose import legend_entries

    sx, sy, sw, sh = layout.side
    landscape = sw < sh
    handles, labels = printmap.legend_handles(legend_entries(spec, whole), scale=k)
    handles, labels = printmap.merge_size_entries(handles, labels)
    top = sy + sh
    if landscape:
        inset_h = min(sh * 0.22, sw * fig.get_figwidth() / fig.get_figheight() * 0.8)
        inset_w = sw * 0.6
        furniture.inset_locator(fig, (sx + sw - inset_w, top - inset_h, inset_w, inset_h),
                                data.basemap, extent)  # fmt: skip
        legend_box = (sx, top - inset_h - 0.01, sw, sh * 0.5)
    else:
        inset_w = sw * 0.18
        furniture.inset_locator(fig, (sx + sw - inset_w, top - sh, inset_w, sh), data.basemap,
                                extent)  # fmt: skip
        legend_box = (sx, top, sw * 0.5, sh * 0.7)
    legend_bottom = legend_box[1]
    if handles:
        legend = _legend(fig, handles, labels, legend_box, fs.small, ncol=1 if landscape else 2)
        legend_bottom = legend_box[1] - _height(fig, legend)
    raw = note
    if spec.notes.strip():
        raw = spec.notes.strip() + "\n" + raw
    raw += "\n" + furniture.method_text(spec.replace(date_from=summary.date_min or spec.date_from,
                                                     date_to=summary.date_max or spec.date_to),
                                        data, summary, compact=True,
                                        with_filters=False).replace("\n", " ")  # fmt: skip
    if landscape:
        box = (sx, sy, sw, legend_bottom - 0.012 - sy)
        x, y = sx, legend_bottom - 0.012
    else:
        box = (sx + sw * 0.52, sy, sw * 0.30 - 0.01, sh)
        x, y = box[0], top
    block = fig.text(x, y, raw, ha="left", va="top", fontsize=fs.small, color="#333333",
                     gid="method", fontfamily=furniture.FONT, linespacing=1.3)  # fmt: skip
    furniture.fit_text_block(fig, block, raw, box, min_size=4.0)


def _legend(
    fig: Figure,
    handles: list[Any],
    labels: list[str],
    box: tuple[float, float, float, float],
    size: float,
    *,
    ncol: int,
) -> Any:
    """One legend from ``box``'s top left, its font shrunk (to 4 pt) until it fits."""
    renderer = fig.canvas.get_renderer()
    inv = fig.transFigure.inverted()
    pt = size
    legend = None
    while True:
        if legend is not None:
            legend.remove()
        col_pt = box[2] / ncol * fig.get_figwidth() * 72.0
        chars = max(int(col_pt / (pt * 0.56)) - 5, 12)
        legend = fig.legend(handles, [textwrap.fill(lb, chars) for lb in labels],
                            loc="upper left", bbox_to_anchor=(box[0], box[1]),
                            bbox_transform=fig.transFigure, ncol=ncol, frameon=False,
                            fontsize=pt, borderaxespad=0.0, borderpad=0.0, handletextpad=0.5,
                            columnspacing=0.8, labelspacing=0.35,
                            handler_map={tuple: HandlerTuple(ndivide=None, pad=0.2)})  # fmt: skip
        legend.set_gid("legend")
        bb = legend.get_window_extent(renderer).transformed(inv)
        if (bb.width <= box[2] * 1.01 and bb.height <= box[3]) or pt <= 4.0:
            return legend
        pt = max(pt * 0.9, 4.0)


def _height(fig: Figure, artist: Any) -> float:
    bb = artist.get_window_extent(fig.canvas.get_renderer())
    return bb.height / (fig.get_figheight() * fig.dpi)


__all__ = [
    "Multiples",
    "build_multiples",
    "is_multiples",
    "panel_title",
    "period_label",
    "select_periods",
]
