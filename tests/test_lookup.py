"""atlas.lookup: the grid lookup gives the same (incident, region) pairs as sjoin.

Two point sets, as in the benchmark: uniform over Peru's box, and clustered near region
borders (seeds snapped to the nearest border and jittered, some exactly on vertices).
Regions: a seeded Voronoi tessellation (bench.data.synthetic_regions) plus an
overlapping zone and a region with a hole, so one point can be in several regions.
The reference for the whole ``join_incidents`` frame is today's join: the same frame
assembly fed by ``sindex.query(points, predicate=...)``, the pairs geopandas' sjoin uses.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from atlas import lookup, spatial
from atlas.regions import read_regions
from atlas.spatial import join_incidents
from bench.data import border_points, synthetic_incidents, synthetic_regions, with_points

GRID = Path(__file__).resolve().parent / "fixtures" / "regions" / "synthetic_districts_grid.geojson"


def _reference_pairs(
    incidents: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, predicate: str
) -> tuple[np.ndarray, np.ndarray]:
    """Today's pairs: the STRtree predicate query (what sjoin runs), sorted."""
    inc, reg = regions.sindex.query(np.asarray(incidents.geometry.array), predicate=predicate)
    order = np.lexsort((reg, inc))
    return inc[order], reg[order]


def _reference_join(
    incidents: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, predicate: str = "intersects"
) -> gpd.GeoDataFrame:
    """join_incidents as it was: the frame assembled by iloc from the reference pairs."""
    real, gather = spatial._pairs, spatial._gather_rows
    spatial._pairs = _reference_pairs
    spatial._gather_rows = lambda frame, pos: frame.iloc[pos].reset_index(drop=True)
    try:
        return join_incidents(incidents, regions, predicate=predicate)
    finally:
        spatial._pairs, spatial._gather_rows = real, gather


@pytest.fixture(scope="module")
def regions() -> gpd.GeoDataFrame:
    cells = synthetic_regions()
    zone = cells.iloc[:1].copy()
    zone["region_id"], zone["name"], zone["layer"] = "zone", "Synthetic zone", "zone"
    zone["geometry"] = [shapely.union_all(cells.geometry.values[100:160])]
    holed = cells.iloc[:1].copy()
    holed["region_id"], holed["name"], holed["layer"] = "holed", "Synthetic hole", "zone"
    outer = box(-76.0, -12.0, -74.0, -10.0)
    holed["geometry"] = [outer.difference(box(-75.5, -11.5, -74.5, -10.5))]
    missing = cells.iloc[:1].copy()
    missing["region_id"], missing["geometry"] = "missing", [None]
    out = pd.concat([cells, zone, holed, missing], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


@pytest.fixture(autouse=True)
def _always_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use the grid from the first point (the default waits for 200k points)."""
    monkeypatch.setattr(lookup, "MIN_POINTS", 0)


def _point_sets(regions: gpd.GeoDataFrame, n: int) -> dict[str, gpd.GeoDataFrame]:
    base = synthetic_incidents(n)
    x, y, _ = border_points(regions, n, data_dir=None)
    return {"uniform": base, "border": with_points(base, x, y)}


@pytest.mark.parametrize("n", [10_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_pairs_identical_to_sjoin(regions: gpd.GeoDataFrame, n: int) -> None:
    for name, incidents in _point_sets(regions, n).items():
        ref = gpd.sjoin(incidents[["geometry"]], regions[["geometry"]], predicate="intersects")
        want = np.unique(ref.index.to_numpy() * len(regions) + ref["index_right"].to_numpy())
        inc, reg = spatial._pairs(incidents, regions, "intersects")
        got = inc * len(regions) + reg
        assert np.all(np.diff(got) > 0), f"{name}: pairs not sorted by (incident, region)"
        assert np.array_equal(got, want), f"{name}: pairs differ from sjoin"
    assert lookup.cached(np.asarray(regions.geometry.array), build_if_missing=False) is not None


@pytest.mark.parametrize("predicate", ["intersects", "within", "covered_by"])
def test_join_frame_equals_todays(regions: gpd.GeoDataFrame, predicate: str) -> None:
    incidents = _point_sets(regions, 10_000)["border"]
    # a few on exact vertices (shared by 2-3 cells) and the zone's and hole's edges
    verts = shapely.get_coordinates(shapely.boundary(regions.geometry.values[[5, 1834, 1835]]))
    xs, ys = shapely.get_x(incidents.geometry.values), shapely.get_y(incidents.geometry.values)
    xs[: len(verts)], ys[: len(verts)] = verts[:, 0], verts[:, 1]
    xs[-3:], ys[-3:] = [-75.0, -76.0, -75.5], [-10.0, -11.0, -11.0]  # on the hole's edges
    incidents = with_points(incidents, xs, ys)
    incidents.loc[7, "geometry"] = None
    incidents.loc[8, "geometry"] = shapely.Point()
    got = join_incidents(incidents, regions, predicate=predicate)
    want = _reference_join(incidents, regions, predicate)
    pd.testing.assert_frame_equal(got, want)
    if predicate != "within":
        assert (got["event_id"].value_counts() > 1).any(), "no point in two regions"


def test_shared_edges_and_corners_of_the_fixture_grid() -> None:
    """Points on the fixture districts' shared edges and corner, with a fine grid."""
    grid = read_regions(GRID)[0]
    polys = np.asarray(grid.geometry.array)
    minx, miny, maxx, maxy = shapely.total_bounds(polys)
    rng = np.random.default_rng(3)
    xs = np.concatenate([rng.uniform(minx - 0.01, maxx + 0.01, 5000), [-74.0, -74.0, minx, maxx]])
    ys = np.concatenate([rng.uniform(miny - 0.01, maxy + 0.01, 5000), [-12.1, -12.05, miny, maxy]])
    coords = shapely.get_coordinates(shapely.boundary(polys))
    xs, ys = np.concatenate([xs, coords[:, 0]]), np.concatenate([ys, coords[:, 1]])
    for cells in (16, 1024, 1 << 16):
        built = lookup.build(polys, cells=cells)
        inc, reg = lookup.pairs(built, polys, xs, ys)
        ref_inc, ref_reg = spatial.exact_pairs(polys, xs, ys)
        assert np.array_equal(inc, ref_inc) and np.array_equal(reg, ref_reg), cells
        ref_pts = shapely.points(xs, ys)
        q_inc, q_reg = grid.sindex.query(ref_pts, predicate="intersects")
        order = np.lexsort((q_reg, q_inc))
        assert np.array_equal(inc, q_inc[order]) and np.array_equal(reg, q_reg[order])


def test_cell_index_equals_searchsorted() -> None:
    edges = lookup._refine(lookup._edges(-81.4, -68.6, 1703), 2)
    rng = np.random.default_rng(5)
    v = np.concatenate([rng.uniform(-82, -68, 100_000), edges, np.nextafter(edges, -np.inf)])
    v = np.concatenate([v, [np.nan, -81.4, -68.6]])
    want = np.searchsorted(edges, v, side="right") - 1
    want[(want < 0) | (want >= len(edges) - 1) | np.isnan(v)] = -1
    assert np.array_equal(lookup._cell_index(edges, v), want)


def test_small_joins_skip_the_build(regions: gpd.GeoDataFrame, monkeypatch) -> None:
    monkeypatch.setattr(lookup, "MIN_POINTS", 200_000)
    monkeypatch.setattr(lookup, "_CACHE", type(lookup._CACHE)())
    incidents = synthetic_incidents(1000)
    join_incidents(incidents, regions)
    assert lookup.cached(np.asarray(regions.geometry.array), build_if_missing=False) is None


def test_gather_rows_equals_iloc(monkeypatch: pytest.MonkeyPatch) -> None:
    incidents = synthetic_incidents(5000)
    incidents["notes"] = incidents["notes"].astype("str")
    rng = np.random.default_rng(9)
    pos = np.sort(np.concatenate([np.arange(5000), rng.integers(0, 5000, 40), [0, 4999]]))
    want = incidents.iloc[pos].reset_index(drop=True)
    pd.testing.assert_frame_equal(spatial._gather_rows(incidents, pos), want)
    monkeypatch.setattr(spatial, "_MAX_SLICES", 3)  # many repeats: the plain take
    pd.testing.assert_frame_equal(spatial._gather_rows(incidents, pos), want)
