"""Callouts on the interactive map (the spec's ``callouts``): short texts a journalist
pins to a place, drawn by the live app and the HTML export alike.

A callout with ``lon``/``lat`` sits there; one with a ``region_id`` sits on that region's
representative point (the loaded regions, then the districts). Each is a permanent
Leaflet tooltip whose text is set with ``textContent`` from a JSON string in which
``< > & { }`` are ``\\u`` escapes: markup stays letters, and branca's second Jinja pass
over the script finds no braces to evaluate. ``leader`` draws a dot at the place with the
label beside it (the tooltip's arrow is the leader); without it the text is centred on
the place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from branca.element import MacroElement
from jinja2 import Template

if TYPE_CHECKING:  # pragma: no cover
    from atlas.data import AtlasData
    from atlas.spec import MapSpec

CALLOUT_CSS = """
<style>
  .atlas-callout {font: bold 13px/1.3 "DejaVu Sans", Verdana, sans-serif; color: #111;
    background: rgba(255,255,255,0.94); border: 1px solid #333; border-radius: 2px;
    padding: 2px 6px; box-shadow: none; white-space: normal; max-width: 220px;
    width: max-content;}
  .atlas-callout.leaflet-tooltip-right:before {border-right-color: #333;}
  .atlas-callout-plain:before {display: none;}
</style>
"""


@dataclass(frozen=True)
class PlacedCallout:
    """A callout with its place resolved (degrees, EPSG:4326)."""

    text: str
    lon: float
    lat: float
    leader: bool


def place_callouts(spec: MapSpec, data: AtlasData) -> tuple[list[PlacedCallout], list[str]]:
    """The spec's callouts with coordinates, and the region ids that could not be placed
    (not among the loaded regions or districts), so the caller can say so."""
    placed: list[PlacedCallout] = []
    missing: list[str] = []
    for c in spec.callouts:
        if c.lon is not None and c.lat is not None:
            placed.append(PlacedCallout(c.text, float(c.lon), float(c.lat), bool(c.leader)))
            continue
        point = _region_point(data, c.region_id)
        if point is None:
            missing.append(c.region_id)
            continue
        placed.append(PlacedCallout(c.text, point[0], point[1], bool(c.leader)))
    return placed, missing


def _region_point(data: AtlasData, region_id: str) -> tuple[float, float] | None:
    for frame in (getattr(data, "regions", None), getattr(data, "districts", None)):
        if frame is None or not len(frame) or "region_id" not in frame:
            continue
        rows = frame[frame["region_id"].astype(str) == region_id]
        if len(rows):
            pt = rows.geometry.iloc[0].representative_point()
            return float(pt.x), float(pt.y)
    return None


def js_string(text: str) -> str:
    """A JS string literal for ``text`` that holds no ``< > & { }`` characters at all."""
    out = json.dumps(text, ensure_ascii=True)
    for ch, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("{", "\\u007b"), ("}", "\\u007d")):  # fmt: skip
        out = out.replace(ch, code)
    return out


class CalloutStyle(MacroElement):
    """The callouts' CSS, in the map's header (a layer group's own header never arrives)."""

    _template = Template("{% macro header(this, kwargs) %}" + CALLOUT_CSS + "{% endmacro %}")

    def __init__(self) -> None:
        super().__init__()
        self._name = "AtlasCalloutStyle"


class Callouts(MacroElement):
    """Permanent tooltips (and leader dots) for :class:`PlacedCallout` items, added to
    the parent map or layer group."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var parent = {{ this._parent.get_name() }};
            var items = {{ this.items_js }};
            items.forEach(function (c) {
                var text = document.createElement('span');
                text.textContent = c[2];
                var ll = [c[0], c[1]];
                if (c[3]) {
                    L.circleMarker(ll, {radius: 3, color: '#111', weight: 1, fillColor: '#111',
                                        fillOpacity: 1, interactive: false}).addTo(parent);
                }
                L.tooltip({permanent: true, interactive: false,
                           direction: c[3] ? 'right' : 'center', offset: c[3] ? [6, 0] : [0, 0],
                           className: 'atlas-callout' + (c[3] ? '' : ' atlas-callout-plain')})
                    .setLatLng(ll).setContent(text).addTo(parent);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, items: list[PlacedCallout]) -> None:
        super().__init__()
        self._name = "AtlasCallouts"
        rows = [
            f"[{c.lat:.6f},{c.lon:.6f},{js_string(c.text)},{1 if c.leader else 0}]" for c in items
        ]
        self.items_js = "[" + ",".join(rows) + "]"


__all__ = ["CalloutStyle", "Callouts", "PlacedCallout", "js_string", "place_callouts"]
