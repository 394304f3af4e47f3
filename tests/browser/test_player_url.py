"""The time player's step in the page's URL (issue 14, point 3: the URL restores the step).

The player runs in the map component's frame; when the reader steps or pauses (never on
each frame while playing) it writes ``step=<index>`` into the page's address and tells the
server once, which reruns the map fragment only (layers/timeplayer.py, app._record_step).
Here: the address follows the player, the page does not rerun, the link opens the player
on the same step, and a later rerun keeps the step: a filter that leaves the steps as they
are keeps the index; one that changes the steps (the time step, the dates) moves to the
new step holding the old step's first day (``atlas.ui_state.carry_step``).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

import pytest

from atlas import query
from atlas.i18n import fmt_date, fmt_int, t
from atlas.spec import MapSpec
from layers.timeplayer import REPORT_MS, step_counts

from .conftest import map_frame, open_page, page_runs, wait_for_app, wait_for_counts
from .test_app_browser import _expected, shipped  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

YEAR = (dt.date(2021, 1, 1), dt.date(2021, 12, 31))
LINK = "/?date_from=2021-01-01&date_to=2021-12-31&stepping=1"


def _query(url: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)


def _frame(page: Any) -> Any:
    frame = map_frame(page)
    frame.wait_for_selector(".atlas-player")
    return frame


def _player(frame: Any) -> dict:
    return frame.evaluate(
        """() => { const b = document.querySelector('.atlas-player');
        return {step: Number(b.dataset.step),
                label: b.querySelector('.atlas-player-range').textContent,
                count: b.querySelector('.atlas-player-count').textContent,
                reports: window.__atlasReports || 0}; }"""
    )


def _mark(page: Any) -> None:
    """Mark the player now drawn, to tell it from the one a rerun draws."""
    _frame(page).evaluate("() => { document.querySelector('.atlas-player').dataset.old = '1'; }")


def _wait_new_player(page: Any) -> dict:
    """Until a rerun has drawn a new player (the marked one is gone); its state."""
    frame = _frame(page)
    frame.wait_for_function(
        "() => { const b = document.querySelectorAll('.atlas-player');"
        " return b.length === 1 && !b[0].dataset.old; }"
    )
    return _player(frame)


def _wait_recorded(page: Any) -> int:
    """Until the player has sent its report of the last step (it waits REPORT_MS after the
    last click; clicks further apart send one each) and the map fragment's run it started
    has had time to finish (it shows nothing to wait for); the number of reports sent."""
    frame = _frame(page)
    frame.wait_for_function("() => (window.__atlasReports || 0) >= 1")
    page.wait_for_timeout(REPORT_MS + 200)
    sent = _player(frame)["reports"]
    page.wait_for_timeout(1500)
    return sent


def _others(url: str) -> dict[str, list[str]]:
    """The URL's parameters but the step and the view (the map reports where it settled
    on load, at a moment of its own)."""
    return {k: v for k, v in _query(url).items() if k not in ("step", "bbox")}


def _expect(data, spec: MapSpec, index: int) -> tuple[str, str]:
    """(label, count) the player shows at ``index`` for ``spec`` (cumulative steps)."""
    steps = query.steps(spec.date_from, spec.date_to, spec.bucket)
    drawn, _ = _expected(data, spec)
    n = int(step_counts(drawn, steps, "cumulative")[index])
    label = t("player_range", "en", start=fmt_date(steps[0][0], "en"),
              end=fmt_date(steps[index][1], "en"))  # fmt: skip
    count = t("player_shown_one", "en") if n == 1 else t("player_shown", "en", n=fmt_int(n, "en"))
    return label, count


def _press(frame: Any, name: str, times: int = 1) -> None:
    for _ in range(times):
        frame.get_by_role("button", name=name, exact=True).click()


def test_next_twice_puts_step_2_in_the_url_and_the_link_opens_there(
    app_page,
    app_server,
    browser,
    shipped,  # noqa: F811
):
    page = app_page.page
    page.goto(app_server.url + LINK, wait_until="domcontentloaded")
    wait_for_app(page)
    frame = _frame(page)
    assert _player(frame)["step"] == 0
    runs = page_runs(page)
    before_url = page.url
    before = _query(before_url)
    assert before["stepping"] == ["1"] and before["step"] == ["0"]

    _press(frame, "Next step", 2)
    page.wait_for_url(lambda u: _query(u).get("step") == ["2"], timeout=5_000)
    assert 1 <= _wait_recorded(page) <= 2  # two clicks in a row: one report, or one each
    assert page_runs(page) == runs  # the page did not run again
    assert _query(page.url)["step"] == ["2"]
    assert _others(page.url) == _others(before_url)  # every other parameter as it was
    page.get_by_text("Share this view", exact=True).click()  # the link the page offers
    link = page.locator("[data-testid=stCode]").filter(has_text="stepping=1").inner_text()
    assert _query(link.strip())["step"] == ["2"]
    spec = MapSpec(date_from=YEAR[0], date_to=YEAR[1])
    shown = _player(frame)
    assert (shown["label"], shown["count"]) == _expect(shipped, spec, 2)
    assert shown["label"] == "2021-01-01 to 2021-03-31"

    other = open_page(browser, viewport={"width": 1400, "height": 1600})
    try:
        again = other.page
        again.goto(page.url, wait_until="domcontentloaded")
        wait_for_app(again)
        copy = _player(_frame(again))
        assert (copy["step"], copy["label"], copy["count"]) == (2, shown["label"], shown["count"])
        assert _query(again.url)["step"] == ["2"]
        quick = again.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").filter(
            has_text="Quick range"
        )
        assert "Year 2021" in quick.inner_text() + " " + quick.locator("input").first.input_value()
        assert other.errors == [] and other.blocked == []
    finally:
        other.page.context.close()
    assert app_page.errors == [] and app_page.blocked == []


def test_pause_after_play_puts_where_it_stopped_in_the_url(app_page, app_server):
    page = app_page.page
    page.goto(app_server.url + LINK, wait_until="domcontentloaded")
    wait_for_app(page)
    frame = _frame(page)
    runs = page_runs(page)
    _press(frame, "Play")
    frame.wait_for_function("() => Number(document.querySelector('.atlas-player')"
                            ".dataset.step) >= 3", timeout=15_000)  # fmt: skip
    assert _player(frame)["reports"] == 0  # nothing sent while it plays
    assert _query(page.url)["step"] == ["0"]
    _press(frame, "Pause")
    stopped = _player(frame)["step"]
    assert 3 <= stopped < 11
    page.wait_for_url(lambda u: _query(u).get("step") == [str(stopped)], timeout=5_000)
    assert _wait_recorded(page) == 1  # one report: the pause
    assert _player(frame)["step"] == stopped
    assert page_runs(page) == runs
    assert app_page.errors == [] and app_page.blocked == []


def test_a_filter_change_keeps_the_step_and_a_new_time_step_follows_it(
    app_page,
    app_server,
    shipped,  # noqa: F811
):
    page = app_page.page
    page.goto(app_server.url + LINK, wait_until="domcontentloaded")
    wait_for_app(page)
    _press(_frame(page), "Next step", 4)  # May 2021
    page.wait_for_url(lambda u: _query(u).get("step") == ["4"], timeout=5_000)
    _wait_recorded(page)

    # a filter that leaves the steps alone: the same step, not the server's old 0
    _mark(page)
    box = page.get_by_label("Minimum deaths", exact=True)
    box.fill("1")
    box.press("Enter")
    spec = MapSpec(date_from=YEAR[0], date_to=YEAR[1], min_fatalities=1)
    wait_for_counts(page, _expected(shipped, spec)[1])
    page.wait_for_url(lambda u: _query(u).get("min_fatalities") == ["1"])
    assert _query(page.url)["step"] == ["4"]
    shown = _wait_new_player(page)
    assert shown["step"] == 4
    assert (shown["label"], shown["count"]) == _expect(shipped, spec, 4)

    # quarters instead of months: the quarter holding May, 2021 (step 1), not step 4
    _mark(page)
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.locator("[data-testid=stSelectbox]").filter(has_text="Time step").click()
    page.get_by_role("option", name="Quarter", exact=True).click()
    page.wait_for_url(lambda u: _query(u).get("bucket") == ["quarter"])
    assert _query(page.url)["step"] == ["1"]
    shown = _wait_new_player(page)
    assert shown["step"] == 1
    quarters = spec.replace(bucket="quarter")
    assert (shown["label"], shown["count"]) == _expect(shipped, quarters, 1)
    assert shown["label"] == "2021-01-01 to 2021-06-30"
    assert app_page.errors == [] and app_page.blocked == []
