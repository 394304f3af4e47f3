"""Coca cultivation: the latest hectares per zone, labelled at the zone we have geometry for.

Label text: "VRAEM 2022: 35,709 ha coca (DEVIDA)". Zones without a matching region
geometry are not drawn (they remain in the data panels).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import pandas as pd

from layers.base import Layer, LegendEntry
from layers.style import STYLES, esc, fmt_number

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec


def _short_publisher(text: str) -> str:
    """'DEVIDA table reproduced by ...' -> 'DEVIDA'; UNODC likewise; else the text."""
    for name in ("DEVIDA", "UNODC"):
        if name in str(text):
            return name
    return str(text)


def coca_labels(data: AtlasData, lang: str) -> gpd.GeoDataFrame:
    """One row per zone with geometry: zone, year, hectares, label, point (EPSG:4326)."""
    coca, regions = data.coca, data.regions
    cols = ["zone", "year", "hectares", "source", "label", "geometry"]
    if coca is None or coca.empty or regions is None or regions.empty:
        return gpd.GeoDataFrame(columns=cols, geometry="geometry", crs="EPSG:4326")
    latest = (
        coca.dropna(subset=["hectares"])
        .sort_values("year")
        .groupby("zone", sort=False)
        .tail(1)
        .assign(key=lambda d: d["zone"].astype(str).str.strip().str.casefold())
    )
    # a zone matches a region by id, name or layer name (e.g. "VRAEM" -> layer "vraem")
    keys = []
    for col in ("region_id", "name", "layer"):
        k = regions[[col, "geometry"]].rename(columns={col: "key"})
        k["key"] = k["key"].astype(str).str.strip().str.casefold()
        keys.append(k)
    lookup = pd.concat(keys).drop_duplicates("key")
    merged = latest.merge(lookup, on="key", how="inner")
    if merged.empty:
        return gpd.GeoDataFrame(columns=cols, geometry="geometry", crs="EPSG:4326")
    merged["source"] = merged["source_publisher"].map(_short_publisher)
    merged["label"] = (
        merged["zone"].astype(str)
        + " "
        + merged["year"].astype(int).astype(str)
        + ": "
        + merged["hectares"].map(lambda v: fmt_number(float(v), lang))
        + " ha coca ("
        + merged["source"]
        + ")"
    )
    out = gpd.GeoDataFrame(merged, geometry="geometry", crs="EPSG:4326")
    out["geometry"] = out.geometry.representative_point()
    return out[cols]


class CocaLayer(Layer):
    """Latest coca hectares per zone, as a labelled marker inside the zone."""

    name = "coca"
    title = {"en": "Coca cultivation", "es": "Cultivo de coca"}
    style = STYLES["coca"]

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        return [
            LegendEntry(
                label=label,  # "VRAEM 2022: 35,709 ha coca (DEVIDA)": the figure and source
                kind="patch",
                color=self.style.fill,
                edgecolor=self.style.color,
            )
            for label in coca_labels(data, spec.lang)["label"]
        ]

    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        labels = coca_labels(data, spec.lang)
        if labels.empty:
            return
        s = self.style
        group = folium.FeatureGroup(name=self.title.get(spec.lang, self.title["en"]))
        for label, pt in zip(labels["label"], labels.geometry, strict=True):  # a few zones
            html = (
                f"<div style='background:{s.fill};border:1px solid {s.color};color:{s.color};"
                "padding:2px 5px;border-radius:3px;font:12px sans-serif;white-space:nowrap;"
                f"display:inline-block'>{esc(label)}</div>"
            )
            folium.Marker(
                location=(pt.y, pt.x),
                icon=folium.DivIcon(html=html, icon_size=(0, 0), icon_anchor=(0, 0)),
                tooltip=esc(label),
            ).add_to(group)
        group.add_to(fmap)

    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        labels = coca_labels(data, spec.lang)
        s = self.style
        if labels.empty:
            return
        # Print: a marker at the zone; the figure itself is in the legend entry (see
        # legend_entries), so no text box covers the incidents or runs into the legend.
        ax.scatter(
            labels.geometry.x.to_numpy(),
            labels.geometry.y.to_numpy(),
            marker="s",
            s=60,
            facecolors=s.fill,
            edgecolors=s.color,
            linewidths=1.2,
            zorder=7,
        )
