"""The page's time chart as inline SVG: incidents and deaths per step, inside vs outside.

Drawn here rather than with Vega-Lite: the page's chart was Streamlit's Vega bundle
(~0.8 MB of JavaScript parsed and compiled on the browser's one main thread, the thread
that also draws the map), which made a reader's first map ~0.5 s later on a quiet
machine and over a second later on a busy one (bench ``dashboard``; BENCHMARKS.md). An
SVG of a few hundred rectangles costs the browser next to nothing.

Two panels share one time axis: incidents as stacked bars (inside the region at the
bottom, dark; outside on top, grey) and deaths as two lines. Every step has a column the
height of the two panels carrying a ``<title>``, so hovering anywhere over a step shows
its four numbers (browsers show SVG titles as tooltips). Two drawings are made, a wide
one and a narrow one for phones, and CSS shows one: text in an SVG scales with its
width, so one drawing cannot be readable on both; the phone's has no hover columns (a
touch screen cannot hover, and they are most of the chart's size).

Every text is escaped (:func:`atlas.safety.escape_text`): labels come from the i18n
table, numbers from :func:`atlas.i18n.fmt_int`, dates from :data:`atlas.i18n.MONTHS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from atlas.i18n import MONTHS, fmt_date, fmt_int, t
from atlas.safety import escape_text as esc

INSIDE = "#1b3a5c"
OUTSIDE = "#a3a3a3"
INK = "#31333f"  # Streamlit's text colour
GRID = "#e6e6e6"


@dataclass(frozen=True)
class Frame:
    """One drawing's geometry, in SVG units (about CSS pixels at the intended width)."""

    width: int
    left: int  # room for the y labels
    right: int
    panel: int  # height of each panel
    gap: int  # between the panels (the second panel's title sits in it)
    top: int  # room for the legend and the first panel's title
    bottom: int  # room for the time labels
    font: int
    min_label_px: int  # time labels at least this far apart
    tips: bool  # a hover column with a tooltip per step (a phone has no hover)
    legend_y: int  # baseline of the legend's labels

    @property
    def height(self) -> int:
        return self.top + 2 * self.panel + self.gap + self.bottom


WIDE = Frame(width=1000, left=52, right=12, panel=150, gap=34, top=34, bottom=30, font=13,
             min_label_px=76, tips=True, legend_y=14)  # fmt: skip
NARROW = Frame(width=360, left=40, right=8, panel=120, gap=34, top=52, bottom=30, font=13,
               min_label_px=64, tips=False, legend_y=16)  # fmt: skip

#: Label steps in months, finest first (weeks are labelled by the month they start in).
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)


def nice_axis(top: float, ticks: int = 4) -> tuple[float, list[float]]:
    """(axis maximum, tick values) for counts 0..``top``: steps of 1, 2 or 5 x 10^k, whole
    numbers only (counts), at least 0 and 1 when everything is zero."""
    if not top or top <= 0 or not math.isfinite(top):
        return 1.0, [0.0, 1.0]
    raw = top / ticks
    mag = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((m * mag for m in (1, 2, 5, 10) if m * mag >= raw), 10 * mag)
    step = max(1, step)
    hi = math.ceil(top / step) * step
    return float(hi), [float(v) for v in np.arange(0, hi + step / 2, step)]


def _month_label(day: pd.Timestamp, lang: str, months: int) -> str:
    if months % 12 == 0:
        return str(day.year)
    return f"{MONTHS[lang][day.month - 1][:3]} {day.year}"


def time_ticks(starts: list[pd.Timestamp], xs: list[float], lang: str,
               min_px: float) -> list[tuple[float, str]]:  # fmt: skip
    """(x, label) for the time axis: the finest calendar step (1, 2, 3, 6 months, 1, 2, 5,
    10 years) whose labels stand ``min_px`` apart; each label at the first step starting
    in its month (a week is labelled by the month it starts in)."""
    if not starts:
        return []
    for months in _MONTH_STEPS:
        marks: list[tuple[float, str]] = []
        seen: set[int] = set()
        for day, x in zip(starts, xs, strict=True):
            index = day.year * 12 + day.month - 1
            unit = index // months
            if unit in seen or index % months:
                continue
            seen.add(unit)
            marks.append((x, _month_label(day, lang, months)))
        if len(marks) <= 1 or min(b[0] - a[0] for a, b in pairwise(marks)) >= min_px:
            return marks or [(xs[0], _month_label(starts[0], lang, 12))]
    return marks[:1]


def period_label(day: pd.Timestamp, bucket: str, lang: str) -> str:
    """A step's name in the tooltip: week of a day, month, quarter or year."""
    if bucket == "week":
        return t("chart_week_of", lang, day=fmt_date(day.date(), lang))
    if bucket == "month":
        return fmt_date(day.date(), lang, "month")
    if bucket == "quarter":
        return t("chart_quarter", lang, q=(day.month - 1) // 3 + 1, year=day.year)
    return str(day.year)


def _wide_table(ts: pd.DataFrame) -> pd.DataFrame:
    """One row per step: incidents/fatalities inside and outside (zeros where absent)."""
    wide = ts.pivot_table(index="period", columns="where", values=["incidents", "fatalities"],
                          aggfunc="sum", fill_value=0).sort_index()  # fmt: skip
    out = pd.DataFrame(index=wide.index)
    for value in ("incidents", "fatalities"):
        for where in ("inside", "outside"):
            col = (value, where)
            out[f"{value}_{where}"] = wide[col].to_numpy() if col in wide.columns else 0
    return out


def _draw(table: pd.DataFrame, bucket: str, lang: str, f: Frame, css_class: str) -> str:
    n = len(table)
    plot_w = f.width - f.left - f.right
    band = plot_w / n
    pad = band * 0.15 if band >= 4 else 0.0
    lefts = [f.left + i * band for i in range(n)]  # each step's column
    centres = [x + band / 2 for x in lefts]
    top1 = f.top
    top2 = f.top + f.panel + f.gap
    inc_in = table["incidents_inside"].to_numpy(dtype=float)
    inc_out = table["incidents_outside"].to_numpy(dtype=float)
    dead_in = table["fatalities_inside"].to_numpy(dtype=float)
    dead_out = table["fatalities_outside"].to_numpy(dtype=float)
    inc_max, inc_ticks = nice_axis(float((inc_in + inc_out).max()))
    dead_max, dead_ticks = nice_axis(float(max(dead_in.max(), dead_out.max())))
    parts: list[str] = []
    fs = f.font

    def y_axis(top: int, hi: float, ticks: list[float], title: str) -> None:
        for v in ticks:
            y = top + f.panel - v / hi * f.panel
            parts.append(f'<line x1="{f.left}" x2="{f.width - f.right}" y1="{y:.1f}" '
                         f'y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>')  # fmt: skip
            parts.append(f'<text x="{f.left - 6}" y="{y + fs * 0.35:.1f}" text-anchor="end">'
                         f"{esc(fmt_int(v, lang))}</text>")  # fmt: skip
        parts.append(f'<text x="{f.left}" y="{top - 8}" font-weight="600">{esc(title)}</text>')

    y_axis(top1, inc_max, inc_ticks, t("incidents", lang))
    y_axis(top2, dead_max, dead_ticks, t("fatalities", lang))
    # bars: inside at the bottom, outside stacked on it; one path per colour (a few
    # elements instead of one per bar keep the browser's work small)
    bars: dict[str, list[str]] = {INSIDE: [], OUTSIDE: []}
    w = max(band - 2 * pad, 0.6)
    for i in range(n):
        x = lefts[i] + pad
        base = top1 + f.panel
        for value, colour in ((inc_in[i], INSIDE), (inc_out[i], OUTSIDE)):
            if value <= 0:
                continue
            h = value / inc_max * f.panel
            bars[colour].append(f"M{x:.2f} {base - h:.2f}h{w:.2f}v{h:.2f}h{-w:.2f}z")
            base -= h
    parts.extend(f'<path d="{"".join(d)}" fill="{colour}"/>' for colour, d in bars.items() if d)
    # deaths: one line per place, dots (zero-length round-capped strokes) where the steps
    # are few enough to see them
    for values, colour in ((dead_out, OUTSIDE), (dead_in, INSIDE)):
        ys = [top2 + f.panel - v / dead_max * f.panel for v in values]
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(centres, ys, strict=True))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                     'stroke-width="2" stroke-linejoin="round"/>')  # fmt: skip
        if band >= 8:
            dots = "".join(f"M{x:.1f} {y:.1f}h0" for x, y in zip(centres, ys, strict=True))
            parts.append(f'<path d="{dots}" stroke="{colour}" stroke-width="5" '
                         'stroke-linecap="round"/>')  # fmt: skip
    # the time axis under the second panel
    axis_y = top2 + f.panel
    starts = [pd.Timestamp(p) for p in table.index]
    for x, label in time_ticks(starts, lefts, lang, f.min_label_px):
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{axis_y}" y2="{axis_y + 5}" '
                     f'stroke="{INK}"/>')  # fmt: skip
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 8 + fs}">{esc(label)}</text>')
    for top in (top1, top2):
        parts.append(f'<line x1="{f.left}" x2="{f.width - f.right}" y1="{top + f.panel}" '
                     f'y2="{top + f.panel}" stroke="{INK}"/>')  # fmt: skip
    # legend: top right (under the first title on a phone)
    legend_y = f.legend_y
    items = [(INSIDE, t("inside", lang)), (OUTSIDE, t("outside", lang))]
    widths = [24 + len(label) * fs * 0.55 for _c, label in items]  # swatch, gap, text
    x = f.width - f.right - sum(widths)
    for (colour, label), width in zip(items, widths, strict=True):
        parts.append(f'<rect x="{x:.1f}" y="{legend_y - fs * 0.8:.1f}" width="14" '
                     f'height="{fs * 0.8:.1f}" fill="{colour}"/>')  # fmt: skip
        parts.append(f'<text x="{x + 18:.1f}" y="{legend_y:.1f}">{esc(label)}</text>')
        x += width
    # one hover column per step with its numbers
    col_top, col_h = top1, axis_y - top1
    for i, day in enumerate(starts if f.tips else []):
        tip = t("chart_tooltip", lang, period=period_label(day, bucket, lang),
                inside=t("inside", lang), outside=t("outside", lang),
                n_in=fmt_int(inc_in[i], lang), d_in=fmt_int(dead_in[i], lang),
                n_out=fmt_int(inc_out[i], lang), d_out=fmt_int(dead_out[i], lang))  # fmt: skip
        parts.append(f'<rect class="col" x="{lefts[i]:.2f}" y="{col_top}" '
                     f'width="{band:.2f}" height="{col_h}"><title>{esc(tip)}</title></rect>')  # fmt: skip
    label = esc(t("chart_label", lang, first=period_label(starts[0], bucket, lang),
                  last=period_label(starts[-1], bucket, lang)))  # fmt: skip
    return (
        f'<svg class="{css_class}" viewBox="0 0 {f.width} {f.height}" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg" '
        f'style="width:100%;height:auto;font-family:inherit;font-size:{fs}px;fill:{INK}">'
        + "".join(parts)
        + "</svg>"
    )


def time_chart_html(ts: pd.DataFrame, bucket: str, lang: str) -> str | None:
    """The chart of :func:`atlas.query.time_series`'s table as HTML (a wide and a narrow
    SVG and the CSS choosing one); None when the table is empty."""
    if ts.empty:
        return None
    table = _wide_table(ts)
    style = (
        "<style>.atlas-chart .col{fill:transparent}.atlas-chart .col:hover"
        "{fill:rgba(27,58,92,.08)}.atlas-chart .narrow{display:none}"
        "@media (max-width:640px){.atlas-chart .wide{display:none}"
        ".atlas-chart .narrow{display:block}}</style>"
    )
    return (
        f'<div class="atlas-chart">{style}'
        + _draw(table, bucket, lang, WIDE, "wide")
        + _draw(table, bucket, lang, NARROW, "narrow")
        + "</div>"
    )


__all__ = ["NARROW", "WIDE", "nice_axis", "period_label", "time_chart_html", "time_ticks"]
