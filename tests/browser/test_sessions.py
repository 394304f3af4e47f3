"""Ten readers at once: each browser context keeps its own filters and counts.

All ten pages are opened on one server before any is waited for, so their scripts run
concurrently. Expected counts come from atlas.query.filter_incidents on the shipped
bundle. The server's resident memory is sampled while they run and must stay bounded.
"""

from __future__ import annotations

import time
import urllib.parse

import psutil
import pytest

from atlas.data import load_shipped
from atlas.i18n import fmt_int, t
from atlas.query import filter_incidents
from atlas.readers import read_incidents
from atlas.spec import MapSpec

from .conftest import (
    SCREENSHOTS,
    counts_text,
    open_page,
    poll_map,
    wait_for_app,
    wait_for_counts,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAX_SERVER_RSS = int(2.5 * 2**30)
#: Ten readers: each its own filters; four read the page in Spanish; three of them also
#: upload their own file (UPLOADS: view index -> rows) and must see only that file.
VIEWS: list[dict[str, str]] = [
    *({"date_from": f"{y}-01-01", "date_to": f"{y}-12-31"} for y in range(2018, 2025)),
    {"event_types": "armed_clash"},
    {"event_types": "riot,protest", "date_from": "2022-01-01", "date_to": "2024-12-30"},
    {"min_fatalities": "1"},
]
for _i in (1, 4, 7, 9):
    VIEWS[_i]["lang"] = "es"
UPLOADS = {2: 3, 7: 5, 9: 7}


def _phrase(data, params: dict[str, str], incidents=None) -> tuple[int, str]:
    """(markers drawn, the start of the counts line) for a view of the shipped data, or
    of ``incidents`` (an uploaded file) against the shipped regions."""
    rows = data.incidents if incidents is None else incidents
    drawn, s = filter_incidents(rows, MapSpec.from_query(params), data.regions)
    lang = params.get("lang", "en")
    head = t("counts_no_region", lang, incidents=fmt_int(s.incidents, lang),
             deaths=fmt_int(s.deaths, lang))  # fmt: skip
    inside = "inside the" if lang == "en" else "dentro del"
    return len(drawn), f"{head}, {fmt_int(s.inside_region, lang)} {inside}"


def _upload_csv(folder, index: int, rows: int):
    """A small SYNTHETIC file for one reader: ``rows`` armed clashes with one death each,
    dated inside that reader's view."""
    year = VIEWS[index].get("date_from", "2021")[:4]
    path = folder / f"reader{index}.csv"
    lines = ["id,date,lat,lon,type,fatalities,notes,synthetic"]
    lines += [f"R{index}-{k},{year}-03-{k + 1:02d},-12.{20 + k},-73.9,armed_clash,1,"
              f"SYNTHETIC reader {index},true" for k in range(rows)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _upload(page, path, lang: str) -> None:
    # the page has run to its end (the run counter is drawn last, after the panel)
    page.wait_for_selector("#atlas-page-runs", state="attached", timeout=120_000)
    page.get_by_text(t("upload_title", lang)).scroll_into_view_if_needed()
    page.get_by_text(t("upload_title", lang)).click()
    panel = page.locator("[data-testid=stExpander]").filter(has_text=t("upload_title", lang))
    panel.locator("input[type=file]").set_input_files(str(path))
    panel.get_by_role("button", name=t("use_data", lang)).click(timeout=120_000)


def _rss(pid: int) -> int:
    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def test_ten_sessions_keep_their_own_filters(browser, app_server, tmp_path):
    """Ten pages on one server, each with its own filters and language, three with their
    own uploaded file; every page shows only its own counts and markers."""
    data = load_shipped()
    expected = [_phrase(data, params) for params in VIEWS]
    assert len({phrase for _, phrase in expected}) == len(VIEWS), "views must differ"

    started = time.monotonic()
    peak = _rss(app_server.pid)
    pages = [
        open_page(
            browser,
            viewport={"width": 1400, "height": 1000}
            if i in UPLOADS
            else {"width": 1100, "height": 800},
        )  # fmt: skip
        for i in range(len(VIEWS))
    ]
    try:
        for bp, params in zip(pages, VIEWS, strict=True):
            bp.page.goto(f"{app_server.url}/?{urllib.parse.urlencode(params)}", wait_until="commit")
        for bp, (_, phrase) in zip(pages, expected, strict=True):
            wait_for_counts(bp.page, phrase, timeout=90_000)
            peak = max(peak, _rss(app_server.pid))
        # three readers upload their own file while the others' maps are still drawing
        for i, rows in UPLOADS.items():
            _upload(pages[i].page, _upload_csv(tmp_path, i, rows), VIEWS[i].get("lang", "en"))
        for i in UPLOADS:
            frame, _ = read_incidents(_upload_csv(tmp_path, i, UPLOADS[i]))
            expected[i] = _phrase(data, VIEWS[i], incidents=frame)
            wait_for_counts(pages[i].page, expected[i][1], timeout=90_000)
            peak = max(peak, _rss(app_server.pid))
        assert len({phrase for _, phrase in expected}) == len(VIEWS), "views must differ"

        # every map drew its own incidents, and no page picked up another's counts
        for bp, params, (n_drawn, phrase) in zip(pages, VIEWS, expected, strict=True):
            state = poll_map(bp.page, lambda s, n=n_drawn: s["circles"] + s["clustered"] == n)
            assert state["circles"] + state["clustered"] == n_drawn, (params, state)
            assert phrase in counts_text(bp.page), (params, counts_text(bp.page))
            assert bp.dialogs == [] and bp.blocked == [], (bp.dialogs, bp.blocked)
            peak = max(peak, _rss(app_server.pid))
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for i, bp in enumerate(pages):
            bp.page.screenshot(path=str(SCREENSHOTS / f"test_sessions_{i:02d}.png"))
            bp.page.context.close()
    elapsed = time.monotonic() - started
    print(f"10 sessions: {elapsed:.1f} s, server peak RSS {peak / 2**20:,.0f} MiB")
    assert peak < MAX_SERVER_RSS, f"server RSS peaked at {peak / 2**20:,.0f} MiB"
    # a liveness bound, not a speed check (three uploads; the machine may be shared)
    assert elapsed < 300, f"ten sessions took {elapsed:.0f} s"


def test_an_upload_stays_in_its_own_session(browser, app_server, tmp_path):
    """Reader A maps an uploaded file; reader B, on the same server, still sees the shipped data."""
    data = load_shipped()
    _, shipped_phrase = _phrase(data, {})
    csv = tmp_path / "mine.csv"
    csv.write_text(
        "id,date,lat,lon,type,fatalities,notes,synthetic\n"
        "M1,2021-03-01,-12.20,-73.90,armed_clash,2,SYNTHETIC TEST ROW,true\n"
        "M2,2021-03-02,-12.30,-73.85,riot,0,SYNTHETIC TEST ROW,true\n",
        encoding="utf-8",
    )
    a = open_page(browser)
    b = open_page(browser)
    try:
        a.page.goto(app_server.url + "/", wait_until="domcontentloaded")
        wait_for_app(a.page)
        a.page.get_by_text("Load your own data").click()
        panel = a.page.locator("[data-testid=stExpander]").filter(has_text="Load your own data")
        panel.locator("input[type=file]").set_input_files(str(csv))
        panel.get_by_role("button", name="Use this data").click()
        wait_for_counts(a.page, "2 incidents, 2 deaths")

        b.page.goto(app_server.url + "/", wait_until="domcontentloaded")
        wait_for_app(b.page)
        wait_for_counts(b.page, shipped_phrase)
        state = poll_map(b.page, lambda s: s["circles"] + s["clustered"] == len(data.incidents))
        assert state["circles"] + state["clustered"] == len(data.incidents), state
        assert "2 incidents, 2 deaths" in counts_text(a.page)  # A still has its own file
    finally:
        for i, bp in enumerate((a, b)):
            bp.page.screenshot(path=str(SCREENSHOTS / f"test_upload_session_{'ab'[i]}.png"))
            bp.page.context.close()
