"""Spatial join and aggregation benchmarks, against geopandas.sjoin and DuckDB spatial."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bench.core import Case, Recorder, resolve
from bench.data import border_points, synthetic_incidents, with_points


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
BORDER = "spatial join (near borders)"


def bench_lookup_build(rec: Recorder, regions: gpd.GeoDataFrame) -> None:
    """The grid lookup's one-off build (cached per set of regions, like sjoin's STRtree)."""
    build, status, note = resolve("atlas.lookup", "build")
    if build is None:
        rec.skip("join", "grid lookup build", len(regions), "ours", status, note)
        return
    polys = np.asarray(regions.geometry.array)
    res, grid = rec.time(
        "join", "grid lookup build", len(regions), "ours", lambda: build(polys), under_test=True
    )
    if grid is not None:
        res.extra.update(
            cells=int(grid.entry.size),
            boundary_share=round(grid.boundary_share(), 4),
            entries=int(len(grid.start) - 1),
            megabytes=round(grid.nbytes() / 1e6, 1),
        )


def warm_lookup(regions: gpd.GeoDataFrame, n: int) -> None:
    """Build the lookup join_incidents will use at ``n`` points into its cache, untimed.

    The rows from ``lookup.MIN_POINTS`` points time a built lookup, as sjoin's rows time
    a built STRtree (before, the first 1M near-border run paid the build and could be the
    median); smaller rows keep timing the exact path a first small join takes.
    """
    cached, _, _ = resolve("atlas.lookup", "cached")
    if cached is not None and n >= getattr(sys.modules[cached.__module__], "MIN_POINTS", 0):
        cached(np.asarray(regions.geometry.array))


def bench_join_border(
    rec: Recorder, regions: gpd.GeoDataFrame, data_dir: Path | None, n: int
) -> None:
    """Points clustered near district borders (jittered villages): the grid's worst case."""
    join, status, note = resolve("atlas.spatial", "join_incidents")
    x, y, source = border_points(regions, n, data_dir)
    incidents = with_points(synthetic_incidents(n), x, y)
    points = incidents[["geometry"]]
    ref_regions = regions[["region_id", "geometry"]]
    cases = [
        Case(
            "sjoin",
            lambda: gpd.sjoin(points, ref_regions, predicate="intersects"),
            "geopandas.sjoin(points, districts, predicate='intersects'), geometry-only frames",
        )
    ]
    if join is None:
        rec.skip("join", BORDER, n, "ours", status, note)
    else:
        cases.append(
            Case("ours", lambda: join(incidents, regions, predicate="intersects"), source, True)
        )
    timed = rec.time_many("join", BORDER, n, cases)
    all_ids = pd.Index(regions["region_id"])
    res, ref = timed["sjoin"]
    ref_keys = pair_keys(ref.index.to_numpy(), ref["region_id"], all_ids)
    res.extra["pairs"] = int(len(ref_keys))
    if "ours" in timed and timed["ours"][1] is not None:
        res, out = timed["ours"]
        keys = pair_keys(*ours_pairs(out, incidents), all_ids)
        res.extra["pairs"] = int(len(keys))
        res.extra["identical"] = bool(np.array_equal(keys, ref_keys))


def bench_join(
    rec: Recorder,
    regions: gpd.GeoDataFrame,
    duck: DuckJoin | None,
    data_dir: Path | None = None,
) -> None:
    plan = rec.plan
    all_ids = pd.Index(regions["region_id"])
    ref_regions = regions[["region_id", "geometry"]]
    join, status, note = resolve("atlas.spatial", "join_incidents")
    bench_lookup_build(rec, regions)
    for n in plan.join_sizes:
        warm_lookup(regions, n)
        bench_join_border(rec, regions, data_dir, n)
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
