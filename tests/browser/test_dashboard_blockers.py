"""The reporter's blockers from issue 14, in the real page: a language switch keeps every
filter, clusters replace points, unrecognised columns get a picker, and Reset filters
brings the whole data set back without moving the map."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from .conftest import (
    counts_text,
    map_frame,
    map_view,
    move_map,
    page_runs,
    poll_map,
    wait_for_app,
    wait_for_counts,
    wait_for_url_view,
)
from .test_app_browser import _expected, _open_upload, shipped  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser


def _pick(page, label: str, option: str) -> None:
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.locator("[data-testid=stSelectbox]").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_language_switch_keeps_every_filter(app_page, app_server, shipped):  # noqa: F811
    import datetime as dt

    from atlas.spec import MapSpec

    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    _pick(page, "Quick range", "Year 2021")
    page.wait_for_url("**date_from=2021-01-01*")
    _pick(page, "Time step", "Quarter")
    page.wait_for_url("**bucket=quarter*")
    spec = MapSpec(date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 12, 31), bucket="quarter")
    drawn, phrase = _expected(shipped, spec)
    wait_for_counts(page, phrase)
    before = page.url
    page.get_by_text("Español").click()
    page.wait_for_url("**lang=es*")
    wait_for_counts(page, f"{len(drawn):,} incidentes")
    sidebar = page.locator("[data-testid=stSidebar]")
    boxes = sidebar.locator("[data-testid=stSelectbox]")
    # the widgets speak Spanish and keep their values

    def shown(label: str) -> str:  # a select shows its value in its (search) input
        box = boxes.filter(has_text=label)
        return box.inner_text() + " " + box.locator("input").first.input_value()

    assert "Año 2021" in shown("Rango rápido")
    assert "Trimestre" in shown("Paso de tiempo")
    assert (
        "lugar exacto"
        in sidebar.locator("[data-testid=stMultiSelect]").filter(has_text="Precisión").inner_text()
    )
    assert page.url.replace("&lang=es", "") == before  # nothing else in the link changed
    state = poll_map(page, lambda s: s["circles"] + s["clustered"] == len(drawn))
    assert state["circles"] + state["clustered"] == len(drawn), state


def test_clusters_replace_points(app_page, app_server, shipped):  # noqa: F811
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    page.locator("[data-testid=stSidebar]").get_by_text("Incident clusters").click()
    page.wait_for_url("**layers=*clusters*")
    assert "points" not in page.url.split("layers=")[1].split("&")[0]
    state = poll_map(page, lambda s: s["clustered"] > 0 and s["circles"] == 0)
    assert state["circles"] == 0 and state["clustered"] == len(shipped.incidents), state
    points_box = page.locator("[data-testid=stSidebar] label").filter(has_text="Incidents (points)")
    assert points_box.locator("input").is_checked() is False


def test_column_picker_reads_a_file_with_unknown_headers(app_page, app_server, tmp_path):
    odd = tmp_path / "odd.csv"
    odd.write_text(
        "ref,norte,este,cuando\nA,-12.186,-74.027,2021-05-23\nB,-12.30,-73.90,2021-06-02\n",
        encoding="utf-8",
    )
    page = app_page.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    panel = _open_upload(page)
    before = page_runs(page)
    panel.locator("input[type=file]").set_input_files(str(odd))
    # the picker shows part-way through the upload's run; a box opened before the run
    # ends can close under the keys (the list then never shows, or Enter picks nothing)
    page.wait_for_function(
        "(n) => Number(document.querySelector('#atlas-page-runs')?.dataset.runs) > n", arg=before
    )
    panel.get_by_text("did not recognise the coordinate columns").wait_for()
    choices = (
        ("Latitude column", "norte"),
        ("Longitude column", "este"),
        ("Date column", "cuando"),
    )

    def field(label: str):
        return (
            panel.locator("[data-testid=stSelectbox]")
            .filter(has_text=label)
            .get_by_role("combobox")
        )

    def pick(label: str, column: str) -> None:
        """Type the column into the box and press Enter, as a reader would; then click
        away: a search that Enter did not pick shows in the field until the box loses
        focus, then goes. Under load the list can close under the keys while the page is
        still settling (the reader sees the box empty and picks again; so does this)."""
        box = field(label)
        option = page.locator("[data-testid=stSelectboxVirtualDropdown]").get_by_text(
            column, exact=True
        )
        for attempt in range(1, 4):
            box.click()  # the box's search field: focus, then type
            expect(box).to_be_focused()
            page.keyboard.type(column)  # the list filters as one types
            try:
                option.wait_for(timeout=5_000)  # Enter before it would pick another column
                page.keyboard.press("Enter")
            except PlaywrightTimeoutError:
                pass  # the list closed under the keys
            panel.get_by_text("did not recognise the coordinate columns").click()
            try:
                expect(box).to_have_value(column, timeout=3_000)
            except AssertionError:
                print(f"{label}: {column!r} not picked at try {attempt}; picking again")
                continue
            return
        raise AssertionError(f"{label}: {column!r} not picked in three tries")

    for label, column in choices:
        pick(label, column)
    for label, column in choices:  # every box still holds its column
        expect(field(label)).to_have_value(column)
    panel.get_by_role("button", name="Read with these columns").click()
    panel.get_by_text("odd.csv: 2 rows read, 2 kept, 0 left out.").wait_for(timeout=30_000)
    panel.get_by_role("button", name="Use this data").click()
    wait_for_counts(page, "2 incidents")
    assert app_page.errors == []


def test_reset_filters_brings_everything_back_and_keeps_the_view(app_page, app_server, shipped):  # noqa: F811
    from atlas.spec import MapSpec

    page = app_page.page
    page.goto(f"{app_server.url}/?event_types=riot&min_fatalities=2", wait_until="domcontentloaded")
    wait_for_app(page)
    move_map(map_frame(page), -12.4, -74.0, 9)
    wait_for_url_view(page, map_frame(page))
    before = map_view(map_frame(page))
    page.get_by_role("button", name="Reset filters").click()
    _, phrase = _expected(shipped, MapSpec())
    wait_for_counts(page, phrase)
    assert "event_types" not in page.url and "min_fatalities" not in page.url
    after = map_view(map_frame(page))
    assert after["zoom"] == before["zoom"] == 9
    assert abs(after["lat"] - before["lat"]) < 1e-3 and abs(after["lon"] - before["lon"]) < 1e-3
    assert phrase in counts_text(page)
