"""Small multiples: one map panel per year, per quarter or per given period, on one page.

Every panel shows the same frame with the view's filters and its own dates, under a
title naming the period and its counts. The symbols share one scale: the incidents are
drawn by :func:`layers.printmap.draw_incidents` at the page layout's one symbol scale in
every panel, the scale the legend's glyphs use, so the same number of deaths gives the
same marker in every panel and in the one legend.

A page holds at most :data:`atlas.periods.MAX_PANELS` panels (4 on ``web``, 6 on
``a4``); when a view asks for more, the page shows the latest ones and its note says so
(first of the note's two sentences).

The page is the print page's (:mod:`layers.printmap`): its texts and legend rows for the
panels' whole span, laid out by :func:`layers.printmap.layout_page`, whose map box is
split here into the grid of panels. The drawing steps it reuses (``_draw_text``,
``_draw_map``, ``_lift_fonts``, ``_hide_filling_country``, ``_place_legend_and_inset``)
are still private in printmap.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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
    dropped: tuple[str, ...] = ()  # what the print layout gave way on (dek, legend, note)

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
def _build(spec: MapSpec, data: AtlasData) -> Multiples:
    """The print page's own steps (:mod:`layers.printmap`): its texts and legend rows for
    the panels' whole span, :func:`layers.printmap.layout_page` for the boxes, then the map
    box split into the grid of panels, each drawn like the page's map (base layers, then
    :func:`layers.printmap.draw_incidents` at the layout's one symbol scale)."""
    if spec.basemap != "outlines":
        raise InputError(
            f"small multiples: basemap {spec.basemap!r} would fetch web tiles for every "
            "panel; small multiples are drawn on the 'outlines' basemap, choose it"
        )
    ranges, total = select_periods(spec, data)
    unit = spec.small_multiples if spec.small_multiples != "none" else "periods"
    periods = filter_periods(spec, data, ranges)
    span_spec = spec.replace(date_from=ranges[0][0], date_to=ranges[-1][1])
    whole, whole_summary = printmap.filter_view(span_spec, data)
    note = _note(spec, len(periods), total)

    with matplotlib.rc_context(printmap.page_rc(spec)):
        family = printmap.font_family(spec)
        texts = printmap.page_texts(span_spec, data, whole_summary)
        # the page's note: how many periods were left out comes first, then the reader's
        texts = dataclasses.replace(texts, notes=(*printmap.sentences(note), *texts.notes)[:2])
        rows = printmap.legend_rows(span_spec, whole, data)
        layout = printmap.layout_page(span_spec, texts, rows, family=family)
        fig = Figure(figsize=(spec.width / spec.dpi, spec.height / spec.dpi), dpi=spec.dpi,
                     facecolor="white")  # fmt: skip
        FigureCanvasAgg(fig)
        fig.atlas_layout = layout  # type: ignore[attr-defined]  # draw_incidents reads it
        for block in layout.texts.values():
            printmap._draw_text(fig, layout, block)
        sz = layout.sizes
        boxes = _grid(layout, frame_of(spec, whole), len(periods))
        extent = printmap.view_extent(
            spec, whole, boxes[0].w, boxes[0].h, bounds=frame_of(spec, whole)
        )
        # GeoDataFrame.plot asks the canvas to redraw after every layer: on an Agg canvas
        # that draws the whole page each time (panels x layers full draws). Nothing is
        # shown while the panels are drawn, so those requests are dropped on this figure.
        fig.canvas.draw_idle = _no_redraw
        axes = []
        for i, (period, box) in enumerate(zip(periods, boxes, strict=True)):
            pspec = spec.replace(date_from=period.start, date_to=period.end)
            ax = fig.add_axes(layout.frac(box), gid=f"panel-{i}")
            printmap._draw_map(ax, pspec, period.data, extent, skip=printmap.INCIDENT_LAYERS)
            printmap.print_scale(ax, min(sz.scale, 1.0) if sz.print_preset else 1.0,
                                 min_font=sz.minimum)  # fmt: skip
            printmap._lift_fonts(ax, sz.minimum)
            printmap._hide_filling_country(ax, data, extent)
            printmap.draw_incidents(ax, pspec, period.data)
            _title(fig, ax, period, unit, spec.lang, sz.body, box.w / layout.width_pt)
            axes.append(ax)
        del fig.canvas.draw_idle
        furniture.scale_bar(axes[0], fontsize=sz.small, lang=spec.lang)
        # legend and inset where the layout put them (beside the grid, or in its corners)
        top_right = axes[min(_cols(layout, boxes) - 1, len(axes) - 1)]
        printmap._place_legend_and_inset(fig, top_right, layout, span_spec, whole, data, extent)
    return Multiples(fig, periods, total, layout.symbol_scale, note, unit, whole_summary,
                     span_spec, tuple(layout.dropped))  # fmt: skip


def _grid(layout: Any, frame: tuple[float, float, float, float], n: int) -> list[Any]:
    """The map box split into ``n`` panel boxes (points), each with room for its title
    above; the rows x columns that give the panels the largest map area for the frame's
    shape; oldest panel top left, reading order."""
    mb = layout.map
    sz = layout.sizes
    gap = sz.small * 1.2
    title_h = sz.body * 2.6  # two lines when a title must wrap
    x0, y0, x1, y1 = frame
    ratio = (y1 - y0) * furniture.aspect_for((y0 + y1) / 2) / max(x1 - x0, 1e-9)  # h / w
    best = (1, n, -1.0)
    for rows in range(1, n + 1):
        cols = math.ceil(n / rows)
        bw = (mb.w - (cols - 1) * gap) / cols
        bh = (mb.h - rows * title_h - (rows - 1) * gap) / rows
        if bw <= 0 or bh <= 0:
            continue
        area = min(bw, bh / ratio) * min(bw * ratio, bh)
        if area > best[2] * 1.0001:
            best = (rows, cols, area)
    rows, cols, _ = best
    bw = (mb.w - (cols - 1) * gap) / cols
    bh = (mb.h - rows * title_h - (rows - 1) * gap) / rows
    boxes = []
    for i in range(n):
        r, c = divmod(i, cols)
        top = mb.top - r * (bh + title_h + gap) - title_h
        boxes.append(type(mb)(mb.x + c * (bw + gap), top - bh, bw, bh))
    return boxes


def _cols(layout: Any, boxes: list[Any]) -> int:
    return sum(1 for b in boxes if abs(b.top - boxes[0].top) < 1e-6)


def _title(fig: Figure, ax: Axes, period: Period, unit: str, lang: str, size: float,
           width: float) -> None:  # fmt: skip
    """The panel's title above it: period and counts on one line when they fit the panel's
    width, else the counts on a second line; shrunk (to 5 pt) until each line fits."""
    text = panel_title(period, unit, lang)
    title = ax.set_title(text, loc="left", fontsize=size, fontweight="bold", color="#111111",
                         pad=3, parse_math=False)  # fmt: skip
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
    parts = []
    if total > shown:
        parts.append(t("multiples_latest", spec.lang, shown=shown, total=total))
    parts.append(t("multiples_shared_scale", spec.lang))
    return " ".join(parts)


__all__ = [
    "Multiples",
    "build_multiples",
    "is_multiples",
    "panel_title",
    "period_label",
    "select_periods",
]
