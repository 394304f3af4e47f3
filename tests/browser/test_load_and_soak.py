"""On demand (``pytest --ondemand``): twenty readers at once with one loading a 1M-row
file, and one page soaked through 300 interactions. Figures go to BENCHMARKS.md
(*Reliability runs*); CI runs the ten-reader test in tests/browser/test_sessions.py.

Twenty readers: nineteen pages each open their own view (filters, half in Spanish) and
take turns changing the minimum-deaths box, one after another, timed until the page's
run ends: three passes with nothing else running (a reader's median there is its solo
time), then reader 0 (in a chromium of its own at the lowest CPU priority: on a
deployment its browser is its own machine) uploads a 1,000,000-row SYNTHETIC table and,
while its load runs,
the nineteen go on taking the same turns. Each reader's turns during the load (their
median) must stay within 2x its solo time, and no single turn beyond 2x its slowest
without the load (one turn alone against the median measures the machine's noise: the
same turns with nothing loading reach 1.5-2x their median here);
every page must show only its own counts; the server's RSS (process and children) must stay under MAX_SERVER_RSS;
the upload's bytes must not be found in any file written meanwhile under the temp
folder, the cache or the working tree, and the server must leave no new temp files.
A wait that fails names the reader, its view and what it waited for, and saves every
page's screenshot at that moment (bounded, before any cleanup) under the test's tmp_path.
``ATLAS_TEST_READERS`` and ``ATLAS_TEST_BIG_ROWS`` cut the run down (e.g. 3 readers,
200,000 rows) to prove the code path; the recorded run uses the defaults (20, 1,000,000).

Soak: one page, 300 interactions in a loop (minimum deaths, clusters layer, one-step
switch, language there and back, an export every 30th), RSS sampled after each; the
median over the last 50 must be within 10 % of the median over interactions 50-100,
and no error box may appear. The server's garbage collector is not forced (no endpoint
reaches it): the samples are plain RSS.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Error as PlaywrightError

from atlas.data import load_shipped
from atlas.i18n import fmt_int, t
from atlas.query import filter_incidents
from atlas.spec import MapSpec
from tests.chromium import CHROMIUM_ARGS

from .conftest import ROOT, SCREENSHOTS, open_page, wait_for_app, wait_for_counts
from .test_sessions import _rss

pytestmark = [pytest.mark.browser, pytest.mark.ondemand]

#: The 1M-row app process peaked at 1.67 GB in the memory benchmark (BENCHMARKS.md,
#: "memory: streamlit app process"); the ten-reader CI test bounds ten shipped-data
#: sessions at 2.5 GiB. Twenty sessions with one 1M-row upload (its raw bytes, the
#: parsed frame and the map's payload held once, in its own session; the 1M-row file is
#: read in a child process, counted here, that peaked at 1,477 MiB alone) get 4 GiB.
MAX_SERVER_RSS = 4 * 2**30
#: Readers (the loader included) and the loader's rows: 20 and 1,000,000 in the recorded
#: run; fewer through the environment only to prove the code path on a busy machine.
READERS = max(2, int(os.environ.get("ATLAS_TEST_READERS", "20")))
BIG_ROWS = int(os.environ.get("ATLAS_TEST_BIG_ROWS", "1000000"))
#: How long the others take turns after the big upload starts (it loads in ~20 s here).
TURNS_S = float(os.environ.get("ATLAS_TEST_TURNS_S", "60"))
MARKER = "SYNTHETIC-RELIABILITY-7f3c9a"
#: Passes of the readers' turns before the upload: each reader's time without the load
#: is the median of its turns there.
CONTROL_PASSES = 3


def _views(n: int = 19) -> list[dict[str, str]]:
    out = []
    for i in range(n):
        year = 2018 + i % 7
        view = {"date_from": f"{year}-01-01", "date_to": f"{year}-12-31"}
        if i >= 7:
            view["event_types"] = ("armed_clash", "riot,protest", "violence_against_civilians")[
                i % 3
            ]
        if i % 2:
            view["lang"] = "es"
        out.append(view)
    return out


def _expected(data, params: dict[str, str]) -> str:
    _, s = filter_incidents(data.incidents, MapSpec.from_query(params), data.regions)
    lang = params.get("lang", "en")
    return t("counts_no_region", lang, incidents=fmt_int(s.incidents, lang),
             deaths=fmt_int(s.deaths, lang))  # fmt: skip


def _big_csv(path: Path) -> Path:
    rng = np.random.default_rng(17)
    n = BIG_ROWS
    days = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")
    frame = pd.DataFrame({
        "id": [f"B{i}" for i in range(n)],
        "date": days.strftime("%Y-%m-%d"),
        "lat": rng.uniform(-13.5, -11.0, n).round(4),
        "lon": rng.uniform(-75.0, -73.0, n).round(4),
        "type": "armed_clash",
        "fatalities": rng.integers(0, 3, n),
        "notes": MARKER,
        "synthetic": "true",
    })  # fmt: skip
    frame.to_csv(path, index=False)
    return path


def page_runs(page) -> int:
    """The page's run counter; during a rerun two may be in the page for a moment."""
    counters = page.locator("#atlas-page-runs")
    counters.first.wait_for(state="attached")
    return max(int(v) for v in counters.evaluate_all("els => els.map(e => e.dataset.runs)"))


def _set_min_deaths(page, lang: str, value: int, timeout: float = 120_000) -> float:
    """Type a minimum-deaths value; seconds until the page's run has ended."""
    before = page_runs(page)
    started = time.monotonic()
    box = page.get_by_label(t("min_fatalities", lang), exact=True)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('#atlas-page-runs')]"
        ".some(e => Number(e.dataset.runs) > n)",
        arg=before,
        timeout=timeout,
    )
    return time.monotonic() - started


def _files_since(folders: list[Path], since: float) -> list[Path]:
    found = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for root, _dirs, names in os.walk(folder):
            for name in names:
                p = Path(root) / name
                try:
                    if p.is_file() and p.stat().st_mtime >= since:
                        found.append(p)
                except OSError:
                    continue
    return found


def _holds(path: Path, needle: bytes) -> bool:
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 22):
                if needle in block:
                    return True
    except OSError:
        return False
    return False


def _shoot_all(everyone: list, folder: Path, budget: float = 90.0) -> list[str]:
    """Screenshots of every page now (each bounded, all within ``budget`` seconds), so a
    failure shows what each reader saw at that moment; taken before any cleanup."""
    folder.mkdir(parents=True, exist_ok=True)
    deadline, saved = time.monotonic() + budget, []
    for i, bp in enumerate(everyone):
        left = deadline - time.monotonic()
        if left <= 1:
            break
        path = folder / f"reader_{i:02d}.png"
        try:
            bp.page.screenshot(path=str(path), timeout=min(15_000, left * 1000))
            saved.append(path.name)
        except PlaywrightError:
            continue
    return saved


def _step(everyone: list, shots: Path, who: str, what: str, action):
    """Run one wait; if it fails, fail naming the reader, its view and what it waited
    for, with the screenshots of every page taken at that moment."""
    try:
        return action()
    except (PlaywrightError, pytest.fail.Exception) as exc:
        saved = _shoot_all(everyone, shots)
        detail = str(exc).strip().splitlines()[0][:600] if str(exc).strip() else type(exc).__name__
        pytest.fail(f"{who}: {what} did not happen: {detail}\nscreenshots of every page at "
                    f"that moment ({len(saved)} of {len(everyone)}): {shots}")  # fmt: skip


#: In the page: the first number of the counts line ("199,814 incidents, ..."), or -1.
_COUNTED = """() => { const h = document.querySelector('[data-testid=stMain] h4');
  const m = h && h.innerText.match(/^[\\d,.\\s\u00a0]+/);
  return m ? Number(m[0].replace(/\\D/g, '')) : -1; }"""


def _big_loaded(page) -> bool:
    """Whether the loader's counts line already counts its big file (the shipped data
    holds a few thousand incidents); no waiting: during a rerun the line may be missing,
    and a locator would wait for it."""
    try:
        return page.evaluate(_COUNTED) >= BIG_ROWS // 2
    except PlaywrightError:  # the page is navigating or rerunning: not loaded yet
        return False


def _big_phrase(big: pd.DataFrame, url: str) -> str:
    """The loader's counts line for its file under the dates its URL carries (after an
    upload a page that showed the whole period shows the file's; a range the reader
    narrowed is kept, and then the file is not counted whole)."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    keep = pd.Series(True, index=big.index)
    if "date_from" in query:
        keep &= big["date"] >= query["date_from"][-1]
    if "date_to" in query:
        keep &= big["date"] <= query["date_to"][-1]
    return (f"{fmt_int(int(keep.sum()), 'en')} incidents, "
            f"{fmt_int(int(big.loc[keep, 'fatalities'].sum()), 'en')} deaths")  # fmt: skip


def _chromium_sessions() -> set[int]:
    """Process ids of the chromium browser processes running now (each leads a session)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            pid = int(entry.name)
            if b"chrom" in argv[0] and not any(a.startswith(b"--type=") for a in argv):
                if os.getsid(pid) == pid:
                    found.add(pid)
        except (OSError, ValueError):
            continue
    return found


def _loader_browser(browser, chromium_path: str):
    """A chromium of the loader's own, at the lowest CPU priority.

    On a deployment the reader who loads a million rows does so from their own machine;
    here every page shares two cores, and the loader's browser work is not the server's
    load: sending the 80 MB file cost its page's renderer ~0.8 s of CPU more than a small
    file (measured from /proc), and drawing its first page of the file is a page like the
    others'. In the readers' chromium that work was charged to their turns. Each chromium
    leads a session of its own, and the kernel here shares the CPU between sessions
    (``/proc/sys/kernel/sched_autogroup_enabled``); chromium sets its processes'
    niceness itself. So the loader's chromium gets the session niceness 19, as the
    server's reading process does (atlas.upload_worker._background): it takes the cores
    the others leave, from the upload to its counts (:func:`_niceness`; not while the
    twenty pages open: starved then, its page lost its server connection). The server,
    its reading process and the others' pages are measured as before. Returns the
    browser and its sessions' process ids."""
    before = _chromium_sessions()
    loader = browser.browser_type.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    return loader, sorted(_chromium_sessions() - before)


def _niceness(sessions: list[int], value: int) -> None:
    """Set the scheduling niceness of the sessions led by ``sessions`` (best effort)."""
    for pid in sessions:
        try:
            Path(f"/proc/{pid}/autogroup").write_text(str(value))
        except OSError:
            pass


def test_twenty_readers_one_loading_a_million_rows(browser, chromium_path, app_server, tmp_path):
    """READERS pages (default 20; ``ATLAS_TEST_READERS=3`` and ``ATLAS_TEST_BIG_ROWS`` for
    a cut-down run of the same code path). Timeouts only bound a hang (2-core machine,
    20 sessions): the slowdown is measured by the 2x assertion, not by them. The loader's
    page is in a chromium of its own (:func:`_loader_browser`)."""
    data = load_shipped()
    views = _views(READERS - 1)
    expected = [_expected(data, v) for v in views]
    big = _big_csv(tmp_path / "million.csv")
    shots = tmp_path / "screens"
    started_wall = time.time()
    temp_before = set(Path(tempfile.gettempdir()).iterdir())
    peak = _rss(app_server.pid)

    loader_browser, loader_sessions = _loader_browser(browser, chromium_path)
    loader = open_page(loader_browser, viewport={"width": 1400, "height": 1000})
    pages = [open_page(browser, viewport={"width": 1100, "height": 800}) for _ in views]
    everyone = [loader, *pages]
    for bp in everyone:
        bp.page.set_default_timeout(120_000)
    who = [f"reader {i} ({urllib.parse.urlencode(v)})" for i, v in enumerate(views, start=1)]
    lpage = loader.page
    try:
        lpage.goto(app_server.url + "/", wait_until="domcontentloaded", timeout=300_000)
        for bp, view in zip(pages, views, strict=True):
            bp.page.goto(f"{app_server.url}/?{urllib.parse.urlencode(view)}",
                         wait_until="commit", timeout=300_000)  # fmt: skip
        _step(everyone, shots, "reader 0 (the loader, shipped data)", "its first page",
              lambda: wait_for_app(lpage, timeout=600_000))  # fmt: skip
        for name, bp, phrase in zip(who, pages, expected, strict=True):
            _step(everyone, shots, name, f"its first counts line {phrase!r}",
                  lambda bp=bp, phrase=phrase: wait_for_counts(bp.page, phrase, timeout=600_000))  # fmt: skip
            peak = max(peak, _rss(app_server.pid))

        # each reader's time without the load: a warm-up change (its first rerun, while
        # other pages may still be drawing their maps in the same browser), then
        # CONTROL_PASSES passes of the very turns taken during the load (the readers one
        # after another, minimum deaths 2 <-> 0), with no upload running; a reader's
        # "solo" time is the median of its turns there. Timed alone instead, with the
        # browser otherwise idle, turns were faster than in the same loop after the load
        # had ended (medians 0.40 s and 0.52 s in one run, up to 2x for single turns: each
        # page's turn meets the previous page's map still drawing in the shared browser),
        # and that gap is not the load's doing.
        for name, bp, view in zip(who, pages, views, strict=True):
            lang = view.get("lang", "en")
            _step(everyone, shots, name, "the end of its run after minimum deaths 1 (warm-up)",
                  lambda bp=bp, lang=lang: _set_min_deaths(bp.page, lang, 1, 300_000))  # fmt: skip
        value = [1] * len(pages)
        control: list[list[float]] = [[] for _ in pages]

        def take_turn(k: int, when: str) -> float:
            lang = views[k].get("lang", "en")
            value[k] = 0 if value[k] == 2 else 2
            return _step(everyone, shots, who[k], f"the end of its run after minimum deaths "
                         f"{value[k]} ({when})",
                         lambda: _set_min_deaths(pages[k].page, lang, value[k], 600_000))  # fmt: skip

        for _ in range(CONTROL_PASSES):
            for k in range(len(pages)):
                control[k].append(take_turn(k, "before the load"))
            peak = max(peak, _rss(app_server.pid))
        solo = [statistics.median(times) for times in control]
        # the noise floor: the same turns with nothing loading, against their own medians
        quiet = [x / solo[k] for k, times in enumerate(control) for x in times]

        # reader 0 starts the big upload; the others interact while it loads
        panel = lpage.locator("[data-testid=stExpander]").filter(has_text=t("upload_title", "en"))
        use = panel.get_by_role("button", name=t("use_data", "en"))

        def start_upload() -> None:
            lpage.get_by_text(t("upload_title", "en")).scroll_into_view_if_needed()
            lpage.get_by_text(t("upload_title", "en")).click()
            panel.locator("input[type=file]").wait_for(state="attached", timeout=120_000)
            # the loader's page notes when "use this data" appears (the file read and
            # checked) and when its counts count the file; asking it from here would wait
            # on its page while it is busy
            lpage.evaluate(f"""() => {{ window.__parsedAt = 0; window.__bigAt = 0;
              const id = setInterval(() => {{
                const b = [...document.querySelectorAll('button')].some(
                  e => e.innerText.trim() === {json.dumps(t("use_data", "en"))});
                if (b && !window.__parsedAt) window.__parsedAt = Date.now();
                if (({_COUNTED})() >= {BIG_ROWS // 2}) {{
                  window.__bigAt = Date.now(); clearInterval(id); }} }}, 100); }}""")
            # sending the file returns at once; the server reads it in the page's next run
            panel.locator("input[type=file]").set_input_files(str(big), timeout=600_000)

        _niceness(loader_sessions, 19)  # the loader's own browser work: see _loader_browser
        load_started, load_started_wall = time.monotonic(), time.time()
        _step(everyone, shots, "reader 0 (the loader)", f"the upload of {BIG_ROWS:,} rows",
              start_upload)  # fmt: skip
        # the others take turns (minimum deaths 2 <-> 0) while the file is read and the
        # loader's first page of it is drawn (~20 s for 1M rows here; a turn ~1 s, so one
        # pass over 19 readers would leave most of them after it); the loader presses "use
        # this data" as soon as it shows. Turns started before its counts arrive are
        # "during the load".
        turns: list[tuple[int, float, float]] = []  # (reader, started epoch s, seconds)
        turn, used, used_at = 0, False, float("nan")
        while time.monotonic() - load_started < TURNS_S:
            if not used and lpage.evaluate("() => window.__parsedAt") > 0:
                _step(everyone, shots, "reader 0 (the loader)", "its 'use this data' click",
                      lambda: use.click(timeout=600_000))  # fmt: skip
                used, used_at = True, time.time()
            k = turn % len(pages)
            began = time.time()
            turns.append((k, began, take_turn(k, "during the big load")))
            turn += 1
            peak = max(peak, _rss(app_server.pid))
        for k, bp in enumerate(pages):  # every page back to its own view (minimum deaths 0)
            if value[k] != 0:
                lang = views[k].get("lang", "en")
                _step(everyone, shots, who[k], "the end of its run after minimum deaths 0",
                      lambda bp=bp, lang=lang: _set_min_deaths(bp.page, lang, 0, 600_000))  # fmt: skip
        if not used:
            _step(everyone, shots, "reader 0 (the loader)", "its 'use this data' click",
                  lambda: use.click(timeout=1_800_000))  # fmt: skip
            used_at = time.time()
        _step(everyone, shots, "reader 0 (the loader)", f"counts of its {BIG_ROWS:,} rows",
              lambda: lpage.wait_for_function(f"() => ({_COUNTED})() >= {BIG_ROWS // 2}",
                                              timeout=1_800_000))  # fmt: skip
        _niceness(loader_sessions, 0)
        big_at = lpage.evaluate("() => window.__bigAt") / 1000.0 or time.time()
        load_seconds = big_at - load_started_wall
        during = [(k, began, secs) for k, began, secs in turns if began < big_at]
        parsed_s = lpage.evaluate("() => window.__parsedAt") / 1000.0 - load_started_wall
        big_frame = pd.read_csv(big, usecols=["date", "fatalities"], dtype={"date": str})
        big_phrase = _big_phrase(big_frame, lpage.url)
        _step(everyone, shots, "reader 0 (the loader)", f"its counts line {big_phrase!r}",
              lambda: wait_for_counts(lpage, big_phrase, timeout=300_000))  # fmt: skip
        peak = max(peak, _rss(app_server.pid))

        # each page still shows its own view (min deaths back to 0), the loader its file
        for name, bp, phrase in zip(who, pages, expected, strict=True):
            _step(everyone, shots, name, f"its own counts line {phrase!r} after the load",
                  lambda bp=bp, phrase=phrase: wait_for_counts(bp.page, phrase, timeout=300_000))  # fmt: skip
            assert bp.dialogs == [] and bp.errors == [], (name, bp.dialogs, bp.errors)
        assert big_phrase in lpage.evaluate(
            "() => document.querySelector('[data-testid=stMain] h4').innerText"
        ), "reader 0 no longer shows its own file's counts"
    finally:
        for bp in everyone:
            try:
                bp.page.context.close()
            except PlaywrightError:
                pass
        loader_browser.close()

    ratios = [secs / solo[k] for k, _began, secs in during]
    # Without any load a single turn here already reaches 1.5-2x its reader's median (the
    # noise floor printed below: twenty pages and the server on two cores), so one turn
    # against the median measures that noise as much as the load. Two checks instead:
    # each reader's turns during the load, taken together (their median), within 2x its
    # solo time; and no single turn beyond 2x the reader's slowest turn without the load.
    mine: dict[int, list[float]] = {}
    for k, _began, secs in during:
        mine.setdefault(k, []).append(secs)
    typical = {k: statistics.median(v) / solo[k] for k, v in mine.items()}
    slowest = [max(times) for times in control]
    beyond = [secs / slowest[k] for k, _began, secs in during]
    table = "; ".join(f"{k + 1} at +{began - load_started_wall:.1f} s: {secs:.2f} s during the "
                      f"load vs {solo[k]:.2f} s without" for k, began, secs in during)  # fmt: skip
    print(
        f"{READERS} readers: interaction without the load median {statistics.median(solo):.2f} s "
        f"(readers' medians {min(solo):.2f}-{max(solo):.2f}); during the {BIG_ROWS:,}-row load ({load_seconds:.0f} s; "
        f"the file read and checked at +{parsed_s:.1f} s, put in use at "
        f"+{used_at - load_started_wall:.1f} s) "
        f"{len(during)} interactions, median "
        f"{statistics.median([s for *_, s in during]) if during else float('nan'):.2f} s, "
        f"ratios median {statistics.median(ratios) if ratios else float('nan'):.2f} "
        f"max {max(ratios) if ratios else float('nan'):.2f}; a reader's turns together "
        f"(median) max {max(typical.values()) if typical else float('nan'):.2f}x its solo "
        f"time; a turn against its reader's slowest without the load max "
        f"{max(beyond) if beyond else float('nan'):.2f}; server peak RSS "
        f"{peak / 2**20:,.0f} MiB; without the load, turns against their reader's median: "
        f"max {max(quiet):.2f}; interactions: {table}"
    )
    assert len(ratios) >= min(5, len(views)), (
        f"the big load ended before the others could interact: {table}"
    )
    assert max(typical.values()) <= 2.0, (
        f"a reader's turns during the load took over 2x its solo time: {typical}; {table}"
    )
    assert max(beyond) <= 2.0, (
        f"a turn during the load took over 2x its reader's slowest without it: {table}"
    )
    assert peak < MAX_SERVER_RSS, f"server RSS peaked at {peak / 2**20:,.0f} MiB"

    # the upload was never written where another session could read it, nor left behind
    folders = [Path(tempfile.gettempdir()), ROOT, Path.home() / ".cache" / "conflict-atlas"]
    written = [p for p in _files_since(folders, started_wall)
               if tmp_path not in p.parents and "artifacts" not in p.parts]  # fmt: skip
    leaks = [p for p in written if p.stat().st_size > 1000 and _holds(p, MARKER.encode())]
    assert leaks == [], leaks
    server_tmp = [p for p in set(Path(tempfile.gettempdir()).iterdir()) - temp_before
                  if p.exists() and str(app_server.pid) in p.name]  # fmt: skip
    assert server_tmp == [], server_tmp


def test_soak_three_hundred_interactions(browser, app_server):
    bp = open_page(browser, viewport={"width": 1400, "height": 1000})
    page = bp.page
    rss: list[int] = []
    lang, deaths = "en", 0
    started = time.monotonic()
    try:
        page.goto(app_server.url + "/", wait_until="domcontentloaded")
        wait_for_app(page)
        for i in range(300):
            kind = i % 6
            before = page_runs(page)
            if kind in (0, 3):  # always a new value, so the page reruns
                deaths = deaths % 3 + 1
                box = page.get_by_label(t("min_fatalities", lang), exact=True)
                box.fill(str(deaths))
                box.press("Enter")
            elif kind == 1:
                page.locator("[data-testid=stSidebar]").get_by_text(
                    t("layer_clusters", lang), exact=True).click()  # fmt: skip
            elif kind == 2:
                page.locator("[data-testid=stMain]").get_by_text(
                    t("step_on", lang), exact=True).click()  # fmt: skip
            elif kind == 4:
                lang = "es" if lang == "en" else "en"
                name = "Español" if lang == "es" else "English"
                page.locator("[data-testid=stSidebar] label").filter(has_text=name).click()
            else:
                if i % 30 == 5:
                    button = page.get_by_role("button", name=t("export_button", lang))
                    if not button.is_visible():
                        page.get_by_text(t("export_title", lang)).click()
                    button.click()
                    page.get_by_role("button", name="PNG", exact=False).last.wait_for(
                        timeout=120_000
                    )
                else:
                    deaths = 0
                    box = page.get_by_label(t("min_fatalities", lang), exact=True)
                    box.fill("0")
                    box.press("Enter")
            page.wait_for_function(
                "(n) => [...document.querySelectorAll('#atlas-page-runs')]"
                ".some(e => Number(e.dataset.runs) > n)",
                arg=before,
                timeout=120_000,
            )
            assert page.locator("[data-testid=stException]").count() == 0, i
            rss.append(_rss(app_server.pid))
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "test_soak.png"), full_page=True)
        page.context.close()
    early = statistics.median(rss[50:100])
    late = statistics.median(rss[-50:])
    print(
        f"soak: 300 interactions in {time.monotonic() - started:.0f} s; median server RSS "
        f"{early / 2**20:,.0f} MiB over 50-100, {late / 2**20:,.0f} MiB over the last 50 "
        f"({(late / early - 1) * 100:+.1f} %); max {max(rss) / 2**20:,.0f} MiB"
    )
    assert bp.errors == [] and bp.dialogs == [], (bp.errors, bp.dialogs)
    assert late <= early * 1.10, (early, late)
