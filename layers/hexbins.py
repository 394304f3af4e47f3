"""Incidents as hexagons at the view's scale, when a view holds too many to draw one by one.

:func:`incident_view` reads the recorded view (an :class:`atlas.frame.MapView`, else the
spec's frame) and returns the bundle with ``shown`` set: the choice of
:func:`atlas.aggregate.choose` (points, or hexagons above
:data:`atlas.aggregate.POINTS_MAX` incidents in the covered area). The incident layers
(points, clusters, heat) read it: points and clusters draw :func:`draw_hexagons`
instead of markers, the heat map is fed finer hexagons, and the legend says that the map
shows aggregates (:func:`aggregate_banner`). The binning is atlas.aggregate's, the same
the print page's hexagon density uses (layers/heat.py).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import TYPE_CHECKING

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from atlas.aggregate import (
    HEX_PX,
    POINTS_MAX,
    HexBins,
    choose,
    hex_bins,
    hex_size_for_zoom,
    shown_incidents,
    zoom_for,
)
from atlas.frame import MapView, frame_of
from atlas.i18n import fmt_int, fmt_number, t
from layers.base import LegendEntry
from layers.style import STYLES, ramp_for

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec

#: Kilometres per degree of longitude at the equator (the hexagon width said in the legend).
KM_PER_DEG = 111.32
#: The heat map in aggregate views: hexagons this many times finer than the drawn ones.
HEAT_FINER = 2
#: Print hexagons are a little more opaque than the map's (STYLES["hexbins"]): on paper
#: there is no hover to read a count, so the class colour must read at a glance. They lie
#: under the focus region's outline (zorder 3) and the labels, over land and rivers.
PRINT_HEX_ALPHA = 0.8
PRINT_HEX_ZORDER = 2.5


def incident_view(
    spec: MapSpec, data: AtlasData, view: MapView | None, *, threshold: int = POINTS_MAX
) -> AtlasData:
    """``data`` with ``shown`` set for the recorded ``view`` (None: the spec's frame, as
    the map first opens on it). With at most ``threshold`` incidents in all, ``data`` is
    returned as it is: every incident drawn, whatever the view. A spec asking for hexagons
    (``density = "hexagons"``) gets them at any count (threshold 0); "auto" and "points"
    keep ``threshold`` (the browser cannot carry more points than that)."""
    if getattr(spec, "density", "auto") == "hexagons":
        threshold = 0
    inc = data.incidents
    if inc is None or len(inc) <= threshold:
        return data
    box = view.bbox if view is not None else frame_of(spec, data)
    zoom = view.zoom if view is not None else zoom_for(box)
    geoms = inc.geometry.values
    fat = pd.to_numeric(inc["fatalities"], errors="coerce").astype("float64").to_numpy()
    choice = choose(shapely.get_x(geoms), shapely.get_y(geoms), box, zoom,
                    threshold=threshold, fatalities=fat)  # fmt: skip
    return dataclasses.replace(data, shown=choice)


def view_key(data: AtlasData) -> str:
    """What the incident layers draw beyond the filters: changes only when they must be
    rebuilt for a new view (empty when no view matters)."""
    choice = getattr(data, "shown", None)
    return choice.key if choice is not None else ""


def aggregated(data: AtlasData) -> HexBins | None:
    """The hexagons to draw instead of incident markers, or None (draw points)."""
    choice = getattr(data, "shown", None)
    if choice is None or choice.mode != "hexagons":
        return None
    return choice.bins


def hex_km(bins: HexBins) -> float:
    """Width of one hexagon across its flat sides, in km (at the grid's latitude)."""
    return math.sqrt(3.0) * bins.size * KM_PER_DEG * math.cos(math.radians(bins.lat0))


def _km_text(km: float, lang: str) -> str:
    if km >= 10:
        return fmt_int(round(km), lang)
    return fmt_number(km, lang, decimals=1 if km >= 1 else 2)


def aggregate_banner(data: AtlasData, lang: str) -> str | None:
    """The legend's notice that the map shows aggregates, or None when it shows points."""
    bins = aggregated(data)
    if bins is None:
        return None
    choice = data.shown
    if choice.threshold == 0:  # asked for (density = hexagons), not forced by the count
        return t("map_aggregate_asked", lang, n=fmt_int(choice.in_view, lang),
                 km=_km_text(hex_km(bins), lang))  # fmt: skip
    return t("map_aggregate_banner", lang, n=fmt_int(choice.in_view, lang),
             km=_km_text(hex_km(bins), lang), limit=fmt_int(choice.threshold, lang))  # fmt: skip


def hex_edges(bins: HexBins, k: int = 5) -> list[float]:
    """Up to ``k`` classes of counts per hexagon, with edges on the 1-2-5 scale (1, 2, 5,
    10, 20, 50, ...) between the smallest and largest count: density classes that keep
    their meaning from one view to the next."""
    lo = float(bins.count.min()) if len(bins) else 1.0
    hi = float(bins.count.max()) if len(bins) else 1.0
    if hi <= lo:
        return [lo, lo + 1.0]
    steps = [m * 10**e for e in range(int(math.log10(hi)) + 2) for m in (1, 2, 5)]
    inner = [float(v) for v in steps if lo < v < hi]
    if len(inner) > k - 1:
        keep = np.linspace(0, len(inner) - 1, k - 1).round().astype(int)
        inner = [inner[i] for i in sorted(set(keep))]
    return [lo, *inner, hi]


def hex_classes(bins: HexBins, edges: list[float] | None = None) -> np.ndarray:
    """The class (0 .. len(edges) - 2) of each hexagon's count; a count equal to an
    inner edge opens the next class."""
    edges = hex_edges(bins) if edges is None else edges
    return np.clip(np.searchsorted(edges, bins.count, side="right") - 1, 0, len(edges) - 2)


def class_labels(bins: HexBins, lang: str, edges: list[float] | None = None) -> list[str]:
    """Each class of :func:`hex_classes` as the whole counts it holds: "1", "2–4", "5–9",
    …, the last up to the largest count."""
    edges = hex_edges(bins) if edges is None else edges
    top = int(bins.count.max()) if len(bins) else int(edges[-1])
    out = []
    for i in range(len(edges) - 1):
        lo = int(edges[i])
        hi = top if i == len(edges) - 2 else int(edges[i + 1]) - 1
        out.append(fmt_int(lo, lang) if hi <= lo else f"{fmt_int(lo, lang)}–{fmt_int(hi, lang)}")
    return out


def legend_head(bins: HexBins, lang: str) -> str:
    """ "Incidents per hexagon (~N km)": the legend's heading, on screen and in print."""
    return t("map_hex_count", lang, km=_km_text(hex_km(bins), lang))


def legend_entries(data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
    """One patch per count class: "Incidents per hexagon (~N km): 2–4"."""
    bins = aggregated(data)
    if bins is None or not len(bins):
        return []
    edges = hex_edges(bins)
    head = legend_head(bins, spec.lang)
    s = STYLES["hexbins"]
    return [
        LegendEntry(label=f"{head}: {label}", kind="patch", color=c, edgecolor=s.color)
        for label, c in zip(
            class_labels(bins, spec.lang, edges), ramp_for(len(edges) - 1), strict=True
        )  # fmt: skip
    ]


def hex_payload(bins: HexBins) -> str:
    """JSON rows [lat, lon, count, known fatalities, class] (5 decimals: ~1 m)."""
    cls = hex_classes(bins)
    rows = pd.DataFrame({"lat": np.round(bins.y, 5), "lon": np.round(bins.x, 5),
                         "n": bins.count, "f": np.round(bins.fatalities).astype("int64"),
                         "c": cls})  # fmt: skip
    return rows.to_json(orient="values", double_precision=5)


class _Hexagons(MacroElement):
    """Hexagons drawn in the browser from centres (one canvas polygon each); the tooltip
    is set with textContent (numbers and our own words only)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(){
            var data = {{ this.json_data }};
            var C = {{ this.colors|tojson }}, T = {{ this.texts|tojson }};
            var r = {{ this.size }}, k = {{ this.k }};
            var dx = [], dy = [];
            for (var a = 0; a < 6; a++) {
                var ang = (30 + 60 * a) * Math.PI / 180;
                dx.push(r * Math.cos(ang)); dy.push(r * Math.sin(ang) / k);
            }
            var fmt = function (v) { return Number(v).toLocaleString('en-US'); };
            var group = L.featureGroup();
            for (var i = 0; i < data.length; i++) {
                var d = data[i], pts = [];
                for (var j = 0; j < 6; j++) { pts.push([d[0] + dy[j], d[1] + dx[j]]); }
                var poly = L.polygon(pts, {{ this.style|tojson }});
                poly.setStyle({fillColor: C[d[4]]});
                poly.atlasCount = d[2];  // what the hexagon counts (tests, benchmarks)
                (function (d) {
                    poly.bindTooltip(function () {
                        var div = document.createElement('div');
                        div.textContent = fmt(d[2]) + ' ' + (d[2] === 1 ? T.one : T.many) +
                            ', ' + fmt(d[3]) + ' ' + T.deaths;
                        return div;
                    });
                })(d);
                poly.addTo(group);
            }
            var host = {{ this._parent.get_name() }};
            // the time registry (layers/timeplayer.py): the player's per-step cells replace
            // these all-period hexagons while it runs, as they replace clustered markers
            (host._atlasTime = host._atlasTime || []).push(
                {group: group, markers: [], d0: [], d1: [], ready: true, onready: null});
            group.addTo(host);
            return group;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bins: HexBins, lang: str) -> None:
        super().__init__()
        self._name = "Hexagons"
        self.json_data = hex_payload(bins)
        edges = hex_edges(bins)
        self.colors = list(ramp_for(len(edges) - 1))
        self.size = float(bins.size)
        self.k = 1.0 / math.cos(math.radians(bins.lat0))
        s = STYLES["hexbins"]
        self.style = {"color": s.color, "weight": s.weight, "opacity": s.opacity,
                      "fillOpacity": s.fill_opacity}  # fmt: skip
        self.texts = {"one": t("map_incident", lang), "many": t("map_incidents", lang),
                      "deaths": t("map_deaths_known", lang)}  # fmt: skip


def draw_hexagons(fmap: folium.Map | folium.FeatureGroup, data: AtlasData, spec: MapSpec) -> bool:
    """Draw the view's hexagons into ``fmap``; False (nothing drawn) when the view shows
    points."""
    bins = aggregated(data)
    if bins is None:
        return False
    if len(bins):
        _Hexagons(bins, spec.lang).add_to(fmap)
    return True


def draw_print_hexagons(ax: Axes, data: AtlasData) -> bool:
    """On the print page, draw the view's hexagons (classed like the map's, in its ramp
    and outline) into ``ax``; False (nothing drawn) when the view shows points. The
    collection keeps the counts it draws as ``atlas_counts``."""
    bins = aggregated(data)
    if bins is None:
        return False
    if len(bins):
        from matplotlib.collections import PolyCollection

        edges = hex_edges(bins)
        ramp = np.asarray(ramp_for(len(edges) - 1), dtype=object)
        s = STYLES["hexbins"]
        coll = PolyCollection(
            bins.polygons(),
            facecolors=list(ramp[hex_classes(bins, edges)]),
            edgecolors=s.color,
            linewidths=0.4,
            alpha=PRINT_HEX_ALPHA,
            zorder=PRINT_HEX_ZORDER,
            gid="incidents-hexagons",
        )
        coll.atlas_counts = bins.count.copy()  # type: ignore[attr-defined]
        ax.add_collection(coll, autolim=False)
    return True


def heat_bins(data: AtlasData) -> HexBins | None:
    """In an aggregate view, the heat map's input: hexagons :data:`HEAT_FINER` times finer
    than the drawn ones, weighted like the heat layer (fatalities + 1 per incident)."""
    choice = getattr(data, "shown", None)
    if choice is None or choice.mode != "hexagons":
        return None
    inc = shown_incidents(data)
    geoms = inc.geometry.values
    fat = pd.to_numeric(inc["fatalities"], errors="coerce").astype("float64").to_numpy()
    return hex_bins(shapely.get_x(geoms), shapely.get_y(geoms),
                    hex_size_for_zoom(choice.zoom, HEX_PX / HEAT_FINER),
                    lat0=choice.bins.lat0, fatalities=fat)  # fmt: skip


def heat_payload(bins: HexBins) -> str:
    """[lat, lon, weight / max weight] per hexagon; weight = sum of (fatalities + 1)."""
    w = bins.fatalities + bins.count
    rows = np.column_stack([np.round(bins.y, 4), np.round(bins.x, 4), w / max(w.max(), 1.0)])
    return json.dumps(np.round(rows, 4).tolist())


__all__ = [
    "aggregate_banner",
    "class_labels",
    "draw_hexagons",
    "draw_print_hexagons",
    "heat_bins",
    "heat_payload",
    "hex_classes",
    "hex_edges",
    "hex_km",
    "incident_view",
    "legend_entries",
    "legend_head",
    "view_key",
]
