"""One folium legend for every visible layer, with the SAMPLE / approximate banners.

The entries are the same :class:`~layers.base.LegendEntry` list the print figure uses
(:func:`layers.compose.legend_entries`), so both say the same thing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from branca.element import MacroElement
from jinja2 import Template

from atlas.i18n import t
from layers.base import LegendEntry
from layers.hexbins import aggregate_banner
from layers.reference import STAR_SVG
from layers.style import CHOROPLETH_RAMP, RING_STYLE, esc

if TYPE_CHECKING:  # pragma: no cover
    from atlas.data import AtlasData
    from atlas.spec import MapSpec


def legend_banners(spec: MapSpec, data: AtlasData) -> list[str]:
    """Warnings every view must carry: synthetic sample data, approximate boundaries."""
    out = []
    if getattr(data, "is_sample", False):
        out.append(t("map_sample_banner", spec.lang))
    if getattr(data, "approximate", False):
        out.append(t("approximate_banner", spec.lang))
    notice = aggregate_banner(data, spec.lang)  # the view shows hexagons, not incidents
    if notice and {"points", "clusters"} & set(spec.layers):
        out.append(notice)
    return out


def _swatch(e: LegendEntry) -> str:
    edge = e.edgecolor or e.color
    if e.kind == "point":
        r = max(2.0, e.size / 2)
        d = 2 * r + 4
        fill, stroke, width = (
            (RING_STYLE["fillColor"], e.color, RING_STYLE["weight"])
            if e.ring
            else (e.color, edge, 1)
        )
        return (
            f"<svg width='{d:.0f}' height='{d:.0f}'><circle cx='{d / 2:.1f}' cy='{d / 2:.1f}' "
            f"r='{r:.1f}' fill='{esc(fill)}' stroke='{esc(stroke)}' stroke-width='{width}'/></svg>"
        )
    if e.kind == "star":
        size = int(e.size)
        return STAR_SVG.format(s=size, fill=esc(e.color), stroke=esc(edge))
    if e.kind == "line":
        dash = " stroke-dasharray='5 4'" if e.dashed else ""
        return (
            f"<svg width='28' height='10'><line x1='1' y1='5' x2='27' y2='5' "
            f"stroke='{esc(e.color)}' stroke-width='2.5'{dash}/></svg>"
        )
    if e.kind == "gradient":
        stops = ",".join(CHOROPLETH_RAMP)
        return (
            "<span style='display:inline-block;width:28px;height:10px;"
            f"background:linear-gradient(to right,{stops})'></span>"
        )
    return (  # patch
        f"<span style='display:inline-block;width:16px;height:12px;background:{esc(e.color)};"
        f"border:1px solid {esc(edge)}'></span>"
    )


def legend_html(entries: list[LegendEntry], banners: list[str], title: str) -> str:
    """The legend box as HTML; every label escaped."""
    # The banners stay visible; the entries fold away (<details>) so a reader can clear
    # the map or read an open popup without losing the SAMPLE / approximate warnings.
    parts = [f"<div class='atlas-legend-banner'>{esc(b)}</div>" for b in banners]
    parts.append(
        f"<details class='atlas-legend-body' open><summary class='atlas-legend-title'>"
        f"{esc(title)}</summary>"
    )
    for e in entries:
        zoom = f" atlas-z-{e.zoom}" if e.zoom in ("in", "out") else ""
        if e.kind == "heading":
            parts.append(f"<div class='atlas-legend-head{zoom}'>{esc(e.label)}</div>")
            continue
        parts.append(
            f"<div class='atlas-legend-row{zoom}'><span class='atlas-legend-sw'>"
            f"{_swatch(e)}</span><span>{esc(e.label)}</span></div>"
        )
    parts.append("</details>")
    return "".join(parts)


class LegendStyle(MacroElement):
    """The legend's CSS, in the map's header (a legend inside a layer group has none)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
          .atlas-legend {background: rgba(255,255,255,0.92); padding: 4px 6px;
            font: 12px/1.25 sans-serif; color: #222; border-radius: 4px; max-width: 260px;
            box-shadow: 0 1px 4px rgba(0,0,0,0.3); max-height: calc(100vh - 90px);
            overflow-y: auto;}
          .atlas-legend-title {font-weight: bold; margin: 2px 0; cursor: pointer;}
          .atlas-legend-banner {background: #b00020; color: #fff; font-weight: bold;
            padding: 2px 5px; margin: 2px 0 4px; border-radius: 2px;}
          .atlas-legend-row {display: flex; align-items: center; gap: 6px; margin: 1px 0;}
          .atlas-legend-sw {display: inline-flex; min-width: 30px; justify-content: center;}
          .atlas-legend-head {font-weight: bold; margin: 4px 0 1px;}
          .leaflet-container.atlas-zin .atlas-z-out,
          .leaflet-container:not(.atlas-zin) .atlas-z-in {display: none;}
        </style>
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "AtlasLegendStyle"


class Legend(MacroElement):
    """A Leaflet control (bottom left) holding :func:`legend_html`.

    On a map it is added at once; inside a layer group it comes and goes with the group
    (the app swaps groups on every filter change, and the old legend must go with them).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'atlas-legend');
                div.innerHTML = {{ this.html_json }};
                // on a narrow map (a phone) the entries start folded; the banners stay
                var body = div.querySelector('details');
                if (body && window.innerWidth < 640) { body.open = false; }
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            var parent = {{ this._parent.get_name() }};
            if (parent instanceof L.Map) { legend.addTo(parent); return; }
            parent.on('add', function () { legend.addTo(parent._map); });
            parent.on('remove', function () { legend.remove(); });
            if (parent._map) { legend.addTo(parent._map); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str, position: str = "bottomleft") -> None:
        super().__init__()
        self._name = "AtlasLegend"
        self.html = html
        self.position = position
        # JSON string literal, with "</" broken so it cannot close the <script> element
        self.html_json = json.dumps(html, ensure_ascii=False).replace("</", "<\\/")


__all__ = ["Legend", "LegendStyle", "legend_banners", "legend_html"]
