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


def _two_triangles() -> np.ndarray:
    """Two triangles sharing the diagonal x + y = 8 of the square [0, 8] x [0, 8]."""
    return np.array(
        [
            shapely.Polygon([(0, 0), (8, 0), (0, 8)]),  # A: x + y <= 8
            shapely.Polygon([(8, 0), (8, 8), (0, 8)]),  # B: x + y >= 8
        ]
    )


def test_sub_cells_of_a_boundary_cell() -> None:
    """A 4 x 4 grid (cells of 2) cut 4 x 4 (sub-cells of 0.5): the diagonal crosses the
    cell [2, 4] x [4, 6]. Its sub-cells the diagonal touches test A and B exactly; the
    others are answered by the grid, A to the left of the diagonal and B to the right
    along the same row (one probe per run of untouched sub-cells)."""
    polys = _two_triangles()
    built = lookup.build(polys, cells=16, k=4)
    assert built.shape == (4, 4) and built.k == 4
    # the sub-cell [3, 3.5] x [4.5, 5] of cell (column 1, row 2): on the diagonal
    on_edge = built.locate(np.array([3.25]), np.array([4.75]))[0]
    items = slice(built.start[on_edge], built.start[on_edge + 1])
    assert built.regions[items].tolist() == [0, 1] and built.exact[items].all()
    # every sub-cell of that cell: untouched ones hold A (x + y < 8) or B, without a test
    cx = 2.0 + 0.25 + 0.5 * np.arange(4)
    cy = 4.0 + 0.25 + 0.5 * np.arange(4)
    gx, gy = np.meshgrid(cx, cy)
    entries = built.locate(gx.ravel(), gy.ravel())
    assert len(set(entries.tolist())) == 16  # 16 distinct sub-cell entries
    free = {"A": 0, "B": 0}
    for e, sx, sy in zip(entries, gx.ravel(), gy.ravel(), strict=True):
        regs = built.regions[built.start[e] : built.start[e + 1]].tolist()
        flags = built.exact[built.start[e] : built.start[e + 1]].tolist()
        if not any(flags):  # answered by the grid: the sub-cell lies on one side
            assert regs == ([0] if sx + sy < 8 else [1])
            free["A" if sx + sy < 8 else "B"] += 1
    assert free["A"] > 0 and free["B"] > 0
    # a row with untouched sub-cells on both sides of the diagonal: y in [4.5, 5]
    row = built.locate(cx, np.full(4, 4.75))
    firsts = [built.regions[built.start[e] : built.start[e + 1]].tolist() for e in row]
    assert firsts[0] == [0] and not built.exact[built.start[row[0]]]


@pytest.mark.parametrize("k", [2, 4, 8])
def test_points_on_edges_and_vertices_in_sub_cells(k: int) -> None:
    """Points on the shared diagonal, on the triangles' vertices, on sub-cell edges and
    corners, and random ones: the same pairs as the exact test, both predicates."""
    polys = _two_triangles()
    built = lookup.build(polys, cells=16, k=k)
    t = np.linspace(0.0, 8.0, 8 * k * 4 + 1)  # every sub-cell edge and between
    gx, gy = np.meshgrid(t, t)
    rng = np.random.default_rng(11)
    diag = rng.uniform(0, 8, 500)
    xs = np.concatenate([gx.ravel(), diag, [0, 8, 8, 0], rng.uniform(-1, 9, 5000)])
    ys = np.concatenate([gy.ravel(), 8 - diag, [0, 0, 8, 8], rng.uniform(-1, 9, 5000)])
    on_diagonal = np.flatnonzero(xs + ys == 8)
    assert len(on_diagonal) > 100
    for interior_only in (False, True):
        inc, reg = lookup.pairs(built, polys, xs, ys, interior_only=interior_only)
        want = spatial.exact_pairs(polys, xs, ys, interior_only=interior_only)
        assert np.array_equal(inc, want[0]) and np.array_equal(reg, want[1])
    inc, _ = lookup.pairs(built, polys, xs, ys)
    # a point exactly on the diagonal is in both triangles
    assert (np.bincount(inc, minlength=len(xs))[on_diagonal] == 2).all()


def test_locate_equals_coarse_then_sub_cell() -> None:
    """locate finds the sub-cell on the refined edges and its cell as fx // k: the same
    entry as searching the coarse edges, then the refined ones (searchsorted)."""
    polys = _two_triangles()
    built = lookup.build(polys, cells=16, k=4)
    rng = np.random.default_rng(2)
    fine = lookup._refine(built.xs, 4)
    xs = np.concatenate([rng.uniform(-1, 9, 20_000), fine, np.nextafter(fine, -np.inf)])
    ys = np.concatenate([rng.uniform(-1, 9, 20_000), fine[::-1], fine])
    ix = np.searchsorted(built.xs, xs, "right") - 1
    iy = np.searchsorted(built.ys, ys, "right") - 1
    ok = (ix >= 0) & (ix < 4) & (iy >= 0) & (iy < 4)
    want = np.full(len(xs), -1)
    first = built.entry[iy[ok] * 4 + ix[ok]].astype(np.int64)
    fx = np.searchsorted(fine, xs[ok], "right") - 1 - ix[ok] * 4
    fy = np.searchsorted(lookup._refine(built.ys, 4), ys[ok], "right") - 1 - iy[ok] * 4
    want[ok] = np.where(first >= built.runs, first + fy * 4 + fx, first)
    assert np.array_equal(built.locate(xs, ys), want)


def test_grouped_tests_keep_the_order() -> None:
    polys = _two_triangles()
    rng = np.random.default_rng(4)
    reg = rng.integers(0, 2, 3000)
    x, y = rng.uniform(0, 8, 3000), rng.uniform(0, 8, 3000)
    shapely.prepare(polys)
    got = lookup.test_grouped(shapely.intersects_xy, polys, reg, x, y)
    assert np.array_equal(got, shapely.intersects_xy(polys[reg], x, y))
    assert got.any() and not got.all()


def test_gather_rows_from_chunked_text_columns() -> None:
    """Text columns of several Arrow chunks (a concatenated frame) are sliced per chunk."""
    half = synthetic_incidents(3000)
    incidents = gpd.GeoDataFrame(pd.concat([half, half], ignore_index=True), crs=half.crs)
    assert incidents["event_id"].array._pa_array.num_chunks > 1
    rng = np.random.default_rng(6)
    pos = np.sort(np.concatenate([np.arange(6000), rng.integers(0, 6000, 30)]))
    want = incidents.iloc[pos].reset_index(drop=True)
    pd.testing.assert_frame_equal(spatial._gather_rows(incidents, pos), want)
