"""atlas.spatial: join (overlaps, boundary rule), distances, aggregation; all vectorised."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Polygon, box

from atlas.errors import CRSError, InputError
from atlas.regions import RegionDefinition, build_region, read_regions
from atlas.spatial import (
    aggregate,
    assign_region,
    distance_to_regions,
    join_incidents,
    region_areas_km2,
    within_km,
)

GRID = Path(__file__).resolve().parent / "fixtures" / "regions" / "synthetic_districts_grid.geojson"
NW, NE, SW, SE = "990101", "990102", "990201", "990202"


def _incidents() -> gpd.GeoDataFrame:
    """Five synthetic incidents: inside NW, on the NW/NE edge, on the 4-way corner,
    inside SE, and far outside."""
    return gpd.GeoDataFrame(
        {
            "event_id": ["p1", "p2", "p3", "p4", "p5"],
            "date_start": pd.to_datetime(
                ["2021-01-15", "2021-03-01", "2021-03-31", "2021-02-10", "2021-05-01"]
            ),
            "fatalities": pd.array([1, None, 2, 0, 5], dtype="Float64"),
            "fatalities_low": pd.array([1, None, 1, 0, 4], dtype="Float64"),
            "fatalities_high": pd.array([2, None, 3, 0, 6], dtype="Float64"),
            "synthetic": True,
        },
        geometry=gpd.points_from_xy(
            [-74.05, -74.0, -74.0, -73.95, -75.0], [-12.05, -12.05, -12.1, -12.15, -13.0]
        ),
        crs="EPSG:4326",
    )


@pytest.fixture
def grid() -> gpd.GeoDataFrame:
    return read_regions(GRID)[0]


@pytest.fixture
def layered(grid: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The grid plus an overlapping zone (NW+NE) and a far empty region."""
    zone, _ = build_region(RegionDefinition("zone", "Synthetic zone", (NW, NE)), grid)
    empty = gpd.GeoDataFrame(
        {"region_id": ["empty"], "name": ["Synthetic empty"], "layer": ["test"]},
        geometry=[box(-72.0, -14.0, -71.9, -13.9)],
        crs="EPSG:4326",
    )
    return gpd.GeoDataFrame(pd.concat([grid, zone, empty], ignore_index=True), crs="EPSG:4326")


def test_join_overlaps_boundaries_and_outside(layered: gpd.GeoDataFrame) -> None:
    joined = join_incidents(_incidents(), layered)
    got = joined.groupby("event_id")["region_id"].apply(lambda s: sorted(s.dropna())).to_dict()
    assert got == {
        "p1": sorted([NW, "zone"]),
        "p2": sorted([NW, NE, "zone"]),  # on the shared edge: both districts
        "p3": sorted([NW, NE, SW, SE, "zone"]),  # on the corner: all four
        "p4": [SE],
        "p5": [],  # outside: kept once with NA
    }
    assert len(joined) == 2 + 3 + 5 + 1 + 1
    outside = joined[joined["event_id"] == "p5"]
    assert len(outside) == 1 and outside["region_id"].isna().all()
    assert joined.crs.to_epsg() == 4326
    assert list(joined["event_id"].drop_duplicates()) == ["p1", "p2", "p3", "p4", "p5"]
    assert set(joined.loc[joined["region_id"] == "zone", "region_layer"]) == {"vraem"}


def test_within_predicate_excludes_boundaries(grid: gpd.GeoDataFrame) -> None:
    joined = join_incidents(_incidents(), grid, predicate="within")
    on_edge = joined[joined["event_id"].isin(["p2", "p3"])]
    assert on_edge["region_id"].isna().all()


def test_assign_region_first_region(grid: gpd.GeoDataFrame) -> None:
    incidents = _incidents().set_index("event_id", drop=False)
    got = assign_region(incidents, grid)
    assert list(got.index) == ["p1", "p2", "p3", "p4", "p5"]
    assert list(got.iloc[:4]) == [NW, NW, NW, SE]
    assert pd.isna(got["p5"])


def test_checks(grid: gpd.GeoDataFrame) -> None:
    with pytest.raises(CRSError, match="incidents are in EPSG:4326 but regions are in EPSG:32718"):
        join_incidents(_incidents(), grid.to_crs("EPSG:32718"))
    with pytest.raises(CRSError, match="incidents have no CRS"):
        join_incidents(_incidents().set_crs(None, allow_override=True), grid)
    lines = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs="EPSG:4326")
    with pytest.raises(InputError, match="1 geometries are not points"):
        join_incidents(lines, grid)
    with pytest.raises(InputError, match="no 'region_id' column"):
        join_incidents(_incidents(), grid.drop(columns="region_id"))
    with pytest.raises(InputError, match="missing column.*date_start"):
        aggregate(_incidents().drop(columns="date_start"), grid, by="month")
    with pytest.raises(InputError, match="by='day' unknown"):
        aggregate(_incidents(), grid, by="day")


def test_distance_matches_geodesic(grid: gpd.GeoDataFrame) -> None:
    km = distance_to_regions(_incidents(), grid)
    assert list(km.iloc[:4]) == [0.0, 0.0, 0.0, 0.0]
    # Nearest point of the grid to (-75, -13) is its SW corner (-74.1, -12.2).
    _, _, metres = Geod(ellps="WGS84").inv(-75.0, -13.0, -74.1, -12.2)
    assert km.iloc[4] == pytest.approx(metres / 1000, rel=2e-3)
    near = within_km(_incidents(), grid, km=km.iloc[4] + 1)
    assert near.all()
    assert list(within_km(_incidents(), grid, km=1)) == [True, True, True, True, False]
    with pytest.raises(InputError, match="must be a number"):
        within_km(_incidents(), grid, km=-1)


def test_area_matches_geodesic(grid: gpd.GeoDataFrame) -> None:
    geod = Geod(ellps="WGS84")
    expected = [abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in grid.geometry]
    assert np.allclose(region_areas_km2(grid), expected, rtol=2e-3)


def test_aggregate_totals(layered: gpd.GeoDataFrame) -> None:
    agg = aggregate(_incidents(), layered).set_index("region_id")
    assert list(agg.index) == [NW, NE, SW, SE, "zone", "empty"]
    assert agg.loc[[NW, NE, SW, SE, "zone", "empty"], "incidents"].tolist() == [3, 2, 1, 2, 3, 0]
    # NW: p1 (1) + p2 (unknown) + p3 (2) -> 3 with one unknown.
    assert agg.loc[NW, "fatalities"] == 3 and agg.loc[NW, "fatalities_unknown"] == 1
    assert agg.loc[NW, "fatalities_low"] == 2 and agg.loc[NW, "fatalities_high"] == 5
    assert agg.loc[SE, "fatalities"] == 2
    assert agg.loc["empty", "fatalities"] == 0 and agg.loc["empty", "incidents"] == 0
    expected_density = agg["incidents"] / agg["area_km2"] * 1000
    assert np.allclose(agg["incidents_per_1000km2"], expected_density)
    assert agg.loc["zone", "area_km2"] == pytest.approx(
        agg.loc[NW, "area_km2"] + agg.loc[NE, "area_km2"], rel=1e-9
    )


def test_aggregate_all_unknown_is_na(grid: gpd.GeoDataFrame) -> None:
    incidents = _incidents()
    incidents["fatalities"] = pd.array([None] * 5, dtype="Float64")
    agg = aggregate(incidents, grid).set_index("region_id")
    assert pd.isna(agg.loc[NW, "fatalities"]) and agg.loc[NW, "fatalities_unknown"] == 3


def test_aggregate_by_month_fills_zero_buckets(layered: gpd.GeoDataFrame) -> None:
    joined = join_incidents(_incidents(), layered)
    agg = aggregate(_incidents(), layered, by="month", joined=joined)
    months = sorted(agg["period"].unique())
    assert [str(pd.Timestamp(m).date()) for m in months] == [
        "2021-01-01",
        "2021-02-01",
        "2021-03-01",
        "2021-04-01",
        "2021-05-01",
    ]
    assert len(agg) == 6 * 5  # every region x every month in range
    nw = agg[agg["region_id"] == NW].set_index("period")["incidents"]
    assert nw.tolist() == [1, 0, 2, 0, 0]
    assert agg.groupby("region_id", sort=False)["incidents"].sum().tolist() == [3, 2, 1, 2, 3, 0]


def test_aggregate_counts_undated_rows(grid: gpd.GeoDataFrame) -> None:
    incidents = _incidents()
    incidents.loc[0, "date_start"] = pd.NaT  # p1, inside NW only
    agg = aggregate(incidents, grid, by="year")
    assert agg.attrs["undated_rows"] == 1
    assert agg.set_index("region_id").loc[NW, "incidents"] == 2


def test_aggregate_weeks_start_monday(grid: gpd.GeoDataFrame) -> None:
    agg = aggregate(_incidents(), grid, by="week")
    assert (pd.to_datetime(agg["period"]).dt.day_of_week == 0).all()
    se = agg[(agg["region_id"] == SE) & (agg["incidents"] > 0)]
    # p4 2021-02-10 is a Wednesday -> week of Monday 2021-02-08; p3 2021-03-31 -> 03-29.
    assert sorted(str(pd.Timestamp(p).date()) for p in se["period"]) == [
        "2021-02-08",
        "2021-03-29",
    ]


def test_many_points_match_numpy_box_test(grid: gpd.GeoDataFrame) -> None:
    """100,000 random points: the STRtree join agrees with plain box arithmetic."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-74.15, -73.85, 100_000)
    y = rng.uniform(-12.25, -11.95, 100_000)
    points = gpd.GeoDataFrame(
        {"event_id": np.arange(len(x)).astype(str)}, geometry=gpd.points_from_xy(x, y), crs=4326
    )
    got = assign_region(points, grid)
    inside_x = (x >= -74.1) & (x <= -73.9)
    inside_y = (y >= -12.2) & (y <= -12.0)
    west = x <= -74.0
    north = y >= -12.1
    expected = np.where(
        inside_x & inside_y,
        np.where(north, np.where(west, NW, NE), np.where(west, SW, SE)),
        None,
    )
    assert (got.isna().to_numpy() == pd.isna(expected)).all()
    ok = ~pd.isna(expected)
    assert (got.to_numpy()[ok] == expected[ok]).all()


@pytest.mark.parametrize("predicate", ["intersects", "covered_by", "within"])
def test_fast_point_in_polygon_equals_strtree_predicate(predicate):
    """The prepared-polygon fast path gives the same pairs as sindex.query(predicate)."""
    from atlas.spatial import _pairs

    rng = np.random.default_rng(7)
    cells = [box(x, y, x + 1, y + 1) for x in range(4) for y in range(3)]
    cells.append(Polygon([(0.5, 0.5), (3.5, 0.5), (2, 2.9)]))  # overlaps the grid
    regions = gpd.GeoDataFrame(
        {"region_id": [f"r{i}" for i in range(len(cells))]}, geometry=cells, crs="EPSG:4326"
    )
    xs = np.concatenate([rng.uniform(-0.5, 4.5, 500), [1.0, 2.0, 0.0, 4.0]])  # + edges
    ys = np.concatenate([rng.uniform(-0.5, 3.5, 500), [1.0, 1.5, 0.0, 3.0]])
    incidents = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs="EPSG:4326")
    got = set(zip(*_pairs(incidents, regions, predicate), strict=True))
    ref_inc, ref_reg = regions.sindex.query(
        np.asarray(incidents.geometry.array), predicate=predicate
    )
    assert got == set(zip(ref_inc, ref_reg, strict=True))
    per_incident = pd.Series([i for i, _ in got]).value_counts()
    assert (per_incident >= 2).any()  # the overlapping triangle is covered too
    corner = len(xs) - 4  # (1, 1): a corner shared by four cells and the triangle
    n_corner = int(per_incident.get(corner, 0))
    assert n_corner == (1 if predicate == "within" else 5)  # within: inside the triangle only


def test_an_incident_in_a_sliver_takes_the_nearest_region_within_1_km() -> None:
    """Two SYNTHETIC districts 0.01° (about 1.1 km) apart: a point in the gap 0.003°
    (about 330 m) from the west one snaps to it; one 0.02° away stays outside."""
    regions = gpd.GeoDataFrame(
        {"region_id": ["W", "E"], "name": ["west", "east"], "layer": ["district"] * 2},
        geometry=[box(-74.1, -12.1, -74.0, -12.0), box(-73.99, -12.1, -73.89, -12.0)],
        crs="EPSG:4326",
    )
    points = gpd.GeoDataFrame(
        {"event_id": ["gap", "far", "in"]},
        geometry=gpd.points_from_xy([-73.997, -74.12, -74.05], [-12.05, -12.05, -12.05]),
        crs="EPSG:4326",
    )
    plain = join_incidents(points, regions)
    assert plain["region_id"].isna().tolist() == [True, True, False]
    snapped = join_incidents(points, regions, snap_km=1.0)
    assert snapped["region_id"].tolist()[0] == "W" and pd.isna(snapped["region_id"][1])
    assert snapped["snapped_km"][0] == pytest.approx(0.327, abs=0.01)
    assert np.isnan(snapped["snapped_km"][1]) and np.isnan(snapped["snapped_km"][2])
    summary = aggregate(points, regions, snap_km=1.0).set_index("region_id")
    assert summary.loc["W", "incidents"] == 2 and summary.attrs["snapped"] == 1
