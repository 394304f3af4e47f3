"""Memory benchmarks: peak RSS of the app's work in a subprocess and of the streamlit app.

:func:`child_main` is the entry of the subprocesses (``python -m bench.run --child``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.core import (
    CHROMIUM_ARGS,
    ROOT,
    Recorder,
    Result,
    child_memory,
    resolve,
    wait_for_health,
)
from bench.dashboard import MAP_IFRAME
from bench.data import acled_frame
from bench.load import bench_limits, read_reference
from bench.map import make_data


def _proc_status_mb(key: str) -> float:
    """VmHWM (peak) or VmRSS of this process from /proc, in MiB.

    Not ``ru_maxrss``: Linux carries it across fork + exec, so a child started by a big
    parent would report the parent's size.
    """
    with open("/proc/self/status", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0  # kB
    return float("nan")


def child_main(kind: str, arg: str) -> int:
    """Entry of the memory subprocesses; prints one JSON line."""
    base = _proc_status_mb("VmHWM")
    t0 = time.perf_counter()
    extra: dict[str, Any] = {}
    if kind == "load-ref":
        frame = read_reference(Path(arg))
        extra["rows"] = len(frame)
    elif kind == "load-ours":
        from atlas.readers import read_incidents

        frame, report = read_incidents(Path(arg), source="acled", **bench_limits(Path(arg)))
        extra["rows"] = len(frame)
    elif kind == "app":
        # the app's work for one view: read the incidents, build and render the map
        from atlas.readers import read_incidents
        from atlas.spec import MapSpec
        from layers.compose import build_folium_map

        frame, report = read_incidents(Path(arg), source="acled", **bench_limits(Path(arg)))
        data = make_data(frame)
        html = build_folium_map(MapSpec(), data, assets="local").get_root().render()
        extra.update(rows=len(frame), html_bytes=len(html.encode()))
    else:
        print(f"unknown child kind {kind!r}", file=sys.stderr)
        return 2
    extra.update(
        seconds=round(time.perf_counter() - t0, 3),
        rss_after_imports_mb=round(base, 1),
        rss_peak_mb=round(_proc_status_mb("VmHWM"), 1),
    )
    print(json.dumps(extra))
    return 0


def bench_memory(rec: Recorder, workdir: Path, csv_paths: dict[int, Path]) -> None:
    n = rec.plan.memory_n
    ok = all(
        resolve(m, a)[1] == "ok"
        for m, a in (
            ("atlas.readers", "read_incidents"),
            ("layers.compose", "build_folium_map"),
            ("atlas.data", "load_shipped"),
        )
    )
    if not ok:
        rec.skip("memory", "peak RSS: load + map", n, "ours", "missing",
                 "not measured (module missing: atlas.readers / atlas.data / layers.compose)")  # fmt: skip
        return
    path = csv_paths.get(n)
    if path is None:
        path = workdir / f"acled_synthetic_{n}.csv"
        acled_frame(n).to_csv(path, index=False)
    load = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    figures = child_memory(["app", str(path)])
    res = Result("memory", "peak RSS: load + map", n, "ours", runs_s=[time.perf_counter() - t0])
    res.extra["load_avg_1m"] = load
    res.note = (
        "subprocess: read_incidents + load_shipped + build_folium_map + render; peak RSS = VmHWM"
    )
    if "memory_error" in figures:
        res.status = "error"
        res.note = figures["memory_error"]
    res.extra.update(figures)
    rec.add(res)
    bench_app_process(rec, workdir, n)


def bench_app_process(rec: Recorder, workdir: Path, n: int) -> None:
    """Peak RSS of `streamlit run app.py` itself with ``n`` incidents loaded and one page
    drawn (CONFLICT_ATLAS_INCIDENTS points the app at a synthetic table of ``n`` rows)."""
    name = "peak RSS: streamlit app process"
    if n < 100_000:
        rec.skip("memory", name, n, "ours", "skipped", "only measured at 100k rows or more")
        return
    if shutil.which("chromium") is None:
        rec.skip("memory", name, n, "ours", "skipped", "chromium not installed")
        return
    path = workdir / f"acled_dashboard_{n}.csv"  # the dashboard's file (bench/data.py)
    if not path.exists():
        acled_frame(n).to_csv(path, index=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "CONFLICT_ATLAS_INCIDENTS": str(path)}
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--browser.gatherUsageStats", "false"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    t0 = time.perf_counter()
    res = Result("memory", name, n, "ours")
    res.extra["load_avg_1m"] = round(os.getloadavg()[0], 2)
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, 60, pause_s=0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"),
                                         args=CHROMIUM_ARGS)  # fmt: skip
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                (url, "data:", "blob:", "about:", "ws://127.0.0.1")) else r.abort())  # fmt: skip
            page.goto(url + "/")
            page.get_by_text(f"{n:,} incidents", exact=False).first.wait_for(timeout=600_000)
            page.wait_for_selector(MAP_IFRAME, timeout=600_000)
            page.wait_for_timeout(3000)  # the map payload reaches its iframe
            res.extra["cold_page_s"] = round(time.perf_counter() - t0, 3)
            # a reader's first page on the running server (the bundle loaded, shared)
            warm = []
            for _ in range(rec.plan.repeats):
                other = browser.new_page()
                other.goto(url + "/", wait_until="commit")
                other.get_by_text(f"{n:,} incidents", exact=False).first.wait_for(
                    timeout=600_000)  # fmt: skip
                other.wait_for_selector(MAP_IFRAME, timeout=600_000)
                warm.append(other.evaluate("() => performance.now()") / 1000.0)
                other.close()
            res.extra["warm_page_s"] = [round(w, 3) for w in warm]
            page.wait_for_timeout(2000)
            browser.close()
        status = Path(f"/proc/{proc.pid}/status").read_text(encoding="utf-8")
        kb = {k: int(v.split()[0]) for k, v in
              (line.split(":", 1) for line in status.splitlines() if line.startswith("Vm"))}  # fmt: skip
        res.runs_s = [time.perf_counter() - t0]
        res.extra.update(rss_peak_mb=round(kb["VmHWM"] / 1024, 1),
                         rss_mb=round(kb["VmRSS"] / 1024, 1))  # fmt: skip
        res.note = ("streamlit run app.py with CONFLICT_ATLAS_INCIDENTS (the synthetic ACLED "
                    f"CSV of {n:,} rows, bench/data.py); one page opened until its counts and "
                    f"map showed, then {rec.plan.repeats} more pages (warm_page_s: navigation "
                    "to counts and map iframe); VmHWM (peak) and VmRSS (after) of the server "
                    "process")  # fmt: skip
    except (OSError, KeyError, PlaywrightError) as exc:
        res.status = "error"
        res.note = f"app process not measured: {type(exc).__name__}: {exc}"[:400]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    rec.add(res)
