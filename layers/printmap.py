"""The static publication page, in one pass: texts -> layout -> drawing.

1. :func:`page_texts` writes the words on the face: title, dek, one "Source: …" line built
   from the layers drawn, at most two sentences of "Note: …", "Map: byline".
2. :func:`layout_page` turns the preset and those texts into boxes (header, map, legend,
   inset, footer) in points. When the page cannot hold everything at the minimum type
   size (7 pt in print presets, 12 px on web presets) with the map at least
   :data:`MIN_MAP_SHARE` of the graphic, parts give way in a fixed order: the dek, then
   the legend moves onto the map, then the note is shortened. ``PageLayout.dropped``
   says what gave way (the CLI prints it and the sources sidecar records it).
3. :func:`build_base` draws every part into its box except the incidents;
   :func:`draw_incidents` draws the incident layers into the map axes. :func:`build_page`
   is the two together. An animation draws the base once and the incidents per frame.

Symbols that survive density: :func:`density_choice` measures, before anything is drawn,
the share of incident markers whose centre another marker would cover on this page
(:mod:`layers.density`); with ``spec.density`` "auto" above :data:`layers.density.AUTO_MAX`,
or "hexagons", the points layer draws the map's hexagons (atlas.aggregate.hex_bins,
classed by layers.hexbins.hex_edges in the same ramp) at a size suited to the page, the
legend gives the classes and the note says so in plain words (and the sidecar why).

The map is drawn in EPSG:4326 with the axes aspect ``1/cos(lat)`` (see
:mod:`layers.furniture`). No browser and no network are needed, except for the optional
web-tile basemaps (``spec.basemap`` = ``osm`` / ``carto``), which fail with a
:class:`~atlas.errors.FetchError` when the tile server cannot be reached.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from atlas import i18n
from atlas.errors import FetchError, InputError
from atlas.frame import frame_of
from layers import furniture
from layers.base import LegendEntry

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.query import FilterSummary
    from atlas.spec import MapSpec

#: Fonts are fixed so baselines and layouts are reproducible: DejaVu ships with matplotlib.
#: SVG keeps text as text (named family); PDF embeds TrueType (Type 42) fonts.
RC = {
    "font.family": "DejaVu Sans",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "axes.unicode_minus": False,
}
TILE_PROVIDERS = {"osm": "OpenStreetMap.Mapnik", "carto": "CartoDB.Positron"}
#: Presets at this dpi or above are print (minimum 7 pt); below, screen (minimum 12 px).
PRINT_DPI = 200
PRINT_MIN_PT = 7.0
WEB_MIN_PX = 12.0
#: The map's share of the graphic's area the layout must keep.
MIN_MAP_SHARE = 0.60
#: Layers whose drawing depends on the incidents (redrawn per animation frame).
INCIDENT_LAYERS: tuple[str, ...] = ("choropleth", "heat", "clusters", "points")
#: Hexagon width on the page, points, before it is rounded to a round number of km:
#: screen presets take the app's hexagon (atlas.aggregate.HEX_PX, 26 CSS px, ~19 pt at
#: 100 dpi); print ones 2.6 mm, the smallest whose class colour still reads at 300 dpi
#: (11 pt made 25 km hexagons in the 90 mm column: the VRAEM's valley was six of them).
WEB_HEX_PT = 19.0
PRINT_HEX_PT = 7.5
INK = "#111111"
TEXT = "#333333"
MUTED = "#555555"


# ---- sizes --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FontSizes:
    """Point sizes for one page. ``small`` is the minimum: legend, source, note, labels."""

    title: float
    dek: float
    body: float
    small: float
    scale: float = 1.0
    print_preset: bool = False

    @classmethod
    def for_spec(cls, spec: MapSpec) -> FontSizes:
        return cls.for_page(spec.width / spec.dpi, spec.height / spec.dpi, dpi=spec.dpi)

    @classmethod
    def for_page(cls, width_in: float, height_in: float, dpi: float = 100.0) -> FontSizes:
        is_print = dpi >= PRINT_DPI
        small = PRINT_MIN_PT if is_print else WEB_MIN_PX * 72.0 / dpi
        k = page_scale(width_in, height_in)
        if is_print:
            title = small * 1.55 + max(width_in - 3.5, 0.0) * 0.7
            small = small + max(width_in - 3.5, 0.0) * 0.12
        else:
            title = min(max(small * 1.9, 20.0 * k), 22.0)
        return cls(
            title=round(title, 2),
            dek=round(max(small * 1.2, title * 0.58), 2),
            body=round(small * 1.1, 2),
            small=round(small, 2),
            scale=k,
            print_preset=is_print,
        )

    @property
    def minimum(self) -> float:
        """The smallest size any text on the page may have (7 pt / 12 px)."""
        return PRINT_MIN_PT if self.print_preset else self.small


def page_scale(width_in: float, height_in: float) -> float:
    """Linear size of the page relative to the web preset (12 x 6.75 in)."""
    return math.sqrt(width_in * height_in / (12.0 * 6.75))


# ---- 1. texts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageTexts:
    """The words on the face, final: ``source`` starts "Source:", ``byline`` "Map:".

    ``notes`` holds at most two sentences, the reader's first; ``sample`` is the SAMPLE
    mark (always drawn while synthetic incidents are drawn, never given way).
    """

    title: str
    dek: str
    notes: tuple[str, ...]
    source: str
    byline: str
    sample: str = ""


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (at . ! ? followed by a space)."""
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


def page_texts(
    spec: MapSpec,
    data: AtlasData,
    summary: FilterSummary,
    *,
    density: DensityChoice | None = None,
) -> PageTexts:
    """Title, dek, note sentences, the one source line and the byline for ``spec``;
    ``density`` (the page's :func:`density_choice`) adds the sentence saying that
    hexagons replace the points, when they do."""
    lang = spec.lang
    notes = sentences(spec.notes)
    if getattr(spec, "generalise", "none") != "none":
        # Where the dots are not where events happened, the face must say so.
        from atlas.generalise import note as generalise_note

        notes.append(generalise_note(spec.generalise, lang))
    if density is not None and density.mode == "hexagons":
        # Where hexagons stand for the points, the face says so (never silently).
        notes.append(density.note(lang))
    left_out = summary.total - summary.incidents
    if left_out > 0:
        notes.append(i18n.t("print_left_out", lang, n=i18n.fmt_int(left_out, lang)))
    if summary.hidden_by_precision:
        n = i18n.fmt_int(summary.hidden_by_precision, lang)
        notes.append(i18n.t("print_left_out_place", lang, n=n))
    credit_list = source_credits(spec, data)
    # The reader's own source text goes first; a leading "Source:" of theirs is not doubled.
    own = re.sub(r"^(sources?|fuentes?)\s*:\s*", "", spec.source_line.strip(), flags=re.I)
    own = own.rstrip(".")
    text = "; ".join([own, *credit_list] if own else credit_list)
    source = i18n.t("print_source", lang, text=text) if text else ""
    by = re.sub(r"^(map|mapa)\s*:\s*", "", spec.byline.strip(), flags=re.I)
    byline = i18n.t("print_byline", lang, text=by) if by else ""
    sample = furniture.SAMPLE_MARK.get(lang, furniture.SAMPLE_MARK["en"])
    return PageTexts(
        title=spec.title.strip(),
        dek=spec.dek.strip(),
        notes=tuple(notes[:2]),
        source=source,
        byline=byline,
        sample=sample if data.is_sample and _draws_incidents(spec) else "",
    )


def _draws_incidents(spec: MapSpec) -> bool:
    return any(name in spec.layers for name in INCIDENT_LAYERS)


def source_credits(spec: MapSpec, data: AtlasData) -> list[str]:
    """Short credits of what is drawn, in drawing importance: incidents, regions, coca,
    reference events, boundaries (with their vintage), other basemap data, tiles."""
    lang = spec.lang
    out: list[str] = []
    sources = list(getattr(data, "sources", []) or [])
    if _draws_incidents(spec) and data.incidents is not None and len(data.incidents):
        for src in sources:
            if not _is_incident_source(src):
                continue
            if src.sample:
                out.append(i18n.t("print_sample_credit", lang))
            elif "acled" in src.version.lower() or "acled" in src.name.lower():
                out.append(
                    i18n.t("print_acled", lang, date=src.access_date)
                    if src.access_date
                    else i18n.t("print_acled_undated", lang)
                )
            elif "ucdp" in src.version.lower() or "ucdp" in src.name.lower():
                out.append("UCDP GED")  # a name: the same in both languages
            else:
                out.append(src.name)
    if "regions" in spec.layers and any("VRAEM zone" in s.name for s in sources):
        out.append(i18n.t("print_devida_zone", lang))
    if "coca" in spec.layers and data.coca is not None and len(data.coca):
        from layers.coca import _short_publisher, coca_frame, coca_year, source_text

        frame = coca_frame(data, spec)
        if frame is not None:
            pub = _short_publisher(source_text(frame)) or "DEVIDA"
            out.append(f"{pub} (coca {coca_year(spec, data)})")
    ref = data.reference_events
    if "reference" in spec.layers and ref is not None and len(ref):
        out.append(i18n.t("print_press", lang))
    if "basemap" in spec.layers:
        for src in sources:
            m = re.search(r"INEI (\d{4})", src.name)
            if m:
                out.append(f"INEI {m.group(1)}")  # the boundaries' own vintage
        if any("Natural Earth" in s.name for s in sources):
            out.append("Natural Earth")
    attribution = tile_attribution(spec.basemap)
    if attribution:
        out.append(attribution)
    return _merge_credits(list(dict.fromkeys(out)))


def _merge_credits(items: list[str]) -> list[str]:
    """ "DEVIDA (VRAEM zone)", "DEVIDA (coca 2022)" -> "DEVIDA (VRAEM zone, coca 2022)"."""
    out: list[str] = []
    heads: dict[str, int] = {}
    for credit in items:
        m = re.fullmatch(r"(\S+) \((.+)\)", credit)
        if m and m.group(1) in heads:
            i = heads[m.group(1)]
            out[i] = out[i][:-1] + f", {m.group(2)})"
            continue
        if m:
            heads[m.group(1)] = len(out)
        out.append(credit)
    return out


_STATIC_SOURCES = ("Natural Earth", "VRAEM zone", "Coca cultivation", "reference event",
                   "Peru boundaries", "VRAEM towns")  # fmt: skip


def _is_incident_source(src: Any) -> bool:
    return bool(src.sample) or not any(key in src.name for key in _STATIC_SOURCES)


# ---- legend model ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LegendRow:
    """One row of the print legend. ``kind``: marker, line, ramp (coca classes), sizes
    (fatality classes) or text. ``lines`` is the height in text lines."""

    kind: str
    label: str
    color: str = "#000000"
    marker: str = "o"
    items: tuple[tuple[str, str], ...] = ()  # ramp/sizes: (colour or size, label)
    dashed: bool = False
    gid: str = "legend-row"
    edge: str = "white"  # marker rows: the glyph's outline

    @property
    def lines(self) -> float:
        return {"ramp": 2.9, "sizes": 2.5}.get(self.kind, 1.0)


def legend_rows(spec: MapSpec, view: AtlasData, data: AtlasData) -> list[LegendRow]:
    """The compact legend: the event types drawn, the fatality classes, the focus region,
    the coca classes with the zone's figure. Reference events are labelled on the map."""
    from layers import hexbins
    from layers.style import EVENT_COLORS, EVENT_MARKERS, FATALITY_CLASSES, event_label, ramp_for

    lang = spec.lang
    rows: list[LegendRow] = []
    inc = view.incidents
    bins = hexbins.aggregated(view) if "points" in spec.layers else None
    if bins is not None:
        if len(bins):
            edges = hexbins.hex_edges(bins)
            rows.append(LegendRow("text", hexbins.legend_head(bins, lang), gid="legend-hexagons"))
            for label, color in zip(hexbins.class_labels(bins, lang, edges),
                                    ramp_for(len(edges) - 1), strict=True):  # fmt: skip
                rows.append(LegendRow("marker", label, color, "h", gid="legend-hexagons",
                                      edge="#8a8a8a"))  # fmt: skip
    elif "points" in spec.layers and inc is not None and len(inc):
        present = set(inc["event_type"].astype(str))
        for et in ("armed_clash", "violence_against_civilians", "explosion_remote"):
            if et in present:
                rows.append(
                    LegendRow("marker", event_label(et, lang), EVENT_COLORS[et], EVENT_MARKERS[et])
                )
        # Types sharing a colour share a row, each with its own shape and name.
        for group in (("riot", "protest"), ("strategic", "other")):
            shown = [et for et in group if et in present]
            if len(shown) == 1 and group[0] == "strategic":
                rows.append(LegendRow("marker", event_label(shown[0], lang),
                                      EVENT_COLORS[shown[0]], EVENT_MARKERS[shown[0]]))  # fmt: skip
            elif shown:
                rows.append(
                    LegendRow(
                        "pair",
                        "   ".join(event_label(et, lang) for et in shown),
                        EVENT_COLORS[shown[0]],
                        items=tuple((EVENT_MARKERS[et], event_label(et, lang)) for et in shown),
                    )
                )
        items = []
        for lo, hi, diam in FATALITY_CLASSES:
            text = f"{lo}" if hi == lo else (f"{lo}+" if hi is None else f"{lo}–{hi}")
            items.append((str(diam), text))
        rows.append(LegendRow("sizes", i18n.t("print_killed", lang), items=tuple(items)))
    elif _draws_incidents(spec):
        from layers.compose import legend_entries

        for entry in legend_entries(spec, view):
            if entry.kind == "patch":
                rows.append(LegendRow("marker", entry.label, entry.color, "s"))
    if "regions" in spec.layers and data.regions is not None and len(data.regions):
        hit = data.regions[data.regions["region_id"].astype(str) == (spec.focus or spec.region)]
        approximate = bool(hit["approximate"].any()) if "approximate" in hit else False
        # The focus region is named on the map itself; the legend row only says that its
        # boundary is approximate, when it is.
        if len(hit) and approximate:
            label = str(hit["name"].iloc[0])
            if approximate:
                label += f" ({furniture.APPROXIMATE_MARK.get(lang, 'approximate')})"
            rows.append(
                LegendRow(
                    "line",
                    label,
                    "#1b3a5c",
                    dashed=approximate,
                    gid="approximate-mark" if approximate else "legend-row",
                )
            )
    if "coca" in spec.layers and data.coca is not None and len(data.coca):
        from layers.coca import (
            CLASS_EDGES,
            ZONE_SERIES,
            _short_publisher,
            class_color,
            coca_frame,
            coca_year,
        )

        frame = coca_frame(data, spec)
        if frame is not None:
            year = coca_year(spec, data)
            items = [(class_color(k), _ha(CLASS_EDGES[k - 1])) for k in range(1, 6)]
            rows.append(LegendRow("ramp", i18n.t("print_coca_head", lang, year=year),
                                  items=tuple(items)))  # fmt: skip
            coca = data.coca
            zone = coca[(coca["zone"] == ZONE_SERIES[0]) & coca["hectares"].notna()]
            zone = zone[zone["year"] <= year]
            if len(zone):
                last = zone.sort_values("year").iloc[-1]
                rows.append(
                    LegendRow(
                        "text",
                        i18n.t(
                            "print_coca_zone",
                            lang,
                            ha=i18n.fmt_int(float(last["hectares"]), lang),
                            year=int(last["year"]),
                            source=_short_publisher(last["source_publisher"]),
                        ),
                        gid="coca-figure",
                    )
                )
    return rows


def _ha(edge: float) -> str:
    return f"{edge / 1000:g}k" if edge >= 1000 else f"{edge:g}"


# ---- 2. layout -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Box:
    """A rectangle on the page in points, origin at the bottom left."""

    x: float
    y: float
    w: float
    h: float

    @property
    def top(self) -> float:
        return self.y + self.h

    @property
    def right(self) -> float:
        return self.x + self.w


@dataclass(frozen=True)
class TextBlock:
    """Lines of one text part, its size and the box they fill (top-left anchored)."""

    key: str
    lines: tuple[str, ...]
    size: float
    box: Box
    weight: str = "normal"
    color: str = TEXT
    align: str = "left"


@dataclass
class PageLayout:
    """Every part's box, in points. ``legend`` is None when the legend sits on the map
    (then ``legend_size`` gives its width and height and the draw step picks the emptiest
    corner); likewise ``inset`` with ``inset_size``. ``dropped`` lists, in the page's
    language, what gave way."""

    width_pt: float
    height_pt: float
    sizes: FontSizes
    family: str
    texts: dict[str, TextBlock]
    map: Box
    legend: Box | None
    legend_size: tuple[float, float]
    legend_cols: int
    inset: Box | None
    inset_size: tuple[float, float]
    rows: list[LegendRow]
    dropped: list[str] = field(default_factory=list)
    notes_kept: int = 0

    @property
    def symbol_scale(self) -> float:
        """Incident dots and their legend glyphs shrink with small pages (to 0.45)."""
        return min(max(self.sizes.scale, 0.45), 1.0)

    @property
    def map_share(self) -> float:
        return self.map.w * self.map.h / (self.width_pt * self.height_pt)

    def frac(self, box: Box) -> tuple[float, float, float, float]:
        """``box`` in figure fractions (left, bottom, width, height)."""
        W, H = self.width_pt, self.height_pt
        return (box.x / W, box.y / H, box.w / W, box.h / H)


_MEASURE_DPI = 720.0  # measured at 10 px per point: hinting at 7 px would skew widths


@lru_cache(maxsize=1)
def _renderer() -> RendererAgg:
    return RendererAgg(10, 10, _MEASURE_DPI)


def text_width(
    text: str, size: float, weight: str = "normal", family: str = "DejaVu Sans"
) -> float:
    """Width of one line of ``text`` in points."""
    if not text:
        return 0.0
    props = FontProperties(family=family, size=size, weight=weight)
    w, _, _ = _renderer().get_text_width_height_descent(text, props, ismath=False)
    return float(w) * 72.0 / _MEASURE_DPI


def wrap(text: str, width_pt: float, size: float, weight: str = "normal",
         family: str = "DejaVu Sans") -> list[str]:  # fmt: skip
    """Greedy word wrap of ``text`` to ``width_pt`` by measured widths."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.replace("\t", " ").split(" "):  # a no-break space joins words
            if not word:
                continue
            trial = f"{line} {word}" if line else word
            if line and text_width(trial, size, weight, family) > width_pt:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return [ln for ln in lines if ln] or []


LEADING = 1.28  # line height / font size, page texts
LEG_LEADING = 1.18  # line height / font size, legend rows


def line_spacing(leading: float, size: float, family: str = "DejaVu Sans") -> float:
    """matplotlib's ``linespacing`` (a multiple of the font's "lp" height) that gives
    lines ``leading`` x ``size`` points apart, so drawn text matches measured boxes."""
    props = FontProperties(family=family, size=size)
    _, h, _ = _renderer().get_text_width_height_descent("lp", props, ismath=False)
    return leading * size / max(float(h) * 72.0 / _MEASURE_DPI, 1e-6)


GLYPH_PT = 11.0  # legend symbol column width at 1x


def _legend_measure(rows: list[LegendRow], size: float, col_w: float, family: str
                    ) -> tuple[list[list[str]], float]:  # fmt: skip
    """Wrapped labels per row and the total height (points) in a column ``col_w`` wide."""
    text_w = col_w - GLYPH_PT - 3.0
    wrapped, height = [], 0.0
    for row in rows:
        if row.kind == "pair":
            wrapped.append([row.label])
            height += size * LEG_LEADING
            continue
        lines = wrap(row.label, text_w if row.kind in ("marker", "line") else col_w, size,
                     family=family) or [""]  # fmt: skip
        wrapped.append(lines)
        height += (len(lines) - 1 + row.lines) * size * LEG_LEADING
    return wrapped, height


def layout_page(
    spec: MapSpec, texts: PageTexts, rows: list[LegendRow], *, family: str = "DejaVu Sans"
) -> PageLayout:
    """Boxes for every part of the page (see the module docstring for the giving-way order).

    Reusable: small multiples call it with their own texts and rows and split ``map``.
    """
    sz = FontSizes.for_spec(spec)
    W, H = spec.width / spec.dpi * 72.0, spec.height / spec.dpi * 72.0
    lang = spec.lang
    attempts = [
        (True, False, 2),
        (False, False, 2),
        (False, True, 2),
        (False, True, 1),
        (False, True, 0),
    ]
    n_notes = len(texts.notes)
    layout = None
    for dek, on_map, keep in attempts:
        if keep > n_notes and keep < 2:
            continue
        layout = _layout_once(spec, sz, W, H, texts, rows, family, dek, on_map, keep)
        if layout.map_share >= MIN_MAP_SHARE and _legend_fits(layout):
            break
    assert layout is not None
    dropped = []
    if texts.dek and "dek" not in layout.texts:
        dropped.append(i18n.t("print_dropped_dek", lang))
    if layout.legend is None and rows:
        dropped.append(i18n.t("print_dropped_legend", lang))
    kept = layout.notes_kept
    if kept < n_notes:
        dropped.append(
            i18n.t("print_dropped_note", lang) if kept else i18n.t("print_dropped_note_all", lang)
        )
    layout.dropped = dropped
    return layout


def _legend_fits(layout: PageLayout) -> bool:
    if layout.legend is not None:
        return layout.legend_size[1] <= layout.legend.h + 0.5
    lw, lh = layout.legend_size
    return lh + 3 * layout.sizes.small * 0.5 <= layout.map.h and lw <= layout.map.w * 0.5


def _layout_once(
    spec: MapSpec,
    sz: FontSizes,
    W: float,
    H: float,
    texts: PageTexts,
    rows: list[LegendRow],
    family: str,
    with_dek: bool,
    legend_on_map: bool,
    keep_notes: int,
) -> PageLayout:
    # Print graphics sit in a column whose edge is the page's: a hairline margin will do.
    m = sz.small * 0.35 if sz.print_preset else max(sz.small * 0.9, min(W, H) * 0.022)
    inner_w = W - 2 * m
    blocks: dict[str, TextBlock] = {}
    y = H - m  # running top edge

    def put(key: str, raw: str, size: float, weight: str = "normal", color: str = TEXT,
            max_lines: int = 3, gap: float = 0.35) -> None:  # fmt: skip
        nonlocal y
        lines = wrap(raw, inner_w, size, weight, family)[:max_lines]
        if not lines:
            return
        h = len(lines) * size * LEADING
        blocks[key] = TextBlock(key, tuple(lines), size, Box(m, y - h, inner_w, h), weight, color)
        y -= h + gap * size

    if texts.title:
        put("title", texts.title, sz.title, "bold", INK, max_lines=2, gap=0.3)
    if texts.dek and with_dek:
        put("dek", texts.dek, sz.dek, color=TEXT, max_lines=2, gap=0.4)
    if texts.sample:
        put("sample", texts.sample, sz.small, "bold", "#b2182b", max_lines=2, gap=0.3)
    header_bottom = y - sz.small * 0.3

    # Footer, bottom-up: source (+ byline on its row when it fits), then the note above.
    yb = m
    byline_w = text_width(texts.byline, sz.small, family=family)
    src_lines = wrap(texts.source, inner_w, sz.small, family=family)
    last = src_lines[-1] if src_lines else ""
    if texts.byline and (
        text_width(last, sz.small, family=family) + byline_w + 2 * sz.small <= inner_w
    ):
        blocks["byline"] = TextBlock("byline", (texts.byline,), sz.small,
                                     Box(W - m - byline_w, yb, byline_w, sz.small * LEADING),
                                     align="right")  # fmt: skip
    elif texts.byline:
        blocks["byline"] = TextBlock("byline", (texts.byline,), sz.small,
                                     Box(m, yb, inner_w, sz.small * LEADING))  # fmt: skip
        yb += sz.small * LEADING
    if src_lines:
        h = len(src_lines) * sz.small * LEADING
        blocks["source"] = TextBlock("source", tuple(src_lines), sz.small, Box(m, yb, inner_w, h))
        yb += h
    if keep_notes and texts.notes:
        note = i18n.t("print_note", spec.lang, text=" ".join(texts.notes[:keep_notes]))
        lines = wrap(note, inner_w, sz.small, family=family)
        h = len(lines) * sz.small * LEADING
        blocks["note"] = TextBlock("note", tuple(lines), sz.small, Box(m, yb, inner_w, h))
        yb += h
    footer_top = yb + sz.small * 0.6
    region = Box(m, footer_top, inner_w, max(header_bottom - footer_top, 10.0))

    legend_size = (0.0, 0.0)
    legend_box: Box | None = None
    inset_box: Box | None = None
    cols = 1
    gap = sz.small * 1.2
    landscape = W / H >= 1.25
    if rows:
        widest = max(text_width(r.label, sz.small, family=family) for r in rows)
        col_w = min(widest + GLYPH_PT + 3, max(inner_w * 0.165, sz.small * 13.5))
        _, lh = _legend_measure(rows, sz.small, col_w, family)
        legend_size = (col_w, lh)
    inset_side = min(region.w, region.h) * 0.34
    inset_size = (inset_side * 0.8, inset_side)
    if rows and legend_on_map:
        pad = sz.small * 0.5
        widest = max(text_width(r.label, sz.small, family=family) for r in rows) + GLYPH_PT + 3
        tries = []
        for col_w in np.linspace(sz.small * 13, max(sz.small * 13, min(widest, region.w * 0.5)),
                                 6):  # fmt: skip
            _, lh = _legend_measure(rows, sz.small, col_w, family)
            tries.append((float(col_w), lh))
            if lh + 3 * pad <= region.h:
                break
        legend_size = min(tries, key=lambda t: (t[1] + 3 * pad > region.h, t[1] if t[1] + 3 * pad
                                                > region.h else t[0]))  # fmt: skip
    if rows and not legend_on_map:
        if landscape:
            col_w = legend_size[0]
            map_box = Box(region.x, region.y, region.w - col_w - gap, region.h)
            legend_box = Box(map_box.right + gap, region.y, col_w, region.h)
            room = region.h - legend_size[1] - gap
            iw = min(col_w, room * 0.8)
            if iw >= col_w * 0.55:
                inset_box = Box(legend_box.x, region.y, iw, iw / 0.8)
                legend_box = Box(legend_box.x, inset_box.top + gap, col_w,
                                 region.top - inset_box.top - gap)  # fmt: skip
        else:
            inset_w = region.w * 0.2
            avail = region.w - inset_w - gap
            lh = 0.0
            for cols in (2, 3):
                col_w = (avail - gap * (cols - 1)) / cols
                _, lh = _legend_measure_cols(rows, sz.small, col_w, cols, family)
                if lh <= region.h * 0.3:
                    break
            inset_w = min(inset_w, max(lh * 0.8, region.w * 0.11))
            strip_h = max(lh, inset_w / 0.8)
            legend_size = (avail, lh)
            map_box = Box(region.x, region.y + strip_h + gap, region.w, region.h - strip_h - gap)
            legend_box = Box(region.x, region.y, avail, strip_h)
            inset_box = Box(region.right - inset_w, region.y, inset_w, min(inset_w / 0.8, strip_h))
    else:
        map_box = region
    return PageLayout(
        width_pt=W,
        height_pt=H,
        sizes=sz,
        family=family,
        texts=blocks,
        map=map_box,
        legend=legend_box,
        legend_size=legend_size,
        legend_cols=cols,
        inset=inset_box,
        inset_size=inset_size,
        rows=rows,
        notes_kept=min(keep_notes, len(texts.notes)) if "note" in blocks else 0,
    )


def _legend_measure_cols(rows: list[LegendRow], size: float, col_w: float, cols: int,
                         family: str) -> tuple[list[list[str]], float]:  # fmt: skip
    wrapped, _ = _legend_measure(rows, size, col_w, family)
    heights = _row_heights(rows, wrapped, size)
    return wrapped, max(sum(heights[a:b]) for a, b in _split_columns(heights, cols))


def _row_heights(rows: list[LegendRow], wrapped: list[list[str]], size: float) -> list[float]:
    return [(len(w) - 1 + r.lines) * size * LEG_LEADING for w, r in zip(wrapped, rows, strict=True)]


def _split_columns(heights: list[float], cols: int) -> list[tuple[int, int]]:
    """Rows split into at most ``cols`` runs of about equal height (rows stay whole)."""
    total = sum(heights)
    out, start, acc = [], 0, 0.0
    for i, h in enumerate(heights):
        if acc and acc + h / 2 > total / cols and len(out) < cols - 1:
            out.append((start, i))
            start, acc = i, 0.0
        acc += h
    out.append((start, len(heights)))
    return out


# ---- 3. drawing ------------------------------------------------------------------------------
@dataclass
class PageParts:
    """A drawn page: the figure, its map axes, the layout, the filtered bundle and the
    extent (W, S, E, N) shown."""

    fig: Figure
    ax: Axes
    layout: PageLayout
    view: AtlasData
    extent: tuple[float, float, float, float]
    texts: PageTexts


def build_page(
    spec: MapSpec,
    data: AtlasData,
    *,
    summary: FilterSummary | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> Figure:
    """Draw the whole page for ``spec`` and return the Figure (width x height px at dpi).

    ``bounds`` (W, S, E, N) fixes the area shown (else the spec's frame); PNG export
    multiplies the dpi by ``spec.scale``; the Figure itself is the 1x page. The layout
    (what gave way) is on ``fig.atlas_layout``.
    """
    parts = build_base(spec, data, summary=summary, bounds=bounds)
    with matplotlib.rc_context(page_rc(spec)):
        draw_incidents(parts.ax, spec, parts.view)
    return parts.fig


def page_rc(spec: MapSpec) -> dict[str, Any]:
    """matplotlib settings for the page: :data:`RC` with the spec's font family."""
    return {**RC, "font.family": font_family(spec)}


def font_family(spec: MapSpec) -> str:
    """The family name of the spec's font (registered with matplotlib on first use)."""
    from atlas.fonts import HOUSE_FONT, font_path

    if not spec.font or spec.font == HOUSE_FONT:
        return HOUSE_FONT
    path = font_path(spec.font)
    if path is None:
        return HOUSE_FONT
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(path))
    return FontProperties(fname=str(path)).get_name()


def build_base(
    spec: MapSpec,
    data: AtlasData,
    *,
    summary: FilterSummary | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> PageParts:
    """Everything but the incidents: texts, map base layers, furniture, legend, inset.

    An animation calls this once and :func:`draw_incidents` for each frame.
    """
    with matplotlib.rc_context(page_rc(spec)):
        family = font_family(spec)
        view, computed = filter_view(spec, data)
        summary = summary or computed
        texts = page_texts(spec, data, summary)
        rows = legend_rows(spec, view, data)
        layout = layout_page(spec, texts, rows, family=family)
        extent = _page_extent(spec, view, layout, bounds)
        density = density_choice(spec, view, layout, extent)
        if density.mode == "hexagons":
            texts = page_texts(spec, data, summary, density=density)
            view, layout, extent = _hexagon_page(spec, view, data, texts, density, layout,
                                                 extent, bounds, family)  # fmt: skip
        fig = Figure(figsize=(spec.width / spec.dpi, spec.height / spec.dpi), dpi=spec.dpi,
                     facecolor="white")  # fmt: skip
        FigureCanvasAgg(fig)
        # GeoSeries.plot asks the canvas to redraw after every layer: on this page that
        # drew the whole figure eight times before it was finished. Drawing is explicit.
        fig.canvas.draw_idle = lambda *args, **kwargs: None  # type: ignore[method-assign]
        fig.atlas_layout = layout  # type: ignore[attr-defined]
        fig.atlas_density = density  # type: ignore[attr-defined]
        for block in layout.texts.values():
            _draw_text(fig, layout, block)
        ax = fig.add_axes(layout.frac(layout.map), gid="map")
        attribution = _draw_map(ax, spec, view, extent, skip=INCIDENT_LAYERS)
        sz = layout.sizes
        print_scale(ax, min(sz.scale, 1.0) if sz.print_preset else 1.0, min_font=sz.minimum)
        _lift_fonts(ax, sz.minimum)
        _hide_filling_country(ax, data, extent)
        furniture.scale_bar(ax, fontsize=sz.small, lang=spec.lang)
        if spec_north_arrow(spec):
            furniture.north_arrow(ax, fontsize=sz.body)
        if attribution:
            ax.text(0.995, 0.005, attribution, transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=sz.minimum, color=TEXT, zorder=52, gid="tile-attribution")  # fmt: skip
        avoid = _place_legend_and_inset(fig, ax, layout, spec, view, data, extent)
        if "reference" in spec.layers:
            furniture.label_reference_events(ax, data.reference_events, spec.lang, sz.small,
                                             avoid=avoid)  # fmt: skip
        furniture.draw_callouts(ax, spec, data, sz.small, avoid=avoid)
        _labels_yield(fig, ax)
    return PageParts(fig, ax, layout, view, extent, texts)


# ---- symbols that survive density -------------------------------------------------------------
@dataclass(frozen=True)
class DensityChoice:
    """How the page draws the points layer: ``mode`` "points" or "hexagons", for the
    spec's ``asked`` density; ``covered`` is the share of the markers in the frame
    (``markers`` of them) whose centre another marker covers as points are drawn on this
    page (None: not measured, no points to draw); ``km`` the hexagons' width."""

    mode: str
    asked: str
    covered: float | None = None
    markers: int = 0
    km: float | None = None

    def note(self, lang: str) -> str:
        """The face's sentence saying that hexagons replace the points (and why)."""
        key = "print_hexagons_auto" if self.asked == "auto" else "print_hexagons_asked"
        return i18n.t(key, lang, km=_km_words(self.km or 0.0, lang))

    def method(self, lang: str) -> str:
        """The sidecar's line: what the points layer draws, and the measure behind it
        ("" when nothing was measured and nothing else was asked)."""
        from layers.density import AUTO_MAX

        if self.covered is None:  # small multiples, animations, or no points drawn
            return "" if self.asked == "points" else i18n.t("sources_md_points_only", lang)

        pct = (i18n.fmt_number(100 * self.covered, lang, decimals=0)
               if self.covered is not None else "–")  # fmt: skip
        limit = i18n.fmt_number(100 * AUTO_MAX, lang, decimals=0)
        n = i18n.fmt_int(self.markers, lang)
        if self.mode == "hexagons":
            key = "sources_md_hexagons_auto" if self.asked == "auto" else "sources_md_hexagons"
            return i18n.t(key, lang, km=_km_words(self.km or 0.0, lang), pct=pct, n=n,
                          limit=limit)  # fmt: skip
        return i18n.t("sources_md_points", lang, pct=pct, n=n, limit=limit)


def _km_words(km: float, lang: str) -> str:
    return i18n.fmt_number(km, lang, decimals=0 if km >= 10 or km == int(km) else 1)


def marker_positions(
    view: AtlasData, layout: PageLayout, extent: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres and radii (points on the page) of the incident markers inside ``extent``
    as the points layer would draw them on this layout (its order, widths and the page's
    symbol scale): what :func:`layers.density.covered_share` measures."""
    from layers.incidents import print_markers

    inc = view.incidents
    if inc is None or not len(inc):
        return np.zeros(0), np.zeros(0), np.zeros(0)
    x0, y0, x1, y1 = extent
    mb, k = layout.map, layout.symbol_scale
    xs, ys, rs = [], [], []
    for _marker, x, y, diam, _colors in print_markers(inc):
        inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        xs.append(mb.x + (x[inside] - x0) / (x1 - x0) * mb.w)
        ys.append(mb.y + (y[inside] - y0) / (y1 - y0) * mb.h)
        rs.append(diam[inside] * k / 2.0)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(rs)


def density_choice(
    spec: MapSpec, view: AtlasData, layout: PageLayout, extent: tuple[float, float, float, float]
) -> DensityChoice:
    """Points or hexagons for the points layer on this page (``spec.density``): "auto"
    takes hexagons when more than :data:`layers.density.AUTO_MAX` of the markers in the
    frame would have their centre covered by another marker (any other, drawn over or
    under it: the two then read as one blot), else points."""
    from layers.density import AUTO_MAX, covered_share

    asked = getattr(spec, "density", "auto")
    inc = view.incidents
    if "points" not in spec.layers or inc is None or not len(inc):
        return DensityChoice("points", asked)
    x, y, r = marker_positions(view, layout, extent)
    covered = covered_share(x, y, r, above_only=False)
    hexagons = asked == "hexagons" or (asked == "auto" and covered > AUTO_MAX)
    if not hexagons or not len(x):
        return DensityChoice("points", asked, covered, len(x))
    return DensityChoice("hexagons", asked, covered, len(x), _print_hex_km(layout, extent))


#: Round hexagon widths (km), so the legend says "~10 km", not "~9.3 km".
_NICE_KM = tuple(m * 10.0**e for e in range(-1, 4) for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8))


def _print_hex_km(layout: PageLayout, extent: tuple[float, float, float, float]) -> float:
    """The hexagon width (km) that is about :data:`PRINT_HEX_PT` (print) or
    :data:`WEB_HEX_PT` (screen) wide on this page, rounded to a round number."""
    from layers.hexbins import KM_PER_DEG

    x0, y0, x1, y1 = extent
    lat = (y0 + y1) / 2
    km_per_pt = (x1 - x0) * KM_PER_DEG * math.cos(math.radians(lat)) / layout.map.w
    want = (PRINT_HEX_PT if layout.sizes.print_preset else WEB_HEX_PT) * km_per_pt
    return min(_NICE_KM, key=lambda v: abs(math.log(v / want)))


def hexagon_view(
    view: AtlasData, extent: tuple[float, float, float, float], km: float
) -> AtlasData:
    """``view`` with the incidents inside ``extent`` binned into hexagons ``km`` wide
    (atlas.aggregate.hex_bins, the app's binning), regular at the frame's middle latitude:
    the points layer and the legend read them (layers.hexbins.aggregated)."""
    import pandas as pd
    import shapely

    from atlas.aggregate import ViewChoice, hex_bins, in_box
    from layers.hexbins import KM_PER_DEG

    inc = view.incidents
    lat0 = (extent[1] + extent[3]) / 2
    geoms = inc.geometry.values
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    mask = in_box(x, y, extent)
    fat = pd.to_numeric(inc["fatalities"], errors="coerce").astype("float64").to_numpy()
    size = km / (math.sqrt(3.0) * KM_PER_DEG * math.cos(math.radians(lat0)))
    bins = hex_bins(x[mask], y[mask], size, lat0=lat0, fatalities=fat[mask])
    n = int(mask.sum())
    choice = ViewChoice("hexagons", tuple(extent), 0, n, len(inc), bins=bins, threshold=0,
                        positions=np.flatnonzero(mask))  # fmt: skip
    return dataclasses.replace(view, shown=choice)


def _hexagon_page(spec: MapSpec, view: AtlasData, data: AtlasData, texts: PageTexts,
                  density: DensityChoice, layout: PageLayout, extent: tuple[float, ...],
                  bounds: tuple[float, float, float, float] | None,
                  family: str) -> tuple[AtlasData, PageLayout, tuple[float, ...]]:  # fmt: skip
    """The hexagon page's view, layout and extent. The legend's classes depend on the
    hexagons in the frame, and the frame on the legend's room: laid out again until the
    classes the legend gives are those of the hexagons drawn (twice at most, in practice)."""
    hview = hexagon_view(view, extent, density.km)
    for _ in range(3):
        rows = legend_rows(spec, hview, data)
        layout = layout_page(spec, texts, rows, family=family)
        extent = _page_extent(spec, view, layout, bounds)
        hview = hexagon_view(view, extent, density.km)
        if legend_rows(spec, hview, data) == rows:
            break
    return hview, layout, extent


def legend_reserve(layout: PageLayout) -> float:
    """Width (points) kept free at the map's right edge for a legend on the map."""
    if layout.legend is not None or not layout.rows:
        return 0.0
    return layout.legend_size[0] + layout.sizes.small * 1.5


def _page_extent(spec: MapSpec, view: AtlasData, layout: PageLayout,
                 bounds: tuple[float, float, float, float] | None) -> tuple[float, ...]:  # fmt: skip
    """The frame fitted to the map box; with the legend on the map, fitted to the part
    left of the legend and widened east under it, so the legend covers no framed area."""
    reserve = legend_reserve(layout)
    mb = layout.map
    x0, y0, x1, y1 = view_extent(spec, view, mb.w - reserve, mb.h, bounds=bounds)
    if reserve:
        x1 = x1 + (x1 - x0) * reserve / (mb.w - reserve)
    return (x0, y0, x1, y1)


def spec_north_arrow(spec: MapSpec) -> bool:
    """North arrow only when asked (``north_arrow`` on the spec): the map is north-up."""
    return bool(getattr(spec, "north_arrow", False))


def draw_incidents(ax: Axes, spec: MapSpec, view: AtlasData) -> None:
    """Draw the incident layers (points, clusters, heat, choropleth) of ``view`` into the
    page's map axes, keeping its extent."""
    from layers.registry import layers_for

    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    before = set(ax.get_children())
    for layer in layers_for(tuple(n for n in spec.layers if n in INCIDENT_LAYERS)):
        layer.to_matplotlib(ax, view, spec)
    for artist in ax.get_children():
        if artist not in before:
            artist._atlas_incident = True  # type: ignore[attr-defined]
    layout = getattr(ax.figure, "atlas_layout", None)
    k = layout.symbol_scale if layout is not None else 1.0
    if k != 1.0:
        for coll in ax.collections:
            if coll not in before and len(coll.get_sizes()):
                coll.set_sizes(coll.get_sizes() * k * k)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


def clear_incidents(ax: Axes) -> None:
    """Remove what :func:`draw_incidents` drew, so the next animation frame draws its own
    incidents on the same base."""
    for artist in list(ax.get_children()):
        if getattr(artist, "_atlas_incident", False):
            artist.remove()


def view_extent(
    spec: MapSpec,
    data: AtlasData,
    box_w: float,
    box_h: float,
    *,
    bounds: tuple[float, float, float, float] | None = None,
) -> tuple[float, float, float, float]:
    """(lon_min, lat_min, lon_max, lat_max) of the view, fitted to the map box's shape.

    The frame is ``bounds`` when given, else the spec's frame (:func:`atlas.frame.frame_of`:
    its bbox, else the padded focus region); it is widened in one direction to the box's
    aspect around the same centre, never cropped. ``box_w``/``box_h`` in any one unit.
    """
    box = bounds if bounds is not None else frame_of(spec, data)
    x0, y0, x1, y1 = (float(v) for v in box)
    lat_mid = (y0 + y1) / 2
    aspect = furniture.aspect_for(lat_mid)
    dx, dy = x1 - x0, y1 - y0
    want_dy = dx * box_h / (box_w * aspect)
    if want_dy >= dy:
        y0, y1 = lat_mid - want_dy / 2, lat_mid + want_dy / 2
    else:
        want_dx = dy * box_w * aspect / box_h
        cx = (x0 + x1) / 2
        x0, x1 = cx - want_dx / 2, cx + want_dx / 2
    return (x0, y0, x1, y1)


def print_scale(ax: Axes, k: float, *, min_font: float = 4.5) -> None:
    """Scale what the layers drew (marker areas, line widths, label fonts) by ``k``.

    Layers draw in fixed points sized for the 12-inch web page; on a 90 mm print column
    the same points would cover the map, so the page scales them with its size.
    """
    if abs(k - 1.0) < 1e-6:
        return
    for coll in ax.collections:
        sizes = coll.get_sizes() if hasattr(coll, "get_sizes") else []
        if len(sizes):
            coll.set_sizes(sizes * k * k)
        widths = coll.get_linewidths()
        if len(widths):
            coll.set_linewidths([w * k for w in widths])
    for line in ax.lines:
        line.set_linewidth(line.get_linewidth() * k)
        line.set_markersize(line.get_markersize() * k)
    for patch in ax.patches:
        patch.set_linewidth(patch.get_linewidth() * k)
    for text in ax.texts:
        text.set_fontsize(max(text.get_fontsize() * k, min_font))
        text.set_clip_on(True)


def _lift_fonts(ax: Axes, minimum: float) -> None:
    """No label the layers drew is smaller than the page's minimum type size."""
    for text in ax.texts:
        if text.get_fontsize() < minimum:
            text.set_fontsize(minimum)
        text.set_clip_on(True)


def _labels_yield(fig: Figure, ax: Axes) -> None:
    """Reference-map labels (towns, rivers, countries) give way to what the page put on
    the map: the legend and inset when on it, reference labels, callouts, the scale bar."""
    from layers.labels import LabelLayout

    layout = next((a for a in ax.get_children() if isinstance(a, LabelLayout)), None)
    if layout is None:
        return
    keep = ("reference-label", "callout", "scale-bar-label", "tile-attribution")
    layout.obstacles += [t for t in ax.texts if t.get_gid() in keep]
    layout.obstacles += [p for p in ax.patches if p.get_gid() == "scale-bar"]
    mb = ax.get_position()
    for other in fig.axes:
        if other.get_gid() in ("legend", "inset") and other.get_position().overlaps(mb):
            layout.obstacles.append(other)


def _hide_filling_country(ax: Axes, data: AtlasData, extent: tuple[float, ...]) -> None:
    """No "P E R U" across the middle of a map that is nearly all Peru: the inset names
    the country; the label sat on the data (at San Miguel del Ene in the VRAEM frame)."""
    import shapely

    basemap = data.basemap
    if basemap is None or not len(basemap) or "iso_n3" not in basemap:
        return
    view = shapely.box(*extent)
    for text in ax.texts:
        gid = str(text.get_gid() or "")
        if not gid.startswith("country-label:"):
            continue
        rows = basemap[basemap["iso_n3"].astype(str) == gid.split(":", 1)[1]]
        if len(rows) and shapely.intersection(rows.geometry.iloc[0], view).area > 0.5 * view.area:
            text.set_visible(False)
            from layers.labels import LabelLayout

            for layout in (a for a in ax.get_children() if isinstance(a, LabelLayout)):
                layout.candidates = [c for c in layout.candidates if c.text is not text]


def filter_view(spec: MapSpec, data: AtlasData) -> tuple[AtlasData, FilterSummary]:
    """The bundle with only the incidents to draw, and the FilterSummary of the view.

    The count is made against ``spec.region`` when that region is loaded, else without.
    """
    from atlas.query import filter_incidents

    try:
        drawn, summary = filter_incidents(data.incidents, spec, data.regions,
                                          districts=data.districts)  # fmt: skip
    except InputError:  # region not among the loaded regions: count without it
        drawn, summary = filter_incidents(data.incidents, spec, districts=data.districts)
    return dataclasses.replace(data, incidents=drawn), summary


def compute_summary(spec: MapSpec, data: AtlasData) -> FilterSummary:
    """FilterSummary for the view (see :func:`filter_view`)."""
    return filter_view(spec, data)[1]


def tile_attribution(basemap: str) -> str:
    """Plain-text attribution of the web-tile provider for ``basemap`` ("" for outlines)."""
    provider = _tile_provider(basemap)
    return "" if provider is None else str(provider.get("attribution", provider.name))


def _draw_text(fig: Figure, layout: PageLayout, block: TextBlock) -> None:
    W, H = layout.width_pt, layout.height_pt
    x = block.box.right / W if block.align == "right" else block.box.x / W
    fig.text(
        x,
        block.box.top / H,
        "\n".join(block.lines),
        ha=block.align,
        va="top",
        fontsize=block.size,
        fontweight=block.weight,
        color=block.color,
        gid=block.key if block.key != "source" else "source-line",
        linespacing=line_spacing(LEADING, block.size, layout.family),
        parse_math=False,
    )


def _draw_map(
    ax: Axes,
    spec: MapSpec,
    data: AtlasData,
    extent: tuple[float, float, float, float],
    *,
    skip: tuple[str, ...] = (),
) -> str:
    from layers.registry import layers_for

    x0, y0, x1, y1 = extent
    ax.set_facecolor("#dde9f2" if spec.basemap == "outlines" else "white")
    for layer in layers_for(tuple(n for n in spec.layers if n not in skip)):
        layer.to_matplotlib(ax, data, spec)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(furniture.aspect_for((y0 + y1) / 2), adjustable="box", anchor="C")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#888888")
        spine.set_linewidth(0.5)
    return _add_tiles(ax, spec.basemap) if spec.basemap != "outlines" else ""


def _tile_provider(basemap: str) -> Any:
    if basemap not in TILE_PROVIDERS:
        return None
    import xyzservices.providers as xyz

    return xyz.query_name(TILE_PROVIDERS[basemap])


def _add_tiles(ax: Axes, basemap: str) -> str:
    """Web tiles under the layers (contextily); FetchError when they cannot be fetched."""
    provider = _tile_provider(basemap)
    try:
        import contextily
        import requests
    except ImportError:
        raise FetchError(
            f"basemap {basemap!r}: web tiles need the 'contextily' package; install it "
            "or use basemap 'outlines'"
        ) from None
    try:
        contextily.add_basemap(
            ax, crs="EPSG:4326", source=provider, attribution=False, zorder=-1, reset_extent=True
        )
    except (requests.RequestException, OSError) as exc:
        raise FetchError(
            f"basemap {basemap!r}: tiles from {provider.name} could not be downloaded "
            f"({type(exc).__name__}); check the network or use basemap 'outlines'"
        ) from None
    return str(provider.get("attribution", provider.name))


def _corner_counts(view: AtlasData, extent: tuple[float, float, float, float],
                   size_frac: tuple[float, float]) -> dict[str, int]:  # fmt: skip
    """Incidents under a box of ``size_frac`` of the map in each corner."""
    x0, y0, x1, y1 = extent
    inc = view.incidents
    xs = ys = np.zeros(0)
    if inc is not None and len(inc):
        xs = (inc.geometry.x.to_numpy() - x0) / (x1 - x0)
        ys = (inc.geometry.y.to_numpy() - y0) / (y1 - y0)
    fw, fh = size_frac
    boxes = {
        "lr": (1 - fw, 0, 1, fh),
        "ur": (1 - fw, 1 - fh, 1, 1),
        "ul": (0, 1 - fh, fw, 1),
        "ll": (0, 0, fw, fh),
    }
    return {
        k: int(((xs >= a) & (xs <= c) & (ys >= b) & (ys <= d)).sum())
        for k, (a, b, c, d) in boxes.items()
    }


def _overlap(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.top and b.y < a.top


def _corner_box(layout: PageLayout, corner: str, w: float, h: float) -> Box:
    mb = layout.map
    pad = layout.sizes.small * 0.5
    x = mb.x + pad if corner[1] == "l" else mb.right - w - pad
    y = mb.y + pad if corner[0] == "l" else mb.top - h - pad
    return Box(x, y, w, h)


def _place_legend_and_inset(
    fig: Figure,
    ax: Axes,
    layout: PageLayout,
    spec: MapSpec,
    view: AtlasData,
    data: AtlasData,
    extent: tuple[float, float, float, float],
) -> list[Any]:
    """Draw the legend and the inset; on the map they take its emptiest corners (the
    inset only a corner with no incident under it, else it gives way). Returns their
    boxes in display units, for labels to avoid."""
    from matplotlib.transforms import Bbox

    legend_box, inset_box = layout.legend, layout.inset
    mb = layout.map
    used: list[Box] = []
    if legend_box is None and layout.rows:
        # On the map: top right, over the strip the frame was widened by (_page_extent).
        lw, lh = layout.legend_size
        pad = layout.sizes.small * 0.5
        legend_box = _corner_box(layout, "ur", lw + 2 * pad, lh + 2 * pad)
        used.append(legend_box)
        _draw_legend(fig, layout, legend_box, panel=True)
        iw = lw + 2 * pad
        ih = iw * 1.2
        if legend_box.y - mb.y - 2 * pad >= ih:
            inset_box = _corner_box(layout, "lr", iw, ih)
        else:
            iw, ih = layout.inset_size
            counts = _corner_counts(view, extent, (iw / mb.w, ih / mb.h))
            # a corner with no incident under it, and not under the legend (lower right
            # was taken under a legend reaching down past the inset's top)
            free = [c for c in ("ul", "lr") if counts[c] == 0
                    and not _overlap(_corner_box(layout, c, iw, ih), legend_box)]  # fmt: skip
            if free:
                inset_box = _corner_box(layout, free[0], iw, ih)
            else:
                layout.dropped.append(i18n.t("print_dropped_inset", spec.lang))
    elif layout.rows and legend_box is not None:
        _draw_legend(fig, layout, legend_box, panel=False)
    if inset_box is not None:
        used.append(inset_box)
        furniture.inset_peru(fig, layout.frac(inset_box), data, extent, spec, layout.sizes.minimum)
    k = fig.dpi / 72.0
    return [Bbox.from_bounds(b.x * k, b.y * k, b.w * k, b.h * k) for b in used]


def _draw_legend(fig: Figure, layout: PageLayout, box: Box, *, panel: bool) -> None:
    """The compact legend drawn row by row into ``box`` (points), in its own axes."""
    from matplotlib.patches import Rectangle

    size = layout.sizes.small
    lax = fig.add_axes(layout.frac(box), gid="legend")
    lax.set_xlim(0, box.w)
    lax.set_ylim(0, box.h)
    lax.set_axis_off()
    if panel:
        lax.add_patch(Rectangle((0, 0), box.w, box.h, facecolor="white", alpha=0.88,
                                edgecolor="#bbbbbb", linewidth=0.4, zorder=0))  # fmt: skip
        pad = size * 0.5
    else:
        pad = 0.0
    cols = layout.legend_cols if not panel else 1
    col_w = (box.w - 2 * pad - size * 1.2 * (cols - 1)) / cols
    wrapped, _ = _legend_measure(layout.rows, size, col_w, layout.family)
    line = size * LEG_LEADING
    runs = _split_columns(_row_heights(layout.rows, wrapped, size), cols)
    for c, (a, b) in enumerate(runs):
        x = pad + c * (col_w + size * 1.2)
        y = box.h - pad
        for row, lines in zip(layout.rows[a:b], wrapped[a:b], strict=True):
            y = _legend_row(lax, row, lines, x, y, col_w, size, line, layout.symbol_scale)


def _legend_row(lax: Axes, row: LegendRow, lines: list[str], x: float, y: float,
                col_w: float, size: float, line: float,
                symbol_scale: float = 1.0) -> float:  # fmt: skip
    """Draw one row with its top at ``y``; return the next row's top."""
    from matplotlib.patches import Rectangle

    mid = y - line / 2
    kw = {"fontsize": size, "color": TEXT, "va": "top", "ha": "left", "parse_math": False,
          "linespacing": line_spacing(LEG_LEADING, size)}  # fmt: skip
    if row.kind == "pair":
        gx = x
        for marker, label in row.items:
            k = 0.8 if marker in ("s", "D") else 1.0
            lax.scatter([gx + GLYPH_PT / 2], [mid], s=(6.0 * k) ** 2, marker=marker,
                        c=[row.color], edgecolors="white", linewidths=0.3, alpha=0.9)  # fmt: skip
            lax.text(gx + GLYPH_PT + 3, y, label, gid=row.gid, **kw)
            gx += GLYPH_PT + 3 + text_width(label, size) + size
        return y - line
    if row.kind == "marker":
        k = {"s": 0.8, "D": 0.8, "h": 1.45}.get(row.marker, 1.0)
        lax.scatter([x + GLYPH_PT / 2], [mid], s=(6.0 * k) ** 2, marker=row.marker,
                    c=[row.color], edgecolors=row.edge, linewidths=0.3 if row.edge == "white"
                    else 0.5, alpha=0.9)  # fmt: skip
        lax.text(x + GLYPH_PT + 3, y, "\n".join(lines), gid=row.gid, **kw)
        return y - len(lines) * line
    if row.kind == "line":
        lax.plot([x, x + GLYPH_PT], [mid, mid], color=row.color, linewidth=1.6,
                 linestyle="--" if row.dashed else "-")  # fmt: skip
        lax.text(x + GLYPH_PT + 3, y, "\n".join(lines), gid=row.gid, **kw)
        return y - len(lines) * line
    if row.kind == "text":
        lax.text(x, y, "\n".join(lines), gid=row.gid, **kw)
        return y - len(lines) * line
    lax.text(x, y, "\n".join(lines), gid=row.gid, **kw)
    y -= len(lines) * line
    n = len(row.items)
    step = min(col_w / n, size * 3.6)
    if row.kind == "ramp":
        for i, (color, label) in enumerate(row.items):
            lax.add_patch(Rectangle((x + i * step, y - line * 0.8), step, line * 0.7,
                                    facecolor=color, edgecolor="#9a9a9a", linewidth=0.3))  # fmt: skip
            lax.text(x + i * step, y - line * 0.95, label, gid="legend-ramp", **kw)
        return y - line * 1.9
    gx = x
    row_mid = y - line * 0.75
    for diam, label in row.items:  # sizes: glyph, then its label, in one line
        d = float(diam) * symbol_scale
        lax.scatter([gx + d / 2], [row_mid], s=d**2, marker="o", c=["#8a8a8a"],
                    edgecolors="white", linewidths=0.3)  # fmt: skip
        lax.text(gx + d + 2, row_mid, label, gid="legend-sizes", **{**kw, "va": "center"})
        gx += d + 2 + text_width(label, size) + size * 0.9
    return y - line * 1.5


# ---- for the small-multiples page (layers.multiples), which keeps its own layout ----------
_NUMBERED = re.compile(r"^([\d.,]+)\s+(.+)$")


def legend_handles(
    entries: list[LegendEntry], *, scale: float = 1.0
) -> tuple[list[Any], list[str]]:
    """matplotlib legend handles and labels for the layers' LegendEntry list.

    ``scale`` shrinks marker sizes and line widths like :func:`print_scale` does the map.
    """
    handles: list[Any] = []
    labels: list[str] = []
    for e in entries:
        edge = e.edgecolor or e.color
        if e.kind in ("point", "star"):
            h = Line2D(
                [],
                [],
                marker="*" if e.kind == "star" else "o",
                linestyle="",
                markerfacecolor=e.color,
                markeredgecolor=edge,
                markersize=max(math.sqrt(e.size) * 2.2 * scale, 2.0),
                markeredgewidth=max(scale, 0.4),
            )
        elif e.kind == "line":
            h = Line2D(
                [], [], color=e.color, linewidth=1.8 * scale, linestyle="--" if e.dashed else "-"
            )
        else:
            h = Patch(
                facecolor=e.color,
                edgecolor=edge,
                linestyle="--" if e.dashed else "-",
                linewidth=0.8,
            )
        handles.append(h)
        labels.append(e.label)
    return handles, labels


_NUMBERED = re.compile(r"^([\d.,]+)\s+(.+)$")


def merge_size_entries(handles: list[Any], labels: list[str]) -> tuple[list[Any], list[str]]:
    """Fold a run of 3+ size-legend rows ("0 fatalities", "1 fatality", "10 fatalities")
    into one row of markers labelled "0 · 1 · 10 fatalities", to save height on small
    pages. Other rows are kept as they are."""
    out_h: list[Any] = []
    out_l: list[str] = []
    i = 0
    while i < len(labels):
        j = i
        while j < len(labels) and _NUMBERED.match(labels[j]) and isinstance(handles[j], Line2D):
            j += 1
        if j - i >= 3:
            numbers = [_NUMBERED.match(text).group(1) for text in labels[i:j]]
            unit = _NUMBERED.match(labels[j - 1]).group(2)
            out_h.append(tuple(handles[i:j]))
            out_l.append(" · ".join(numbers) + " " + unit)
            i = j
        else:
            out_h.append(handles[i])
            out_l.append(labels[i])
            i += 1
    return out_h, out_l


__all__ = [
    "INCIDENT_LAYERS",
    "MIN_MAP_SHARE",
    "RC",
    "Box",
    "DensityChoice",
    "FontSizes",
    "LegendRow",
    "PageLayout",
    "PageParts",
    "PageTexts",
    "build_base",
    "build_page",
    "clear_incidents",
    "density_choice",
    "hexagon_view",
    "marker_positions",
    "compute_summary",
    "draw_incidents",
    "filter_view",
    "font_family",
    "layout_page",
    "legend_handles",
    "legend_rows",
    "merge_size_entries",
    "page_scale",
    "page_texts",
    "print_scale",
    "source_credits",
    "tile_attribution",
    "view_extent",
    "wrap",
]
