"""`conflict-atlas join` on both engines: default (one process) and dask (local cluster).

Each case runs the command in this process on an ACLED-shaped CSV written beforehand,
against the districts written as GeoJSON, with GeoParquet output; the dask case includes
starting its local cluster (two single-thread worker processes), as a user's run does.
Outputs are compared after sorting by (event_id, region_ids).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd

from bench.core import Case, Recorder, resolve
from bench.data import acled_frame

NAME = "join command: default vs dask engine"
#: Not run: a 2.7 GB CSV; the default engine would hold ~14 GB (1.4 GB per 1M rows).
TEN_MILLION_NOTE = (
    "not run here: 10M rows are a 2.7 GB CSV and the default engine peaks near 14 GB "
    "(1.4 GB per 1M rows) on a 23.5 GB machine shared with other work; run "
    "`conflict-atlas join --engine dask` on a cluster for that size"
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
    rec.skip("engine", NAME, 10_000_000, "default", "skipped", TEN_MILLION_NOTE)
    rec.skip("engine", NAME, 10_000_000, "dask", "skipped", TEN_MILLION_NOTE)
