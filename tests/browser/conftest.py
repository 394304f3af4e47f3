"""Real-browser harness: a Streamlit server, Debian's chromium through Playwright, no network.

Every page routes its requests: only 127.0.0.1/localhost (and data:/blob:/about:) go
through; anything else is aborted and recorded in ``BrowserPage.blocked`` so a test can
assert that what it checked did not need the internet (tiles, CDNs). Each test leaves a
screenshot in ``artifacts/screenshots/<test>.png``. The tests are skipped (with the
reason) only when ``chromium`` is not on PATH; ``./dev test`` and CI install it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import launch

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SERVER_START_TIMEOUT = 60.0
#: The st_folium component iframe (its title is the component's name).
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
_LOCAL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?(/|$)")
_ALWAYS_OK = ("data:", "blob:", "about:")

#: Injected into every frame (the page, the st_folium iframe, any nested frame) before its
#: own scripts: JS dialogs are counted per frame as well as reported by page.on("dialog").
DIALOG_SPY = """
(() => {
  window.__atlasDialogs = [];
  for (const name of ['alert', 'confirm', 'prompt']) {
    const original = window[name];
    window[name] = function (...args) {
      window.__atlasDialogs.push(name + ': ' + String(args[0]));
      return original.apply(this, args);
    };
  }
})();
"""

#: Run inside a page or frame holding a folium map: what Leaflet actually drew.
LEAFLET_PROBE = """
() => {
  if (typeof L === 'undefined') { return {leaflet: false}; }
  const maps = [];
  for (const k of Object.keys(window)) {
    try { if (window[k] instanceof L.Map && !maps.includes(window[k])) maps.push(window[k]); }
    catch (e) { /* cross-origin or getter that throws */ }
  }
  const out = {leaflet: true, maps: maps.length, regions: [],
               zoom: maps.length ? maps[0].getZoom() : null, polygons_drawn: 0,
               circles: 0, circles_in_view: 0, markers: 0, clustered: 0, cluster_icons: 0};
  for (const m of maps) {
    const view = m.getBounds();
    m.eachLayer(l => {
      if (l instanceof L.Polygon) {
        const drawn = Array.isArray(l._parts) && l._parts.length > 0;
        if (drawn) out.polygons_drawn += 1;
        const p = l.feature && l.feature.properties;
        if (drawn && p && p.label !== undefined) out.regions.push(String(p.label));
      } else if (l instanceof L.CircleMarker) {
        if (l.__parent) return;  // a clustered marker drawn on its own: counted below
        out.circles += 1;
        if (view.contains(l.getLatLng())) out.circles_in_view += 1;
      } else if (l instanceof L.Marker) {
        out.markers += 1;
      }
      if (L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup) {
        out.clustered += l.getLayers().length;
      }
    });
  }
  out.cluster_icons = document.querySelectorAll('.marker-cluster').length;
  out.settled = maps.every(m => !m._animatingZoom && !(m._panAnim && m._panAnim._inProgress))
    && !document.querySelector('.leaflet-zoom-anim');
  let ink = 0;
  for (const c of document.querySelectorAll('.leaflet-container canvas')) {
    try {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < d.length; i += 16) { if (d[i] > 0) ink += 1; }
    } catch (e) { /* tainted canvas */ }
  }
  out.canvas_ink = ink;
  const legend = document.querySelector('.atlas-legend');
  out.legend = legend ? legend.innerText : null;
  out.legend_visible = !!(legend && legend.offsetWidth > 0 && legend.offsetHeight > 0);
  const banner = document.querySelector('.atlas-legend-banner');
  out.banner_visible = !!(banner && banner.offsetWidth > 0 && banner.offsetHeight > 0);
  return out;
}
"""


@dataclass
class AppServer:
    """A running ``streamlit run app.py``: its base URL, process and log file."""

    url: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class BrowserPage:
    """A Playwright page plus what it tried to reach outside and any JS dialogs it raised."""

    page: Any
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/browser is marked ``browser``."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen) -> None:
    """End the server we started (its own process group), bounded waits."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium; the browser tests are skipped without it."""
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed (apt-get install chromium; ./dev test does it)")
    return path


@pytest.fixture(scope="session")
def assets_installed() -> None:
    """Leaflet and plugins must be self-served: the pages may not reach a CDN."""
    from layers.assets import check_assets

    missing = check_assets()
    if missing:
        pytest.fail(
            f"{len(missing)} map asset files are missing (first: {missing[0]}); "
            "run `.venv/bin/python -m layers.assets` once, then re-run the browser tests"
        )


@pytest.fixture(scope="package")
def app_server(chromium_path: str, assets_installed: None) -> Iterator[AppServer]:
    """``streamlit run app.py`` on a free local port, stopped at the end of the session."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "streamlit-server.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with code {process.returncode}:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not answer {url}/_stcore/health within "
                    f"{SERVER_START_TIMEOUT:.0f} s:\n{_tail(log)}"
                )
            time.sleep(0.3)
        yield AppServer(url=url, process=process, log=log)
    finally:
        _stop(process)


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless chromium for this package's tests.

    Package scope, not session: the sync Playwright API runs an asyncio loop while it is
    open, and other test modules (tests/test_export.py...) start their own.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw, chromium_path)
        try:
            yield b
        finally:
            b.close()


def local_only(url: str) -> bool:
    """True for the local server and inline URLs; everything else is blocked."""
    return url.startswith(_ALWAYS_OK) or bool(_LOCAL.match(url))


def no_network(url: str) -> bool:
    """For file:// pages: only the file itself and inline data, no network at all."""
    return url.startswith((*_ALWAYS_OK, "file:"))


def open_page(browser: Any, allow: Any = local_only, **context_args: Any) -> BrowserPage:
    """A fresh context + page whose requests pass ``allow(url)`` or are aborted and recorded."""
    context_args.setdefault("viewport", {"width": 1400, "height": 1000})
    context = browser.new_context(**context_args)
    bp = BrowserPage(page=None)

    def route(r: Any) -> None:
        url = r.request.url
        if allow(url):
            r.continue_()
        else:
            bp.blocked.append(url)
            r.abort()

    def on_dialog(dialog: Any) -> None:  # fires for dialogs of every frame of the page
        bp.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    context.route("**/*", route)
    context.add_init_script(DIALOG_SPY)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: bp.errors.append(str(exc)))
    bp.page = page
    return bp


def frame_dialogs(page: Any) -> list[str]:
    """Dialogs recorded by DIALOG_SPY in every frame of ``page`` (frames that vanished are
    covered by page.on("dialog"))."""
    from playwright.sync_api import Error as PlaywrightError

    found: list[str] = []
    for frame in page.frames:
        try:
            found += frame.evaluate("() => window.__atlasDialogs || []")
        except PlaywrightError:  # a frame detached while we asked
            continue
    return found


def screenshot_path(request: pytest.FixtureRequest) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    return SCREENSHOTS / f"{name}.png"


@pytest.fixture
def app_page(browser: Any, app_server: AppServer, request: pytest.FixtureRequest):
    """A page on the app server (local requests only); screenshot saved at teardown."""
    bp = open_page(browser, viewport={"width": 1400, "height": 1600})
    yield bp
    try:
        bp.page.screenshot(path=str(screenshot_path(request)), full_page=True)
    finally:
        bp.page.context.close()


@pytest.fixture
def offline_page(browser: Any, assets_installed: None, request: pytest.FixtureRequest):
    """A page where every network request is aborted (for file:// exports)."""
    bp = open_page(browser, allow=no_network)
    yield bp
    try:
        bp.page.screenshot(path=str(screenshot_path(request)), full_page=True)
    finally:
        bp.page.context.close()


# ---- helpers the app tests share ---------------------------------------------------------
def wait_for_app(page: Any, timeout: float = 60_000) -> None:
    """Wait until the page has run to its end (the run counter is drawn last) and Leaflet
    has drawn the map. The map reports nothing until the reader moves it, so no rerun
    follows the first one."""
    page.wait_for_selector(
        "#atlas-page-runs, [data-testid=stException]", state="attached", timeout=timeout
    )
    error = page.locator("[data-testid=stException]")
    if error.count():
        pytest.fail(f"the app raised instead of drawing: {error.first.inner_text()[:800]}")
    map_frame(page, timeout=timeout)
    page.wait_for_timeout(300)


def page_runs(page: Any) -> int:
    """How many times the whole page has run in this session (the app's counter)."""
    return int(page.locator("#atlas-page-runs").get_attribute("data-runs"))


#: In the map frame: the folium map object (scripts name it map_<id>).
FIND_MAP = """(() => { for (const k of Object.keys(window)) {
  try { if (window[k] instanceof L.Map) return window[k]; } catch (e) {} } return null; })()"""


def move_map(frame: Any, lat: float, lon: float, zoom: int) -> None:
    """Set the map's view as a reader's pan and zoom would (fires moveend)."""
    frame.evaluate(
        f"([lat, lon, z]) => {{ {FIND_MAP}.setView([lat, lon], z, {{animate: false}}); }}",
        [lat, lon, zoom],
    )


def map_view(frame: Any) -> dict:
    """Centre, zoom and bounds of the map in ``frame``."""
    return frame.evaluate(
        f"""() => {{ const m = {FIND_MAP}; const c = m.getCenter(), b = m.getBounds();
        return {{lat: c.lat, lon: c.lng, zoom: m.getZoom(),
                 bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]}}; }}"""
    )


def wait_for_url_view(page: Any, frame: Any, timeout: float = 30_000) -> tuple[float, ...]:
    """Wait until the URL's bbox is the map's current bounds (the map reports each move,
    resize included, and the map fragment writes it into the URL); return it."""
    shown = map_view(frame)["bbox"]
    page.wait_for_function(
        """(b) => { const v = new URL(location.href).searchParams.get('bbox');
        if (!v) return false; const got = v.split(',').map(Number);
        return got.every((x, i) => Math.abs(x - b[i]) < 1e-4); }""",
        arg=list(shown),
        timeout=timeout,
    )
    return url_bbox(page)


def url_bbox(page: Any) -> tuple[float, ...] | None:
    """The ``bbox`` the page's URL carries, or None."""
    import urllib.parse

    values = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query).get("bbox")
    return tuple(float(v) for v in values[-1].split(",")) if values else None


def wait_for_counts(page: Any, expected: str, timeout: float = 60_000) -> str:
    """Wait until the counts line contains ``expected``; return it (fails with the text)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            "(t) => { const h = document.querySelector('[data-testid=stMain] h4');"
            " return !!h && h.innerText.includes(t); }",
            arg=expected,
            timeout=timeout,
        )
    except PlaywrightTimeout:
        pytest.fail(f"counts never showed {expected!r}; they read {counts_text(page)!r}")
    return counts_text(page)


def poll_map(page: Any, ok: Any, timeout: float = 45.0) -> dict:
    """Re-read the map until ``ok(state)``: after a rerun the component replaces its frame,
    so a frame that detaches mid-read is simply read again (bounded by ``timeout``)."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout
    state: dict = {}
    while time.monotonic() < deadline:
        try:
            state = leaflet_state(map_frame(page, timeout=10_000))
        except PlaywrightError as exc:  # detached frame or a map still being rebuilt
            state = {"error": str(exc).splitlines()[0]}
        else:
            if state.get("leaflet") and state.get("settled") and ok(state):
                return state
        page.wait_for_timeout(300)
    return state


def counts_text(page: Any) -> str:
    """The counts line ("296 incidents, 90 deaths ..., 110 inside the ...")."""
    return page.locator("[data-testid=stMain] h4").first.inner_text()


def map_frame(page: Any, timeout: float = 60_000) -> Any:
    """The st_folium iframe's Frame, once Leaflet has drawn its container.

    During a rerun Streamlit briefly keeps the old component next to the new one; wait
    until exactly one map iframe is left.
    """
    page.wait_for_function(
        f"() => document.querySelectorAll({MAP_IFRAME!r}).length === 1", timeout=timeout
    )
    deadline = time.monotonic() + timeout / 1000
    while True:
        # an iframe being replaced by a rerun has no content frame for a moment
        frame = page.wait_for_selector(MAP_IFRAME, timeout=timeout).content_frame()
        if frame is not None or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    if frame is None:
        raise AssertionError(f"the map iframe had no content frame within {timeout} ms")
    frame.wait_for_selector(".leaflet-container", timeout=timeout)
    return frame


def leaflet_state(frame: Any, region: str | None = None, timeout: float = 20_000) -> dict:
    """What Leaflet drew in ``frame`` (see LEAFLET_PROBE).

    ``regions`` lists the labels (the ``label`` property the regions layer puts on each
    feature) of region polygons Leaflet projected into the view, i.e. outlines it drew.
    With ``region`` (a name), first wait (bounded) until an outline whose label contains
    it has been drawn:
    fitBounds and the canvas renderer finish a moment after the page's load event.
    """
    if region is not None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            frame.wait_for_function(
                f"(r) => {{ const s = ({LEAFLET_PROBE})(); return s.leaflet && "
                "s.settled && s.regions.some(x => x.includes(r)) && s.canvas_ink > 0; }",
                arg=region,
                timeout=timeout,
            )
        except PlaywrightTimeout:
            pass  # the assertions below report what was drawn instead
        frame.wait_for_timeout(400)  # let the canvas redraw after the last moveend
    return frame.evaluate(LEAFLET_PROBE)
