"""Heat map of incidents weighted by fatalities + 1 (so zero-fatality events still count)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import folium
import numpy as np
import pandas as pd
from folium.plugins import HeatMap
from folium.template import Template

from atlas.aggregate import hex_bins, shown_incidents
from atlas.errors import InputError
from atlas.i18n import t
from layers import hexbins
from layers.base import Layer, LegendEntry
from layers.style import CHOROPLETH_RAMP, STYLES

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec


#: Hexagon size of the printed heat map, degrees.
PRINT_CELL_DEG = 0.1
#: The same YlOrRd ramp the legend and the print hexbin use.
HEAT_GRADIENT = {
    0.2: CHOROPLETH_RAMP[0],
    0.4: CHOROPLETH_RAMP[1],
    0.6: CHOROPLETH_RAMP[2],
    0.8: CHOROPLETH_RAMP[3],
    1.0: CHOROPLETH_RAMP[4],
}


def heat_weights(incidents: pd.DataFrame) -> np.ndarray:
    """fatalities + 1, unknown fatalities counted as 0."""
    f = pd.to_numeric(incidents["fatalities"], errors="coerce").astype("float64")
    return f.fillna(0.0).clip(lower=0.0).to_numpy() + 1.0


class _FastHeat(HeatMap):
    """HeatMap fed a pre-serialised JSON array (folium checks and dumps row by row)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.heatLayer(
                {{ this.json_data }},
                {{ this.options|tojavascript }}
            );
        {% endmacro %}
        """
    )

    def __init__(self, json_data: str, **kwargs: object) -> None:
        super().__init__([[0.0, 0.0, 1.0]], **kwargs)
        self.json_data = json_data
        self.data = []


class HeatLayer(Layer):
    """Density of incidents, weighted by fatalities + 1."""

    name = "heat"
    title = {"en": "Heat map", "es": "Mapa de calor"}
    style = STYLES["heat"]

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        if data.incidents is None or data.incidents.empty:
            return []
        return [LegendEntry(label=t("heat", spec.lang), kind="gradient", color=self.style.color)]

    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        bins = hexbins.heat_bins(data)  # a view with too many incidents: finer hexagons
        if bins is not None:
            if len(bins):
                self._add(fmap, hexbins.heat_payload(bins), spec)
            return
        inc = shown_incidents(data)
        if inc is None or inc.empty:
            return
        w = heat_weights(inc)
        rows = np.column_stack(
            [
                np.round(inc.geometry.y.to_numpy(), 4),
                np.round(inc.geometry.x.to_numpy(), 4),
                w / w.max(),
            ]
        )
        if not np.isfinite(rows).all():
            raise InputError("incidents: some coordinates are not finite; re-run the reader")
        self._add(fmap, pd.DataFrame(rows).to_json(orient="values", double_precision=4), spec)

    def _add(self, fmap: folium.Map, json_rows: str, spec: MapSpec) -> None:
        heat = _FastHeat(
            json_rows,
            name=self.title.get(spec.lang, self.title["en"]),
            radius=self.style.extra["radius"],
            blur=self.style.extra["blur"],
            min_opacity=0.3,
            gradient=HEAT_GRADIENT,
        )
        heat.add_to(fmap)

    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        inc = data.incidents
        if inc is None or inc.empty:
            return
        from matplotlib.collections import PolyCollection

        # ~0.1 degree (about 11 km) hexagons, binned as the map's aggregate view bins
        x, y = inc.geometry.x.to_numpy(), inc.geometry.y.to_numpy()
        bins = hex_bins(x, y, PRINT_CELL_DEG / math.sqrt(3.0),
                        fatalities=heat_weights(inc) - 1.0)  # fmt: skip
        if not len(bins):
            return
        weight = bins.fatalities + bins.count  # sum of (fatalities + 1)
        ax.add_collection(
            PolyCollection(
                bins.polygons(),
                array=weight,
                cmap=self.style.extra["cmap"],
                alpha=0.75,
                linewidths=0,
                zorder=2,
            ),
            autolim=True,
        )
