"""Dashboard benchmark: the running app in Debian's chromium, click to settled map.

Starts ``streamlit run app.py`` (on the shipped sample, then with
``CONFLICT_ATLAS_INCIDENTS`` pointing at a synthetic ACLED-shaped CSV) and times what a
reporter feels: the first map (cold: the first page after the server started; warm: a
new page later), a filter change ("Minimum deaths" typed, Enter), a layer toggle (heat
map on/off), each until the counts line and the map agree with what the filter should
show and Leaflet has settled, and the time player's frame rate.

Every figure is the page's own clock (``performance.now()`` in the top page, polled
every :data:`POLL_MS`), so it includes the server's rerun, the websocket, Streamlit's
redraw and Leaflet's drawing. Requests outside 127.0.0.1 are aborted and counted.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.core import CHROMIUM_ARGS, ROOT, Recorder, Result, wait_for_health
from bench.data import acled_frame

GROUP = "dashboard"
#: The st_folium component iframe (tests/browser/conftest.py MAP_IFRAME).
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
POLL_MS = 50
VIEWPORT = {"width": 1440, "height": 900}
SERVER_START_S = 90.0
#: After a JavaScript error in the page, how long the map may still take to come right.
ERROR_GRACE_S = 10.0
#: Result names, in table order, with their goals per dataset kind (seconds, or frames/s).
NAMES = ("first map (cold)", "first map (warm)", "filter change", "layer toggle", "play")
GOALS: dict[tuple[str, str], float] = {
    ("first map (warm)", "sample"): 3.0,
    ("first map (warm)", "synthetic"): 3.0,
    ("filter change", "sample"): 1.0,
    ("filter change", "synthetic"): 2.0,
    ("layer toggle", "sample"): 1.0,
    ("play", "sample"): 2.0,
    ("play", "synthetic"): 2.0,
}

#: Run in the top page: what Leaflet drew in the one map iframe (same origin), counted as
#: tests/browser/conftest.py LEAFLET_PROBE does (circles + clustered markers, settled),
#: plus heat layers, the counts line and a mark left in the iframe's window. null while
#: there is not exactly one map iframe with a Leaflet map in it.
_PROBE = f"""() => {{
  const frames = document.querySelectorAll({MAP_IFRAME!r});
  if (frames.length !== 1) return null;
  let win = null;
  try {{ win = frames[0].contentWindow; }} catch (e) {{ return null; }}
  if (!win || !win.L || !win.document) return null;
  const L = win.L;
  let maps = win.__benchMaps;
  if (!maps || !maps.length) {{
    maps = [];
    for (const k of Object.keys(win)) {{
      try {{ if (win[k] instanceof L.Map && !maps.includes(win[k])) maps.push(win[k]); }}
      catch (e) {{ /* a getter that throws */ }}
    }}
    if (!maps.length) return null;
    win.__benchMaps = maps;
  }}
  const s = {{circles: 0, clustered: 0, heat: 0, hexagons: 0, hexcount: 0,
             mark: win.__benchMark || null}};
  for (const m of maps) {{
    m.eachLayer(l => {{
      // a clustered marker shown on its own is on the map too: count it once, clustered
      if (l instanceof L.CircleMarker && !l.__parent) s.circles += 1;
      if (L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup) {{
        s.clustered += l.getLayers().length;
      }}
      if (L.HeatLayer && l instanceof L.HeatLayer) s.heat += 1;
      if (l.atlasCount) {{ s.hexagons += 1; s.hexcount += l.atlasCount; }}
    }});
  }}
  s.settled = maps.every(m => !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress))
    && !win.document.querySelector('.leaflet-zoom-anim');
  const h = document.querySelector('[data-testid=stMain] h4');
  s.counts = h ? h.innerText : '';
  s.player = !!win.document.querySelector('.atlas-player');
  return s;
}}"""

#: Polled in the top page: performance.now() once the map shows ``want`` (else false).
_WAIT = f"""(want) => {{
  const s = ({_PROBE})();
  if (!s || !s.settled) return false;
  // markers null: the view decides points or hexagons (layers/hexbins.py); any drawn
  if (want.markers !== null && s.circles + s.clustered !== want.markers) return false;
  if (want.markers === null && s.circles + s.clustered + s.hexagons === 0) return false;
  if (want.counts !== null && !s.counts.includes(want.counts)) return false;
  if (want.heat !== null && (s.heat > 0) !== want.heat) return false;
  if (want.player && !s.player) return false;
  return {{t: performance.now(), same: want.mark === null || s.mark === want.mark,
           circles: s.circles, clustered: s.clustered, heat: s.heat, hexagons: s.hexagons,
           hexcount: s.hexcount}};
}}"""

#: In the map iframe: record each frame the time player draws (its ``data-step``).
_RECORD_FRAMES = """() => {
  const box = document.querySelector('.atlas-player');
  window.__benchFrames = [];
  new MutationObserver(() => window.__benchFrames.push(
      {step: Number(box.dataset.step), t: performance.now()}))
    .observe(box, {attributes: true, attributeFilter: ['data-step']});
  return box.dataset.path || '';
}"""


# ---- the app server -----------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def app_server(incidents: Path | None, log: Path) -> Iterator[str]:
    """``streamlit run app.py`` on a free local port (on ``incidents`` when given); its URL.

    The server is started in its own session and stopped (terminate, then kill) on exit.
    """
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("CONFLICT_ATLAS_INCIDENTS", None)
    if incidents is not None:
        env["CONFLICT_ATLAS_INCIDENTS"] = str(incidents)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false"]  # fmt: skip
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_health(url, SERVER_START_S, proc=proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc} (log {log})") from None
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _local_only(url: str) -> bool:
    return url.startswith(("data:", "blob:", "about:", "http://127.0.0.1:", "ws://127.0.0.1:"))


# ---- expected figures -----------------------------------------------------------------------
def _expected(data: Any, min_fatalities: int) -> tuple[int | None, str]:
    """(markers the map must draw, the counts phrase) for the default view + a minimum.
    Markers None above atlas.aggregate.POINTS_MAX incidents: the reader's view decides
    between points of its area and hexagons, so the map must show some of either."""
    from atlas.aggregate import POINTS_MAX
    from atlas.i18n import fmt_int
    from atlas.query import filter_incidents
    from atlas.spec import MapSpec

    drawn, s = filter_incidents(data.incidents, MapSpec(min_fatalities=min_fatalities),
                                data.regions)  # fmt: skip
    phrase = (
        f"{fmt_int(s.incidents, 'en')} incidents, {fmt_int(s.deaths, 'en')} deaths "
        f"(best estimate), {fmt_int(s.inside_region, 'en')} inside the"
    )
    return (len(drawn) if len(drawn) <= POINTS_MAX else None), phrase


class _Session:
    """One chromium page on the app, requests outside 127.0.0.1 aborted and counted."""

    def __init__(self, browser: Any, url: str, blocked: list[str]) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)

        def route(r: Any) -> None:
            if _local_only(r.request.url):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.errors: list[str] = []
        self.stacks: list[str] = []
        self.page.on("pageerror", self._on_error)
        self.url = url

    def _on_error(self, exc: Any) -> None:
        self.errors.append(str(exc))
        self.stacks.append((getattr(exc, "stack", "") or "")[:300])

    def wait(self, markers: int | None, *, counts: str | None = None, heat: bool | None = None,
             mark: str | None = None, player: bool = False, timeout_s: float = 120.0,
             errors_from: int = 0) -> dict[str, Any]:  # fmt: skip
        """Poll until the map shows ``markers`` (and the rest); the page's clock then.

        Gives up (RuntimeError, saying what the map shows) after ``timeout_s``, or
        :data:`ERROR_GRACE_S` after the page raised a JavaScript error (counted from
        ``errors_from``): a broken map does not cost the whole timeout.
        """
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        want = {"markers": markers, "counts": counts, "heat": heat, "mark": mark,
                "player": player}  # fmt: skip
        deadline = time.monotonic() + timeout_s
        error_seen: float | None = None
        while True:
            try:
                handle = self.page.wait_for_function(_WAIT, arg=want, polling=POLL_MS,
                                                     timeout=1000)  # fmt: skip
                return handle.json_value()
            except PlaywrightTimeout:
                pass
            now = time.monotonic()
            if error_seen is None and len(self.errors) > errors_from:
                error_seen = now
            late = error_seen is not None and now - error_seen > ERROR_GRACE_S
            if now > deadline or late:
                shown = self.page.evaluate(_PROBE) or {}
                shown = {k: v for k, v in shown.items()
                         if k in ("circles", "clustered", "heat", "hexagons")}  # fmt: skip
                why = (f"the page raised {self.errors[errors_from]!r}" if late
                       else f"not within {timeout_s:.0f} s")  # fmt: skip
                wanted = (f"{markers:,} markers" if markers is not None
                          else "incidents (points or hexagons)")  # fmt: skip
                wanted += f", counts {counts!r}" if counts else ""
                if heat is not None:
                    wanted += ", the heat layer " + ("on" if heat else "off")
                raise RuntimeError(f"the map never showed {wanted} ({why}); it shows {shown}")

    def now(self) -> float:
        return float(self.page.evaluate("() => performance.now()"))

    def set_mark(self, mark: str) -> None:
        """Leave a mark in the map iframe's window: a remounted iframe loses it."""
        self.page.evaluate(
            f"(m) => {{ document.querySelector({MAP_IFRAME!r}).contentWindow.__benchMark = m; }}",
            mark,
        )

    def close(self) -> None:
        self.context.close()


# ---- one dataset ----------------------------------------------------------------------------
def _rows(
    rec: Recorder, browser: Any, url: str, data: Any, n: int, impl: str, play_s: float
) -> list[str]:
    """Every dashboard measurement on one running app; returns the requests it blocked."""
    from playwright.sync_api import Error as PlaywrightError

    from atlas.i18n import t

    plan = rec.plan
    blocked: list[str] = []
    markers0, counts0 = _expected(data, 0)
    markers1, counts1 = _expected(data, 1)
    common = {"incidents": n, "markers_expected": markers0}
    name_of = {name: f"{impl} {n:,} {name}" for name in NAMES}

    def result(name: str) -> Result:
        res = Result(GROUP, name, n, impl)
        res.extra["load_avg_1m"] = round(os.getloadavg()[0], 2)
        res.extra.update(common)
        return res

    def failed(res: Result, exc: BaseException, session: _Session | None) -> None:
        res.status = "error"
        text = str(exc).splitlines()[0] if str(exc) else ""
        res.note = f"{name_of[res.name]}: {type(exc).__name__}: {text}"[:400]
        if session is not None and session.errors:
            res.extra["page_errors"] = sorted(set(session.errors))[:5]
            res.extra["page_error_stacks"] = list(dict.fromkeys(session.stacks))[:3]
        rec.add(res)

    # 1. first map: navigation start to the map settled with every incident drawn
    session: _Session | None = None
    for name, loads in (("first map (cold)", 1), ("first map (warm)", plan.repeats)):
        res = result(name)
        try:
            for _ in range(loads):
                if session is not None:
                    session.close()
                session = _Session(browser, url, blocked)
                session.page.goto(url + "/", wait_until="commit")
                got = session.wait(markers0, timeout_s=600.0)
                res.runs_s.append(got["t"] / 1000.0)
        except (PlaywrightError, RuntimeError) as exc:
            failed(res, exc, session)
            continue
        res.note = "navigation start to the map iframe settled with every incident drawn"
        rec.add(res)
    assert session is not None
    page = session.page

    # 2. filter change: type the minimum deaths, Enter, until counts and map agree
    res = result("filter change")
    try:
        session.wait(markers0, counts=counts0, timeout_s=120.0, errors_from=len(session.errors))
        session.set_mark("filter")
        box = page.get_by_label(t("min_fatalities", "en"), exact=True)
        same = True
        for i in range(2 * plan.repeats):
            value, markers, counts = (
                (1, markers1, counts1) if i % 2 == 0 else (0, markers0, counts0)
            )
            box.fill(str(value))
            since = len(session.errors)
            t0 = session.now()
            box.press("Enter")
            got = session.wait(
                markers, counts=counts, mark="filter", timeout_s=120.0, errors_from=since
            )
            res.runs_s.append((got["t"] - t0) / 1000.0)
            same = same and got["same"]
        res.extra.update(same_iframe=same, markers_min1=markers1)
        res.note = "'Minimum deaths' 1 <-> 0 + Enter, to counts line and map settled"
        if not same:
            res.note += "; the map iframe was REMOUNTED (the view is lost)"
        rec.add(res)
    except (PlaywrightError, RuntimeError) as exc:
        failed(res, exc, session)

    # 3. layer toggle: the heat map on, then off
    res = result("layer toggle")
    try:
        session.set_mark("layer")
        label = page.get_by_text(t("layer_heat", "en"), exact=True)
        same = True
        for i in range(2 * plan.repeats):
            since = len(session.errors)
            t0 = session.now()
            label.click()
            got = session.wait(markers0, counts=counts0, heat=(i % 2 == 0), mark="layer",
                               timeout_s=120.0, errors_from=since)  # fmt: skip
            res.runs_s.append((got["t"] - t0) / 1000.0)
            same = same and got["same"]
        res.extra["same_iframe"] = same
        res.note = "'Heat map' on <-> off, to map settled with the heat layer shown / gone"
        if not same:
            res.note += "; the map iframe was REMOUNTED (the view is lost)"
        rec.add(res)
    except (PlaywrightError, RuntimeError) as exc:
        failed(res, exc, session)
    session.close()

    # 4. play (a new page): the step switch on, Play, data-step changes per second
    res = result("play")
    session = _Session(browser, url, blocked)
    page = session.page
    try:
        page.goto(url + "/", wait_until="commit")
        session.wait(markers0, timeout_s=600.0)
        page.get_by_text(t("step_on", "en"), exact=True).click()
        frame = page.wait_for_selector(MAP_IFRAME).content_frame()
        frame.wait_for_selector(".atlas-player", timeout=120_000)
        page.wait_for_timeout(1000)  # the chunked cluster group finishes loading
        path = frame.evaluate(_RECORD_FRAMES)
        frame.get_by_role("button", name=t("player_play", "en"), exact=True).click()
        page.wait_for_timeout(play_s * 1000)
        frames = frame.evaluate("() => window.__benchFrames")
        pause = frame.get_by_role("button", name=t("player_pause", "en"), exact=True)
        if pause.count():
            pause.click()
        if len(frames) < 2:
            raise RuntimeError(f"the player drew {len(frames)} frame(s) in {play_s:.0f} s")
        span = (frames[-1]["t"] - frames[0]["t"]) / 1000.0
        gaps = [(b["t"] - a["t"]) / 1000.0 for a, b in zip(frames, frames[1:], strict=False)]
        res.runs_s = [span / (len(frames) - 1)]  # seconds per frame
        steps = [f["step"] for f in frames]
        res.extra.update(
            fps=round((len(frames) - 1) / span, 2),
            frames=len(frames),
            window_s=play_s,
            path=path,
            worst_gap_s=round(max(gaps), 3),
            median_gap_s=round(statistics.median(gaps), 3),
            steps_in_order=steps == list(range(steps[0], steps[0] + len(steps))),
        )
        res.note = f"the map's player, Play, data-step changes over {play_s:.0f} s"
        rec.add(res)
    except (PlaywrightError, RuntimeError) as exc:
        failed(res, exc, session)
    session.close()
    return blocked


def bench_dashboard(rec: Recorder, workdir: Path) -> None:
    """The app in chromium on the shipped sample and on each of the plan's synthetic sizes."""
    plan = rec.plan
    chromium = shutil.which("chromium")
    if chromium is None:
        for name in NAMES:
            rec.skip(GROUP, name, 0, "sample", "skipped", "chromium not installed")
        return
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        for name in NAMES:
            rec.skip(GROUP, name, 0, "sample", "skipped", "playwright not installed")
        return
    from atlas.data import load_bundle, load_shipped

    cases: list[tuple[str, Path | None]] = [("sample", None)]
    for n in plan.dashboard_sizes:
        path = workdir / f"acled_dashboard_{n}.csv"
        acled_frame(n).to_csv(path, index=False)
        cases.append(("synthetic", path))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for impl, path in cases:
                data = load_shipped() if path is None else load_bundle(
                    incidents=[path], use_cache=False)  # fmt: skip
                n = len(data.incidents)
                log = workdir / f"streamlit-{impl}-{n}.log"
                try:
                    with app_server(path, log) as url:
                        blocked = _rows(rec, browser, url, data, n, impl, plan.dashboard_play_s)
                except (OSError, RuntimeError, PlaywrightError) as exc:
                    for name in NAMES:
                        if rec.get(GROUP, name, n, impl) is None:
                            rec.skip(GROUP, name, n, impl, "error",
                                     f"app not measured: {type(exc).__name__}: {exc}"[:400])  # fmt: skip
                    continue
                if blocked and rec.results:
                    rec.results[-1].extra["blocked_requests"] = len(blocked)
        finally:
            browser.close()


# ---- server time (no browser): streamlit's AppTest runs the page in this process ---------
SERVER_NAMES = ("server: start (load + first page)", "server: first page (new session)",
                "server: filter change")  # fmt: skip
SERVER_GOALS: dict[str, float] = {
    "server: first page (new session)": 5.0,
    "server: filter change": 1.5,
}


def _map_args(at: Any) -> str:
    comps = list(at.get("component_instance"))
    return comps[0].proto.json_args if comps else ""


def bench_server(rec: Recorder, workdir: Path) -> None:
    """Server time of the page on ``plan.server_n`` synthetic ACLED rows (bench/data.py):
    the first run after start (the CSV read, the bundle cached for every session), a new
    session's first page (the bundle shared: st.cache_resource), and a filter change
    ('Minimum deaths' 1 <-> 0). AppTest runs the script as the server does, without the
    websocket and the browser; the map's own payload size is recorded with each page."""
    n = rec.plan.server_n
    if not n:
        for name in SERVER_NAMES:
            rec.skip(GROUP, name, 0, "server", "skipped", "not in this plan")
        return
    from streamlit.testing.v1 import AppTest

    from atlas.ui_state import K, widget_key

    path = workdir / f"acled_dashboard_{n}.csv"
    if not path.exists():
        acled_frame(n).to_csv(path, index=False)
    old = os.environ.get("CONFLICT_ATLAS_INCIDENTS")
    os.environ["CONFLICT_ATLAS_INCIDENTS"] = str(path)
    app = str(ROOT / "app.py")

    def run(at: Any) -> float:
        t0 = time.perf_counter()
        at.run()
        took = time.perf_counter() - t0
        if at.exception:
            raise RuntimeError(f"the page raised {at.exception[0].value}"[:300])
        return took

    def result(name: str) -> Result:
        res = Result(GROUP, name, n, "server")
        res.extra["load_avg_1m"] = round(os.getloadavg()[0], 2)
        return res

    try:
        res = result(SERVER_NAMES[0])
        at = AppTest.from_file(app, default_timeout=900)
        res.runs_s.append(run(at))
        res.extra["map_args_bytes"] = len(_map_args(at).encode())
        res.note = "AppTest: the first run after start: read the CSV, cache it, draw the page"
        rec.add(res)

        res = result(SERVER_NAMES[1])
        for _ in range(rec.plan.repeats):
            at = AppTest.from_file(app, default_timeout=900)
            res.runs_s.append(run(at))
        args = _map_args(at)
        res.extra.update(map_args_bytes=len(args.encode()), aggregated="AGGREGATED" in args)
        res.note = "AppTest: a new session's first page, the bundle already loaded and shared"
        rec.add(res)

        res = result(SERVER_NAMES[2])
        key = widget_key(K.MIN_FAT, "en")
        for i in range(2 * rec.plan.repeats):
            at.number_input(key=key).set_value(1 if i % 2 == 0 else 0)
            res.runs_s.append(run(at))
        res.extra["map_args_bytes"] = len(_map_args(at).encode())
        res.note = "AppTest: 'Minimum deaths' 1 <-> 0, the page's rerun (filter, chart, map)"
        rec.add(res)
    except (RuntimeError, OSError, KeyError) as exc:
        for name in SERVER_NAMES:
            if rec.get(GROUP, name, n, "server") is None:
                rec.skip(GROUP, name, n, "server", "error",
                         f"not measured: {type(exc).__name__}: {exc}"[:400])  # fmt: skip
    finally:
        if old is None:
            os.environ.pop("CONFLICT_ATLAS_INCIDENTS", None)
        else:
            os.environ["CONFLICT_ATLAS_INCIDENTS"] = old
