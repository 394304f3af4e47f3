"""The changes layer in the real page: load the hand-made ACLED version 1, give version 2
as the other version, and read what Leaflet drew (tests/fixtures/diff/README.md has the
expected changes). Its screenshot is the README's picture of a changes map."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import MAP_IFRAME, poll_map, wait_for_app, wait_for_counts
from .test_app_browser import _open_upload

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
V1 = ROOT / "tests" / "fixtures" / "diff" / "acled_v1.csv"
V2 = ROOT / "tests" / "fixtures" / "diff" / "acled_v2.csv"

CHANGE_PROBE = """
() => {
  const out = {added: 0, removed: 0, changed: 0};
  for (const s of ['added', 'removed', 'changed']) {
    out[s] = document.querySelectorAll('path.atlas-change-' + s).length;
  }
  return out;
}
"""


def test_second_version_draws_the_changes(app_page, app_server):
    page = app_page.page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(app_server.url + "/?date_from=2023-01-01&date_to=2023-12-31",
              wait_until="domcontentloaded")  # fmt: skip
    wait_for_app(page)
    panel = _open_upload(page)
    panel.locator("input[type=file]").set_input_files(str(V1))
    panel.get_by_role("button", name="Use this data").click()
    wait_for_counts(page, "6 incidents")
    page.get_by_text("What changed: compare with a newer version").click()
    changes = page.locator("[data-testid=stExpander]").filter(has_text="What changed")
    changes.locator("input[type=file]").set_input_files(str(V2))
    changes.get_by_text("3 added, 1 removed, 4 revised, 2 unchanged").wait_for(timeout=60_000)
    changes.get_by_text("+3 events, −1, fatalities 34 → 34; 4 revised").first.wait_for()
    poll_map(page, lambda s: s.get("circles", 0) >= 8)
    frame = next(f for f in page.frames if f.locator("path.atlas-change-added").count())
    drawn = frame.evaluate(CHANGE_PROBE)
    # inside 2023: PER2008-2010 added, PER2004 removed, PER2002/3/5/6 revised
    assert drawn == {"added": 3, "removed": 1, "changed": 4}, drawn
    assert "Revised (4)" in frame.locator(".atlas-legend, body").first.inner_text()
    (ROOT / "artifacts").mkdir(exist_ok=True)
    page.locator(MAP_IFRAME).screenshot(path=str(ROOT / "artifacts" / "changes_map.png"))
    assert app_page.dialogs == []
