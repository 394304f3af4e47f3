"""The live choropleth: departments zoomed out, districts zoomed in, the legend following.

Opened from the self-contained HTML map (the same folium map the app shows), every network
request blocked.
"""

from __future__ import annotations

import pytest

from atlas.data import load_shipped
from atlas.spec import MapSpec

pytestmark = pytest.mark.browser

_STATE = """() => {
    const name = Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k));
    const map = window[name];
    let polys = 0;
    map.eachLayer(l => { if (l.feature && l.feature.geometry
                             && 'value' in (l.feature.properties || {})
                             && l.options.fillOpacity > 0) polys += 1; });
    const shown = sel => [...document.querySelectorAll(sel)]
        .filter(e => getComputedStyle(e).display !== 'none').map(e => e.textContent);
    return {zoom: map.getZoom(), shaded: polys,
            out: shown('.atlas-z-out'), inn: shown('.atlas-z-in')};
}"""


def test_choropleth_switches_level_with_zoom(offline_page, tmp_path, assets_installed):
    from layers.choropleth import LIVE_SWITCH_ZOOM, live_levels
    from layers.compose import build_folium_map, save_inline_html

    data = load_shipped()
    spec = MapSpec(layers=("regions", "choropleth", "points"))
    departments, districts = live_levels(data, spec)
    out = tmp_path / "choropleth.html"
    save_inline_html(build_folium_map(spec, data, assets="local"), out)

    page = offline_page.page
    page.goto(out.as_uri(), wait_until="load")
    page.wait_for_selector(".atlas-legend")
    name = page.evaluate("Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))")

    page.evaluate(f"window['{name}'].setView([-12.3, -74.0], {LIVE_SWITCH_ZOOM - 2}); 0")
    page.wait_for_timeout(500)
    far = page.evaluate(_STATE)
    assert far["zoom"] < LIVE_SWITCH_ZOOM
    assert far["out"][0].startswith("Incidents per department"), far
    assert far["inn"] == [], far  # the district rows are hidden
    shaded_departments = int(departments.frame["fill"].notna().sum())
    assert far["shaded"] == shaded_departments, far

    page.evaluate(f"window['{name}'].setView([-12.3, -74.0], {LIVE_SWITCH_ZOOM + 1}); 0")
    page.wait_for_timeout(500)
    near = page.evaluate(_STATE)
    assert near["inn"][0] == "Incidents per district", near
    assert near["out"] == [], near
    assert near["shaded"] == len(districts.frame), near  # every district drawn has incidents
