"""`conflict-atlas join` on both engines: default (one process) and dask (local cluster).

Each case runs the command in this process on an ACLED-shaped CSV written beforehand,
against the districts written as GeoJSON, with GeoParquet output; the dask case includes
starting its local cluster (two single-thread worker processes), as a user's run does.
Outputs are compared after sorting by (event_id, region_ids).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bench.core import ROOT, Case, Recorder, Result, resolve
from bench.data import acled_frame

NAME = "join command: default vs dask engine"
#: Not run: a 2.7 GB CSV; the default engine would hold ~14 GB (1.4 GB per 1M rows).
TEN_MILLION_NOTE = (
    "not run here: 10M rows are a 2.7 GB CSV and the default engine peaks near 14 GB "
    "(1.4 GB per 1M rows) on a 23.5 GB machine shared with other work; measured on "
    "demand with `python -m bench --quick --only engine10m`"
)


def _sorted(path: Path) -> pd.DataFrame:
    gdf = gpd.read_parquet(path)
    frame = pd.DataFrame(gdf.drop(columns="geometry")).reset_index(drop=True)
    frame["geometry"] = gdf.geometry.to_wkb(hex=True).to_numpy()
    return frame.astype(str).sort_values(["event_id", "region_ids"]).reset_index(drop=True)


def bench_engines(rec: Recorder, regions: gpd.GeoDataFrame, workdir: Path) -> None:
    main, status, note = resolve("cli", "main")
    regions_path = workdir / "engine_regions.geojson"
    regions.to_file(regions_path, driver="GeoJSON")
    has_dask = all(importlib.util.find_spec(m) for m in ("dask_geopandas", "distributed"))
    for n in rec.plan.engine_sizes:
        csv = workdir / f"engine_{n}.csv"
        acled_frame(n).to_csv(csv, index=False)
        outs = {impl: workdir / f"engine_{impl}_{n}.parquet" for impl in ("default", "dask")}

        def run(impl: str, csv: Path = csv, outs: dict = outs) -> int:
            out = outs[impl]
            if out.is_dir():
                shutil.rmtree(out)
            extra = ["--engine", "dask", "--workers", "2"] if impl == "dask" else []
            args = ["join", "--incidents", str(csv), "--regions", str(regions_path)]
            return main([*args, "--out", str(out), *extra])

        if main is None:
            rec.skip("engine", NAME, n, "default", status, note)
            continue
        cases = [Case("default", lambda run=run: run("default"), "in-process", True)]
        if has_dask:
            cases.append(
                Case("dask", lambda run=run: run("dask"), "local cluster, 2 workers", True)
            )
        else:
            rec.skip("engine", NAME, n, "dask", "skipped", "dask extra not installed")
        timed = rec.time_many("engine", NAME, n, cases)
        if "dask" in timed and timed["dask"][1] == 0 and timed["default"][1] == 0:
            same = _sorted(outs["dask"]).equals(_sorted(outs["default"]))
            timed["dask"][0].extra["identical"] = bool(same)
    if not rec.plan.engine_sizes or max(rec.plan.engine_sizes) < TEN_MILLION:
        for impl in ("default", "dask"):
            rec.skip("engine", NAME, TEN_MILLION, impl, "skipped", TEN_MILLION_NOTE)


# ---- 10M rows, on demand (`python -m bench --quick --only engine10m`) ----------------------
TEN_MILLION = 10_000_000
#: The default engine is stopped when its resident memory passes this: the machine has
#: 23.5 GB shared with other work, and at ~1.4 GB per 1M rows it would need ~14 GB.
RSS_BUDGET_GB = 12.0
#: Wall-clock limit per engine.
TEN_MILLION_TIMEOUT_S = 3600.0


def write_acled_csv(path: Path, n: int, chunk: int = 1_000_000) -> None:
    """The synthetic ACLED table of ``n`` rows written in chunks (one seed per chunk, ids
    numbered across chunks), so writing it never holds the whole table."""
    with path.open("w", encoding="utf-8", newline="") as out:
        for i, start in enumerate(range(0, n, chunk)):
            size = min(chunk, n - start)
            frame = acled_frame(size, seed=1000 + i)
            frame["event_id_cnty"] = "PER" + pd.Series(range(start + 1, start + size + 1)).astype(
                str
            )
            frame.to_csv(out, index=False, header=i == 0)


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (dask's scheduler and workers)."""
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/statm", encoding="utf-8") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    return total


#: A run whose process tree used less than this much CPU over STALL_WINDOW_S is stalled
#: (the first 10M dask run sat with both workers paused at dask's memory threshold).
STALL_CPU_S = 5.0
STALL_WINDOW_S = 300.0


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by the living processes of ``pid``'s tree."""
    total = 0.0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat", encoding="utf-8") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            continue
    return total


def run_watched(
    cmd: list[str], budget_bytes: int, timeout_s: float, log: Path | None = None
) -> tuple[str, float, int]:
    """Run ``cmd``, sampling its process tree's RSS twice a second; stop it past the budget,
    the timeout, or when it stalls (under :data:`STALL_CPU_S` of CPU in
    :data:`STALL_WINDOW_S`). Returns (outcome: ok | out of memory | timeout | stalled |
    exit N, seconds, peak bytes). Its stderr (dask's workers log there) goes to ``log``:
    a pipe nobody reads fills up and blocks every process that writes to it."""
    t0 = time.perf_counter()
    err = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)  # fmt: skip
    finally:
        if log is not None:
            err.close()  # the child has its own copy
    peak, outcome = 0, ""
    cpu_marks: list[tuple[float, float]] = []
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        elapsed = time.perf_counter() - t0
        cpu_marks.append((elapsed, _tree_cpu_s(proc.pid)))
        old = [c for t, c in cpu_marks if t <= elapsed - STALL_WINDOW_S]
        stalled = bool(old) and cpu_marks[-1][1] - old[-1] < STALL_CPU_S
        if peak > budget_bytes or elapsed > timeout_s or stalled:
            outcome = ("out of memory" if peak > budget_bytes
                       else "stalled" if stalled else "timeout")  # fmt: skip
            os.killpg(proc.pid, 9)
            proc.wait()
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - t0
    if not outcome:
        outcome = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
    return outcome, elapsed, peak


def _last_error(log: Path) -> str:
    """The last line of a failed run's stderr that names an error, for the note."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.is_file() else []
    found = [ln.strip() for ln in lines if "Error" in ln or "error:" in ln]
    return f"; last error: {found[-1][:300]}" if found else ""


def bench_engines_10m(rec: Recorder, regions: gpd.GeoDataFrame, workdir: Path) -> None:
    """Both engines on 10M synthetic incidents, each in its own process tree, the default
    one stopped past :data:`RSS_BUDGET_GB`; outputs compared when both finish."""
    regions_path = workdir / "engine_regions.geojson"
    regions.to_file(regions_path, driver="GeoJSON")
    csv = workdir / "engine_10m.csv"
    t0 = time.perf_counter()
    write_acled_csv(csv, TEN_MILLION)
    print(f"wrote {csv} ({csv.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t0:.0f} s",
          flush=True)  # fmt: skip
    outs: dict[str, Path] = {}
    for impl in ("default", "dask"):
        out = workdir / f"engine_{impl}_10m.parquet"
        # dask's two workers get 4 GB each and spill to disk above that, inside the budget
        extra = (["--engine", "dask", "--workers", "2", "--worker-memory", "4GB"]
                 if impl == "dask" else [])  # fmt: skip
        cmd = [sys.executable, "-m", "cli", "join", "--incidents", str(csv),
               "--regions", str(regions_path), "--out", str(out), *extra]  # fmt: skip
        load = round(os.getloadavg()[0], 2)
        log = workdir / f"engine_{impl}_10m.log"
        outcome, secs, peak = run_watched(
            cmd, int(RSS_BUDGET_GB * 2**30), TEN_MILLION_TIMEOUT_S, log=log
        )
        res = Result("engine10m", NAME, TEN_MILLION, impl)
        res.extra.update(load_avg_1m=load, rss_peak_mb=round(peak / 2**20))
        if outcome == "ok":
            res.runs_s = [secs]
            res.note = (f"one run in its own process tree (peak RSS of the tree "
                        f"{peak / 2**30:.1f} GB)")  # fmt: skip
            outs[impl] = out
        else:
            res.status = "error"
            res.note = (f"{outcome} after {secs:.0f} s (peak RSS of the tree {peak / 2**30:.1f} "
                        f"GB; budget {RSS_BUDGET_GB:.0f} GB, limit "
                        f"{TEN_MILLION_TIMEOUT_S / 60:.0f} min){_last_error(log)}")  # fmt: skip
        rec.add(res)
    if len(outs) == 2:
        same = _sorted(outs["dask"]).equals(_sorted(outs["default"]))
        rec.results[-1].extra["identical"] = bool(same)
