"""The changes layer in the real page: load the hand-made ACLED version 1, give version 2
as the other version, and read what Leaflet drew (tests/fixtures/diff/README.md has the
expected changes). Its screenshot is the README's picture of a changes map."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import MAP_IFRAME, map_frame, poll_map, wait_for_app, wait_for_counts
from .test_app_browser import _open_upload

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
V1 = ROOT / "tests" / "fixtures" / "diff" / "acled_v1.csv"
V2 = ROOT / "tests" / "fixtures" / "diff" / "acled_v2.csv"

CHANGE_PROBE = """
() => {
  const out = {added: 0, removed: 0, changed: 0};
  const maps = Object.keys(window).map(k => { try { return window[k]; } catch (e) { return null; } })
    .filter((v, i, all) => typeof L !== 'undefined' && v instanceof L.Map && all.indexOf(v) === i);
  for (const m of maps) {
    m.eachLayer(l => {
      const c = (l.options && l.options.className) || '';
      const hit = c.match(/atlas-change-(added|removed|changed)/);
      if (hit && m.getBounds().contains(l.getLatLng())) out[hit[1]] += 1;
    });
  }
  return out;
}
"""


def test_second_version_draws_the_changes(app_page, app_server):
    page = app_page.page
    page.set_viewport_size({"width": 1440, "height": 900})
    # the changes on their own, framed on the events (the README's picture)
    page.goto(app_server.url + "/?layers=basemap,regions&bbox=-74.3,-12.72,-73.5,-12.1",
              wait_until="domcontentloaded")  # fmt: skip
    wait_for_app(page)
    panel = _open_upload(page)
    panel.locator("input[type=file]").set_input_files(str(V1))
    panel.get_by_role("button", name="Use this data").click()
    wait_for_counts(page, "7 incidents")
    changes = page.locator("[data-testid=stExpander]").filter(has_text="What changed")
    for _ in range(5):  # a rerun (the map reporting its view) can redraw the expander shut
        if changes.locator("[data-testid=stFileUploader]").is_visible():
            break
        page.get_by_text("What changed: compare with a newer version").click()
        page.wait_for_timeout(1500)
    changes.locator("input[type=file]").set_input_files(str(V2))
    changes.get_by_text("3 added, 1 removed, 4 revised, 2 unchanged").wait_for(timeout=60_000)
    changes.get_by_text("+3 events, −1, fatalities 34 → 34; 4 revised").first.wait_for()
    # v2 runs to 2023-10-01, past v1's last day: the panel says the date filter cannot
    changes.get_by_text("The other version has events from 2023-01-02 to 2023-10-01").wait_for()
    poll_map(page, lambda s: s.get("circles", 0) >= 8)
    frame = map_frame(page)
    drawn = frame.evaluate(CHANGE_PROBE)
    # every date: PER2008-2010 added, PER2004 removed, PER2002/3/5/6 revised
    assert drawn == {"added": 3, "removed": 1, "changed": 4}, drawn
    assert "Revised (4)" in frame.locator(".atlas-legend, body").first.inner_text()
    (ROOT / "artifacts").mkdir(exist_ok=True)
    page.locator(MAP_IFRAME).screenshot(path=str(ROOT / "artifacts" / "changes_map.png"))
    assert app_page.dialogs == []
