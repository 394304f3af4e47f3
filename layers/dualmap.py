"""Two periods side by side: two synced Leaflet maps (folium's DualMap, Leaflet.Sync).

Each map is an atlas map (:func:`layers.compose.dress_base`: basemap, panes, styles)
with the layer groups of its own period (:func:`layers.compose.build_groups`) and a
heading in its top corner naming the period and its counts. Panning or zooming one map
moves the other (Leaflet.Sync, self-served like the other assets: :mod:`layers.assets`).
The symbol scale is the same on both (marker radius is a fixed function of fatalities),
so the legend is drawn once, on the right-hand map.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import folium
from branca.element import MacroElement
from folium.plugins import DualMap
from folium.template import Template

from atlas.errors import InputError
from atlas.frame import MapView, frame_of
from atlas.i18n import fmt_date, fmt_int, t
from layers.compose import ASSET_MODES, apply_assets, build_groups, dress_base
from layers.legend import Legend, LegendStyle

if TYPE_CHECKING:  # pragma: no cover
    from atlas.data import AtlasData
    from atlas.periods import Period
    from atlas.spec import MapSpec


def period_heading(period: Period, lang: str) -> str:
    """``23 May 2020 – 22 May 2021: 12 incidents, 30 deaths`` (plain text)."""
    s = period.summary
    return t(
        "compare_heading",
        lang,
        start=fmt_date(period.start, lang),
        end=fmt_date(period.end, lang),
        incidents=fmt_int(s.incidents, lang),
        deaths=fmt_int(s.deaths, lang),
    )


def build_dual_map(
    spec: MapSpec,
    data: AtlasData,
    periods: list[Period],
    *,
    assets: str = "local",
    asset_base_url: str = "/app/static/vendor",
    view: MapView | None = None,
) -> DualMap:
    """Two synced maps, left ``periods[0]``, right ``periods[1]`` (see :mod:`atlas.periods`).

    ``data`` is the whole bundle (the frame is fitted from it like the single map's);
    each period carries its own filtered incidents. The maps open on ``view`` when given.
    """
    if assets not in ASSET_MODES:
        raise InputError(f"assets={assets!r}: choose one of {', '.join(ASSET_MODES)}")
    if len(periods) != 2:
        raise InputError(f"compare periods: two periods are needed, not {len(periods)}")
    west, south, east, north = frame_of(spec, data)
    center = view.center if view is not None else ((south + north) / 2, (west + east) / 2)
    dual = DualMap(
        location=list(center),
        zoom_start=view.zoom if view is not None else 8,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    # per-instance list: DualMap.default_js (jsdelivr's Leaflet.Sync) is never touched
    dual.default_js = list(DualMap.default_js)
    for side, (fmap, period) in enumerate(zip((dual.m1, dual.m2), periods, strict=True)):
        dress_base(fmap, spec, period.data,
                   fit=None if view is not None else (west, south, east, north))  # fmt: skip
        groups = build_groups(spec.replace(date_from=period.start, date_to=period.end),
                              period.data, assets="cdn" if assets == "cdn" else "local",
                              asset_base_url=asset_base_url)  # fmt: skip
        if side == 0 and groups:
            _drop_legend(groups)
        for group in groups:
            group.add_to(fmap)
        PeriodHeading(period_heading(period, spec.lang), side).add_to(fmap)
        apply_assets(fmap, assets, asset_base_url)
    apply_assets(dual, assets, asset_base_url)
    return dual


def _drop_legend(groups: list[folium.FeatureGroup]) -> None:
    """The legend is drawn once (right map): the same symbols mean the same on both."""
    for group in groups:
        for name, child in list(group._children.items()):
            if isinstance(child, Legend):
                del group._children[name]


class PeriodHeading(MacroElement):
    """The period and its counts, in a box at the top of one map (text, never HTML)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var c = L.control({position: 'topright'});
            c.onAdd = function () {
                var d = L.DomUtil.create('div', 'atlas-period-heading');
                d.setAttribute('data-side', {{ this.side|tojson }});
                d.style.cssText = 'background:rgba(255,255,255,0.92);padding:4px 8px;' +
                    'font:bold 13px/1.3 sans-serif;color:#222;border-radius:4px;' +
                    'box-shadow:0 1px 4px rgba(0,0,0,0.3);max-width:260px';
                d.textContent = {{ this.text_json }};
                return d;
            };
            var map = {{ this._parent.get_name() }};
            // st_folium takes a DualMap's header from the DualMap alone, without the
            // maps' header styles: the legend's style comes in with the script
            if (!document.getElementById('atlas-legend-style')) {
                var st = document.createElement('style');
                st.id = 'atlas-legend-style';
                st.textContent = {{ this.css_json }};
                document.head.appendChild(st);
            }
            c.addTo(map);
            // half a page is narrow: the legend starts folded (its title opens it)
            setTimeout(function () {
                var body = map.getContainer().querySelector('.atlas-legend details');
                if (body && map.getSize().x < 640) { body.open = false; }
            }, 0);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, text: str, side: int) -> None:
        super().__init__()
        self._name = "PeriodHeading"
        self.side = "left" if side == 0 else "right"
        self.text_json = json.dumps(text, ensure_ascii=False).replace("</", "<\\/")
        css = re.sub(r"</?style>", "", LegendStyle()._template.module.header(LegendStyle(), {}))
        self.css_json = json.dumps(css.strip()).replace("</", "<\\/")


__all__ = ["PeriodHeading", "build_dual_map", "period_heading"]
