"""The self-contained HTML export, opened from disk with every network request blocked.

What a reader gets when a journalist mails the .html file: it must draw the region
outline, the incidents, the legend and the SAMPLE mark without reaching any server.
"""

from __future__ import annotations

import dataclasses

import pytest

from atlas.data import load_shipped
from atlas.query import filter_incidents
from atlas.spec import MapSpec

from .conftest import frame_dialogs, leaflet_state

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shipped():
    return load_shipped()


def _vraem_name(data) -> str:
    rows = data.regions[data.regions["region_id"] == "vraem-devida"]
    assert len(rows) == 1
    return str(rows["name"].iloc[0])


def _export(spec: MapSpec, data, path):
    from layers.export import export

    drawn, _ = filter_incidents(data.incidents, spec)
    view = dataclasses.replace(data, incidents=drawn)
    export(spec, view, path)
    return drawn


def test_export_html_renders_offline(offline_page, shipped, tmp_path, assets_installed):
    spec = MapSpec()
    out = tmp_path / "map.html"
    drawn = _export(spec, shipped, out)
    html = out.read_text(encoding="utf-8")
    assert "<script src=" not in html.replace('<script src="data:', "")  # nothing linked

    page = offline_page.page
    page.goto(out.as_uri(), wait_until="load")
    page.wait_for_selector(".leaflet-container")
    page.wait_for_function("() => document.querySelectorAll('.atlas-legend').length > 0")
    state = leaflet_state(page, region=_vraem_name(shipped))

    assert state["leaflet"], "Leaflet did not load from the inlined script"
    assert state["maps"] == 1
    # the VRAEM outline was projected into the view and drawn
    assert any(_vraem_name(shipped) in label for label in state["regions"]), state
    # every filtered incident is on the map (as a circle marker or inside a cluster)
    assert state["circles"] + state["clustered"] == len(drawn), state
    assert state["circles_in_view"] > 0
    assert state["canvas_ink"] > 1000, "the canvas renderer drew (almost) nothing"
    assert state["legend_visible"] and state["banner_visible"], state
    assert "SAMPLE" in state["legend"]
    assert "approximate" not in state["legend"].lower()  # the shipped zone is exact
    # the reference map's labels: named rivers and VRAEM towns shown by the zoom script
    shown = page.evaluate(
        "() => Array.from(document.querySelectorAll('.ca-label'))"
        ".filter(e => e.style.visibility === 'visible').map(e => e.textContent)"
    )
    assert {"Apurímac", "Ene", "Tambo"} & set(shown), shown
    assert len(set(shown) & {"Pichari", "Kimbiri", "Llochegua", "Sivia", "Satipo", "Huanta",
                             "Ayacucho", "San Miguel del Ene", "Canayre", "Palmapampa",
                             "Santa Rosa", "San Francisco", "Mazamari", "Puerto Ocopa",
                             "San Ramón de Pangoa"}) >= 8, shown  # fmt: skip
    assert page.get_by_text("SAMPLE DATA", exact=False).first.is_visible()
    assert offline_page.errors == [], offline_page.errors
    # outline-only basemap: the page asked for nothing outside the file
    assert offline_page.blocked == [], offline_page.blocked


def test_export_html_with_tiles_still_draws_without_them(offline_page, shipped, tmp_path):
    """A tile basemap is requested and blocked, yet the outlines and incidents are drawn."""
    spec = MapSpec(basemap="osm", date_from=None, event_types=("armed_clash",))
    out = tmp_path / "tiles.html"
    drawn = _export(spec, shipped, out)

    page = offline_page.page
    page.goto(out.as_uri(), wait_until="load")
    page.wait_for_selector(".atlas-legend")
    state = leaflet_state(page, region=_vraem_name(shipped))

    assert any(_vraem_name(shipped) in label for label in state["regions"]), state
    assert state["circles"] + state["clustered"] == len(drawn) > 0
    assert state["canvas_ink"] > 1000
    assert offline_page.blocked, "a tile basemap should have asked for tiles"
    assert all(not u.startswith("file:") for u in offline_page.blocked)
    assert offline_page.errors == [], offline_page.errors


EVIL_IMG = "<img src=x onerror=alert(1)>"
EVIL_SCRIPT = "<script>alert(1)</script>"

#: Opens every incident popup/tooltip and region tooltip; returns what each showed.
OPEN_ALL = """
() => {
  const maps = Object.keys(window).map(k => { try { return window[k]; } catch (e) {} })
    .filter(v => v instanceof L.Map);
  const out = [];
  const read = (overlay, sel) => {
    const root = overlay.getElement();
    const el = root && (sel ? root.querySelector(sel) : root);
    return el ? {text: el.innerText, bad: el.querySelectorAll('img,script,svg[onload]').length}
              : {text: '', bad: -1};
  };
  maps[0].eachLayer(l => {
    if (l instanceof L.CircleMarker && l.getPopup()) {
      l.openPopup(); out.push(read(l.getPopup(), '.leaflet-popup-content')); l.closePopup();
    }
    if ((l instanceof L.CircleMarker || l instanceof L.Polygon) && l.getTooltip()) {
      l.openTooltip(); out.push(read(l.getTooltip(), null)); l.closeTooltip();
    }
  });
  return out;
}
"""


def test_export_html_shows_hostile_text_as_text(offline_page, shipped, tmp_path):
    """Notes, actors and a region name full of HTML are readable text in the export."""
    incidents = shipped.incidents.head(30).copy()
    incidents["notes"] = EVIL_IMG
    incidents["actor1"] = EVIL_SCRIPT
    regions = shipped.regions.copy()
    regions.loc[regions["region_id"] == "vraem-devida", "name"] = f"VRAEM {EVIL_IMG}"
    data = dataclasses.replace(shipped, incidents=incidents, regions=regions)
    out = tmp_path / "evil.html"
    _export(MapSpec(), data, out)

    page = offline_page.page
    page.goto(out.as_uri(), wait_until="load")
    page.wait_for_selector(".atlas-legend")
    state = leaflet_state(page, region="VRAEM")
    assert state["circles"] == 30, state
    shown = page.evaluate(OPEN_ALL)
    texts = " ".join(s["text"] for s in shown)
    assert EVIL_IMG in texts and EVIL_SCRIPT in texts, texts[:400]
    assert len(shown) >= 30 + 1, len(shown)  # 30 popups + tooltips, and the region's
    assert all(s["bad"] == 0 for s in shown), [s for s in shown if s["bad"]]
    assert f"VRAEM {EVIL_IMG}" in page.locator(".atlas-legend").inner_text()
    assert page.locator("img[src=x]").count() == 0
    # leave one popup open for the screenshot: the payload as readable text
    page.evaluate(
        """() => { const m = Object.keys(window).map(k => { try { return window[k]; } catch (e) {} })
          .find(v => v instanceof L.Map);
          let first = null;
          m.eachLayer(l => { if (!first && l instanceof L.CircleMarker) first = l; });
          first.openPopup(); }"""
    )
    page.locator(".leaflet-popup-content").last.get_by_text(EVIL_IMG).wait_for()
    page.wait_for_timeout(800)  # an onerror handler would have fired by now
    assert offline_page.dialogs == [] and frame_dialogs(page) == [], offline_page.dialogs
    assert offline_page.errors == [], offline_page.errors
    assert offline_page.blocked == [], offline_page.blocked


def test_dialog_detectors_catch_an_injected_handler(offline_page, tmp_path):
    """Control for the XSS tests: the same detectors do see a handler that runs,
    in the page and inside a nested frame."""
    page_file = tmp_path / "control.html"
    page_file.write_text(
        "<!doctype html><p>control</p><img src=x onerror=alert(1)>"
        "<iframe srcdoc='<img src=y onerror=alert(2)>'></iframe>",
        encoding="utf-8",
    )
    page = offline_page.page
    page.goto(page_file.as_uri(), wait_until="load")
    page.wait_for_function("() => true")
    page.wait_for_timeout(800)
    assert sorted(offline_page.dialogs) == ["alert: 1", "alert: 2"], offline_page.dialogs
    assert sorted(frame_dialogs(page)) == ["alert: 1", "alert: 2"]
