"""Basemap: a reference map drawn from geodata/, no network needed; web tiles optional.

Land (Peru lighter than its neighbours) on a light-blue sea, lakes, department lines,
province lines when zoomed in, named rivers (italic blue along the line), towns by rank
with white halos, country names in spaced capitals, and the focus region (``spec.region``,
the VRAEM) lightly shaded with its name on it. Print labels are placed by
:mod:`layers.labels` (greedy, no collisions, for whatever extent the page ends with); on
screen a small script shows labels by rank as the map zooms and hides any that would
overlap one of higher rank.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import shapely
import xyzservices.providers as xyz
from branca.element import Element, MacroElement
from jinja2 import Template
from matplotlib import patheffects
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from shapely.ops import polylabel

from atlas import i18n
from atlas.i18n import t
from layers import labels as lab
from layers.base import Layer, LegendEntry
from layers.style import STYLES, esc

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec

#: spec.basemap -> xyzservices tile provider (None: outlines only).
TILE_PROVIDERS = {
    "osm": xyz.OpenStreetMap.Mapnik,
    "carto": xyz.CartoDB.Positron,
}

#: Reference-map colours (DESIGN.md map style): quiet context under the data.
SEA = "#c6dbef"  # screen; ΔE 18 from LAND (tests/test_htmlpage.py)
LAND = "#f4f1ea"  # Peru
LAND_OTHER = "#e6e2d9"  # neighbours, a shade darker so Peru reads as the subject
WATER = "#b9d3ea"
RIVER = "#6a9fd0"
RIVER_TEXT = "#2f6ea8"
COUNTRY_LINE = "#8a8a8a"
DEPARTMENT_LINE = "#7f7f7f"
PROVINCE_LINE = "#d3cec4"
TOWN_TEXT = "#333333"
COUNTRY_TEXT = "#8c8c8c"
ZONE_FILL = "#efd9a8"
ZONE_TEXT = "#7a5a1c"

#: Smallest zoom (web-map levels) at which each town rank is labelled on screen.
TOWN_MIN_ZOOM = {1: 0, 2: 6, 3: 7, 4: 7}
#: Print: the widest view (degrees of longitude) at which each rank is labelled.
TOWN_MAX_WIDTH = {1: 360.0, 2: 30.0, 3: 9.0, 4: 6.0}
TOWN_FONT_PT = {1: 9.5, 2: 8.5, 3: 8.0, 4: 7.5}
TOWN_MARKER = {1: 4.5, 2: 3.8, 3: 3.4, 4: 3.0}
#: Province lines: print shows them in views narrower than this; screen from this zoom.
PROVINCE_MAX_WIDTH = 6.0
PROVINCE_MIN_ZOOM = 8
#: The rivers of the VRAEM, labelled before other rivers and smaller towns.
VRAEM_RIVERS = ("Apurímac", "Ene", "Tambo", "Mantaro")
#: Neighbours named on the map (ISO 3166-1 numeric, text).
COUNTRIES = ("604", "076", "068", "152", "218", "170")


def _halo(width: float = 2.4) -> list:
    return [patheffects.withStroke(linewidth=width, foreground="white")]


def _lines(geoms) -> list[np.ndarray]:
    """Coordinate arrays of every line (or polygon ring) in ``geoms``."""
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        boundary = g.boundary if g.geom_type in ("Polygon", "MultiPolygon") else g
        for part in shapely.get_parts(boundary):
            out.append(np.asarray(part.coords)[:, :2])
    return out


def _focus(data: AtlasData, spec: MapSpec):
    regions = data.regions
    if regions is None or regions.empty:
        return None, ""
    rows = regions[regions["region_id"] == spec.region]
    if rows.empty:
        return None, ""
    return rows.geometry.iloc[0], str(rows["layer"].iloc[0])


def _zone_title(name: str) -> str:
    """'VRAEM (DEVIDA coca-monitoring zone, 24 districts)' -> 'VRAEM'."""
    return name.split("(")[0].strip() or name


def _label_area(data: AtlasData, focus):
    """The focus region minus a margin around its rivers: where its name can go without
    covering a river's name."""
    rivers = getattr(data, "rivers", None)
    if rivers is None or rivers.empty:
        return focus
    near = rivers[rivers.intersects(focus)]
    if near.empty:
        return focus
    trimmed = shapely.difference(focus, shapely.buffer(shapely.union_all(near.geometry), 0.12))
    return focus if trimmed.is_empty or trimmed.area < 0.25 * focus.area else trimmed


def _iso(frame: gpd.GeoDataFrame) -> np.ndarray:
    """ISO 3166-1 numeric code per country ("" when the outlines carry none)."""
    if "iso_n3" not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return frame["iso_n3"].astype(str).to_numpy()


def _orders(towns: gpd.GeoDataFrame) -> list[float]:
    return list(towns["order"]) if "order" in towns else [0.0] * len(towns)


def _town_priority(rank: int, order: float) -> float:
    """Lower first: by rank, then ``order`` within the rank (squashed into 0..1)."""
    return rank * 10 + 0.5 + math.atan(float(order) / 1e4) / math.pi


def _river_width(scalerank: float) -> float:
    return 1.3 if scalerank <= 2 else 0.9 if scalerank <= 6 else 0.6


class BasemapLayer(Layer):
    """The offline reference map (always) and web tiles when ``spec.basemap`` asks."""

    name = "basemap"
    reads_incidents = False
    title = {"en": "Basemap", "es": "Mapa base"}
    style = STYLES["basemap"]

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        return []  # context, not data: credited in the attribution line instead

    # ---- print ---------------------------------------------------------------------------
    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        basemap = data.basemap
        if basemap is not None and not basemap.empty:
            peru = _iso(basemap) == "604"
            basemap[~peru].plot(
                ax=ax, facecolor=LAND_OTHER, edgecolor="none", linewidth=0, zorder=0
            )
            basemap[peru].plot(ax=ax, facecolor=LAND, edgecolor="none", linewidth=0, zorder=0)
        lakes = getattr(data, "lakes", None)
        if lakes is not None and not lakes.empty:
            lakes.plot(ax=ax, facecolor=WATER, edgecolor="none", zorder=0.2)
        layout = lab.labeller(ax)
        focus, _layer = _focus(data, spec)
        if focus is not None:  # above the coca choropleth (0.25), below the lines
            gpd.GeoSeries([focus]).plot(
                ax=ax, facecolor=ZONE_FILL, edgecolor="none", alpha=0.5, zorder=0.3
            )
        provinces = getattr(data, "provinces", None)
        if provinces is not None and not provinces.empty:
            coll = LineCollection(
                _lines(provinces.geometry), colors=PROVINCE_LINE, linewidths=0.4, zorder=0.4
            )
            coll.set_gid("province-lines")
            ax.add_collection(coll, autolim=False)
            layout.show_when_narrower(coll, PROVINCE_MAX_WIDTH)
        departments = getattr(data, "departments", None)
        if departments is not None and not departments.empty:
            coll = LineCollection(
                _lines(departments.geometry), colors=DEPARTMENT_LINE, linewidths=0.85, zorder=0.5
            )
            coll.set_gid("department-lines")
            ax.add_collection(coll, autolim=False)
        if basemap is not None and not basemap.empty:
            coll = LineCollection(
                _lines(basemap.geometry), colors=COUNTRY_LINE, linewidths=0.9, zorder=0.6
            )
            coll.set_gid("country-lines")
            ax.add_collection(coll, autolim=False)
        self._rivers_mpl(ax, data, layout)
        self._towns_mpl(ax, data, layout)
        if focus is not None:
            self._zone_label_mpl(ax, data, spec, focus, layout)
        self._countries_mpl(ax, data, spec, layout)

    def _rivers_mpl(self, ax: Axes, data: AtlasData, layout: lab.LabelLayout) -> None:
        rivers = getattr(data, "rivers", None)
        if rivers is None or rivers.empty:
            return
        widths = [_river_width(float(r)) for r in rivers["scalerank"]]
        segs, lws = [], []
        for geom, w in zip(rivers.geometry, widths, strict=True):
            for part in _lines([geom]):
                segs.append(part)
                lws.append(w)
        coll = LineCollection(segs, colors=RIVER, linewidths=lws, zorder=0.7, capstyle="round")
        coll.set_gid("rivers")
        ax.add_collection(coll, autolim=False)
        for name, rank, geom in zip(
            rivers["name"], rivers["scalerank"], rivers.geometry, strict=True
        ):
            text = ax.text(
                0, 0, str(name), fontsize=7.5, fontstyle="italic", color=RIVER_TEXT,
                zorder=21, gid=f"river-label:{name}", path_effects=_halo(2.0), visible=False,
                rotation_mode="anchor",
            )  # fmt: skip
            priority = 14 if name in VRAEM_RIVERS else 24 + float(rank)

            def positions(view, ax_, geom=geom, rank=float(rank)):
                if rank > 7 and view[2] - view[0] > 12:
                    return []
                return lab.line_positions(geom, view, ax_)

            layout.add(lab.Candidate(text, priority, positions, gid=f"river:{name}"))

    def _towns_mpl(self, ax: Axes, data: AtlasData, layout: lab.LabelLayout) -> None:
        towns = getattr(data, "towns", None)
        if towns is None or towns.empty:
            return
        for label, rank, order, pt in zip(
            towns["label"], towns["rank"], _orders(towns), towns.geometry, strict=True
        ):
            rank = int(rank)
            dot = Line2D(
                [pt.x], [pt.y], marker="o", markersize=TOWN_MARKER[rank], linestyle="",
                markerfacecolor=TOWN_TEXT, markeredgecolor="white", markeredgewidth=0.6,
                zorder=20, visible=False, gid=f"town-dot:{label}",
            )  # fmt: skip
            ax.add_line(dot)
            text = ax.text(
                pt.x, pt.y, str(label), fontsize=TOWN_FONT_PT[rank], color=TOWN_TEXT,
                fontweight="bold" if rank == 1 else "normal", zorder=22,
                gid=f"town-label:{label}", path_effects=_halo(), visible=False,
            )  # fmt: skip

            def positions(view, ax_, pt=pt, rank=rank):
                if view[2] - view[0] > TOWN_MAX_WIDTH[rank]:
                    return []
                return lab.point_offsets(pt.x, pt.y, ax_)

            priority = _town_priority(rank, order)
            layout.add(lab.Candidate(text, priority, positions, anchor=dot, gid=f"town:{label}"))

    def _zone_label_mpl(self, ax, data, spec, focus, layout) -> None:
        name = _zone_title(str(data.regions.set_index("region_id").loc[spec.region, "name"]))
        title = ax.text(
            0, 0, lab.spaced(name), fontsize=10.5, fontweight="bold", color=ZONE_TEXT,
            zorder=21, gid="zone-label", path_effects=_halo(2.6), visible=False,
        )  # fmt: skip
        area = _label_area(data, focus)
        layout.add(
            lab.Candidate(title, 12, lambda view, _ax: lab.area_positions(area, view), gid="zone")
        )
        if spec.region != "vraem-devida":
            return
        caption = ax.text(
            0, 0, i18n.t("bm_zone_caption", spec.lang), fontsize=7.0, color=ZONE_TEXT,
            zorder=21, gid="zone-caption", path_effects=_halo(2.2), visible=False,
        )  # fmt: skip

        def below(view, ax_):
            if not title.get_visible():
                return []
            box = title.get_window_extent(layout.renderer)
            gap = 2 * lab.PAD_PX + 1
            x, y = ax_.transData.inverted().transform(((box.x0 + box.x1) / 2, box.y0 - gap))
            return [(x, y, "center", "top", 0.0)]

        layout.add(lab.Candidate(caption, 13, below, gid="zone-caption"))

    def _countries_mpl(self, ax, data, spec, layout) -> None:
        basemap = data.basemap
        if basemap is None or basemap.empty:
            return
        for iso in COUNTRIES:
            rows = basemap[_iso(basemap) == iso]
            if rows.empty:
                continue
            geom = rows.geometry.iloc[0]
            text = ax.text(
                0, 0, lab.spaced(i18n.t(f"country_{iso}", spec.lang)), fontsize=9.5,
                color=COUNTRY_TEXT, zorder=18, gid=f"country-label:{iso}",
                path_effects=_halo(2.0), visible=False,
            )  # fmt: skip

            def positions(view, _ax, geom=geom):
                view_area = (view[2] - view[0]) * (view[3] - view[1])
                shown = shapely.intersection(geom, shapely.box(*view)).area
                if view_area <= 0 or shown < 0.04 * view_area:
                    return []
                return lab.area_positions(geom, view)

            layout.add(lab.Candidate(text, 50, positions, gid=f"country:{iso}"))

    # ---- screen ---------------------------------------------------------------------------
    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        provider = TILE_PROVIDERS.get(spec.basemap)
        if provider is not None:
            folium.TileLayer(
                tiles=provider.build_url(),
                attr=provider.html_attribution,
                name=provider.name,
                max_zoom=int(provider.get("max_zoom", 18)),
                overlay=False,
                control=True,
            ).add_to(fmap)
        else:
            fmap.get_root().header.add_child(
                Element(
                    f"<style>div.leaflet-container{{background:{SEA}}}</style>"
                ),  # over leaflet.css
                name="atlas-sea",
            )
        fmap.get_root().header.add_child(Element(LABEL_CSS), name="atlas-label-css")
        opacity = 0.0 if provider is not None else 1.0
        # land under the coca choropleth (pane 350) under the data (overlay pane, 400)
        folium.map.CustomPane("atlasLand", z_index=250).add_to(fmap)
        basemap = data.basemap
        if basemap is not None and not basemap.empty:
            land = basemap[["geometry"]].copy()  # no free text: nothing to escape
            land["geometry"] = shapely.set_precision(
                shapely.simplify(np.asarray(land.geometry.array), 0.01), 1e-3
            )
            land["fill"] = np.where(_iso(basemap) == "604", LAND, LAND_OTHER)
            folium.GeoJson(
                land[["fill", "geometry"]],
                name=t("countries", spec.lang),
                style_function=lambda f: {
                    "color": COUNTRY_LINE,
                    "weight": 1.0,
                    "fillColor": f["properties"]["fill"],
                    "fillOpacity": opacity,
                },
                interactive=False,
                control=False,
                pane="atlasLand",
            ).add_to(fmap)
        lakes = getattr(data, "lakes", None)
        if lakes is not None and not lakes.empty:
            _geojson(lakes, {"stroke": False, "fillColor": WATER, "fillOpacity": 1.0}).add_to(fmap)
        focus, _layer = _focus(data, spec)
        if focus is not None:  # above the coca choropleth (pane 350), below the data
            folium.map.CustomPane("atlasZone", z_index=360).add_to(fmap)
            folium.GeoJson(
                gpd.GeoDataFrame(geometry=[focus], crs="EPSG:4326"),
                style_function=lambda _f: {
                    "stroke": False,
                    "fillColor": ZONE_FILL,
                    "fillOpacity": 0.5,
                },
                interactive=False,
                control=False,
                pane="atlasZone",
            ).add_to(fmap)
        toggles = []
        provinces = getattr(data, "provinces", None)
        if provinces is not None and not provinces.empty:
            lines = EncodedLines(
                _outline_rings(provinces, 0.005), color=PROVINCE_LINE, weight=0.8, show=False
            )
            lines.add_to(fmap)
            toggles.append((lines, PROVINCE_MIN_ZOOM))
        departments = getattr(data, "departments", None)
        if departments is not None and not departments.empty:
            EncodedLines(
                _outline_rings(departments, 0.008), color=DEPARTMENT_LINE, weight=1.2
            ).add_to(fmap)
        rivers = getattr(data, "rivers", None)
        if rivers is not None and not rivers.empty:
            for width in sorted({_river_width(float(r)) for r in rivers["scalerank"]}):
                rows = rivers[[_river_width(float(r)) == width for r in rivers["scalerank"]]]
                EncodedLines(_lines(rows.geometry), color=RIVER, weight=width * 1.6).add_to(fmap)
        ScreenLabels(_screen_labels(data, spec, focus)).add_to(fmap)
        ZoomLabels(toggles).add_to(fmap)


def _geojson(frame: gpd.GeoDataFrame, style: dict) -> folium.GeoJson:
    return folium.GeoJson(
        frame[["geometry"]],
        style_function=lambda _f: style,
        interactive=False,
        control=False,
        pane="atlasLand",
    )


def _outline_rings(frame: gpd.GeoDataFrame, tolerance: float) -> list[np.ndarray]:
    """Polygon outlines simplified for the screen (each polygon on its own)."""
    return _lines(shapely.simplify(np.asarray(frame.geometry.array), tolerance))


def encode_polyline(coords: np.ndarray, precision: int = 10_000) -> str:
    """Google's encoded-polyline text of (lon, lat) rows: about 4 bytes per coordinate
    against about 20 as GeoJSON, so reference lines cost little page weight."""
    ints = np.round(np.asarray(coords)[:, ::-1] * precision).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    out = []
    for v in deltas.tolist():
        v = ~(v << 1) if v < 0 else v << 1
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


#: Defined by the first reference-line script that runs (inline, not in the page header:
#: streamlit-folium inserts the header as markup, where a script would not run).
DECODER_JS = """
if (!window.atlasDecode) {
  window.atlasDecode = function(s, p) {
    var i = 0, lat = 0, lng = 0, out = [];
    function next() {
      var b, shift = 0, r = 0;
      do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << shift; shift += 5; } while (b >= 32);
      return (r & 1) ? ~(r >> 1) : (r >> 1);
    }
    while (i < s.length) { lat += next(); lng += next(); out.push([lat / p, lng / p]); }
    return out;
  };
}
"""


class EncodedLines(MacroElement):
    """Non-interactive reference lines sent as encoded polylines (see encode_polyline)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
{{ this.decoder }}
var {{ this.get_name() }} = L.polyline(
  {{ this.encoded }}.map(function(s) { return atlasDecode(s, 10000); }),
  {{ this.options }});
{% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
{% endmacro %}
"""
    )

    def __init__(self, lines: list[np.ndarray], *, color: str, weight: float, show: bool = True):
        super().__init__()
        self._name = "EncodedLines"
        self.encoded = _script_json([encode_polyline(c) for c in lines if len(c) > 1])
        self.options = json.dumps(
            {"color": color, "weight": weight, "interactive": False, "opacity": 1.0}
        )
        self.show = show
        self.decoder = DECODER_JS


def _mercator_angle(p: shapely.Point, q: shapely.Point) -> float:
    """Screen angle (degrees, counter-clockwise) of the segment p -> q in Web Mercator."""

    def y(lat: float) -> float:
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))

    angle = math.degrees(math.atan2(y(q.y) - y(p.y), q.x - p.x))
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    return angle


def _screen_labels(data: AtlasData, spec: MapSpec, focus) -> list[tuple[float, float, str]]:
    """(lat, lon, html) of every screen label; ``data-prio``/``data-minzoom`` drive the
    zoom script. Text is escaped; the classes are styled by :data:`LABEL_CSS`."""
    out = []
    towns = getattr(data, "towns", None)
    if towns is not None and not towns.empty:
        for label, rank, order, pt in zip(
            towns["label"], towns["rank"], _orders(towns), towns.geometry, strict=True
        ):
            rank = int(rank)
            html = (
                f"<div class='ca-label ca-town ca-rank{rank}' "
                f"data-prio='{_town_priority(rank, order):.4f}' "
                f"data-minzoom='{TOWN_MIN_ZOOM[rank]}'><span class='ca-dot'></span>"
                f"{esc(str(label))}</div>"
            )
            out.append((pt.y, pt.x, html))
    if focus is not None:
        name = _zone_title(str(data.regions.set_index("region_id").loc[spec.region, "name"]))
        caption = i18n.t("bm_zone_caption", spec.lang) if spec.region == "vraem-devida" else ""
        area = _label_area(data, focus)
        pt = polylabel(max(shapely.get_parts(area), key=lambda p: p.area), tolerance=0.01)
        html = (
            "<div class='ca-label ca-zone' data-prio='12' data-minzoom='5'>"
            f"<b>{esc(lab.spaced(name))}</b><br><small>{esc(caption)}</small></div>"
        )
        out.append((pt.y, pt.x, html))
    rivers = getattr(data, "rivers", None)
    if rivers is not None and not rivers.empty:
        for name, rank, geom in zip(
            rivers["name"], rivers["scalerank"], rivers.geometry, strict=True
        ):
            line = shapely.line_merge(geom)
            if line.geom_type != "LineString":
                line = max(shapely.get_parts(line), key=lambda p: p.length)
            prio = 14 if name in VRAEM_RIVERS else 24 + float(rank)
            minzoom = 5 if float(rank) <= 6 else 7
            # a few places along the line: the script shows the first that fits
            for k, frac in enumerate((0.5, 0.3, 0.7)):
                mid = line.interpolate(frac, normalized=True)
                step = min(0.15, line.length / 4)
                d = line.project(mid)
                angle = _mercator_angle(line.interpolate(d - step), line.interpolate(d + step))
                html = (
                    f"<div class='ca-label ca-river' data-prio='{prio + k * 0.01:.2f}' "
                    f"data-minzoom='{minzoom}' data-group='river:{esc(str(name))}:{rank}'"
                    f" style='transform:translate(-50%,-100%) rotate({-angle:.1f}deg)'>"
                    f"{esc(str(name))}</div>"
                )
                out.append((mid.y, mid.x, html))
    basemap = data.basemap
    if basemap is not None and not basemap.empty:
        for iso in COUNTRIES:
            rows = basemap[_iso(basemap) == iso]
            if rows.empty:
                continue
            geom = shapely.intersection(rows.geometry.iloc[0], shapely.box(-82, -19, -66, 2))
            if geom.is_empty:
                continue
            part = max(shapely.get_parts(geom), key=lambda p: p.area)
            pt = polylabel(part, tolerance=0.05)
            text = esc(lab.spaced(i18n.t(f"country_{iso}", spec.lang)))
            html = f"<div class='ca-label ca-country' data-prio='50' data-minzoom='0'>{text}</div>"
            out.append((pt.y, pt.x, html))
    return out


LABEL_CSS = """<style>
.ca-label{position:absolute;white-space:nowrap;pointer-events:none;font-family:"DejaVu Sans",
 Arial,sans-serif;text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,0 0 4px #fff}
.ca-town{color:#333;font-size:12px;line-height:14px;transform:translate(-4px,-7px)}
.ca-town.ca-rank1{font-size:14px;font-weight:bold}
.ca-town.ca-rank2{font-size:13px}
.ca-dot{display:inline-block;width:6px;height:6px;border-radius:50%;background:#333;
 border:1px solid #fff;margin-right:4px;vertical-align:middle;position:relative;top:-1px}
.ca-river{color:#2f6ea8;font-style:italic;font-size:12px;transform-origin:50% 100%}
.ca-country{color:#8c8c8c;font-size:14px;letter-spacing:0.25em;transform:translate(-50%,-50%)}
.ca-zone{color:#7a5a1c;font-size:14px;text-align:center;transform:translate(-50%,-50%);
 line-height:15px}
.ca-zone small{font-size:12px}
</style>"""


def _script_json(value: object) -> str:
    """JSON for a page script: no "<", ">" or "'" (they stay text) and no "{{" for branca's
    second Jinja pass."""
    text = json.dumps(value)
    for char, code in (("<", "003c"), (">", "003e"), ("'", "0027"), ("{", "007b"), ("}", "007d")):
        text = text.replace(char, "\\u" + code)
    return text


class ScreenLabels(MacroElement):
    """Every reference-map label as a DivIcon marker, made by one loop in the page (a
    folium Marker per label costs about four times the bytes)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function() {
  var group = L.layerGroup().addTo({{ this._parent.get_name() }});
  {{ this.rows }}.forEach(function(d) {
    L.marker([d[0], d[1]], {
      icon: L.divIcon({html: d[2], className: 'empty', iconSize: [0, 0], iconAnchor: [0, 0]}),
      interactive: false, keyboard: false
    }).addTo(group);
  });
})();
{% endmacro %}
"""
    )

    def __init__(self, labels: list[tuple[float, float, str]]) -> None:
        super().__init__()
        self._name = "ScreenLabels"
        self.rows = _script_json([[round(a, 5), round(b, 5), html] for a, b, html in labels])


class ZoomLabels(MacroElement):
    """Shows labels by rank as the map zooms (``data-minzoom``), hides any label that
    overlaps one of higher priority (``data-prio``, lower first), and shows each layer
    of ``toggles`` from its minimum zoom (province lines)."""

    _template = Template(
        """
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this._parent.get_name() }};
  var toggles = [{% for layer, z in this.toggles %}[{{ layer.get_name() }}, {{ z }}],{% endfor %}];
  function overlaps(a, b) {
    return !(a.right < b.left || b.right < a.left || a.bottom < b.top || b.bottom < a.top);
  }
  function update() {
    var z = map.getZoom();
    toggles.forEach(function(t) {
      if (z >= t[1]) { if (!map.hasLayer(t[0])) map.addLayer(t[0]); }
      else if (map.hasLayer(t[0])) map.removeLayer(t[0]);
    });
    var els = Array.prototype.slice.call(map.getContainer().querySelectorAll('.ca-label'));
    els.sort(function(a, b) { return a.dataset.prio - b.dataset.prio; });
    var placed = [], done = {};
    els.forEach(function(el) {
      el.style.visibility = 'hidden';
      if (z < +el.dataset.minzoom) return;
      var group = el.dataset.group;
      if (group && done[group]) return;  // another place of the same label is shown
      var r = el.getBoundingClientRect();
      if (!r.width) return;
      for (var i = 0; i < placed.length; i++) { if (overlaps(r, placed[i])) return; }
      placed.push(r);
      if (group) done[group] = true;
      el.style.visibility = 'visible';
    });
  }
  map.on('zoomend moveend', update);
  map.whenReady(function() { setTimeout(update, 0); });
})();
{% endmacro %}
"""
    )

    def __init__(self, toggles: list[tuple[folium.FeatureGroup, int]]) -> None:
        super().__init__()
        self._name = "ZoomLabels"
        self.toggles = toggles


__all__ = ["TILE_PROVIDERS", "BasemapLayer", "ZoomLabels"]
