"""Incident clusters: the browser groups incidents and shows counts (FastMarkerCluster).

On paper there is no zoom, so the print version bins incidents on a 0.1° grid and draws
one circle per cell, area ~ count, labelled with the count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import numpy as np
import pandas as pd

from atlas.aggregate import shown_incidents
from atlas.i18n import t
from layers import hexbins
from layers.base import Layer, LegendEntry
from layers.incidents import _compact_callback, _CompactPoints, compact_payload
from layers.style import STYLES

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec

#: Grid cell (degrees) the printed clusters use (~11 km at the VRAEM's latitude).
PRINT_CELL_DEG = 0.1


def grid_counts(incidents: pd.DataFrame, cell: float = PRINT_CELL_DEG) -> pd.DataFrame:
    """Incident counts per grid cell with the cell's mean position (vectorised)."""
    x, y = incidents.geometry.x.to_numpy(), incidents.geometry.y.to_numpy()
    frame = pd.DataFrame({"x": x, "y": y, "gx": np.floor(x / cell), "gy": np.floor(y / cell)})
    return (
        frame.groupby(["gx", "gy"])
        .agg(x=("x", "mean"), y=("y", "mean"), n=("x", "size"))
        .reset_index(drop=True)
    )


class ClustersLayer(Layer):
    """Clustered incidents: counts per cluster, splitting as the reader zooms in."""

    name = "clusters"
    title = {"en": "Clusters", "es": "Grupos"}
    style = STYLES["clusters"]

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        if hexbins.aggregated(data) is not None:  # the view shows hexagons
            return [] if "points" in spec.layers else hexbins.legend_entries(data, spec)
        if data.incidents is None or data.incidents.empty:
            return []
        return [
            LegendEntry(
                label=t("clusters", spec.lang),
                kind="point",
                color=self.style.fill,
                edgecolor=self.style.color,
                size=16.0,
            )
        ]

    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        if hexbins.aggregated(data) is not None:  # the points layer draws them when on
            if "points" not in spec.layers:
                hexbins.draw_hexagons(fmap, data, spec)
            return
        inc = shown_incidents(data)
        if inc is None or inc.empty:
            return
        _CompactPoints(
            compact_payload(inc),
            _compact_callback(spec.lang, bool(data.is_sample)),
            name=self.title.get(spec.lang, self.title["en"]),
            chunkedLoading=True,
        ).add_to(fmap)

    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        inc = data.incidents
        if inc is None or inc.empty:
            return
        cells = grid_counts(inc)
        s = self.style
        ax.scatter(
            cells["x"],
            cells["y"],
            s=40 + 25 * np.sqrt(cells["n"]),
            c=s.fill,
            edgecolors=s.color,
            alpha=s.fill_opacity,
            zorder=5,
        )
        for x, y, n in cells[cells["n"] > 1].itertuples(index=False):  # one label per cell
            ax.annotate(f"{n:,}", (x, y), ha="center", va="center", fontsize=7, zorder=6)
