"""A reader adds a callout in the running app: switch on the callout control, click the
map, type the text (markup and Jinja braces in it), add; the map draws it as letters, the
link carries it, and nothing runs."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from atlas.spec import MapSpec

from .conftest import MAP_IFRAME, frame_dialogs, map_frame, wait_for_app

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)> {{ 7*7 }} Pichari"


def test_click_the_map_to_add_a_callout(app_page, app_server):
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    page.get_by_text("Callouts on the map").click()
    page.get_by_text("Click the map to place a callout").click()
    page.get_by_text("Click the place on the map the callout points to.").wait_for()
    iframe = page.locator(MAP_IFRAME)
    box = iframe.bounding_box()
    caption = page.get_by_text("Callout at latitude")
    # the map gets the new setting (report clicks) with the fragment's rerun: click, and
    # click again while that has not arrived yet
    for _ in range(6):
        page.wait_for_timeout(1500)
        # a point right of the open legend, in the map's middle
        iframe.click(position={"x": box["width"] * 0.6, "y": box["height"] * 0.55})
        try:
            caption.wait_for(timeout=8_000)
            break
        except PlaywrightTimeout:
            continue
    caption.wait_for(timeout=1_000)
    page.get_by_label("Callout text").fill(HOSTILE)
    page.get_by_role("button", name="Add callout").click()
    page.wait_for_url("**nested=*", timeout=30_000)
    frame = map_frame(page)
    frame.wait_for_selector(".atlas-callout", timeout=30_000)
    shown = frame.evaluate(
        """() => Array.from(document.querySelectorAll('.atlas-callout'))
                 .map(e => ({text: e.innerText, tags: e.querySelectorAll('span *').length}))"""
    )
    assert shown == [{"text": HOSTILE, "tags": 0}], shown
    assert frame.locator("img[src=x]").count() == 0
    spec = MapSpec.from_query(dict(_params(page.url)))
    assert [c.text for c in spec.callouts] == [HOSTILE]
    lon, lat = spec.callouts[0].lon, spec.callouts[0].lat
    assert -82 < lon < -68 and -19 < lat < 0  # somewhere on the map of Peru
    page.wait_for_timeout(500)
    assert app_page.dialogs == [] and frame_dialogs(page) == []
    assert app_page.errors == [], app_page.errors


def _params(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))
