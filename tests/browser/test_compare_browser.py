"""Periods side by side in the real page: two synced maps (folium DualMap, Leaflet.Sync
served by the app), each headed with its period and counts; panning one moves the other;
the switch in the sidebar writes the two periods into the link."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest

from atlas.periods import data_range, default_periods, filter_periods
from atlas.spec import MapSpec

from .conftest import map_frame, wait_for_app
from .test_app_browser import shipped  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

#: In the map frame: both Leaflet maps, left first (DualMap names them map_div, map_div2).
MAPS = "[window.map_div, window.map_div2]"
PROBE = f"""() => {{ const ms = {MAPS};
  if (!ms[0] || !ms[1]) return null;
  return ms.map(m => {{ const c = m.getCenter(); let circles = 0;
    m.eachLayer(l => {{ if (l instanceof L.CircleMarker) circles += 1; }});
    return {{lat: c.lat, lon: c.lng, zoom: m.getZoom(), circles: circles,
             synced: typeof m.sync === 'function',
             heading: (m.getContainer().querySelector('.atlas-period-heading') || {{}})
               .textContent || null,
             legend: !!m.getContainer().querySelector('.atlas-legend'),
             legend_bg: (() => {{ const g = m.getContainer().querySelector('.atlas-legend');
               return g ? getComputedStyle(g).backgroundColor : null; }})()}}; }}); }}"""


def _expected(shipped, periods):  # noqa: F811
    spec = MapSpec(periods=periods)
    return filter_periods(spec, shipped, [tuple(p) for p in periods])


def _wait_both(frame, timeout: float = 30_000) -> list[dict]:
    frame.wait_for_function(
        f"() => {{ const s = ({PROBE})(); return !!s && s.every(m => m.heading); }}",
        timeout=timeout,
    )
    return frame.evaluate(PROBE)


def test_two_synced_maps_from_a_link(app_page, app_server, shipped):  # noqa: F811
    periods = ((dt.date(2020, 5, 23), dt.date(2021, 5, 22)),
               (dt.date(2021, 5, 23), dt.date(2022, 5, 22)))  # fmt: skip
    query = MapSpec(periods=periods).to_query()
    page = app_page.page
    page.goto(app_server.url + "/?" + "&".join(f"{k}={v}" for k, v in query.items()),
              wait_until="domcontentloaded")  # fmt: skip
    wait_for_app(page)
    frame = map_frame(page)
    maps = _wait_both(frame)
    expected = _expected(shipped, periods)
    for shown, period in zip(maps, expected, strict=True):
        s = period.summary
        assert shown["synced"], shown
        assert f"{s.incidents:,} incidents, {s.deaths:,} deaths" in shown["heading"], shown
        assert period.start.isoformat() in shown["heading"], shown
        assert shown["circles"] == s.drawn, (shown, s)  # every drawn event of its period
    assert expected[0].summary.drawn != expected[1].summary.drawn  # the maps differ
    assert [m["legend"] for m in maps] == [False, True]  # one legend, on the right
    assert maps[1]["legend_bg"] not in (None, "rgba(0, 0, 0, 0)"), maps[1]  # styled
    # the counts of both periods above the maps too
    heading = " ".join(page.locator("[data-testid=stMain] h4").all_inner_texts())
    for period in expected:
        assert f"{period.summary.incidents:,} incidents" in heading
    # pan and zoom the left map: the right one follows
    frame.evaluate("() => { window.map_div.setView([-12.6, -73.9], 10, {animate: false}); }")
    frame.wait_for_function(
        "() => Math.abs(window.map_div2.getCenter().lat + 12.6) < 1e-3 && "
        "window.map_div2.getZoom() === 10"
    )
    # and the right one moves the left one back
    frame.evaluate("() => { window.map_div2.setView([-12.2, -74.3], 9, {animate: false}); }")
    frame.wait_for_function(
        "() => Math.abs(window.map_div.getCenter().lng + 74.3) < 1e-3 && "
        "window.map_div.getZoom() === 9"
    )
    # the sync script came from the app itself; nothing left the machine
    assert not app_page.blocked, app_page.blocked
    assert not app_page.errors, app_page.errors


def test_switch_in_sidebar_puts_periods_in_the_link(app_page, app_server, shipped):  # noqa: F811
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    page.locator("[data-testid=stSidebar]").get_by_text("Compare two periods").click()
    page.wait_for_url("**nested=*")
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    spec = MapSpec.from_query({k: v[-1] for k, v in params.items()})
    assert spec.periods == default_periods(*data_range(shipped.incidents))
    maps = _wait_both(map_frame(page))
    assert "2020-05-23" in maps[0]["heading"] and "2021-05-23" in maps[1]["heading"], maps
    assert not app_page.blocked, app_page.blocked


def test_two_period_html_export_works_offline(offline_page, shipped, tmp_path):  # noqa: F811
    """The exported page: both maps, Leaflet.Sync inlined, nothing fetched, synced."""
    from layers.export import export

    periods = ((dt.date(2020, 5, 23), dt.date(2021, 5, 22)),
               (dt.date(2021, 5, 23), dt.date(2022, 5, 22)))  # fmt: skip
    out = export(MapSpec(periods=periods), shipped, tmp_path / "two.html").path
    page = offline_page.page
    page.goto(out.as_uri())
    # folium names the maps map_<id>: find both, left first
    found = page.wait_for_function(
        """() => { const ms = Object.keys(window).filter(k => { try {
            return window[k] instanceof L.Map; } catch (e) { return false; } });
          return ms.length === 2 ? ms : null; }"""
    ).json_value()
    names = sorted(found, key=lambda k: page.evaluate(
        f"() => window[{k!r}].getContainer().getBoundingClientRect().left"))  # fmt: skip
    expected = _expected(shipped, periods)
    for name, period in zip(names, expected, strict=True):
        heading = page.evaluate(
            f"() => window[{name!r}].getContainer().querySelector('.atlas-period-heading')"
            ".textContent"
        )
        assert f"{period.summary.incidents:,} incidents" in heading, heading
    left, right = names
    page.evaluate(f"() => {{ window[{left!r}].setView([-12.5, -74.0], 11, {{animate: false}}); }}")
    page.wait_for_function(f"() => window[{right!r}].getZoom() === 11")
    assert not offline_page.blocked, offline_page.blocked
    assert not offline_page.errors, offline_page.errors
