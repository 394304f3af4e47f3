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

#: The inset shows South America (lon/lat box).
SOUTH_AMERICA_BOX = (-82.0, -56.5, -34.0, 13.5)


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

    height = (y_max - y_min) * 0.008
    half = (lon1 - lon0) / 2.0
    for i, face in enumerate((INK, "white")):
        rect = Rectangle(
            (lon0 + i * half, lat),
            half,
            height,
            facecolor=face,
            edgecolor=INK,
            linewidth=0.6,
            zorder=50,
            gid="scale-bar",
        )
        ax.add_patch(rect)
        bar.artists.append(rect)
    pad = height * 1.6
    for x, text in ((lon0, "0"), (lon1, km_label(length_km, lang))):
        label = ax.text(
            x,
            lat + height + pad,
            text,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            color=INK,
            zorder=51,
            gid="scale-bar-label",
            fontfamily=FONT,
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
        fontfamily=FONT,
    )
    _halo(label)
    return [arrow, label]


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
            fontfamily=FONT,
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
            fontfamily=FONT,
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
    "inset_locator",
    "km_label",
    "nice_length",
    "north_arrow",
    "scale_bar",
    "wrap_to_width",
]
