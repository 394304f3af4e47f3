"""Benchmarks for the conflict atlas: ``python -m bench --quick`` or ``--full``.

Measures our modules against the references a user would otherwise write (plain
``geopandas.sjoin``, DuckDB spatial, ``pandas.read_csv``, a naive folium map of
CircleMarkers) in the same run, so ratios compare like with like on this machine.
Every figure is the median of several runs (quick: 3, full: 5); one run longer than
the plan's budget is not repeated and the table says how many runs it had.

Writes ``bench/results/<mode>.json`` and rewrites that mode's table in BENCHMARKS.md.
All incidents are synthetic (seeded numpy, inside Peru's bbox). The district polygons
are read at run time from ``../shared/data`` when present and never copied; otherwise
a synthetic Voronoi tessellation of similar size stands in and the table says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import gc
import http.server
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/ first, not the repo
    sys.path.insert(0, str(ROOT))

from atlas.errors import AtlasError  # noqa: E402
from atlas.schema import EVENT_TYPES, INCIDENT_COLUMNS  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
DISTRICTS_FILE = "boundaries/juaneladio_peru_distrital_simple.geojson"
#: Peru's bounding box (lon min, lat min, lon max, lat max) for synthetic points.
PERU_BBOX = (-81.4, -18.4, -68.6, -0.0)
SEED = 20210523
N_SYNTHETIC_REGIONS = 1834
#: mean vertices per polygon in the real 2007 district file (27,859 / 1,826 non-null)
SYNTHETIC_VERTICES_PER_REGION = 15
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Real ACLED export columns, in export order (ACLED codebook; see PROVENANCE.md).
ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2",
    "inter2", "interaction", "civilian_targeting", "iso", "region", "country", "admin1",
    "admin2", "admin3", "location", "latitude", "longitude", "geo_precision", "source",
    "source_scale", "notes", "fatalities", "tags", "timestamp",
)  # fmt: skip
ACLED_TYPES = (
    ("Battles", "Armed clash", "Political violence"),
    ("Violence against civilians", "Attack", "Political violence"),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED", "Political violence"),
    ("Riots", "Violent demonstration", "Demonstrations"),
    ("Protests", "Peaceful protest", "Demonstrations"),
    ("Strategic developments", "Arrests", "Strategic developments"),
)
#: Errors the code under test may raise. The harness records them as "error" with the
#: message and goes on to the next measurement, so one broken module does not hide the
#: others' figures; the smoke test fails on any recorded error.
UNDER_TEST_ERRORS: tuple[type[BaseException], ...] = (
    AtlasError,
    ArithmeticError,
    AssertionError,
    AttributeError,
    ImportError,
    IndexError,
    KeyError,
    LookupError,
    NotImplementedError,
    OSError,
    RuntimeError,
    TypeError,
    ValueError,
)


# ---- plans ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """Sizes and repeats of one mode."""

    mode: str
    repeats: int
    budget_s: float  # a single run longer than this is not repeated
    join_sizes: tuple[int, ...]
    duckdb_sizes: tuple[int, ...]
    duckdb_1m_if_100k_under_s: float | None  # full mode: add 1M when 100k was fast
    agg_sizes: tuple[int, ...]
    load_sizes: tuple[int, ...]
    map_sizes: tuple[int, ...]
    naive_sizes: tuple[int, ...]
    browser_sizes: tuple[int, ...]
    browser_naive_sizes: tuple[int, ...]
    export_sizes: tuple[int, ...]
    memory_n: int


PLANS: dict[str, Plan] = {
    "quick": Plan(
        mode="quick",
        repeats=3,
        budget_s=10.0,
        join_sizes=(10_000, 100_000, 1_000_000),
        duckdb_sizes=(10_000, 100_000),
        duckdb_1m_if_100k_under_s=None,
        agg_sizes=(10_000, 100_000, 1_000_000),
        load_sizes=(100_000, 1_000_000),
        map_sizes=(1_000, 10_000, 100_000, 1_000_000),
        naive_sizes=(1_000, 10_000, 100_000),
        browser_sizes=(10_000, 100_000),
        browser_naive_sizes=(10_000,),
        export_sizes=(10_000, 100_000),
        memory_n=1_000_000,
    ),
    "full": Plan(
        mode="full",
        repeats=5,
        budget_s=30.0,
        join_sizes=(10_000, 100_000, 1_000_000),
        duckdb_sizes=(10_000, 100_000),
        duckdb_1m_if_100k_under_s=30.0,
        agg_sizes=(10_000, 100_000, 1_000_000),
        load_sizes=(100_000, 1_000_000),
        map_sizes=(1_000, 10_000, 100_000, 1_000_000),
        naive_sizes=(1_000, 10_000, 100_000),
        browser_sizes=(10_000, 100_000),
        browser_naive_sizes=(10_000, 100_000),
        export_sizes=(10_000, 100_000),
        memory_n=1_000_000,
    ),
    # the smoke test's plan: every measurement once at a small size
    "smoke": Plan(
        mode="smoke",
        repeats=1,
        budget_s=5.0,
        join_sizes=(10_000,),
        duckdb_sizes=(10_000,),
        duckdb_1m_if_100k_under_s=None,
        agg_sizes=(10_000,),
        load_sizes=(10_000,),
        map_sizes=(1_000,),
        naive_sizes=(1_000,),
        browser_sizes=(1_000,),
        browser_naive_sizes=(1_000,),
        export_sizes=(1_000,),
        memory_n=10_000,
    ),
}


# ---- results ----------------------------------------------------------------------------
@dataclass
class Result:
    """One measurement: ``status`` is ok / missing / error / skipped."""

    group: str
    name: str
    n: int
    impl: str
    status: str = "ok"
    runs_s: list[float] = field(default_factory=list)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.runs_s) if self.runs_s else None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["median_s"] = self.median_s
        return d


class Recorder:
    """Collects results and prints one line per measurement as it goes."""

    def __init__(self, plan: Plan, quiet: bool = False) -> None:
        self.plan = plan
        self.results: list[Result] = []
        self.quiet = quiet

    def add(self, result: Result) -> Result:
        self.results.append(result)
        if not self.quiet:
            med = f"{result.median_s:.3f} s" if result.median_s is not None else "-"
            extra = ", ".join(f"{k}={v}" for k, v in result.extra.items() if k != "traceback")
            print(
                f"[{result.group}] {result.name} n={result.n:,} {result.impl}: {result.status} "
                f"{med} ({len(result.runs_s)} runs) {extra} {result.note}".rstrip(),
                flush=True,
            )
        return result

    def get(self, group: str, name: str, n: int, impl: str) -> Result | None:
        for r in self.results:
            if (r.group, r.name, r.n, r.impl) == (group, name, n, impl):
                return r
        return None

    def time(
        self,
        group: str,
        name: str,
        n: int,
        impl: str,
        fn: Callable[[], Any],
        *,
        repeats: int | None = None,
        under_test: bool = False,
        note: str = "",
        defer: bool = False,
    ) -> tuple[Result, Any]:
        """Time ``fn`` (median of repeats); return the result and the first run's output.

        With ``under_test`` the errors our modules may raise are recorded, not raised.
        """
        result = Result(group, name, n, impl, note=note)
        result.extra["load_avg_1m"] = round(os.getloadavg()[0], 2)
        try:
            runs, out = measure(fn, repeats or self.plan.repeats, self.plan.budget_s)
        except UNDER_TEST_ERRORS as exc:
            if not under_test:
                raise
            result.status = "error"
            result.note = f"{type(exc).__name__}: {exc}"[:400]
            self.add(result)
            return result, None
        result.runs_s = runs
        if not defer:  # deferred: the caller adjusts the result, then adds it
            self.add(result)
        return result, out

    def time_many(
        self, group: str, name: str, n: int, cases: list[Case]
    ) -> dict[str, tuple[Result, Any]]:
        """Time several implementations interleaved: round r runs each case once.

        On a shared machine the load changes from second to second; interleaving exposes
        ours and the references to the same conditions, so their ratio is fairer than
        timing one after the other. A case whose run exceeds the budget is not repeated.
        """
        runs: dict[str, list[float]] = {c.impl: [] for c in cases}
        first: dict[str, Any] = {}
        errors: dict[str, str] = {}
        loads: dict[str, float] = {}
        done: set[str] = set()
        for i in range(self.plan.repeats):
            for case in cases:
                if case.impl in done:
                    continue
                loads.setdefault(case.impl, round(os.getloadavg()[0], 2))
                gc.collect()
                t0 = time.perf_counter()
                try:
                    out = case.fn()
                except UNDER_TEST_ERRORS as exc:
                    if not case.under_test:
                        raise
                    errors[case.impl] = f"{type(exc).__name__}: {exc}"[:400]
                    done.add(case.impl)
                    continue
                elapsed = time.perf_counter() - t0
                runs[case.impl].append(elapsed)
                if i == 0:
                    first[case.impl] = out
                del out
                if elapsed > self.plan.budget_s:
                    done.add(case.impl)
        results: dict[str, tuple[Result, Any]] = {}
        for case in cases:
            res = Result(group, name, n, case.impl, note=case.note)
            res.extra["load_avg_1m"] = loads.get(case.impl)
            res.extra["interleaved_with"] = [c.impl for c in cases if c.impl != case.impl]
            if case.impl in errors:
                res.status = "error"
                res.note = errors[case.impl]
                res.runs_s = []
            else:
                res.runs_s = runs[case.impl]
            self.add(res)
            results[case.impl] = (res, first.get(case.impl))
        return results

    def skip(self, group: str, name: str, n: int, impl: str, status: str, note: str) -> Result:
        return self.add(Result(group, name, n, impl, status=status, note=note))


@dataclass
class Case:
    """One implementation to time in :meth:`Recorder.time_many`."""

    impl: str
    fn: Callable[[], Any]
    note: str = ""
    under_test: bool = False


def measure(fn: Callable[[], Any], repeats: int, budget_s: float) -> tuple[list[float], Any]:
    """Run ``fn`` up to ``repeats`` times; stop early when one run exceeds ``budget_s``."""
    runs: list[float] = []
    first: Any = None
    for i in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t0)
        if i == 0:
            first = out
        del out
        if runs[-1] > budget_s:
            break
    return runs, first


def resolve(module: str, attr: str) -> tuple[Callable[..., Any] | None, str, str]:
    """Find ``module.attr``: (callable, status, note) with status ok / missing / error."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return None, "missing", f"not measured (module missing: {module})"
    try:
        mod = importlib.import_module(module)
    except UNDER_TEST_ERRORS as exc:
        return None, "error", f"{module} failed to import: {type(exc).__name__}: {exc}"[:400]
    fn = getattr(mod, attr, None)
    if not callable(fn):
        return None, "missing", f"not measured (module missing: {module}.{attr})"
    return fn, "ok", ""


# ---- synthetic data ---------------------------------------------------------------------
def random_points(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Seeded uniform lon/lat inside Peru's bbox (many fall outside Peru: no match)."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(PERU_BBOX[0], PERU_BBOX[2], n)
    lat = rng.uniform(PERU_BBOX[1], PERU_BBOX[3], n)
    return lon, lat


def _numbered(prefix: str, n: int) -> np.ndarray:
    return (prefix + pd.Series(np.arange(1, n + 1)).astype(str)).to_numpy(dtype=object)


def synthetic_incidents(n: int, seed: int = SEED) -> gpd.GeoDataFrame:
    """Canonical incidents (atlas.schema) marked synthetic, built vectorised."""
    rng = np.random.default_rng(seed + 1)
    lon, lat = random_points(n, seed)
    start = np.datetime64("2018-01-01") + rng.integers(0, 7 * 365, n).astype("timedelta64[D]")
    start = start.astype("datetime64[ns]")
    types = np.asarray(EVENT_TYPES, dtype=object)[rng.integers(0, len(EVENT_TYPES), n)]
    precisions = rng.choice(
        np.asarray(["exact", "near", "admin2", "admin1"], dtype=object),
        size=n,
        p=[0.6, 0.25, 0.1, 0.05],
    )
    fatalities = rng.poisson(0.6, n).astype("float64")
    empty = np.full(n, "", dtype=object)
    frame = pd.DataFrame(
        {
            "event_id": _numbered("bench-", n),
            "dataset": np.full(n, "bench-synthetic", dtype=object),
            "date_start": start,
            "date_end": start,
            "date_precision": np.full(n, "day", dtype=object),
            "event_type": types,
            "source_event_type": types,
            "sub_event_type": empty,
            "actor1": rng.choice(np.asarray(["Actor A", "Actor B", "Actor C"], dtype=object), n),
            "actor2": empty,
            "fatalities": pd.array(fatalities, dtype="Float64"),
            "fatalities_low": pd.array(fatalities, dtype="Float64"),
            "fatalities_high": pd.array(fatalities, dtype="Float64"),
            "civilian_targeting": pd.array(rng.random(n) < 0.3, dtype="boolean"),
            "location": np.full(n, "Synthetic place", dtype=object),
            "admin1": empty,
            "admin2": empty,
            "admin3": empty,
            "country": np.full(n, "Peru", dtype=object),
            "geo_precision": precisions,
            "source": np.full(n, "synthetic benchmark data", dtype=object),
            "notes": np.full(n, "SAMPLE: synthetic benchmark row, not a real event", dtype=object),
            "synthetic": np.ones(n, dtype=bool),
        }
    )
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return gdf[list(INCIDENT_COLUMNS)]


def acled_frame(n: int, seed: int = SEED) -> pd.DataFrame:
    """A synthetic table with the real ACLED export columns (values are made up)."""
    rng = np.random.default_rng(seed + 2)
    lon, lat = random_points(n, seed)
    days = rng.integers(0, 7 * 365, n)
    dates = pd.to_datetime(np.datetime64("2018-01-01") + days.astype("timedelta64[D]"))
    kinds = rng.integers(0, len(ACLED_TYPES), n)
    table = np.asarray(ACLED_TYPES, dtype=object)
    civ = np.where(kinds == 1, "Civilian targeting", "")
    empty = np.full(n, "", dtype=object)
    return pd.DataFrame(
        {
            "event_id_cnty": _numbered("PER", n),
            "event_date": dates.strftime("%Y-%m-%d"),
            "year": dates.year,
            "time_precision": rng.integers(1, 4, n),
            "disorder_type": table[kinds, 2],
            "event_type": table[kinds, 0],
            "sub_event_type": table[kinds, 1],
            "actor1": rng.choice(np.asarray(["Actor A", "Actor B", "Actor C"], dtype=object), n),
            "assoc_actor_1": empty,
            "inter1": rng.integers(1, 9, n),
            "actor2": empty,
            "assoc_actor_2": empty,
            "inter2": rng.integers(0, 9, n),
            "interaction": rng.integers(10, 90, n),
            "civilian_targeting": civ,
            "iso": np.full(n, 604),
            "region": np.full(n, "South America", dtype=object),
            "country": np.full(n, "Peru", dtype=object),
            "admin1": np.full(n, "Synthetic", dtype=object),
            "admin2": empty,
            "admin3": empty,
            "location": np.full(n, "Synthetic place", dtype=object),
            "latitude": lat.round(4),
            "longitude": lon.round(4),
            "geo_precision": rng.choice(np.asarray([1, 2, 3]), n, p=[0.7, 0.2, 0.1]),
            "source": np.full(n, "synthetic benchmark data", dtype=object),
            "source_scale": np.full(n, "National", dtype=object),
            "notes": np.full(n, "SAMPLE: synthetic benchmark row, not a real event.", dtype=object),
            "fatalities": rng.poisson(0.6, n),
            "tags": empty,
            "timestamp": np.full(n, 1_700_000_000),
        },
        columns=list(ACLED_COLUMNS),
    )


def synthetic_regions(n: int = N_SYNTHETIC_REGIONS, seed: int = SEED) -> gpd.GeoDataFrame:
    """Voronoi cells of ``n`` seeded points in Peru's bbox, densified to ~15 vertices."""
    rng = np.random.default_rng(seed + 3)
    pts = shapely.points(
        rng.uniform(PERU_BBOX[0], PERU_BBOX[2], n), rng.uniform(PERU_BBOX[1], PERU_BBOX[3], n)
    )
    frame = shapely.box(*PERU_BBOX)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    step = float(np.mean(shapely.length(cells))) / SYNTHETIC_VERTICES_PER_REGION
    cells = shapely.segmentize(cells, step)
    ids = (pd.Series(np.arange(1, len(cells) + 1)).astype(str).str.zfill(6)).to_numpy(dtype=object)
    return _regions_frame(ids, ids, cells, "synthetic Voronoi cells (bench)", "")


def _regions_frame(ids: Any, names: Any, geoms: Any, source: str, vintage: str) -> gpd.GeoDataFrame:
    n = len(ids)
    return gpd.GeoDataFrame(
        {
            "region_id": np.asarray(ids, dtype=object),
            "name": np.asarray(names, dtype=object),
            "layer": np.full(n, "district", dtype=object),
            "approximate": np.ones(n, dtype=bool),
            "vintage": np.full(n, vintage, dtype=object),
            "source": np.full(n, source, dtype=object),
        },
        geometry=gpd.GeoSeries(np.asarray(geoms), crs="EPSG:4326").values,
        crs="EPSG:4326",
    )


def load_districts(data_dir: Path | None) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The real 2007 district polygons read at run time, else synthetic ones; plus info."""
    path = (data_dir / DISTRICTS_FILE) if data_dir else None
    if path is not None and path.is_file():
        raw = gpd.read_file(path)
        has_geom = raw.geometry.notna() & ~raw.geometry.is_empty
        kept = raw[has_geom]
        regions = _regions_frame(
            kept["IDDIST"].astype(str),
            kept["NOMBDIST"].astype(str),
            kept.geometry.values,
            "juaneladio/peru-geojson peru_distrital_simple (INEI 2007 via MINAM), MPL-2.0",
            "2007",
        )
        info = {
            "kind": "real",
            "file": f"../shared/data/{DISTRICTS_FILE}",
            "features": int(len(raw)),
            "used": int(len(regions)),
            "null_geometry_left_out": int((~has_geom).sum()),
        }
    else:
        regions = synthetic_regions()
        info = {
            "kind": "synthetic",
            "file": "",
            "features": int(len(regions)),
            "used": int(len(regions)),
            "null_geometry_left_out": 0,
        }
    info["vertices"] = int(shapely.get_num_coordinates(regions.geometry.values).sum())
    return regions, info


# ---- pair comparison --------------------------------------------------------------------
def pair_keys(incident: Any, region_id: Any, all_ids: pd.Index) -> np.ndarray:
    """Sorted unique int64 keys of (incident position, region) pairs, for set equality."""
    codes = all_ids.get_indexer(np.asarray(region_id, dtype=object))
    if (codes < 0).any():
        raise KeyError("join output has region ids that are not in the regions frame")
    keys = np.asarray(incident, dtype="int64") * (len(all_ids) + 1) + codes
    return np.unique(keys)


def ours_pairs(joined: pd.DataFrame, incidents: gpd.GeoDataFrame) -> tuple[np.ndarray, Any]:
    """(incident position, region_id) of the matched rows of join_incidents' long frame.

    join_incidents keeps the incidents' columns and resets the index, so positions are
    recovered from the unique ``event_id``; rows with no region (NA) are left out.
    """
    inside = joined[joined["region_id"].notna()]
    pos = pd.Index(incidents["event_id"]).get_indexer(inside["event_id"])
    if (pos < 0).any():
        raise KeyError("join output has event ids that are not in the incidents")
    return pos, inside["region_id"].to_numpy(dtype=object)


def same_counts(ours: pd.DataFrame, ref: pd.DataFrame) -> bool:
    """True when ours' non-zero (region, month) counts equal the groupby reference."""
    mine = ours.loc[ours["incidents"] > 0, ["region_id", "period", "incidents"]]
    mine = mine.assign(
        region_id=mine["region_id"].astype(str), period=pd.to_datetime(mine["period"])
    )
    theirs = ref["incidents"].reset_index()
    theirs.columns = ["region_id", "period", "incidents"]
    theirs = theirs.assign(
        region_id=theirs["region_id"].astype(str), period=theirs["period"].dt.start_time
    )
    keys = ["region_id", "period"]
    a = mine.sort_values(keys).reset_index(drop=True)
    b = theirs.sort_values(keys).reset_index(drop=True)
    return bool(
        len(a) == len(b)
        and (a["region_id"].to_numpy() == b["region_id"].to_numpy()).all()
        and (a["period"].to_numpy() == b["period"].to_numpy()).all()
        and (a["incidents"].to_numpy("int64") == b["incidents"].to_numpy("int64")).all()
    )


# ---- benchmarks: spatial join and aggregation -------------------------------------------
def bench_join(rec: Recorder, regions: gpd.GeoDataFrame, duck: DuckJoin | None) -> None:
    plan = rec.plan
    all_ids = pd.Index(regions["region_id"])
    ref_regions = regions[["region_id", "geometry"]]
    join, status, note = resolve("atlas.spatial", "join_incidents")
    for n in plan.join_sizes:
        incidents = synthetic_incidents(n)
        points = incidents[["geometry"]]
        cases = [
            Case(
                "sjoin",
                lambda points=points: gpd.sjoin(points, ref_regions, predicate="intersects"),
                "geopandas.sjoin(points, districts, predicate='intersects'), geometry-only frames",
            ),
            # same content as ours returns: every incident column carried into the result
            Case(
                "sjoin-full",
                lambda incidents=incidents: gpd.sjoin(
                    incidents, ref_regions, how="left", predicate="intersects"
                ),
                "geopandas.sjoin(incidents, districts, how='left'): all incident columns kept",
            ),
        ]
        if join is None:
            rec.skip("join", "spatial join", n, "ours", status, note)
        else:
            cases.append(
                Case(
                    "ours",
                    lambda incidents=incidents: join(incidents, regions, predicate="intersects"),
                    under_test=True,
                )
            )
        run_duck = duck is not None and n in plan.duckdb_sizes
        if (
            duck is not None
            and not run_duck
            and n == 1_000_000
            and plan.duckdb_1m_if_100k_under_s is not None
        ):
            prev = rec.get("join", "spatial join", 100_000, "duckdb")
            run_duck = bool(
                prev and prev.median_s and prev.median_s < plan.duckdb_1m_if_100k_under_s
            )
        if duck is not None and not run_duck:
            rec.skip("join", "spatial join", n, "duckdb", "skipped",
                     "DuckDB not run at 1M in this mode (quick: 10k/100k only; "
                     "full: 1M when 100k < 30 s)")  # fmt: skip
        if duck is not None and run_duck:
            duck.load_points(
                shapely.get_x(incidents.geometry.values), shapely.get_y(incidents.geometry.values)
            )
            cases.append(
                Case(
                    "duckdb",
                    duck.join,
                    "DuckDB spatial ST_Intersects join; points table built outside the timing",
                )
            )
        timed = rec.time_many("join", "spatial join", n, cases)
        res, ref = timed["sjoin"]
        ref_keys = pair_keys(ref.index.to_numpy(), ref["region_id"], all_ids)
        res.extra["pairs"] = int(len(ref_keys))
        if "ours" in timed and timed["ours"][1] is not None:
            res, out = timed["ours"]
            inc, rid = ours_pairs(out, incidents)
            keys = pair_keys(inc, rid, all_ids)
            res.extra["pairs"] = int(len(keys))
            res.extra["identical"] = bool(np.array_equal(keys, ref_keys))
        if "duckdb" in timed:
            res, out = timed["duckdb"]
            keys = pair_keys(out["idx"].to_numpy(), out["region_id"], all_ids)
            res.extra["pairs"] = int(len(keys))
            res.extra["identical"] = bool(np.array_equal(keys, ref_keys))
            res.extra["threads"] = duck.threads
        del timed, ref


class DuckJoin:
    """DuckDB with the spatial extension loaded offline from its PyPI package."""

    def __init__(self, regions: gpd.GeoDataFrame) -> None:
        import duckdb
        import duckdb_extension_spatial

        pkg = Path(duckdb_extension_spatial.__file__).parent
        ext = next(pkg.rglob("*.duckdb_extension"), None)
        if ext is None:
            raise FileNotFoundError(f"{pkg}: no .duckdb_extension file in the package")
        self.extension = str(ext)
        self.con = duckdb.connect()
        self.con.execute(f"LOAD '{ext}'")
        self.threads = int(self.con.execute("SELECT current_setting('threads')").fetchone()[0])
        regs = pd.DataFrame(
            {
                "region_id": regions["region_id"].to_numpy(dtype=object),
                "wkb": shapely.to_wkb(regions.geometry.values),
            }
        )
        self.con.register("regs_df", regs)
        self.con.execute(
            "CREATE TABLE regs AS SELECT region_id, ST_GeomFromWKB(wkb) AS geom FROM regs_df"
        )

    def load_points(self, lon: np.ndarray, lat: np.ndarray) -> None:
        pts = pd.DataFrame({"idx": np.arange(len(lon), dtype="int64"), "lon": lon, "lat": lat})
        self.con.register("pts_df", pts)
        self.con.execute(
            "CREATE OR REPLACE TABLE pts AS SELECT idx, ST_Point(lon, lat) AS geom FROM pts_df"
        )

    def join(self) -> pd.DataFrame:
        return self.con.execute(
            "SELECT p.idx, r.region_id FROM pts p JOIN regs r ON ST_Intersects(r.geom, p.geom)"
        ).df()


def make_duck(regions: gpd.GeoDataFrame) -> tuple[DuckJoin | None, str]:
    """A DuckJoin, or None and why (the table then says DuckDB was not run)."""
    try:
        import duckdb
    except ImportError as exc:
        return None, f"DuckDB not installed ({exc}); pip install duckdb duckdb-extension-spatial"
    try:
        return DuckJoin(regions), ""
    except (ImportError, OSError) as exc:
        return None, f"DuckDB spatial extension not available: {type(exc).__name__}: {exc}"
    except duckdb.Error as exc:
        return None, f"DuckDB spatial extension failed to load offline: {exc}"


def bench_aggregate(rec: Recorder, regions: gpd.GeoDataFrame) -> None:
    plan = rec.plan
    aggregate, status, note = resolve("atlas.spatial", "aggregate")
    ref_regions = regions[["region_id", "geometry"]]

    def reference(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
        joined = gpd.sjoin(
            incidents[["date_start", "fatalities", "geometry"]], ref_regions, predicate="intersects"
        )
        month = joined["date_start"].dt.to_period("M")
        return joined.groupby(["region_id", month]).agg(
            incidents=("date_start", "size"), fatalities=("fatalities", "sum")
        )

    for n in plan.agg_sizes:
        incidents = synthetic_incidents(n)
        cases = [
            Case(
                "sjoin+groupby",
                lambda incidents=incidents: reference(incidents),
                "sjoin then pandas groupby(region_id, month): count and fatalities",
            )
        ]
        if aggregate is None:
            rec.skip("aggregate", "aggregate by region and month", n, "ours", status, note)
        else:
            cases.append(
                Case(
                    "ours",
                    lambda incidents=incidents: aggregate(incidents, regions, by="month"),
                    under_test=True,
                )
            )
        timed = rec.time_many("aggregate", "aggregate by region and month", n, cases)
        res, ref = timed["sjoin+groupby"]
        res.extra["cells"] = int(len(ref))
        res.extra["incidents_counted"] = int(ref["incidents"].sum())
        if "ours" in timed and timed["ours"][1] is not None:
            res, out = timed["ours"]
            res.extra["rows"] = int(len(out))
            counted = int(pd.to_numeric(out["incidents"]).sum())
            res.extra["incidents_counted"] = counted
            res.extra["same_total"] = counted == int(ref["incidents"].sum())
            res.extra["identical"] = same_counts(out, ref)


# ---- benchmarks: loading ----------------------------------------------------------------
def read_reference(path: Path) -> gpd.GeoDataFrame:
    """What a user writes without us: read_csv + points_from_xy."""
    df = pd.read_csv(path)
    return gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["longitude"], df["latitude"]), crs="EPSG:4326"
    )


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
                "pandas.read_csv + geopandas.points_from_xy",
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


def child_memory(args: list[str]) -> dict[str, Any]:
    """Run ``python -m bench.run --child ...`` and return its peak RSS figures."""
    cmd = [sys.executable, "-m", "bench.run", "--child", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"memory_error": f"child {args[0]} exited {proc.returncode}: {tail[0]}"[:400]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


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


# ---- benchmarks: maps -------------------------------------------------------------------
def make_data(incidents: gpd.GeoDataFrame) -> Any:
    """The app's bundle with ``incidents`` swapped in (regions, basemap... as shipped)."""
    from atlas.data import load_shipped

    return dataclasses.replace(load_shipped(), incidents=incidents)


def naive_map(incidents: gpd.GeoDataFrame) -> Any:
    """The reference a user would write: one CircleMarker per incident."""
    import folium

    fmap = folium.Map(location=[-12.5, -74.0], zoom_start=6)
    lon = shapely.get_x(incidents.geometry.values)
    lat = shapely.get_y(incidents.geometry.values)
    for y, x in zip(lat.tolist(), lon.tolist(), strict=True):  # per-row: that is the point
        folium.CircleMarker([y, x], radius=3, weight=1).add_to(fmap)
    return fmap


def naive_map_html(incidents: gpd.GeoDataFrame) -> str:
    return naive_map(incidents).get_root().render()


def naive_browser_html(incidents: gpd.GeoDataFrame) -> str:
    """The naive map with Leaflet inlined from our vendored copies (no CDN offline).

    Only the script/style links change (Leaflet itself; the Bootstrap and awesome-markers
    links folium adds are unused by CircleMarkers and not vendored); the page still draws
    one SVG path per incident.
    """
    from layers.compose import apply_assets

    fmap = naive_map(incidents)
    fmap.default_js = [(k, u) for k, u in fmap.default_js if k == "leaflet"]
    fmap.default_css = [(k, u) for k, u in fmap.default_css if k == "leaflet_css"]
    apply_assets(fmap, "inline")
    return fmap.get_root().render()


def ours_map_html(spec: Any, data: Any, assets: str = "local") -> str:
    from layers.compose import build_folium_map

    return build_folium_map(spec, data, assets=assets).get_root().render()


def bench_maps(rec: Recorder, workdir: Path) -> dict[str, Path]:
    """Build/render times and HTML sizes; returns HTML files for the browser step."""
    plan = rec.plan
    build, status, note = resolve("layers.compose", "build_folium_map")
    html_files: dict[str, Path] = {}
    sizes = sorted(set(plan.map_sizes) | set(plan.naive_sizes))
    for n in sizes:
        incidents = synthetic_incidents(n)
        if n in plan.naive_sizes:
            res, html = rec.time(
                "map",
                "build + render map HTML",
                n,
                "naive",
                lambda incidents=incidents: naive_map_html(incidents),
                note="folium.Map + one CircleMarker per incident (no popups)",
            )
            res.extra["html_bytes"] = len(html.encode())
            del html
            if n in plan.browser_naive_sizes:
                try:
                    page = naive_browser_html(incidents)
                except UNDER_TEST_ERRORS as exc:
                    res.extra["inline_error"] = f"{type(exc).__name__}: {exc}"[:300]
                else:
                    path = workdir / f"naive_{n}.html"
                    path.write_text(page, encoding="utf-8")
                    html_files[f"naive-{n}"] = path
        elif n in plan.map_sizes:
            rec.skip(
                "map",
                "build + render map HTML",
                n,
                "naive",
                "skipped",
                "naive CircleMarker map capped at 100k",
            )
        if n not in plan.map_sizes:
            continue
        if build is None:
            rec.skip("map", "build + render map HTML", n, "ours", status, note)
            continue
        from atlas.spec import MapSpec

        try:
            data = make_data(incidents)
        except UNDER_TEST_ERRORS as exc:
            rec.skip(
                "map", "build + render map HTML", n, "ours", "error",
                f"atlas.data.load_shipped: {type(exc).__name__}: {exc}"[:400],
            )  # fmt: skip
            continue
        spec = MapSpec()
        res, html = rec.time(
            "map",
            "build + render map HTML",
            n,
            "ours",
            lambda spec=spec, data=data: ours_map_html(spec, data),
            under_test=True,
            note="build_folium_map(MapSpec(), data, assets='local') + render",
        )
        if html is not None:
            res.extra["html_bytes"] = len(html.encode())
            if n in plan.browser_sizes:
                try:
                    inline = ours_map_html(spec, data, assets="inline")
                except UNDER_TEST_ERRORS as exc:
                    res.extra["inline_error"] = f"{type(exc).__name__}: {exc}"[:300]
                else:
                    path = workdir / f"ours_{n}.html"
                    path.write_text(inline, encoding="utf-8")
                    html_files[f"ours-{n}"] = path
    return html_files


# ---- benchmarks: browser ----------------------------------------------------------------
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


# ---- benchmarks: export and memory ------------------------------------------------------
def bench_export(rec: Recorder, workdir: Path) -> None:
    plan = rec.plan
    export, status, note = resolve("layers.export", "export")
    cases = [("PNG 1200x675", "web", "png"), ("PDF A4 300 dpi", "a4", "pdf")]
    for n in plan.export_sizes:
        if export is None:
            for name, _, _ in cases:
                rec.skip("export", name, n, "ours", status, note)
            continue
        from atlas.spec import MapSpec

        incidents = synthetic_incidents(n)
        try:
            data = make_data(incidents)
        except UNDER_TEST_ERRORS as exc:
            for name, _, _ in cases:
                rec.skip("export", name, n, "ours", "error",
                         f"atlas.data.load_shipped: {type(exc).__name__}: {exc}"[:400])  # fmt: skip
            continue
        for name, preset, ext in cases:
            spec = MapSpec().with_size(preset)
            path = workdir / f"export_{n}.{ext}"
            res, _ = rec.time(
                "export",
                name,
                n,
                "ours",
                lambda spec=spec, data=data, path=path: export(spec, data, path),
                under_test=True,
            )
            if res.status == "ok" and path.is_file():
                res.extra["bytes"] = path.stat().st_size


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
    t0 = time.perf_counter()
    figures = child_memory(["app", str(path)])
    res = Result("memory", "peak RSS: load + map", n, "ours", runs_s=[time.perf_counter() - t0])
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
    path = workdir / f"table_synthetic_{n}.csv"
    if not path.exists():
        rng = np.random.default_rng(SEED)
        days = rng.integers(0, 7 * 365, n)
        pd.DataFrame(
            {
                "id": np.char.add("T", np.arange(n).astype(str)),
                "date": (np.datetime64("2018-01-01") + days).astype(str),
                "latitude": np.round(rng.uniform(-18.3, -0.1, n), 5),
                "longitude": np.round(rng.uniform(-81.3, -68.7, n), 5),
                "fatalities": rng.poisson(0.4, n),
            }
        ).to_csv(path, index=False)
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
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"),
                                         args=CHROMIUM_ARGS)  # fmt: skip
            page = browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                (url, "data:", "blob:", "about:", "ws://127.0.0.1")) else r.abort())  # fmt: skip
            page.goto(url + "/")
            page.get_by_text(f"{n:,} incidents", exact=False).first.wait_for(timeout=600_000)
            page.wait_for_timeout(3000)  # the map payload reaches its iframe
            browser.close()
        status = Path(f"/proc/{proc.pid}/status").read_text(encoding="utf-8")
        kb = {k: int(v.split()[0]) for k, v in
              (line.split(":", 1) for line in status.splitlines() if line.startswith("Vm"))}  # fmt: skip
        res.runs_s = [time.perf_counter() - t0]
        res.extra.update(rss_peak_mb=round(kb["VmHWM"] / 1024, 1),
                         rss_mb=round(kb["VmRSS"] / 1024, 1))  # fmt: skip
        res.note = ("streamlit run app.py with CONFLICT_ATLAS_INCIDENTS (a synthetic table of "
                    f"{n:,} rows); one page opened until its counts showed; VmHWM of the "
                    "server process")  # fmt: skip
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


# ---- machine, table, files --------------------------------------------------------------
PACKAGES = (
    "numpy", "pandas", "geopandas", "shapely", "pyproj", "pyogrio", "pyarrow", "folium",
    "matplotlib", "streamlit", "duckdb", "duckdb-extension-spatial", "playwright",
)  # fmt: skip


def machine() -> dict[str, Any]:
    """CPU, cores, RAM, Python and package versions, chromium, git commit."""
    cpu = platform.processor() or "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_gb = None
    with open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    chromium = shutil.which("chromium")
    chromium_version = ""
    if chromium:
        proc = subprocess.run(
            [chromium, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
        chromium_version = proc.stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "os": platform.platform(),
        "packages": versions,
        "chromium": chromium_version,
        "git_commit": commit,
    }


def _fmt_bytes(b: int | None) -> str:
    if b is None:
        return "-"
    if b >= 1_000_000:
        return f"{b / 1_000_000:.1f} MB"
    return f"{b / 1000:.0f} kB"


def _cell(r: Result | None, plan: Plan, size_key: str | None = None) -> str:
    """Median seconds (and a size), or why there is no figure."""
    if r is None:
        return "-"
    if r.status != "ok" or r.median_s is None:
        label = r.status if r.status in ("skipped", "missing") else "ERROR"
        return f"{label}: {r.note}" if label == "ERROR" else r.note or label
    text = f"{r.median_s:.3f} s"
    if len(r.runs_s) < plan.repeats:
        text += f" ({len(r.runs_s)} run{'s' if len(r.runs_s) > 1 else ''})"
    if size_key and size_key in r.extra:
        text += f", {_fmt_bytes(r.extra[size_key])}"
    return text


def _labelled(label: str, r: Result | None, plan: Plan, size_key: str | None = None) -> str:
    """'sjoin 0.123 s' or 'DuckDB: not run at 1M ...'."""
    if r is None:
        return "-"
    sep = " " if r.status == "ok" and r.median_s is not None else ": "
    return label + sep + _cell(r, plan, size_key)


def _ratio(a: Result | None, b: Result | None) -> float | None:
    if a is None or b is None or a.median_s is None or b.median_s is None:
        return None
    if a.status != "ok" or b.status != "ok" or b.median_s == 0:
        return None
    return a.median_s / b.median_s


def _yes_no(value: Any) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def table_rows(results: list[Result], plan: Plan) -> list[dict[str, str]]:
    """The BENCHMARKS.md table: measurement, N, ours, reference, ratio, goal, met?."""
    idx = {(r.group, r.name, r.n, r.impl): r for r in results}
    rows: list[dict[str, str]] = []

    def add(measurement: str, n: int, ours: str, ref: str, ratio: str, goal: str, met: str):
        rows.append(
            {
                "measurement": measurement,
                "N": f"{n:,}",
                "ours": ours,
                "reference": ref,
                "ratio": ratio,
                "goal": goal,
                "met": met,
            }
        )

    for n in plan.join_sizes:
        o = idx.get(("join", "spatial join", n, "ours"))
        s = idx.get(("join", "spatial join", n, "sjoin"))
        d = idx.get(("join", "spatial join", n, "duckdb"))
        full = idx.get(("join", "spatial join", n, "sjoin-full"))
        if o is None and s is None:
            continue
        ratio = _ratio(o, s)
        ratio_full = _ratio(o, full)
        goal, met = "-", "-"
        if n == 1_000_000:
            goal = "ours/sjoin <= 1.0"
            met = "-" if ratio is None else ("yes" if ratio <= 1.0 else "NO (missed)")
        ident = o.extra.get("identical") if o else None
        add(
            "spatial join vs geopandas.sjoin",
            n,
            _cell(o, plan),
            "sjoin "
            + _cell(s, plan)
            + " (geometry only); "
            + _cell(full, plan)
            + " (how='left', all columns)",
            (f"{ratio:.2f}" if ratio is not None else "-")
            + (f" ({ratio_full:.2f} vs all columns)" if ratio_full is not None else "")
            + f"; identical: {_yes_no(ident)}",
            goal,
            met,
        )
        if d is not None:
            ratio_d = _ratio(o, d)
            ratio_ds = _ratio(d, s)
            extra = f"; DuckDB/sjoin {ratio_ds:.1f}" if ratio_ds is not None else ""
            add(
                "spatial join vs DuckDB spatial",
                n,
                _cell(o, plan),
                _labelled("DuckDB", d, plan),
                (f"{ratio_d:.3f}" if ratio_d is not None else "-")
                + f"; DuckDB identical to sjoin: {_yes_no(d.extra.get('identical'))}"
                + extra,
                "-",
                "-",
            )
    for n in plan.agg_sizes:
        o = idx.get(("aggregate", "aggregate by region and month", n, "ours"))
        s = idx.get(("aggregate", "aggregate by region and month", n, "sjoin+groupby"))
        if o is None and s is None:
            continue
        ratio = _ratio(o, s)
        same = o.extra.get("same_total") if o else None
        add(
            "aggregate by region x month",
            n,
            _cell(o, plan),
            "sjoin+groupby " + _cell(s, plan),
            (f"{ratio:.2f}" if ratio is not None else "-")
            + f"; same total: {_yes_no(same)}"
            + f"; identical counts: {_yes_no(o.extra.get('identical') if o else None)}",
            "- (ours zero-fills every region x month and adds areas)",
            "-",
        )
    for n in plan.load_sizes:
        o = idx.get(("load", "load ACLED-shaped CSV", n, "ours"))
        s = idx.get(("load", "load ACLED-shaped CSV", n, "read_csv"))
        if o is None and s is None:
            continue
        ratio = _ratio(o, s)

        def mem(r: Result | None) -> str:
            if r is None or "rss_peak_mb" not in r.extra:
                return ""
            return f", peak RSS {r.extra['rss_peak_mb']:.0f} MB"

        add(
            "load ACLED-shaped CSV (validated)",
            n,
            _cell(o, plan)
            + mem(o)
            + (
                "; over the default 200 MiB upload limit (the app refuses it with LimitError), "
                "timed with limits.max_bytes raised"
                if o is not None and o.extra.get("over_default_limit")
                else ""
            ),
            "read_csv+points_from_xy " + _cell(s, plan) + mem(s),
            f"{ratio:.2f}" if ratio is not None else "-",
            "-",
            "-",
        )
        w = idx.get(("cache", "GeoParquet write", n, "to_parquet"))
        r = idx.get(("cache", "GeoParquet read", n, "read_parquet"))
        if w is not None and r is not None:
            add(
                "GeoParquet cache: write / read",
                n,
                f"{_cell(w, plan)} / {_cell(r, plan)}, {_fmt_bytes(w.extra.get('bytes'))}",
                "CSV read " + _cell(s, plan),
                "-",
                "-",
                "-",
            )
    for n in sorted(set(plan.map_sizes) | set(plan.naive_sizes)):
        o = idx.get(("map", "build + render map HTML", n, "ours"))
        s = idx.get(("map", "build + render map HTML", n, "naive"))
        if o is None and s is None:
            continue
        ratio = _ratio(o, s)
        goal, met = "-", "-"
        if n == 100_000:
            goal = "< 1 s and a few MB (<= 5 MB)"
            if o is not None and o.status == "ok" and o.median_s is not None:
                ok = o.median_s < 1.0 and o.extra.get("html_bytes", 0) <= 5_000_000
                met = "yes" if ok else "NO (missed)"
        add(
            "map: build + render HTML",
            n,
            _cell(o, plan, "html_bytes"),
            _labelled("naive CircleMarkers", s, plan, "html_bytes"),
            f"{ratio:.3f}" if ratio is not None else "-",
            goal,
            met,
        )
    browser_ns = sorted(set(plan.browser_sizes) | set(plan.browser_naive_sizes))
    for n in browser_ns:
        o = idx.get(("browser", "time to rendered map", n, "ours"))
        s = idx.get(("browser", "time to rendered map", n, "naive"))
        if o is None and s is None:
            continue
        ratio = _ratio(o, s)
        add(
            "browser: time to rendered map (headless chromium)",
            n,
            _cell(o, plan, "html_bytes"),
            _labelled("naive CircleMarkers", s, plan, "html_bytes"),
            f"{ratio:.3f}" if ratio is not None else "-",
            "-",
            "-",
        )
    for n in plan.export_sizes:
        for name, limit in (("PNG 1200x675", 2.0), ("PDF A4 300 dpi", 5.0)):
            o = idx.get(("export", name, n, "ours"))
            if o is None:
                continue
            met = "-"
            if o is not None and o.status == "ok" and o.median_s is not None:
                met = "yes" if o.median_s <= limit else "NO (missed)"
            add(f"export {name}", n, _cell(o, plan, "bytes"), "-", "-", f"<= {limit:.0f} s", met)
    m = idx.get(("memory", "peak RSS: load + map", plan.memory_n, "ours"))
    if m is not None:
        text = m.note if m.status != "ok" else f"{m.extra.get('rss_peak_mb', 0):.0f} MB peak RSS"
        if m.status == "ok":
            text += f" (after imports {m.extra.get('rss_after_imports_mb', 0):.0f} MB)"
        add("memory: app work (load + map)", plan.memory_n, text, "-", "-", "-", "-")
    m = idx.get(("memory", "peak RSS: streamlit app process", plan.memory_n, "ours"))
    if m is not None:
        text = m.note if m.status != "ok" else f"{m.extra.get('rss_peak_mb', 0):.0f} MB peak RSS"
        if m.status == "ok":
            text += f" (now {m.extra.get('rss_mb', 0):.0f} MB; page ready in {m.median_s:.0f} s)"
        add("memory: streamlit app process", plan.memory_n, text, "-", "-", "-", "-")
    return rows


def markdown_section(payload: dict[str, Any], plan: Plan) -> str:
    """The mode's section of BENCHMARKS.md: machine, command, regions, table, notes."""
    m = payload["machine"]
    reg = payload["regions"]
    pk = m["packages"]
    if reg["kind"] == "real":
        regions = (
            f"real district polygons, {reg['file']} read at run time ({reg['features']:,} "
            f"features, {reg['null_geometry_left_out']} with null geometry left out, "
            f"{reg['used']:,} used, {reg['vertices']:,} vertices)"
        )
    else:
        regions = (
            f"SYNTHETIC Voronoi cells ({reg['used']:,} polygons, {reg['vertices']:,} vertices): "
            "the real district file was not found"
        )
    lines = [
        f"### {plan.mode} mode",
        "",
        f"- Command: `{payload['command']}`",
        f"- Date: {payload['started']} (took {payload['duration_s']:.0f} s); git {m['git_commit']}",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['os']}",
        f"- Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in pk.items())
        + (f"; {m['chromium']}" if m["chromium"] else ""),
        f"- Regions: {regions}",
        f"- Incidents: SYNTHETIC, seeded numpy (seed {SEED}), uniform in lon "
        f"{PERU_BBOX[0]}..{PERU_BBOX[2]}, lat {PERU_BBOX[1]}..{PERU_BBOX[3]}",
        f"- Each figure is the median of {plan.repeats} runs unless marked; a single run over "
        f"{plan.budget_s:.0f} s is not repeated.",
        _load_line(payload),
        "",
        "| measurement | N | ours | reference | ratio | goal | met? |",
        "|---|---:|---|---|---|---|---|",
    ]
    for row in payload["table"]:
        cells = [row[k].replace("|", "\\|") for k in
                 ("measurement", "N", "ours", "reference", "ratio", "goal", "met")]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    missed = [r for r in payload["table"] if r["met"].startswith("NO")]
    lines.append("")
    if missed:
        lines.append("Missed goals: " + "; ".join(
            f"{r['measurement']} at N={r['N']} ({r['ours']}, goal {r['goal']})" for r in missed
        ) + ".")  # fmt: skip
    else:
        lines.append("Missed goals: none among the goals that were measured.")
    not_measured = sorted({r.note for r in map(_result_from_dict, payload["results"])
                           if r.status in ("missing", "error")})  # fmt: skip
    if not_measured:
        lines.append("")
        lines.append("Not measured or failed: " + "; ".join(not_measured) + ".")
    return "\n".join(lines) + "\n"


def _load_line(payload: dict[str, Any]) -> str:
    """Say how busy the machine was: timings on a shared 2-core box are noisy."""
    loads = [r["extra"]["load_avg_1m"] for r in payload["results"] if "load_avg_1m" in r["extra"]]
    if not loads:
        return "- Load average: not recorded."
    cores = payload["machine"]["cores"] or 1
    text = f"- Load average (1 min) at the start of each measurement: {min(loads):.1f} to {max(loads):.1f}"
    if max(loads) > cores:
        text += (
            f" on {cores} cores: other work shared the machine during this run, so absolute "
            "times are inflated and noisy; ratios were measured side by side but are noisy too"
        )
    return text + "."


def _result_from_dict(d: dict[str, Any]) -> Result:
    keys = {f.name for f in dataclasses.fields(Result)}
    return Result(**{k: v for k, v in d.items() if k in keys})


def write_markdown(section: str, mode: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the mode's marked section of BENCHMARKS.md (append it when absent)."""
    start, end = f"<!-- bench:{mode}:start -->", f"<!-- bench:{mode}:end -->"
    block = f"{start}\n{section}{end}"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


# ---- main -------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick")
    mode.add_argument("--full", dest="mode", action="store_const", const="full")
    mode.add_argument("--smoke", dest="mode", action="store_const", const="smoke",
                      help="every measurement once at a small size (the test suite's)")  # fmt: skip
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="real data folder (default ../shared/data); read only")  # fmt: skip
    p.add_argument(
        "--out", type=Path, default=None, help="results JSON (default bench/results/<mode>.json)"
    )
    p.add_argument("--no-markdown", action="store_true", help="do not rewrite BENCHMARKS.md")
    p.add_argument(
        "--only",
        default="",
        help="comma list of groups: join,aggregate,load,map,browser,export,memory",
    )
    p.add_argument("--child", nargs=2, metavar=("KIND", "ARG"), help=argparse.SUPPRESS)
    p.set_defaults(mode="quick")
    return p.parse_args(argv)


GROUPS = ("join", "aggregate", "load", "map", "browser", "export", "memory")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(*args.child)
    plan = PLANS[args.mode]
    only = {g for g in args.only.split(",") if g} or set(GROUPS)
    unknown = only - set(GROUPS)
    if unknown:
        print(f"--only: unknown group(s) {', '.join(sorted(unknown))}; use {', '.join(GROUPS)}")
        return 2
    argv_list = sys.argv[1:] if argv is None else argv
    command = shlex.join([".venv/bin/python", "-m", "bench", *argv_list])
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    rec = Recorder(plan)
    regions, region_info = load_districts(args.data_dir)
    print(f"regions: {region_info}", flush=True)
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        workdir = Path(tmp)
        duck: DuckJoin | None = None
        duck_error = ""
        if "join" in only:
            duck, duck_error = make_duck(regions)
            bench_join(rec, regions, duck)
            if duck is None:
                for n in plan.duckdb_sizes:
                    rec.skip("join", "spatial join", n, "duckdb", "skipped", duck_error)
        if "aggregate" in only:
            bench_aggregate(rec, regions)
        csv_paths: dict[int, Path] = {}
        if "load" in only:
            csv_paths = bench_load(rec, workdir)
        html_files: dict[str, Path] = {}
        if "map" in only or "browser" in only:
            html_files = bench_maps(rec, workdir)
        if "browser" in only:
            bench_browser(rec, html_files, workdir)
        if "export" in only:
            bench_export(rec, workdir)
        if "memory" in only:
            bench_memory(rec, workdir, csv_paths)
    payload = {
        "mode": plan.mode,
        "command": command,
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": round(time.perf_counter() - t0, 1),
        "machine": machine(),
        "plan": dataclasses.asdict(plan),
        "regions": region_info,
        "duckdb": {"extension": duck.extension if duck else "", "error": duck_error},
        "results": [r.to_dict() for r in rec.results],
    }
    payload["table"] = table_rows(rec.results, plan)
    out = args.out or RESULTS_DIR / f"{plan.mode}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf-8")
    tmp_out.replace(out)
    print(f"wrote {out}")
    if not args.no_markdown:
        write_markdown(markdown_section(payload, plan), plan.mode)
        print(f"rewrote the {plan.mode} table in {BENCHMARKS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
