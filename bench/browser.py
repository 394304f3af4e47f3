"""Browser benchmark: time from navigation to a rendered map in headless chromium."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import shutil
import threading
from pathlib import Path
from typing import Any

from bench.core import CHROMIUM_ARGS, Recorder


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        pass


_RENDERED_JS = """async () => {
  // Called after the load event. Polls every animation frame until the map's layer
  // elements stop changing for 1 s (MarkerCluster's chunked loading adds icons after
  // load), then reports, in ms from navigation start, the load event and the last change.
  const q = (sel) => document.querySelectorAll(sel).length;
  const snap = () => ({
    interactive: q('.leaflet-interactive'),
    clusters: q('.marker-cluster'),
    markers: q('.leaflet-marker-icon'),
    canvases: q('.leaflet-container canvas'),
  });
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  // With the MarkerCluster plugin on the page, cluster icons appear only after every
  // chunk is processed, with no DOM change in between: wait for them first.
  const clustered = typeof L !== 'undefined' && typeof L.MarkerClusterGroup !== 'undefined';
  await frame(); await frame();
  let last = JSON.stringify(snap());
  let lastT = performance.now();
  const t0 = performance.now();
  const waiting = () => clustered && q('.marker-cluster') === 0;
  while ((waiting() || performance.now() - lastT < 1500) && performance.now() - t0 < 240000) {
    await frame();
    const now = JSON.stringify(snap());
    if (now !== last) { last = now; lastT = performance.now(); }
  }
  const nav = performance.getEntriesByType('navigation')[0];
  return Object.assign(snap(), {load_ms: nav.loadEventEnd, settled_ms: lastT});
}"""


def bench_browser(rec: Recorder, html_files: dict[str, Path], workdir: Path) -> None:
    """Time from navigation to a painted map with its layers, in headless chromium."""
    plan = rec.plan
    cases = [(f"ours-{n}", n, "ours") for n in plan.browser_sizes]
    cases += [(f"naive-{n}", n, "naive") for n in plan.browser_naive_sizes]
    chromium = shutil.which("chromium")
    if chromium is None or importlib.util.find_spec("playwright") is None:
        for _key, n, impl in cases:
            rec.skip("browser", "time to rendered map", n, impl, "skipped",
                     "chromium or playwright missing")  # fmt: skip
        return
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_QuietHandler, directory=str(workdir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    blocked: list[str] = []

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(base) or url.startswith("data:"):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            for key, n, impl in cases:
                path = html_files.get(key)
                if path is None:
                    rec.skip("browser", "time to rendered map", n, impl, "skipped",
                             "no HTML (the map step did not produce one)")  # fmt: skip
                    continue
                url = f"{base}/{path.name}"
                counts: list[dict[str, float]] = []

                def load(url: str = url, counts: list = counts) -> None:
                    ctx = browser.new_context(viewport={"width": 1200, "height": 675})
                    page = ctx.new_page()
                    page.route("**/*", route)
                    page.goto(url, wait_until="load", timeout=300_000)
                    counts.append(page.evaluate(_RENDERED_JS))
                    ctx.close()

                try:
                    res, _ = rec.time(
                        "browser",
                        "time to rendered map",
                        n,
                        impl,
                        load,
                        note="page clock: navigation start to the last change of the map's "
                        "layer elements (or the load event, if later)",
                        defer=True,
                    )
                except PlaywrightError as exc:
                    rec.skip("browser", "time to rendered map", n, impl, "error",
                             f"playwright: {exc}"[:400])  # fmt: skip
                    continue
                # the figure is the page's own clock; the Python wall time (new browser
                # context, navigation, 1 s settle window) is kept for reference
                res.extra["wall_s"] = [round(t, 3) for t in res.runs_s]
                res.runs_s = [max(c["load_ms"], c["settled_ms"]) / 1000.0 for c in counts]
                res.extra["load_event_s"] = [round(c["load_ms"] / 1000.0, 3) for c in counts]
                drawn = {k: int(v) for k, v in (counts[0] if counts else {}).items()
                         if k not in ("load_ms", "settled_ms")}  # fmt: skip
                res.extra.update(drawn)
                res.extra["html_bytes"] = path.stat().st_size
                if not any(drawn.values()):
                    res.status = "error"
                    res.note += "; nothing drawn (no leaflet layers in the page)"
                rec.add(res)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    if blocked:
        rec.results[-1].extra["blocked_requests"] = len(blocked)
