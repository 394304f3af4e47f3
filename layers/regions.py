"""Region outlines (the VRAEM zone, districts, user regions); approximate ones dashed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd

from layers.base import Layer, LegendEntry
from layers.style import STYLES, esc, t

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec

#: Human name of each known region layer, for legend lines.
LAYER_LABELS: dict[str, dict[str, str]] = {
    "vraem": {"en": "DEVIDA zone", "es": "zona DEVIDA"},
    "vraem-subzone": {"en": "VRAEM sub-zone", "es": "subzona del VRAEM"},
    "district": {"en": "district", "es": "distrito"},
    "coca-zone": {"en": "coca zone", "es": "zona cocalera"},
}


def shown_regions(data: AtlasData, spec: MapSpec) -> gpd.GeoDataFrame:
    """Regions of ``spec.region_layer`` plus the region ``spec.region`` itself."""
    regions = data.regions
    if regions is None or regions.empty:
        return regions
    keep = (regions["layer"] == spec.region_layer) | (regions["region_id"] == spec.region)
    return regions[keep]


def region_label(row_name: str, layer: str, approximate: bool, lang: str) -> str:
    """'VRAEM (DEVIDA zone, approximate outline)'; says nothing twice if the name already does."""
    kind = LAYER_LABELS.get(layer, {}).get(lang, layer)
    low = row_name.casefold()
    parts = []
    if "(" not in row_name and kind.casefold() not in low:
        parts.append(kind)
    if approximate and "approxim" not in low and "aproxim" not in low:
        parts.append(t("approximate_outline", lang))
    return f"{row_name} ({', '.join(parts)})" if parts else row_name


class RegionsLayer(Layer):
    """Outlines of the shown region layer; approximate geometry is dashed and labelled."""

    name = "regions"
    title = {"en": "Regions", "es": "Regiones"}
    style = STYLES["regions"]
    approx_style = STYLES["regions_approx"]

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        shown = shown_regions(data, spec)
        if shown is None or shown.empty:
            return []
        entries = []
        # one line per (layer, approximate) group; name it when the group is one region
        groups = shown.groupby(["layer", "approximate"], sort=False)
        for (layer, approx), group in groups:
            name = group["name"].iloc[0] if len(group) == 1 else f"{len(group)} regions"
            style = self.approx_style if approx else self.style
            entries.append(
                LegendEntry(
                    label=region_label(str(name), str(layer), bool(approx), spec.lang),
                    kind="line",
                    color=style.color,
                    dashed=bool(approx),
                )
            )
        return entries

    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        shown = shown_regions(data, spec)
        if shown is None or shown.empty:
            return
        # only escaped text and our own flags go into the page (see layers.style.esc)
        frame = shown[["name", "layer", "approximate", "source", "geometry"]].copy()
        frame["label"] = [
            esc(region_label(n, la, bool(a), spec.lang))
            for n, la, a in zip(frame["name"], frame["layer"], frame["approximate"], strict=True)
        ]  # one label per region (a handful of rows), not per incident
        frame["source"] = frame["source"].map(esc)
        frame["approximate"] = frame["approximate"].astype(bool)
        solid, dashed = self.style, self.approx_style
        folium.GeoJson(
            frame[["label", "source", "approximate", "geometry"]],
            name=self.title.get(spec.lang, self.title["en"]),
            style_function=lambda f: {
                "color": (dashed if f["properties"]["approximate"] else solid).color,
                "weight": (dashed if f["properties"]["approximate"] else solid).weight,
                "fill": False,
                "dashArray": "6 6" if f["properties"]["approximate"] else None,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["label", "source"],
                aliases=["", t("source", spec.lang) + ":"],
                labels=True,
            ),
        ).add_to(fmap)

    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        shown = shown_regions(data, spec)
        if shown is None or shown.empty:
            return
        approx = shown["approximate"].astype(bool)
        for mask, style in ((~approx, self.style), (approx, self.approx_style)):
            part = shown[mask]
            if part.empty:
                continue
            part.boundary.plot(
                ax=ax,
                color=style.color,
                linewidth=style.weight,
                linestyle=(0, (4, 3)) if style.dashed else "solid",
                zorder=3,
            )
