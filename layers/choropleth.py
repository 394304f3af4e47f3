"""Choropleth: incidents (or incidents per 1,000 km²) per region of ``spec.region_layer``.

Counts come from :func:`atlas.aggregate.region_counts` (= ``atlas.spatial.aggregate``,
areas in an equal-area CRS there; the one module that bins incidents for maps);
this layer only bins and colours them, with a sequential colour-blind-safe ramp.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from atlas.generalise import suppress_counts
from atlas.i18n import t
from layers.base import Layer, LegendEntry, PointsMemo
from layers.regions import layer_regions
from layers.style import STYLES, bin_colors, choropleth_bins, esc, fmt_number, ramp_for

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec


#: Districts: an incident in a gap between polygons counts in the nearest within this.
SNAP_KM = 1.0


def metric_column(spec: MapSpec) -> str:
    return "incidents_per_1000km2" if spec.metric == "per_area" else "incidents"


def choropleth_frame(data: AtlasData, spec: MapSpec) -> tuple[gpd.GeoDataFrame, list[float]]:
    """Regions of ``spec.region_layer`` with the metric, its colour, and the class edges."""
    from atlas.aggregate import region_counts

    regions = layer_regions(data, spec)
    if regions is None or regions.empty:
        return None, []
    # simplified district polygons leave slivers: an incident there takes the nearest
    # district within 1 km (atlas.spatial.join_incidents, flagged with its distance)
    snap = SNAP_KM if str(spec.region_layer).startswith("district") else 0.0
    summary = region_counts(data.incidents, regions, snap_km=snap)
    col = metric_column(spec)
    keep = ["region_id", col] + (["incidents"] if col != "incidents" else [])
    frame = regions[["region_id", "name", "approximate", "geometry"]].merge(
        summary[keep], on="region_id", how="left"
    )
    frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0.0)
    edges = choropleth_bins(frame[col])
    frame["fill"] = bin_colors(frame[col], edges)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=regions.crs), edges


#: Above this many regions the page takes the districts simplified for national views.
MANY_REGIONS = 200


def _light_geometry(frame: gpd.GeoDataFrame, data: AtlasData) -> gpd.GeoDataFrame:
    """A copy; with many shipped districts, their 0.01° versions (geodata/peru
    districts_2023_z7) so a national choropleth page stays light."""
    frame = frame.copy()
    low = getattr(data, "districts_low", None)
    if low is None or len(frame) <= MANY_REGIONS:
        return frame
    simple = low.set_index(low["ubigeo"].astype(str)).geometry
    ids = frame["region_id"].astype(str)
    has = ids.isin(simple.index).to_numpy()
    frame.loc[has, "geometry"] = simple.loc[ids[has]].to_numpy()
    return frame


#: On the live map the choropleth shades departments below this zoom, districts from it.
LIVE_SWITCH_ZOOM = 8
#: Districts drawn on the live map: those within this many degrees of the incidents.
LIVE_DISTRICT_PAD_DEG = 0.5


@dataclass
class Level:
    name: str  # "department" or "district"
    zoom: str  # "out" or "in": when the live map shows it (LIVE_SWITCH_ZOOM)
    frame: gpd.GeoDataFrame
    edges: list[float]


def live_levels(data: AtlasData, spec: MapSpec) -> tuple[Level, Level] | None:
    """The live map's two choropleths: incidents per department (zoomed out) and per
    district (zoomed in, the districts near the incidents), each with its own classes.
    ``None`` without shipped departments and districts, or when ``spec.region_layer`` is
    a layer the reader brought (an upload, a fetched vintage): that layer is then shaded
    as the print map does."""
    departments = getattr(data, "departments", None)
    districts = getattr(data, "districts_low", None)
    inc = data.incidents
    if departments is None or districts is None or inc is None:
        return None
    if not _shipped_layer(data, spec.region_layer):
        return None  # the reader chose their own layer (an upload, another vintage)
    # the legend and the layer ask for the same view in one run
    extra = f"{spec.metric}|{id(departments)}|{id(districts)}|{len(inc)}"
    return _LEVELS_MEMO.get(inc.geometry, extra, lambda: _levels(
        inc, departments, districts, getattr(data, "districts", None), spec))  # fmt: skip


def _shipped_layer(data: AtlasData, layer: str) -> bool:
    """Whether ``layer`` is one the atlas ships (the VRAEM zone and sub-zones, the 2023
    districts), not one a reader or operator brought."""
    from atlas.data import DISTRICT_LAYER, SHIPPED_REGION_LAYERS

    return layer == DISTRICT_LAYER or layer in SHIPPED_REGION_LAYERS


_LEVELS_MEMO = PointsMemo()


def _levels(inc, departments, districts, exact, spec: MapSpec) -> tuple[Level, Level]:
    dep = gpd.GeoDataFrame({"region_id": departments["ubigeo"].astype(str),
                            "name": departments["name"].astype(str)},
                           geometry=departments.geometry, crs=departments.crs)  # fmt: skip
    dep_names = dict(zip(departments["ubigeo"].astype(str), departments["name"].astype(str),
                         strict=True))  # fmt: skip
    where = (districts["department"].astype(str).map(dep_names).fillna("")
             if "department" in districts else "")  # fmt: skip
    dis = gpd.GeoDataFrame({"region_id": districts["ubigeo"].astype(str),
                            "name": districts["name"].astype(str) + ", " + where},
                           geometry=districts.geometry, crs=districts.crs)  # fmt: skip
    if exact is not None and "layer" in exact:
        # count in the full-detail districts (the simplified ones leave gaps between
        # neighbours); draw the simplified ones
        full = exact[exact["layer"] == "district"].set_index("region_id").geometry
        has = dis["region_id"].isin(full.index).to_numpy()
        dis = dis[has].copy()
        dis["draw"] = dis.geometry.to_numpy()
        dis = dis.set_geometry(full.loc[dis["region_id"]].to_numpy()).set_crs(
            full.crs, allow_override=True
        )
    if not inc.empty:
        w, s_, e, n = inc.total_bounds
        pad = LIVE_DISTRICT_PAD_DEG
        dis = dis.cx[w - pad : e + pad, s_ - pad : n + pad]
    else:
        dis = dis.iloc[0:0]
    levels = []
    for name, zoom, regions, keep_zero in (("department", "out", dep, True),
                                           ("district", "in", dis, False)):  # fmt: skip
        frame, edges = _shade(inc, regions, spec, keep_zero)
        if "draw" in frame:
            frame = frame.set_geometry(frame["draw"].to_numpy()).drop(columns="draw")
        levels.append(Level(name, zoom, frame, edges))
    return levels[0], levels[1]


def _shade(inc, regions: gpd.GeoDataFrame, spec: MapSpec, keep_zero: bool):
    """Regions with the metric and a fill; classes from the regions with incidents (a
    region without any is left unshaded: ``fill`` None), rounded to whole incidents for
    counts. ``keep_zero`` False drops the regions without incidents."""
    from atlas.spatial import assign_region, region_areas_km2

    col = metric_column(spec)
    if regions.empty:
        return regions.assign(**{col: [], "fill": []}), [1.0, 2.0]
    # one region per incident (a point on a shared border is not counted twice)
    counts = assign_region(inc, regions).value_counts()
    frame = regions.copy()
    frame["incidents"] = frame["region_id"].map(counts).fillna(0).astype(int).to_numpy()
    if col != "incidents":
        frame[col] = frame["incidents"] / region_areas_km2(regions).to_numpy() * 1000.0
    some = frame[col] > 0
    if not keep_zero:
        frame = frame[some]
        some = some[some]
    edges = choropleth_bins(frame.loc[some, col])
    if spec.metric != "per_area":
        edges = sorted({float(max(1, round(e))) for e in edges})
        if len(edges) == 1:
            edges.append(edges[0] + 1)
    fill = pd.Series(bin_colors(frame[col], edges), index=frame.index, dtype=object)
    frame["fill"] = fill.where(some, None)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=regions.crs), edges


class ZoomSwitch(MacroElement):
    """Shows ``out`` below ``zoom`` and ``inn`` from it, and marks the map container
    (class ``atlas-zin``) so the legend shows the rows of the level drawn."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var grp = {{ this._parent.get_name() }};
            var out = {{ this.out.get_name() }}, inn = {{ this.inn.get_name() }};
            function sync(map){
                var zin = map.getZoom() >= {{ this.zoom }};
                if (zin) { grp.removeLayer(out); grp.addLayer(inn); }
                else { grp.removeLayer(inn); grp.addLayer(out); }
                map.getContainer().classList.toggle('atlas-zin', zin);
            }
            grp.on('add', function(){
                var map = grp._map;
                if (!grp._atlasZoomSwitch) {
                    grp._atlasZoomSwitch = true;
                    map.on('zoomend', function(){ if (map.hasLayer(grp)) { sync(map); } });
                }
                sync(map);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, out: folium.GeoJson, inn: folium.GeoJson, zoom: int) -> None:
        super().__init__()
        self._name = "ZoomSwitch"
        self.out, self.inn, self.zoom = out, inn, int(zoom)


def count_labels(edges: list[float], lang: str) -> list[str]:
    """Labels of whole-count classes [lo, hi) (the last one closed): "1 – 29", "30"."""
    out = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        top = hi if i == len(edges) - 2 else hi - 1
        out.append(fmt_number(lo, lang) if top <= lo else
                   f"{fmt_number(lo, lang)} – {fmt_number(top, lang)}")  # fmt: skip
    return out


def bin_labels(edges: list[float], lang: str) -> list[str]:
    return [
        f"{fmt_number(lo, lang)} – {fmt_number(hi, lang)}"
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]


class ChoroplethLayer(Layer):
    """Regions shaded by incident count or density."""

    name = "choropleth"
    title = {"en": "Incidents by region", "es": "Incidentes por región"}
    style = STYLES["choropleth"]

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        frame, edges = choropleth_frame(data, spec)
        if frame is None or frame.empty:
            return []
        head = t("per_area" if spec.metric == "per_area" else "count", spec.lang)
        ramp = ramp_for(len(edges) - 1)
        return [
            LegendEntry(label=f"{head}: {lab}", kind="patch", color=c, edgecolor=self.style.color)
            for lab, c in zip(bin_labels(edges, spec.lang), ramp, strict=True)
        ]

    def live_legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        levels = live_levels(data, spec)
        if levels is None:
            return self.legend_entries(data, spec)
        out: list[LegendEntry] = []
        ramp_edge = self.style.color
        for level in levels:
            if level.frame.empty:
                continue
            head = t(f"choro_{'area' if spec.metric == 'per_area' else 'count'}_{level.name}",
                     spec.lang)  # fmt: skip
            out.append(LegendEntry(label=head, kind="heading", color="", zoom=level.zoom))
            ramp = ramp_for(len(level.edges) - 1)
            labels = (bin_labels if spec.metric == "per_area" else count_labels)(
                level.edges, spec.lang
            )
            if level.name == "department":
                out.append(
                    LegendEntry(
                        label=t("choro_none", spec.lang),
                        kind="patch",
                        color="#ffffff",
                        edgecolor=ramp_edge,
                        zoom=level.zoom,
                    )
                )
            for lab, c in zip(labels, ramp, strict=True):
                out.append(LegendEntry(label=lab, kind="patch", color=c, edgecolor=ramp_edge,
                                       zoom=level.zoom))  # fmt: skip
        return out

    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        levels = live_levels(data, spec)
        if levels is None:
            frame, _edges = choropleth_frame(data, spec)
            if frame is None or frame.empty:
                return
            self._geojson(_light_geometry(frame, data), spec, "").add_to(fmap)
            return
        out, inn = (self._geojson(level.frame, spec, level.name) for level in levels)
        out.add_to(fmap)
        inn.add_to(fmap)
        ZoomSwitch(out, inn, LIVE_SWITCH_ZOOM).add_to(fmap)

    def _geojson(self, frame: gpd.GeoDataFrame, spec: MapSpec, level: str) -> folium.GeoJson:
        col = metric_column(spec)
        frame = frame.copy()
        frame["name"] = frame["name"].map(esc)
        frame["value"] = frame[col].map(lambda v: fmt_number(v, spec.lang))
        if spec.suppress_below > 1 and "incidents" in frame:  # "< k" (atlas.generalise)
            shown = suppress_counts(frame["incidents"], spec.suppress_below, spec.lang)
            small = shown.str.startswith("<").to_numpy()
            frame.loc[small, "value"] = shown[small]
        s = self.style
        what = (
            t(f"choro_{'area' if spec.metric == 'per_area' else 'count'}_{level}", spec.lang)
            if level
            else t("per_area" if spec.metric == "per_area" else "count", spec.lang)
        )
        return folium.GeoJson(
            frame[["name", "value", "fill", "geometry"]],  # escaped text only
            name=self.title.get(spec.lang, self.title["en"]),
            style_function=lambda f: {
                "fillColor": f["properties"]["fill"] or "#ffffff",
                "fillOpacity": s.fill_opacity if f["properties"]["fill"] else 0.0,
                "color": s.color,
                "weight": s.weight,
            },
            tooltip=folium.GeoJsonTooltip(fields=["name", "value"], aliases=["", what + ":"]),
        )

    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        frame, _edges = choropleth_frame(data, spec)
        if frame is None or frame.empty:
            return
        s = self.style
        frame.plot(
            ax=ax,
            color=list(frame["fill"]),
            edgecolor=s.color,
            linewidth=s.weight * 0.6,
            alpha=s.fill_opacity,
            zorder=1,
        )
