"""atlas.giveway: heavy page runs wait for light ones between their steps, within bounds.

Real threads, as the server runs pages; each test ends every run it starts."""

from __future__ import annotations

import threading
import time

import pytest

from atlas import giveway


def _light_run(started: threading.Event, release: threading.Event, ended: list[float]):
    with giveway.page_run():
        started.set()
        release.wait(10)
    ended.append(time.monotonic())


def test_a_heavy_run_waits_for_a_light_run_in_progress_and_goes_on_when_it_ends():
    started, release, ended = threading.Event(), threading.Event(), []
    light = threading.Thread(target=_light_run, args=(started, release, ended))
    light.start()
    assert started.wait(10)
    waited: list[float] = []
    resumed: list[float] = []

    def heavy() -> None:
        with giveway.page_run():
            giveway.mark_heavy()
            assert giveway.is_heavy()
            waited.append(giveway.give_way())
            resumed.append(time.monotonic())

    before = giveway.waits_so_far()
    h = threading.Thread(target=heavy)
    h.start()
    time.sleep(0.3)
    assert h.is_alive(), "the heavy run went on while a light run was in progress"
    release.set()
    light.join(10)
    h.join(10)
    assert resumed and ended and resumed[0] >= ended[0]
    assert 0.25 <= waited[0] < giveway.WAIT_S
    assert giveway.waits_so_far() == before + 1
    assert giveway.light_runs() == 0


@pytest.fixture(autouse=True)
def _no_grace_by_default(monkeypatch, request):
    """The grace after a light run ends (GRACE_S) only where a test is about it: others
    start right after a light run of the test before them."""
    if "grace" not in request.node.name:
        monkeypatch.setattr(giveway, "GRACE_S", 0.0)


def test_light_runs_and_runs_outside_a_page_never_wait():
    started, release, ended = threading.Event(), threading.Event(), []
    other = threading.Thread(target=_light_run, args=(started, release, ended))
    other.start()
    assert started.wait(10)
    try:
        assert giveway.give_way() == 0.0  # no run in this thread
        with giveway.page_run():
            t0 = time.monotonic()
            assert giveway.give_way() == 0.0  # a light run
            assert time.monotonic() - t0 < 0.05
            assert giveway.light_runs() == 2
    finally:
        release.set()
        other.join(10)
    assert giveway.light_runs() == 0


def test_a_heavy_run_alone_does_not_wait_and_is_not_counted_as_light():
    with giveway.page_run():
        assert giveway.light_runs() == 1
        giveway.mark_heavy()
        giveway.mark_heavy()  # twice: counted once
        assert giveway.light_runs() == 0
        assert giveway.give_way() == 0.0
    assert giveway.light_runs() == 0


def test_waits_are_bounded_per_call_and_per_run(monkeypatch):
    monkeypatch.setattr(giveway, "WAIT_S", 0.2)
    monkeypatch.setattr(giveway, "BUDGET_S", 0.5)
    started, release, ended = threading.Event(), threading.Event(), []
    stuck = threading.Thread(target=_light_run, args=(started, release, ended))
    stuck.start()
    assert started.wait(10)
    try:
        with giveway.page_run():
            giveway.mark_heavy()
            t0 = time.monotonic()
            waits = [giveway.give_way() for _ in range(6)]
            spent = time.monotonic() - t0
    finally:
        release.set()
        stuck.join(10)
    assert all(w <= 0.2 + 0.1 for w in waits[:2])
    assert sum(waits) == pytest.approx(0.5, abs=0.15)  # then the budget is spent
    assert waits[-1] == 0.0 and spent < 1.0


def test_a_run_that_raises_is_still_counted_out():
    # Streamlit stops and reruns a page by raising through it
    with pytest.raises(RuntimeError), giveway.page_run():
        assert giveway.light_runs() == 1
        raise RuntimeError("rerun")
    assert giveway.light_runs() == 0
    with pytest.raises(RuntimeError), giveway.page_run():
        giveway.mark_heavy()
        raise RuntimeError("rerun")
    assert giveway.light_runs() == 0


def test_a_run_inside_a_run_is_the_same_run():
    # the map fragment opens a run of its own, which inside the page is the page's
    with giveway.page_run():
        with giveway.page_run():
            assert giveway.light_runs() == 1
            giveway.mark_heavy()
        assert giveway.is_heavy()
        assert giveway.light_runs() == 0
    assert not giveway.is_heavy()


def test_the_page_on_a_heavy_table_gives_way_to_a_reader_in_progress(monkeypatch):
    """app.py wires it: with the threshold under the sample's size the page run is heavy,
    gives way at its steps while another reader's run is in progress (bounded: here it
    never ends, so every step waits its limit until the budget is spent) and still
    draws the whole page; the same page with no one else waits nowhere."""
    from streamlit.testing.v1 import AppTest

    from atlas.data import load_shipped
    from atlas.i18n import fmt_int

    app = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "app.py")
    sample = load_shipped().incidents
    monkeypatch.setattr(giveway, "HEAVY_ROWS", len(sample))
    monkeypatch.setattr(giveway, "WAIT_S", 0.1)
    monkeypatch.setattr(giveway, "BUDGET_S", 0.35)

    alone = AppTest.from_file(app, default_timeout=120)
    before = giveway.waits_so_far()
    alone.run()
    assert not alone.exception
    assert giveway.waits_so_far() == before  # no light run in progress: no wait

    started, release, ended = threading.Event(), threading.Event(), []
    other = threading.Thread(target=_light_run, args=(started, release, ended))
    other.start()
    assert started.wait(10)
    try:
        at = AppTest.from_file(app, default_timeout=120)
        before = giveway.waits_so_far()
        at.run()
    finally:
        release.set()
        other.join(10)
    assert not at.exception
    assert giveway.waits_so_far() - before >= 3  # 0.35 s of budget in 0.1 s waits
    assert fmt_int(len(sample), "en") in at.markdown[0].value  # the whole page was drawn
    assert giveway.light_runs() == 0


def test_a_heavy_run_also_waits_a_grace_after_a_light_run_ends(monkeypatch):
    """The quick run's page is still on its way when its run ends: the heavy run goes on
    GRACE_S later, and not at all while another light run starts in that time."""
    monkeypatch.setattr(giveway, "GRACE_S", 0.3)
    started, release, ended = threading.Event(), threading.Event(), []
    light = threading.Thread(target=_light_run, args=(started, release, ended))
    light.start()
    assert started.wait(10)
    resumed: list[float] = []

    def heavy() -> None:
        with giveway.page_run():
            giveway.mark_heavy()
            giveway.give_way()
            resumed.append(time.monotonic())

    h = threading.Thread(target=heavy)
    h.start()
    time.sleep(0.1)
    release.set()
    light.join(10)
    h.join(10)
    assert resumed[0] - ended[0] >= 0.3 - 0.02  # the grace, after the light run's end
    with giveway.page_run():  # no light run for a while now: a heavy run goes on at once
        time.sleep(0.35)
        giveway.mark_heavy()
        assert giveway.give_way() == 0.0
