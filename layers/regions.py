"""Region outlines (the VRAEM zone, districts, user regions); approximate ones dashed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from atlas.i18n import t
from atlas.regions import REGION_COLUMNS
from layers.base import FrameMemo, Layer, LegendEntry
from layers.style import STYLES, esc

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


#: A region of the layer is kept when at least this share of it lies in the focus region.
MIN_SHARE_IN_FOCUS = 0.05


def layer_regions(data: AtlasData, spec: MapSpec) -> gpd.GeoDataFrame | None:
    """Regions of ``spec.region_layer`` (from ``data.regions``, or ``data.districts``).

    When the focus region ``spec.region`` exists and is not itself the layer, only the
    regions with at least 5% of their area inside it are kept (the VRAEM's districts,
    not all 1,8xx of Peru's). Worked out once per regions and districts frames, layer and
    focus (the callers read it every page run); do not change what it returns.
    """
    frames = (data.regions, getattr(data, "districts", None))
    return _LAYER_MEMO.get(frames, f"{spec.region_layer}|{spec.region}",
                           lambda: _layer_regions(data, spec))  # fmt: skip


_LAYER_MEMO = FrameMemo()


def _layer_regions(data: AtlasData, spec: MapSpec) -> gpd.GeoDataFrame | None:
    regions = data.regions
    frames = []
    if regions is not None and not regions.empty:
        frames.append(regions[regions["layer"] == spec.region_layer])
    districts = getattr(data, "districts", None)
    if districts is not None and not districts.empty and "layer" in districts:
        cols = [c for c in REGION_COLUMNS if c in districts.columns]
        frames.append(districts.loc[districts["layer"] == spec.region_layer, cols])
    frames = [f for f in frames if not f.empty]
    if not frames:
        return None
    combined = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    combined = combined.drop_duplicates("region_id")
    if regions is None or regions.empty:
        return combined
    focus = regions[(regions["region_id"] == spec.region) & (regions["layer"] != spec.region_layer)]
    if focus.empty:
        return combined
    geoms = combined.geometry.to_numpy()
    # a ratio of areas in degrees² is fine for a 5% threshold (layers never reproject)
    area = shapely.area(geoms)
    inside = shapely.area(shapely.intersection(geoms, focus.geometry.union_all()))
    share = pd.Series(np.divide(inside, area, out=np.zeros_like(area), where=area > 0))
    return combined[(share >= MIN_SHARE_IN_FOCUS).to_numpy()]


def shown_regions(data: AtlasData, spec: MapSpec) -> gpd.GeoDataFrame | None:
    """Regions of ``spec.region_layer`` plus the focus region ``spec.region`` itself."""
    regions = data.regions
    parts = []
    if regions is not None and not regions.empty:
        parts.append(regions[regions["region_id"] == spec.region])
    of_layer = layer_regions(data, spec)
    if of_layer is not None:
        parts.append(of_layer)
    parts = [p for p in parts if not p.empty]
    if not parts:
        return None
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    return out.drop_duplicates("region_id")


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
    reads_incidents = False
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
            name = (
                group["name"].iloc[0]
                if len(group) == 1
                else f"{len(group)} {t('regions_plural', spec.lang)}"
            )
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
