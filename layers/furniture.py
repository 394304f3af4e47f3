"""Editorial furniture for print maps: scale bar, north arrow, inset locator, marks, text.

Everything here draws on a plain matplotlib Axes/Figure in EPSG:4326 (the display CRS)
with the axes aspect set to ``1 / cos(latitude)``, so that a kilometre east-west and a
kilometre north-south have (nearly) the same length on the page. The scale bar measures
its length with :class:`pyproj.Geod` along the map's central latitude, so it is right
at that latitude whatever the extent. Every artist carries a ``gid`` so tests and SVG
readers can find it.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from matplotlib.collections import PathCollection
from matplotlib.patches import FancyArrow, Rectangle
from matplotlib.path import Path
from pyproj import Geod

from atlas.i18n import fmt_date

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

GEOD = Geod(ellps="WGS84")

#: Marks that no spec field can switch off (see :func:`add_data_marks`).
SAMPLE_MARK = {
    "en": "SAMPLE DATA — synthetic incidents, not real events",
    "es": "DATOS DE MUESTRA — incidentes sintéticos, no son hechos reales",
}
APPROXIMATE_MARK = {
    "en": "approximate boundary",
    "es": "límite aproximado",
}

INK = "#222222"
MUTED = "#555555"
FONT = "DejaVu Sans"


def aspect_for(lat: float) -> float:
    """Axes aspect (dy/dx) for lon/lat data so that km are square at ``lat``."""
    return 1.0 / max(math.cos(math.radians(lat)), 0.01)


def nice_length(max_km: float) -> float:
    """The largest 1-2-5 x 10^n length (in km) not above ``max_km``; why: readable bars."""
    if not max_km > 0 or not math.isfinite(max_km):
        raise ValueError(f"scale bar: cannot choose a length for {max_km!r} km")
    exp = math.floor(math.log10(max_km))
    best = 10.0**exp
    for step in (1.0, 2.0, 5.0, 10.0):
        candidate = step * 10.0**exp
        if candidate <= max_km * (1 + 1e-9):
            best = candidate
    return best


def km_label(km: float, lang: str = "en") -> str:
    """``50 km`` / ``0.5 km`` without trailing zeros (``lang`` kept for the call sites)."""
    # es-PE writes decimals with a point, like en (CLDR; see atlas.i18n)
    return f"{km:g} km"


@dataclass
class ScaleBar:
    """A drawn scale bar: its ground length and where it sits in data (lon/lat) units."""

    length_km: float
    lon0: float
    lon1: float
    lat: float
    artists: list[Any] = field(default_factory=list)

    def measured_km(self) -> float:
        """Ground distance between the bar's ends, measured again with pyproj.Geod."""
        _, _, metres = GEOD.inv(self.lon0, self.lat, self.lon1, self.lat)
        return metres / 1000.0


def scale_bar(
    ax: Axes,
    *,
    fraction: float = 0.25,
    anchor: tuple[float, float] = (0.04, 0.05),
    fontsize: float = 8.0,
    lang: str = "en",
) -> ScaleBar:
    """Draw a two-segment km scale bar at most ``fraction`` of the map width long.

    The length is measured along the map's central latitude with pyproj.Geod and rounded
    down to 1/2/5 x 10^n km; the bar is drawn at that latitude's km-per-degree.
    Call after the extent and aspect are final (this calls ``ax.apply_aspect()``).
    """
    ax.apply_aspect()
    x_min, x_max = ax.get_xlim()
    y_min, y_max = ax.get_ylim()
    lat_mid = (y_min + y_max) / 2.0
    _, _, width_m = GEOD.inv(x_min, lat_mid, x_max, lat_mid)
    length_km = nice_length(width_m / 1000.0 * fraction)
    lon0 = x_min + anchor[0] * (x_max - x_min)
    lat = y_min + anchor[1] * (y_max - y_min)
    # pyproj forward along azimuth 90 from (lon0, lat): the east end of the bar.
    lon1, _, _ = GEOD.fwd(lon0, lat, 90.0, length_km * 1000.0)
    # A geodesic heading east drifts off the parallel; the parallel distance is what the
    # bar shows, so correct by the ratio measured along the parallel.
    _, _, along = GEOD.inv(lon0, lat, lon1, lat)
    lon1 = lon0 + (lon1 - lon0) * (length_km * 1000.0 / along)
    bar = ScaleBar(length_km=length_km, lon0=lon0, lon1=lon1, lat=lat)

    height = (y_max - y_min) * 0.006
    rect = Rectangle(
        (lon0, lat),
        lon1 - lon0,
        height,
        facecolor=INK,
        edgecolor="white",
        linewidth=0.4,
        zorder=50,
        gid="scale-bar",
    )
    ax.add_patch(rect)
    bar.artists.append(rect)
    # One label, right of the bar: two labels ("0", "50 km") collided on small pages.
    label = ax.text(
        lon1 + (x_max - x_min) * 0.015,
        lat + height / 2,
        km_label(length_km, lang),
        ha="left",
        va="center",
        fontsize=fontsize,
        color=INK,
        zorder=51,
        gid="scale-bar-label",
    )
    _halo(label)
    bar.artists.append(label)
    return bar


def north_arrow(
    ax: Axes, *, anchor: tuple[float, float] = (0.96, 0.86), size: float = 0.07, fontsize: float = 9
) -> list[Artist]:
    """Draw an arrow pointing to grid north (up: the map is in lon/lat) with an "N"."""
    x, y = anchor
    arrow = FancyArrow(
        x,
        y,
        0,
        size,
        width=size * 0.12,
        head_width=size * 0.35,
        head_length=size * 0.4,
        length_includes_head=True,
        transform=ax.transAxes,
        facecolor=INK,
        edgecolor="white",
        linewidth=0.5,
        zorder=50,
        gid="north-arrow",
    )
    ax.add_patch(arrow)
    label = ax.text(
        x,
        y - size * 0.12,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=fontsize,
        fontweight="bold",
        color=INK,
        zorder=51,
        gid="north-arrow-label",
    )
    _halo(label)
    return [arrow, label]


#: The continent's box for the small-multiples page's locator (layers.multiples).
SOUTH_AMERICA_BOX = (-82.0, -56.5, -34.0, 13.5)


def inset_locator(
    fig: Figure,
    rect: tuple[float, float, float, float],
    basemap: gpd.GeoDataFrame,
    extent: tuple[float, float, float, float],
    *,
    focus: str = "Peru",
    fontsize: float = 6,
) -> Axes:
    """Small map of South America with ``focus`` shaded and the view's box in red.

    ``basemap`` is Natural Earth-like country outlines in EPSG:4326 with a ``name``
    column; ``extent`` is (lon_min, lat_min, lon_max, lat_max) of the main map.
    """
    ax = fig.add_axes(rect, gid="inset")
    x0, y0, x1, y1 = SOUTH_AMERICA_BOX
    if basemap is not None and len(basemap):
        near = basemap.cx[x0:x1, y0:y1]
        names = near["name"].astype("string") if "name" in near else None
        is_focus = (
            (names == focus).fillna(False).to_numpy(dtype=bool)
            if names is not None
            else np.zeros(len(near), dtype=bool)
        )
        ax.add_collection(
            _polygons(near.geometry[~is_focus], "#eeeeee", "#9a9a9a", 0.3), autolim=False
        )
        if is_focus.any():
            ax.add_collection(
                _polygons(near.geometry[is_focus], "#c8c8c8", "#555555", 0.4), autolim=False
            )
    bx0, by0, bx1, by1 = extent
    # Keep the view box visible even when the view is tiny at continental scale.
    min_side = 1.2
    cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
    w = max(bx1 - bx0, min_side)
    h = max(by1 - by0, min_side)
    ax.add_patch(
        Rectangle(
            (cx - w / 2, cy - h / 2),
            w,
            h,
            facecolor="none",
            edgecolor="#d62728",
            linewidth=1.0,
            zorder=5,
            gid="inset-box",
        )
    )
    # Grow the continent box when the view pokes out of it (e.g. Peru's Pacific coast).
    x0, y0 = min(x0, cx - w / 2 - 1.0), min(y0, cy - h / 2 - 1.0)
    x1, y1 = max(x1, cx + w / 2 + 1.0), max(y1, cy + h / 2 + 1.0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(aspect_for((y0 + y1) / 2), adjustable="box", anchor="C")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#9a9a9a")
        spine.set_linewidth(0.5)
    ax.set_facecolor("#f7fbff")
    return ax


#: Peru's box for the inset (W, S, E, N), a little padded.
PERU_INSET_BOX = (-81.6, -18.6, -68.4, 0.2)
LIMA = (-77.0428, -12.0464)  # Plaza de Armas; the map draws the capital as a dot


def inset_peru(
    fig: Figure,
    rect: tuple[float, float, float, float],
    data: Any,
    extent: tuple[float, float, float, float],
    spec: Any,
    fontsize: float,
) -> Axes:
    """Locator inset of Peru (not the continent): departments, the focus region shaded,
    the main map's frame as a box, Lima as a dot. ``rect`` in figure fractions."""
    from atlas import i18n

    ax = fig.add_axes(rect, gid="inset")
    x0, y0, x1, y1 = PERU_INSET_BOX
    basemap = getattr(data, "basemap", None)
    if basemap is not None and len(basemap) and "name" in basemap:
        others = basemap[basemap["name"].astype("string").fillna("") != "Peru"]
        ax.add_collection(_polygons(others.cx[x0:x1, y0:y1].geometry, "#f2f2f2", "#c4c4c4",
                                    0.25), autolim=False)  # fmt: skip
    departments = getattr(data, "departments", None)
    if departments is not None and len(departments):
        ax.add_collection(_polygons(departments.geometry, "#dcdcdc", "#ffffff", 0.25),
                          autolim=False)  # fmt: skip
    elif basemap is not None and len(basemap) and "name" in basemap:
        peru = basemap[basemap["name"].astype("string").fillna("") == "Peru"]
        ax.add_collection(_polygons(peru.geometry, "#dcdcdc", "#9a9a9a", 0.3), autolim=False)
    regions = getattr(data, "regions", None)
    focus = getattr(spec, "focus", "") or getattr(spec, "region", "")
    if regions is not None and len(regions) and focus:
        hit = regions[regions["region_id"].astype(str) == focus]
        if len(hit):
            ax.add_collection(_polygons(hit.geometry, "#1b3a5c", "#1b3a5c", 0.3), autolim=False)
    bx0, by0, bx1, by1 = extent
    ax.add_patch(
        Rectangle(
            (bx0, by0),
            bx1 - bx0,
            by1 - by0,
            facecolor="none",
            edgecolor="#b2182b",
            linewidth=0.9,
            zorder=5,
            gid="inset-box",
        )  # fmt: skip
    )
    ax.scatter([LIMA[0]], [LIMA[1]], s=9, c=INK, zorder=6, gid="inset-lima")
    label = ax.text(LIMA[0] + 0.2, LIMA[1] - 0.6, "Lima", ha="center", va="top", fontsize=fontsize,
                    color=INK, zorder=7, gid="inset-lima-label")  # fmt: skip
    _halo(label)
    name = ax.text(0.5, 0.97, i18n.t("print_peru", getattr(spec, "lang", "en")),
                   transform=ax.transAxes, ha="center", va="top", fontsize=fontsize,
                   color=MUTED, zorder=7, gid="inset-country")  # fmt: skip
    _ = name
    x0, y0 = min(x0, bx0 - 0.3), min(y0, by0 - 0.3)
    x1, y1 = max(x1, bx1 + 0.3), max(y1, by1 + 0.3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(aspect_for((y0 + y1) / 2), adjustable="box", anchor="C")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#9a9a9a")
        spine.set_linewidth(0.4)
    ax.set_facecolor("#eaf2f8")
    return ax


def reference_label(row: Any, lang: str) -> str:
    """ "San Miguel del Ene, 23 May 2021: 16 killed" from a reference event's own fields
    (its name without "massacre", its date, its deaths figure)."""
    import re

    import pandas as pd

    from atlas import i18n

    place = re.sub(r"\s+massacre$", "", str(row.get("name") or row.get("place") or "")).strip()
    date = pd.to_datetime(row.get("date"))
    deaths = row.get("fatalities")
    if deaths is None or pd.isna(deaths):
        return f"{place}, {fmt_date(date.date(), lang, 'long')}"
    return i18n.t("print_reference_label", lang, place=place,
                  date=fmt_date(date.date(), lang, "long"),
                  n=i18n.fmt_int(float(deaths), lang))  # fmt: skip


def _leader_label(ax: Axes, x: float, y: float, text: str, fontsize: float, gid: str,
                  *, bold: bool = False, avoid: list[Any] | None = None) -> Text:  # fmt: skip
    """``text`` beside (x, y) with a thin leader line: the first of four directions
    (toward the map's wider side first) where it stays inside the map and off ``avoid``
    (display-unit boxes: the legend, the inset, earlier labels)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    right = (x - x0) / (x1 - x0) < 0.55
    up = (y - y0) / (y1 - y0) < 0.6
    tries = [(right, up), (not right, up), (right, not up), (not right, not up),
             (None, up), (None, not up)]  # fmt: skip
    renderer = _renderer(ax.figure)
    ax_box = ax.get_window_extent(renderer)
    # Long labels on a narrow map wrap to two lines.
    dpi_k = ax.figure.dpi / 72.0
    width_pt = ax_box.width / dpi_k * 0.42
    chars = max(int(width_pt / (fontsize * 0.6)), 14)
    if len(text) > chars:
        head, sep, tail = text.partition(", ")  # "San Miguel del Ene," / "23 May 2021: …"
        if sep and len(head) < chars and len(tail) <= chars + 4:
            text = f"{head},\n{tail}"
        else:
            text = textwrap.fill(text, chars)
    best = None
    # Labels the page drew itself (towns and rivers are placed later, around these).
    others = [
        t.get_window_extent(renderer)
        for t in ax.texts
        if t.get_visible() and t.get_gid() in ("reference-label", "callout", "scale-bar-label")
    ]
    for r, u in tries:
        ann = _annotate(ax, x, y, text, fontsize, gid, bold, r, u)
        bb = ann.get_window_extent(renderer)
        out = (max(ax_box.x0 - bb.x0, 0) + max(bb.x1 - ax_box.x1, 0)
               + max(ax_box.y0 - bb.y0, 0) + max(bb.y1 - ax_box.y1, 0))  # fmt: skip
        hits = sum(1 for o in avoid or [] if bb.overlaps(o))
        crowd = sum(1 for o in others if bb.overlaps(o))
        score = (hits > 0) * 1e6 + out + crowd * 50
        if best is None or score < best[0]:
            if best is not None:
                best[1].remove()
            best = (score, ann)
        else:
            ann.remove()
        if score == 0:
            break
    ann = best[1]
    if avoid is not None:
        avoid.append(ann.get_window_extent(renderer))
    return ann


def _annotate(ax: Axes, x: float, y: float, text: str, fontsize: float, gid: str,
              bold: bool, right: bool | None, up: bool) -> Text:  # fmt: skip
    dx = 0.0 if right is None else fontsize * 2.6 * (1 if right else -1)
    dy = fontsize * (3.0 if right is None else 2.2) * (1 if up else -1)
    ann = ax.annotate(
        text,
        xy=(x, y),
        xytext=(dx, dy),
        textcoords="offset points",
        ha="center" if right is None else "left" if right else "right",
        va="bottom" if up else "top",
        fontsize=fontsize,
        fontweight="bold" if bold else "normal",
        color=INK,
        zorder=55,
        gid=gid,
        parse_math=False,
        annotation_clip=True,
        arrowprops={
            "arrowstyle": "-",
            "color": INK,
            "linewidth": 0.6,
            "shrinkA": 1,
            "shrinkB": 2,
        },  # fmt: skip
    )
    _halo(ann)
    return ann


def label_reference_events(ax: Axes, ref: Any, lang: str, fontsize: float,
                           avoid: list[Any] | None = None) -> list[Text]:  # fmt: skip
    """Label each reference event inside the map directly, with a leader line."""
    out: list[Text] = []
    if ref is None or not len(ref):
        return out
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for _, row in ref.iterrows():
        pt = row.geometry
        if not (x0 <= pt.x <= x1 and y0 <= pt.y <= y1):
            continue
        out.append(_leader_label(ax, pt.x, pt.y, reference_label(row, lang), fontsize,
                                 "reference-label", bold=True, avoid=avoid))  # fmt: skip
    return out


def draw_callouts(ax: Axes, spec: Any, data: Any, fontsize: float,
                  avoid: list[Any] | None = None) -> list[Text]:  # fmt: skip
    """The spec's callouts: at lon/lat, or on a region's representative point; text stays
    text (no mathtext, no markup)."""
    out: list[Text] = []
    for callout in getattr(spec, "callouts", ()) or ():
        x, y = callout.lon, callout.lat
        if x is None:
            point = _region_point(callout.region_id, data)
            if point is None:
                continue
            x, y = point
        if callout.leader:
            out.append(_leader_label(ax, x, y, callout.text, fontsize, "callout", avoid=avoid))
        else:
            text = ax.text(x, y, callout.text, fontsize=fontsize, color=INK, zorder=55,
                           gid="callout", ha="center", va="center", parse_math=False)  # fmt: skip
            _halo(text)
            out.append(text)
    return out


def _region_point(region_id: str, data: Any) -> tuple[float, float] | None:
    for frame in (getattr(data, "regions", None), getattr(data, "districts", None)):
        if frame is None or not len(frame) or "region_id" not in frame:
            continue
        hit = frame[frame["region_id"].astype(str) == region_id]
        if len(hit):
            p = hit.geometry.iloc[0].representative_point()
            return (p.x, p.y)
    return None


def add_data_marks(
    fig: Figure,
    ax: Axes,
    *,
    is_sample: bool,
    approximate: bool,
    lang: str = "en",
    fontsize: float = 12,
) -> list[Text]:
    """Print the SAMPLE DATA banner and the approximate-boundary mark when they apply.

    Deliberately takes the data's flags, not the spec: no view setting can hide them.
    """
    marks: list[Text] = []
    if is_sample:
        banner = ax.text(
            0.5,
            0.5,
            SAMPLE_MARK.get(lang, SAMPLE_MARK["en"]),
            transform=ax.transAxes,
            ha="center",
            va="center",
            rotation=20,
            fontsize=fontsize * 1.25,
            fontweight="bold",
            color="#b2182b",
            alpha=0.55,
            zorder=60,
            gid="sample-mark",
            wrap=False,
        )
        _fit_width(fig, banner, ax, max_fraction=0.95)
        marks.append(banner)
    if approximate:
        mark = ax.text(
            0.01,
            0.99,
            APPROXIMATE_MARK.get(lang, APPROXIMATE_MARK["en"]),
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=fontsize * 0.75,
            fontstyle="italic",
            color="#8c2d04",
            zorder=60,
            gid="approximate-mark",
            bbox={"facecolor": "white", "edgecolor": "#8c2d04", "linewidth": 0.6, "pad": 2},
        )
        marks.append(mark)
    return marks


_WORDS = {
    "en": {
        "period": "Period",
        "all_dates": "all dates",
        "types": "Types",
        "all": "all",
        "actor": "Actor contains",
        "min_deaths": "At least {n} deaths",
        "datasets": "Datasets",
        "precision": "Places drawn at precision",
        "filters": "Filters",
        "data": "Data",
        "accessed": "accessed",
        "shown": "Shown: {drawn:,} incidents ({deaths:,} deaths, best estimates) of {total:,} loaded",
        "left_out": "{n:,} left out by the filters",
        "not_drawn": "events known only to {levels} level are not drawn: {n:,}",
        "coca": "Coca: {zone} {year}, {ha:,.0f} ha ({publisher})",
        "boundary": "Boundaries: {vintage} vintage",
        "approx": "approximate boundary (not an official limit)",
        "sample": "SAMPLE DATA: synthetic incidents, not real events.",
        "tiles": "Tiles",
        "outside_view": " (some may lie outside the area shown)",
    },
    "es": {
        "period": "Periodo",
        "all_dates": "todas las fechas",
        "types": "Tipos",
        "all": "todos",
        "actor": "Actor contiene",
        "min_deaths": "Al menos {n} muertes",
        "datasets": "Fuentes",
        "precision": "Lugares dibujados con precisión",
        "filters": "Filtros",
        "data": "Datos",
        "accessed": "consultado",
        "shown": "Se muestran: {drawn:,} incidentes ({deaths:,} muertes, mejor estimación) de {total:,} cargados",
        "left_out": "{n:,} excluidos por los filtros",
        "not_drawn": "eventos ubicados solo a nivel {levels} no se dibujan: {n:,}",
        "coca": "Coca: {zone} {year}, {ha:,.0f} ha ({publisher})",
        "boundary": "Límites: versión {vintage}",
        "approx": "límite aproximado (no es un límite oficial)",
        "sample": "DATOS DE MUESTRA: incidentes sintéticos, no son hechos reales.",
        "tiles": "Teselas",
        "outside_view": " (algunos pueden quedar fuera del área mostrada)",
    },
}
_LEVELS = {
    "en": {
        "admin2": "province",
        "admin1": "department",
        "country": "country",
        "near": "nearby-place",
        "exact": "exact",
    },
    "es": {
        "admin2": "provincia",
        "admin1": "departamento",
        "country": "país",
        "near": "lugar cercano",
        "exact": "exacto",
    },
}


def words(lang: str) -> dict[str, str]:
    """The phrase table for ``lang`` (English when unknown)."""
    return _WORDS.get(lang, _WORDS["en"])


def period_text(spec: Any, summary: Any = None) -> str:
    """``2021-01-01 – 2023-12-31``: the spec's dates, or the data's when open-ended."""
    w = words(spec.lang)
    lo = spec.date_from or (summary.date_min if summary is not None else None)
    hi = spec.date_to or (summary.date_max if summary is not None else None)
    if lo is None and hi is None:
        return w["all_dates"]
    lo_txt = fmt_date(lo, spec.lang) if lo else "…"
    hi_txt = fmt_date(hi, spec.lang) if hi else "…"
    return f"{lo_txt} – {hi_txt}"


def filters_text(spec: Any, summary: Any = None) -> str:
    """One line with the period and every active filter (ACLED terms: on every visual)."""
    from atlas.schema import EVENT_TYPE_LABELS

    w = words(spec.lang)
    parts = [f"{w['period']}: {period_text(spec, summary)}"]
    if spec.event_types:
        labels = [EVENT_TYPE_LABELS[t].get(spec.lang, t) for t in spec.event_types]
        parts.append(f"{w['types']}: {', '.join(labels)}")
    else:
        parts.append(f"{w['types']}: {w['all']}")
    if spec.actor.strip():
        parts.append(f"{w['actor']} “{spec.actor.strip()}”")
    if spec.min_fatalities > 0:
        parts.append(w["min_deaths"].format(n=spec.min_fatalities))
    if spec.datasets:
        parts.append(f"{w['datasets']}: {', '.join(spec.datasets)}")
    levels = _LEVELS.get(spec.lang, _LEVELS["en"])
    parts.append(f"{w['precision']}: {', '.join(levels.get(p, p) for p in spec.precisions)}")
    return " · ".join(parts)


def method_text(
    spec: Any,
    data: Any,
    summary: Any,
    *,
    tile_attribution: str = "",
    compact: bool = False,
    with_filters: bool = True,
) -> str:
    """The attribution & method block printed on every export.

    Datasets with version or access date and licence, the filters, the precision rule
    with its count, counts shown and left out, the coca figure's source and year, the
    boundary vintage or "approximate boundary", and the tile provider when tiles are on.
    ``compact`` (small pages) leaves out licences and URLs, never dates or counts;
    ``with_filters=False`` when the page prints :func:`filters_text` elsewhere.
    """
    w = words(spec.lang)
    lines: list[str] = []
    for src in getattr(data, "sources", []) or []:
        bits = [str(src.name)]
        if getattr(src, "version", ""):
            bits.append(str(src.version))
        if getattr(src, "access_date", None):
            bits.append(f"{w['accessed']} {src.access_date}")
        if getattr(src, "licence", "") and not compact:
            bits.append(str(src.licence))
        if getattr(src, "url", "") and not compact:
            bits.append(str(src.url))
        lines.append(f"{w['data']}: " + ", ".join(bits) + ".")
    if with_filters:
        lines.append(f"{w['filters']}: {filters_text(spec, summary)}.")
    if summary is not None:
        left_out = summary.total - summary.incidents
        line = w["shown"].format(drawn=summary.drawn, deaths=summary.deaths, total=summary.total)
        if left_out:
            line += "; " + w["left_out"].format(n=left_out)
        if getattr(spec, "center", None) is not None:
            line += w["outside_view"]
        lines.append(line + ".")
        levels = _LEVELS.get(spec.lang, _LEVELS["en"])
        hidden_levels = [
            p for p in ("admin2", "admin1", "country", "near", "exact") if p not in spec.precisions
        ]
        level_text = "/".join(levels.get(p, p) for p in hidden_levels) or "-"
        sentence = w["not_drawn"].format(levels=level_text, n=summary.hidden_by_precision)
        lines.append(sentence[0].upper() + sentence[1:] + ".")
    if getattr(spec, "generalise", "none") != "none":
        from atlas.generalise import note as generalise_note

        lines.append(generalise_note(spec.generalise, spec.lang))
    for line in coca_lines(spec, data, compact=compact):
        lines.append(line)
    rivers = getattr(data, "rivers", None)
    if "basemap" in spec.layers and rivers is not None and len(rivers) and not compact:
        from atlas import i18n

        lines.append(i18n.t("rivers_note", spec.lang))
    if getattr(data, "approximate", False):
        lines.append(w["approx"][0].upper() + w["approx"][1:] + ".")
    elif getattr(data, "boundary_vintage", ""):
        lines.append(w["boundary"].format(vintage=data.boundary_vintage) + ".")
    if tile_attribution:
        lines.append(f"{w['tiles']}: {tile_attribution}.")
    if getattr(data, "is_sample", False):
        lines.append(w["sample"])
    return "\n".join(lines)


def coca_lines(spec: Any, data: Any, *, compact: bool = False) -> list[str]:
    """Year, source and caveat of the coca choropleth when the coca layer is on."""
    coca = getattr(data, "coca", None)
    if "coca" not in spec.layers or coca is None or not len(coca):
        return []
    from atlas import i18n
    from layers.coca import coca_frame, coca_year, source_text, zone_series_text

    frame = coca_frame(data, spec)
    if frame is None:
        return []
    urls = sorted({str(u) for u in frame["url"].dropna()})
    return [
        i18n.t(
            "coca_method",
            spec.lang,
            year=coca_year(spec, data),
            source=source_text(frame),
            url="" if compact else " ".join(urls),
            zone=zone_series_text(data, spec.lang) + ".",
        ).replace("  ", " ")
    ]


def wrap_to_width(text: str, width_pt: float, fontsize: float) -> str:
    """Wrap ``text`` (paragraphs split on newlines) to about ``width_pt`` points."""
    chars = max(int(width_pt / (fontsize * 0.55)), 12)
    return "\n".join(
        textwrap.fill(par, chars, break_long_words=True) if par else "" for par in text.split("\n")
    )


def fit_text_block(
    fig: Figure,
    text: Text,
    raw: str,
    box: tuple[float, float, float, float],
    *,
    min_size: float = 4.0,
) -> float:
    """Shrink ``text`` (wrapping ``raw`` again each time) until it fits ``box``.

    ``box`` is (left, bottom, width, height) in figure fraction. Returns the final font
    size. Why: the method block is long and must stay inside its panel at every size.
    """
    renderer = _renderer(fig)
    fig_w_pt = fig.get_figwidth() * 72.0
    size = float(text.get_fontsize())
    width_pt = box[2] * fig_w_pt
    while True:
        text.set_fontsize(size)
        text.set_text(wrap_to_width(raw, width_pt, size))
        bb = text.get_window_extent(renderer=renderer).transformed(fig.transFigure.inverted())
        if (bb.height <= box[3] and bb.width <= box[2] * 1.02) or size <= min_size:
            return size
        size = max(size * 0.9, min_size)


def _fit_width(fig: Figure, text: Text, ax: Axes, max_fraction: float) -> None:
    renderer = _renderer(fig)
    for _ in range(20):
        bb = text.get_window_extent(renderer=renderer)
        ab = ax.get_window_extent(renderer=renderer)
        if bb.width <= ab.width * max_fraction or text.get_fontsize() < 5:
            return
        text.set_fontsize(text.get_fontsize() * 0.9)


def _polygons(geoms: Any, face: str, edge: str, width: float) -> PathCollection:
    """One PathCollection for (multi)polygons, holes included.

    Drawn directly rather than with GeoDataFrame.plot, which asks pyplot to redraw the
    whole figure (seconds when the main map already holds 100k points).
    """
    paths = []
    for geom in shapely.get_parts(np.asarray(geoms, dtype=object)):
        if geom is None or geom.is_empty or geom.geom_type != "Polygon":
            continue
        rings = [geom.exterior, *geom.interiors]
        paths.append(
            Path.make_compound_path(
                *(Path(np.asarray(r.coords)[:, :2], closed=True) for r in rings)
            )
        )
    return PathCollection(paths, facecolors=face, edgecolors=edge, linewidths=width)


def _renderer(fig: Figure) -> Any:
    """An Agg renderer for measuring text (a bare Figure has no drawing canvas yet)."""
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def _halo(text: Text) -> None:
    from matplotlib import patheffects

    text.set_path_effects([patheffects.withStroke(linewidth=2.0, foreground="white")])


__all__ = [
    "APPROXIMATE_MARK",
    "SAMPLE_MARK",
    "ScaleBar",
    "add_data_marks",
    "coca_lines",
    "filters_text",
    "method_text",
    "period_text",
    "words",
    "aspect_for",
    "fit_text_block",
    "draw_callouts",
    "inset_locator",
    "inset_peru",
    "label_reference_events",
    "reference_label",
    "km_label",
    "nice_length",
    "north_arrow",
    "scale_bar",
    "wrap_to_width",
]
