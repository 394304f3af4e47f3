"""Basemap: shipped Natural Earth country outlines, plus optional xyzservices tiles.

The outlines are always drawn (a light GeoJSON) so the map still reads when tiles
cannot load, which is the normal case offline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import xyzservices.providers as xyz

from atlas.i18n import t
from layers.base import Layer, LegendEntry
from layers.style import STYLES

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec

#: spec.basemap -> xyzservices tile provider (None: outlines only).
TILE_PROVIDERS = {
    "osm": xyz.OpenStreetMap.Mapnik,
    "carto": xyz.CartoDB.Positron,
}


class BasemapLayer(Layer):
    """Country outlines (always) and web tiles when ``spec.basemap`` asks for them."""

    name = "basemap"
    title = {"en": "Basemap", "es": "Mapa base"}
    style = STYLES["basemap"]

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        return []  # context, not data: credited in the attribution line instead

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
        basemap = data.basemap
        if basemap is None or basemap.empty:
            return
        s = self.style
        outlines = basemap[["geometry"]].copy()  # no text: nothing to escape or inject
        folium.GeoJson(
            outlines,
            name=t("countries", spec.lang),
            style_function=lambda _f: {
                "color": s.color,
                "weight": s.weight,
                "fillColor": s.fill,
                "fillOpacity": 0.0 if provider is not None else 0.35,
            },
            interactive=False,
            control=False,
        ).add_to(fmap)

    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        basemap = data.basemap
        if basemap is None or basemap.empty:
            return
        s = self.style
        basemap.plot(ax=ax, facecolor=s.fill, edgecolor=s.color, linewidth=s.weight * 0.6, zorder=0)
