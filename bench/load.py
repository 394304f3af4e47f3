"""Loading benchmarks: an ACLED-shaped CSV (ours vs read_csv) and the GeoParquet cache."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from bench.core import Case, Recorder, child_memory, resolve
from bench.data import acled_frame, synthetic_incidents


def read_reference(path: Path) -> gpd.GeoDataFrame:
    """What a user writes without us: read_csv (pyarrow engine, all cores) + points_from_xy."""
    df = pd.read_csv(path, engine="pyarrow")
    return gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]), crs="EPSG:4326"
    )


def one_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` with the readers' pyarrow CSV parse on one thread."""
    from atlas.readers import table

    saved = getattr(table, "ARROW_THREADS", None)
    table.ARROW_THREADS = False
    try:
        return fn()
    finally:
        table.ARROW_THREADS = saved


def bench_limits(path: Path) -> dict[str, Any]:
    """``limits=`` for read_incidents when the file is over the default upload limit.

    The app refuses files over ``DEFAULT_LIMITS.max_bytes`` (a LimitError naming the
    fix); the benchmark raises the limit to time the reader itself and says so.
    """
    from atlas.safety import DEFAULT_LIMITS

    size = path.stat().st_size
    if size <= DEFAULT_LIMITS.max_bytes:
        return {}
    return {"limits": dataclasses.replace(DEFAULT_LIMITS, max_bytes=size + 1)}


def bench_load(rec: Recorder, workdir: Path) -> dict[int, Path]:
    plan = rec.plan
    read_incidents, status, note = resolve("atlas.readers", "read_incidents")
    paths: dict[int, Path] = {}
    for n in plan.load_sizes:
        path = workdir / f"acled_synthetic_{n}.csv"
        t0 = time.perf_counter()
        acled_frame(n).to_csv(path, index=False)
        write_s = time.perf_counter() - t0
        paths[n] = path
        size = path.stat().st_size
        cases = [
            Case(
                "read_csv",
                lambda path=path: read_reference(path),
                "pandas.read_csv(engine='pyarrow') + geopandas.points_from_xy, same threads (all cores)",
            )
        ]
        over = bool(bench_limits(path))
        if read_incidents is None:
            rec.skip("load", "load ACLED-shaped CSV", n, "ours", status, note)
        else:
            limit_note = (
                f"file ({size:,} bytes) is over the default upload limit: the app refuses it "
                "with LimitError; timed with limits.max_bytes raised"
                if over
                else ""
            )
            cases.append(
                Case(
                    "ours",
                    lambda path=path: read_incidents(path, source="acled", **bench_limits(path)),
                    limit_note,
                    under_test=True,
                )
            )
            cases.append(
                Case(
                    "ours-1thread",
                    lambda path=path: one_thread(
                        lambda: read_incidents(path, source="acled", **bench_limits(path))
                    ),
                    "pyarrow parses on one thread (it could then name a ragged row itself)",
                    under_test=True,
                )
            )
        timed = rec.time_many("load", "load ACLED-shaped CSV", n, cases)
        res = timed["read_csv"][0]
        res.extra.update(csv_bytes=size, csv_write_s=round(write_s, 3))
        res.extra.update(child_memory(["load-ref", str(path)]))
        frame_for_cache = None
        cache_note = "synthetic canonical frame (ours not available)"
        if "ours" in timed:
            res, out = timed["ours"]
            res.extra["over_default_limit"] = over
            if out is not None:
                gdf, report = out
                res.extra.update(rows_kept=int(report.rows_kept), rows_read=int(report.rows_read))
                res.extra.update(child_memory(["load-ours", str(path)]))
                frame_for_cache = gdf
                cache_note = "canonical frame from read_incidents"
        if "ours" in timed:
            bench_operator_cache(rec, n, path, workdir)
        del timed
        if frame_for_cache is None:
            frame_for_cache = synthetic_incidents(n)
        bench_parquet(rec, n, frame_for_cache, workdir, cache_note)
    return paths


def bench_parquet(rec: Recorder, n: int, frame: gpd.GeoDataFrame, workdir: Path, note: str) -> None:
    path = workdir / f"cache_{n}.parquet"
    res, _ = rec.time(
        "cache", "GeoParquet write", n, "to_parquet", lambda: frame.to_parquet(path), note=note
    )
    res.extra["bytes"] = path.stat().st_size
    res, back = rec.time(
        "cache", "GeoParquet read", n, "read_parquet", lambda: gpd.read_parquet(path), note=note
    )
    res.extra["rows"] = int(len(back))
    res.extra["bytes"] = path.stat().st_size


def bench_operator_cache(rec: Recorder, n: int, path: Path, workdir: Path) -> None:
    """The operator cache: first load (read + store) and a restart's load (a hit)."""
    read_cached, status, note = resolve("atlas.incident_cache", "read_cached")
    operator_limits, _, _ = resolve("atlas.safety", "operator_limits")
    if read_cached is None or operator_limits is None:
        rec.skip("cache", "operator cache", n, "miss", status, note)
        return
    folder = workdir / f"opcache_{n}"

    def miss() -> Any:
        shutil.rmtree(folder, ignore_errors=True)
        return read_cached(path, limits=operator_limits(), cache_dir=folder)

    res, out = rec.time("cache", "operator cache", n, "miss", miss, under_test=True)
    if out is not None:
        res.extra["hit"] = bool(out[2])
    res, out = rec.time(
        "cache",
        "operator cache",
        n,
        "hit",
        lambda: read_cached(path, limits=operator_limits(), cache_dir=folder),
        under_test=True,
    )
    if out is not None:
        res.extra["hit"] = bool(out[2])
