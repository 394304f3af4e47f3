"""Choropleth: incidents (or incidents per 1,000 km²) per region of ``spec.region_layer``.

Counts come from :func:`atlas.spatial.aggregate` (areas in an equal-area CRS there);
this layer only bins and colours them, with a sequential colour-blind-safe ramp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pandas as pd

from atlas.generalise import suppress_counts
from atlas.i18n import t
from layers.base import Layer, LegendEntry
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
    from atlas.spatial import aggregate  # written alongside; imported when first drawn

    regions = layer_regions(data, spec)
    if regions is None or regions.empty:
        return None, []
    # simplified district polygons leave slivers: an incident there takes the nearest
    # district within 1 km (atlas.spatial.join_incidents, flagged with its distance)
    snap = SNAP_KM if str(spec.region_layer).startswith("district") else 0.0
    summary = aggregate(data.incidents, regions, snap_km=snap)
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

    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        frame, _edges = choropleth_frame(data, spec)
        if frame is None or frame.empty:
            return
        col = metric_column(spec)
        frame = _light_geometry(frame, data)
        frame["name"] = frame["name"].map(esc)
        frame["value"] = frame[col].map(lambda v: fmt_number(v, spec.lang))
        if spec.suppress_below > 1:  # small counts as "< k" (atlas.generalise)
            shown = suppress_counts(frame["incidents"], spec.suppress_below, spec.lang)
            small = shown.str.startswith("<").to_numpy()
            frame.loc[small, "value"] = shown[small]
        s = self.style
        folium.GeoJson(
            frame[["name", "value", "fill", "geometry"]],  # escaped text only
            name=self.title.get(spec.lang, self.title["en"]),
            style_function=lambda f: {
                "fillColor": f["properties"]["fill"],
                "fillOpacity": s.fill_opacity,
                "color": s.color,
                "weight": s.weight,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "value"],
                aliases=[
                    "",
                    t("per_area" if spec.metric == "per_area" else "count", spec.lang) + ":",
                ],
            ),
        ).add_to(fmap)

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
