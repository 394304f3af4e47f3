"""The Streamlit app as a reader sees it, in Debian's chromium with the internet blocked.

Expected numbers are computed here with atlas.query.filter_incidents on the shipped
bundle (never written down), then read off the page and the Leaflet map inside the
st_folium iframe.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse

import pytest
from playwright.sync_api import expect

from atlas.data import load_shipped
from atlas.i18n import fmt_int
from atlas.query import filter_incidents
from atlas.spec import MapSpec

from .conftest import (
    counts_text,
    frame_dialogs,
    leaflet_state,
    map_frame,
    map_view,
    poll_map,
    wait_for_app,
    wait_for_counts,
    wait_for_url_view,
)

pytestmark = pytest.mark.browser

XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def shipped():
    return load_shipped()


def _vraem_name(data) -> str:
    rows = data.regions[data.regions["region_id"] == "vraem-devida"]
    return str(rows["name"].iloc[0])


def _expected(data, spec: MapSpec):
    """(drawn incidents, the counts phrase the page must show) for ``spec``."""
    drawn, s = filter_incidents(data.incidents, spec, data.regions)
    phrase = (
        f"{fmt_int(s.incidents, 'en')} incidents, {fmt_int(s.deaths, 'en')} deaths "
        f"(best estimate), {fmt_int(s.inside_region, 'en')} inside the"
    )
    return drawn, phrase


def _date_segments(page) -> list[str]:
    """The six segments (y, m, d, y, m, d) of the date-range input, once it is drawn."""
    sel = "[data-testid=stSidebar] [data-testid=stDateInput] [role=spinbutton]"
    page.wait_for_function(f"() => document.querySelectorAll({sel!r}).length === 6")
    return page.locator(sel).evaluate_all("els => els.map(e => e.textContent)")


def _type_date(page, which: str, day: dt.date) -> None:
    """Type a date into the range input's start/end field, segment by segment."""
    year = page.get_by_role("spinbutton", name=f"year, Date range {which} date")
    year.focus()
    page.keyboard.type(day.strftime("%Y%m%d"), delay=40)


@pytest.mark.parametrize("basemap", ["outlines", "osm"])
def test_map_renders_region_outline_and_incidents(app_page, app_server, shipped, basemap):
    page = app_page.page
    query = "" if basemap == "outlines" else f"?basemap={basemap}"
    page.goto(app_server.url + "/" + query, wait_until="domcontentloaded")
    wait_for_app(page)
    drawn, phrase = _expected(shipped, MapSpec(basemap=basemap))
    wait_for_counts(page, phrase)

    state = leaflet_state(map_frame(page), region=_vraem_name(shipped))
    assert state["leaflet"] and state["maps"] == 1, state
    assert any(_vraem_name(shipped) in label for label in state["regions"]), state
    assert state["circles"] + state["clustered"] == len(drawn), state
    assert state["circles_in_view"] > 0, state
    assert state["canvas_ink"] > 1000, "the map canvas is (almost) blank"
    assert state["legend_visible"] and state["banner_visible"], state
    assert "SAMPLE" in state["legend"]
    page.get_by_text("SAMPLE DATA: the incidents on this page are synthetic").wait_for()
    assert app_page.dialogs == [] and app_page.errors == [], (app_page.dialogs, app_page.errors)

    # Leaflet and its plugins came from the app itself: nothing it needed was blocked.
    assets = [u for u in app_page.blocked if u.split("?")[0].endswith((".js", ".css"))]
    assert assets == [], assets
    if basemap == "outlines":
        assert app_page.blocked == [], app_page.blocked
    else:  # tiles were asked for and refused, and the map above was drawn anyway
        assert any("tile" in u for u in app_page.blocked), app_page.blocked


def test_typed_date_range_updates_counts_and_map(app_page, app_server, shipped):
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    all_drawn, all_phrase = _expected(shipped, MapSpec())
    wait_for_counts(page, all_phrase)

    lo, hi = dt.date(2020, 1, 1), dt.date(2020, 12, 31)
    _type_date(page, "start", lo)
    _type_date(page, "end", hi)
    page.locator("[data-testid=stMain] h1").first.click()  # the date input commits on blur

    drawn, phrase = _expected(shipped, MapSpec(date_from=lo, date_to=hi))
    assert 0 < len(drawn) < len(all_drawn)
    assert phrase != all_phrase
    wait_for_counts(page, phrase)
    state = poll_map(page, lambda s: s["circles"] + s["clustered"] == len(drawn))
    assert state["circles"] + state["clustered"] == len(drawn), state
    assert _date_segments(page) == ["2020", "01", "01", "2020", "12", "31"]
    page.wait_for_url("**date_from=2020-01-01*")
    assert "date_to=2020-12-31" in page.url
    assert app_page.dialogs == [] and app_page.blocked == []


def test_shared_url_restores_the_view(app_page, app_server, shipped):
    params = {
        "date_from": "2021-01-01",
        "date_to": "2021-06-30",
        "event_types": "armed_clash,violence_against_civilians",
        "bbox": "-76,-14.5,-72,-10.5",
    }
    page = app_page.page
    page.goto(f"{app_server.url}/?{urllib.parse.urlencode(params)}", wait_until="domcontentloaded")
    wait_for_app(page)

    drawn, phrase = _expected(shipped, MapSpec.from_query(params))
    assert 0 < len(drawn) < len(shipped.incidents)
    wait_for_counts(page, phrase)
    assert _date_segments(page) == ["2021", "01", "01", "2021", "06", "30"]
    tags = page.locator("[data-testid=stSidebar] [data-testid=stMultiSelect] [data-tag]")
    labels = [t.strip() for t in tags.all_inner_texts()]
    assert "Armed clash" in labels and "Violence against civilians" in labels, labels
    state = poll_map(page, lambda s: s["circles"] + s["clustered"] == len(drawn))
    assert state["circles"] + state["clustered"] == len(drawn), state
    view = map_view(map_frame(page))  # the link's bbox is on screen, as large as fits
    west, south, east, north = view["bbox"]
    assert west <= -76 and south <= -14.5 and east >= -72 and north >= -10.5, view
    assert east - west < 2 * 4 + 1e-9 or north - south < 2 * 4 + 1e-9, view
    for key, value in params.items():  # the URL still carries the view for the next reader
        if key != "bbox":
            assert urllib.parse.urlencode({key: value}) in page.url, (key, page.url)
    # the bbox becomes what the screen shows: the link's bounds, widened to the map's shape
    shown = wait_for_url_view(page, map_frame(page))
    assert shown is not None and shown[0] <= -76 and shown[1] <= -14.5, page.url
    assert shown[2] >= -72 and shown[3] >= -10.5, page.url


#: Opens each incident's popup and tooltip in the map frame; returns what each showed.
READ_OVERLAYS = """() => {
  const maps = Object.keys(window).map(k => { try { return window[k]; } catch (e) {} })
    .filter(v => v instanceof L.Map);
  const read = (overlay, sel) => {
    const root = overlay.getElement();
    const el = root && (sel ? root.querySelector(sel) : root);
    return el ? {text: el.innerText, imgs: el.querySelectorAll('img').length,
                 scripts: el.querySelectorAll('script').length}
              : {text: '', imgs: -1, scripts: -1};
  };
  const out = [];
  maps[0].eachLayer(l => {
    if (!(l instanceof L.CircleMarker)) return;
    l.openPopup(); out.push(read(l.getPopup(), '.leaflet-popup-content')); l.closePopup();
    l.openTooltip(); out.push(read(l.getTooltip(), null)); l.closeTooltip();
  });
  return out;
}"""


def _read_overlays(page, expected: int, timeout: float = 30.0) -> list[dict]:
    """READ_OVERLAYS, retried while the component is being redrawn after a rerun."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while time.monotonic() < deadline:
        try:
            found = map_frame(page, timeout=10_000).evaluate(READ_OVERLAYS)
        except PlaywrightError:  # the frame was replaced while we read it
            found = []
        if len(found) == expected:
            return found
        page.wait_for_timeout(300)
    return found


def _open_upload(page):
    page.get_by_text("Load your own data").click()
    return page.locator("[data-testid=stExpander]").filter(has_text="Load your own data")


def test_uploaded_csv_with_a_bad_row_shows_its_rejection(app_page, app_server, tmp_path):
    csv = tmp_path / "bad_row.csv"
    csv.write_text(
        "id,date,lat,lon,type,fatalities,actor1,notes,synthetic\n"
        "U1,2021-03-01,-12.20,-73.90,armed_clash,2,Test actor A,SYNTHETIC TEST ROW,true\n"
        "U2,2021-03-02,,-73.95,armed_clash,0,Test actor B,SYNTHETIC TEST ROW,true\n"
        "U3,2021-03-03,-12.40,-73.80,riot,1,Test actor C,SYNTHETIC TEST ROW,true\n",
        encoding="utf-8",
    )
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    panel = _open_upload(page)
    panel.locator("input[type=file]").set_input_files(str(csv))
    panel.get_by_text("bad_row.csv: 3 rows read, 2 kept, 1 left out.").wait_for()
    # the reasons table and the rejected-rows table (their accessible DOM copies)
    cell = panel.locator("table td").filter(has_text="no coordinates").first
    cell.wait_for(state="attached")
    cells = [c.strip() for c in panel.locator("table td").all_text_contents()]
    assert "no coordinates" in cells, cells
    assert "3" in cells, cells  # spreadsheet row 3 (header = 1) is the row without latitude
    panel.get_by_role("button", name="Use this data").wait_for()
    assert app_page.dialogs == []


def test_uploaded_script_and_html_are_shown_as_text(app_page, app_server):
    name = f"{XSS_IMG}.csv"
    body = (
        "id,date,lat,lon,type,fatalities,actor1,notes,synthetic\n"
        f'X1,2021-03-01,-12.20,-73.90,armed_clash,2,"{XSS_SCRIPT}","{XSS_IMG}",true\n'
        f'X2,2021-03-02,-12.30,-73.85,riot,0,"{XSS_IMG}","{XSS_SCRIPT}",true\n'
    ).encode()
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    panel = _open_upload(page)
    panel.locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": body}
    )
    # the hostile file name is printed as text in the load report
    panel.get_by_text(f"{name}: 2 rows read, 2 kept, 0 left out.").wait_for()
    panel.get_by_role("button", name="Use this data").click()
    wait_for_counts(page, "2 incidents")
    state = poll_map(page, lambda s: s["circles"] == 2)
    assert state["circles"] == 2, state

    popups = _read_overlays(page, expected=4)
    assert len(popups) == 4, popups  # two popups and two tooltips were read
    texts = " ".join(p["text"] for p in popups)
    assert XSS_IMG in texts and XSS_SCRIPT in texts, texts  # shown verbatim, as text
    assert all(p["imgs"] == 0 and p["scripts"] == 0 for p in popups), popups
    # no element made from the payload anywhere: page, map frame, or any other frame
    for fr in page.frames:
        assert fr.locator("img[src=x]").count() == 0, fr.url
    page.wait_for_timeout(1000)  # an onerror handler would have fired by now
    assert app_page.dialogs == [], app_page.dialogs
    assert len(page.frames) >= 2 and frame_dialogs(page) == []
    assert "2 incidents" in counts_text(page)


def test_bad_url_value_falls_back_to_the_default_view(app_page, app_server, shipped):
    page = app_page.page
    page.goto(f"{app_server.url}/?date_from=2021-02-30&zoom=99", wait_until="domcontentloaded")
    wait_for_app(page)
    _, phrase = _expected(shipped, MapSpec())
    wait_for_counts(page, phrase)
    warning = page.get_by_text("The link has a setting that cannot be used")
    warning.wait_for()  # visible, or the test fails on the timeout
    assert "date_from" in warning.inner_text()  # names the bad parameter
    assert app_page.dialogs == [] and app_page.errors == []


def test_hostile_actor_in_the_url_is_held_as_text(app_page, app_server, shipped):
    params = {"actor": XSS_IMG, "date_from": "2020-01-01", "date_to": "2020-12-31"}
    page = app_page.page
    page.goto(f"{app_server.url}/?{urllib.parse.urlencode(params)}", wait_until="domcontentloaded")
    page.wait_for_selector("[data-testid=stMain] h4")
    _, phrase = _expected(shipped, MapSpec.from_query(params))
    wait_for_counts(page, phrase)
    box = page.get_by_label("Actor contains", exact=True).and_(page.locator("input"))
    expect(box).to_have_value(XSS_IMG, timeout=20_000)
    page.get_by_text("switching off one of these filters would show incidents: actor").wait_for()
    for fr in page.frames:
        assert fr.locator("img[src=x]").count() == 0, fr.url
    page.wait_for_timeout(800)
    assert app_page.dialogs == [] and frame_dialogs(page) == []
    assert phrase in counts_text(page)  # the filter held through the map's rerun
