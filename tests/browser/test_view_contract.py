"""The view contract in a real browser (docs/ARCHITECTURE.md, "The view").

A pan or zoom reruns only the map fragment: the page's run counter stays, the URL's bbox
follows the map, and the map component is the same one (a mark left in its window
survives). A filter change redraws the map where the reader left it. The app's export
frames the recorded view (the PNG's metadata says what it shows).
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from PIL import Image

from atlas.frame import frame_bounds
from atlas.spec import MapSpec

from .conftest import (
    MAP_IFRAME,
    map_frame,
    map_view,
    move_map,
    page_runs,
    poll_map,
    url_bbox,
    wait_for_app,
    wait_for_counts,
    wait_for_url_view,
)
from .test_app_browser import _expected

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shipped():
    from atlas.data import load_shipped

    return load_shipped()


def _moved(page, lat: float = -12.3, lon: float = -74.1, zoom: int = 10) -> tuple[float, ...]:
    """Move the map and wait until the URL's bbox is the map's new view; return it."""
    frame = map_frame(page)
    page.wait_for_timeout(1500)  # the map may first report where it settled on load
    move_map(frame, lat, lon, zoom)
    wait_for_url_view(page, frame)
    page.wait_for_timeout(800)  # let the fragment's run finish
    return url_bbox(page)


def test_first_view_is_the_focus_region_not_every_layer(app_page, app_server, shipped):
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    view = map_view(map_frame(page))
    west, south, east, north = frame_bounds(MapSpec(), shipped.regions, shipped.incidents)
    b = view["bbox"]
    # the VRAEM fills the map: its frame is inside the view and the view is not a continent
    assert b[0] <= west and b[2] >= east and b[1] <= south and b[3] >= north, view
    assert (b[2] - b[0]) < 4 * (east - west) and view["zoom"] >= 7, view
    page.wait_for_timeout(1500)
    recorded = url_bbox(page)  # the map may report where it settled: exactly what is shown
    assert recorded is None or recorded == pytest.approx(tuple(b), abs=1e-4)


def test_pan_reruns_only_the_map_and_records_the_view(app_page, app_server):
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    runs = page_runs(page)
    frame = map_frame(page)
    frame.evaluate("() => { window.__atlasMark = 'the same map'; }")

    bbox = _moved(page, -12.3, -74.1, 10)
    assert bbox[0] < -74.1 < bbox[2] and bbox[1] < -12.3 < bbox[3], bbox
    view = map_view(frame)
    assert bbox == pytest.approx(tuple(view["bbox"]), abs=1e-4)

    move_map(frame, -12.6, -73.8, 11)  # and once more: the URL follows every move
    page.wait_for_function(
        "(old) => new URL(location.href).searchParams.get('bbox') !== old",
        arg=",".join(str(v) for v in bbox),
        timeout=30_000,
    )
    page.wait_for_timeout(800)
    assert page_runs(page) == runs, "a pan reran the whole page"
    assert page.locator(MAP_IFRAME).count() == 1
    assert frame.evaluate("() => window.__atlasMark") == "the same map", "the map was rebuilt"
    assert app_page.errors == []


def test_filter_change_keeps_the_readers_view(app_page, app_server, shipped):
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    bbox = _moved(page, -12.3, -74.1, 10)
    before = map_view(map_frame(page))

    box = page.get_by_label("Minimum deaths", exact=True)
    box.fill("1")
    box.press("Enter")
    drawn, phrase = _expected(shipped, MapSpec(min_fatalities=1))
    wait_for_counts(page, phrase)
    state = poll_map(page, lambda s: s["circles"] + s["clustered"] == len(drawn))
    assert state["circles"] + state["clustered"] == len(drawn), state
    after = map_view(map_frame(page))
    assert after["zoom"] == before["zoom"] == 10
    # the same centre to within half a pixel (a pixel is ~0.0014° at zoom 10)
    assert after["lat"] == pytest.approx(before["lat"], abs=5e-4)
    assert after["lon"] == pytest.approx(before["lon"], abs=5e-4)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query["min_fatalities"] == ["1"]
    assert url_bbox(page) == pytest.approx(bbox, abs=1e-4)


def test_export_from_the_app_frames_the_recorded_view(app_page, app_server, tmp_path):
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    bbox = _moved(page, -12.25, -73.9, 10)

    page.get_by_text("Export a publication map").click()
    page.get_by_role("button", name="Generate export").click()
    button = page.get_by_role("button", name="Download PNG")
    button.wait_for(timeout=90_000)
    with page.expect_download() as info:
        button.click()
    path = tmp_path / "export.png"
    info.value.save_as(path)
    with Image.open(path) as im:
        meta = dict(im.text)
    spec = json.loads(meta["conflict-atlas:spec"])
    assert spec["bbox"] == pytest.approx(list(bbox), abs=1e-4)
    west, south, east, north = (float(v) for v in meta["conflict-atlas:extent"].split(","))
    # the page's map is the view fitted to the preset's shape around the same centre
    assert west <= bbox[0] + 1e-4 and east >= bbox[2] - 1e-4
    assert south <= bbox[1] + 1e-4 and north >= bbox[3] - 1e-4
    assert (west + east) / 2 == pytest.approx((bbox[0] + bbox[2]) / 2, abs=1e-3)
    assert (south + north) / 2 == pytest.approx((bbox[1] + bbox[3]) / 2, abs=1e-3)
    assert app_page.blocked == []
