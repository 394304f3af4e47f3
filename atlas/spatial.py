"""Incidents against regions: join, distance and per-region aggregation (vectorised).

Every function takes canonical frames (incidents: points; regions: REGION_COLUMNS), both
in the same CRS (EPSG:4326), and works on whole arrays through the regions' STRtree:
no Python loop per incident.

Boundary rule: a point exactly on a boundary shared by two regions belongs to **every**
region whose closed polygon contains it (``intersects``/``covers``, boundary included).
Counts per region can therefore add up to more than the number of incidents; the join
output shows each incident once per region and once with no region when it is outside
all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyproj
import shapely

from atlas import lookup
from atlas.crs import EQUAL_AREA_CRS, METRIC_CRS
from atlas.errors import CRSError, InputError

PREDICATES = ("intersects", "covered_by", "within")
BY_CHOICES = (None, "week", "month", "quarter", "year")
_FREQ = {"week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}


def _check_inputs(
    incidents: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    *,
    incident_columns: tuple[str, ...] = (),
) -> None:
    """CRSs equal and named, incidents are points, needed columns present."""
    for label, frame in (("incidents", incidents), ("regions", regions)):
        if not isinstance(frame, gpd.GeoDataFrame):
            raise InputError(f"{label}: expected a GeoDataFrame, got {type(frame).__name__}")
    if "region_id" not in regions.columns:
        raise InputError(
            "regions: no 'region_id' column; read the file with atlas.regions.read_regions"
        )
    missing = [c for c in incident_columns if c not in incidents.columns]
    if missing:
        raise InputError(
            f"incidents: missing column(s) {', '.join(missing)}; read them with "
            "atlas.readers.read_incidents"
        )
    if incidents.crs is None or regions.crs is None:
        raise CRSError(
            f"CRS missing: incidents have {_crs_name(incidents.crs)}, regions have "
            f"{_crs_name(regions.crs)}; both must be EPSG:4326 (use the atlas readers)"
        )
    if not pyproj.CRS(incidents.crs).equals(pyproj.CRS(regions.crs)):
        raise CRSError(
            f"CRS mismatch: incidents are in {_crs_name(incidents.crs)} but regions are in "
            f"{_crs_name(regions.crs)}; reproject one (both should be EPSG:4326)"
        )
    geoms = np.asarray(incidents.geometry.array)
    # one vectorised type read: 0 is a point, -1 a missing geometry; empties of other
    # kinds count as missing
    type_id = shapely.get_type_id(geoms)
    not_point = type_id > 0
    if not_point.any():
        not_point[not_point] = ~shapely.is_empty(geoms[not_point])
    if not_point.any():
        kinds = ", ".join(sorted({g.geom_type for g in geoms[not_point]}))  # error path only
        raise InputError(
            f"incidents: {int(not_point.sum())} geometries are not points ({kinds}); "
            "incidents must be points"
        )


def _crs_name(crs: object) -> str:
    if crs is None:
        return "no CRS"
    return pyproj.CRS(crs).to_string()


def point_xy(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y of each point; NaN for a missing or empty one (in no region)."""
    try:  # one pass when no point is empty (a missing one reads as NaN)
        return shapely.get_x(points), shapely.get_y(points)
    except shapely.errors.GEOSException:  # "getX called on empty Point"
        pass
    present = ~(shapely.is_missing(points) | shapely.is_empty(points))
    x, y = np.full(len(points), np.nan), np.full(len(points), np.nan)
    x[present], y[present] = shapely.get_x(points[present]), shapely.get_y(points[present])
    return x, y


def exact_pairs(
    polys: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    points: np.ndarray | None = None,
    tree: object | None = None,
    interior_only: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(point position, polygon position) pairs by an exact point-in-polygon test, sorted.

    ``points``: the point geometries of ``x``/``y`` when the caller has them (queried as
    they are instead of being built again).

    The STRtree (``tree``: a shapely STRtree or a geopandas sindex over ``polys``) gives
    bounding-box candidates; each candidate is tested with
    ``intersects_xy`` (closed polygon, boundary included) or ``contains_xy``
    (``interior_only``) on prepared polygons: the same pairs as
    ``sindex.query(points, predicate=...)`` (tested), faster because each polygon is
    prepared once instead of per candidate and its tests run together.
    """
    if tree is None:
        tree = shapely.STRtree(polys)
    if points is None:
        has_xy = np.flatnonzero(~(np.isnan(x) | np.isnan(y)))  # missing/empty: no region
        inc_pos, reg_pos = tree.query(shapely.points(x[has_xy], y[has_xy]))  # boxes only
        inc_pos = has_xy[inc_pos]
    else:
        inc_pos, reg_pos = tree.query(points)  # the given points; boxes only
    shapely.prepare(polys)
    exact = shapely.contains_xy if interior_only else shapely.intersects_xy
    keep = lookup.test_grouped(exact, polys, reg_pos, x[inc_pos], y[inc_pos])
    inc_pos, reg_pos = inc_pos[keep], reg_pos[keep]
    order = np.lexsort((reg_pos, inc_pos))
    return inc_pos[order], reg_pos[order]


def _pairs(
    incidents: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, predicate: str
) -> tuple[np.ndarray, np.ndarray]:
    """(incident position, region position) pairs, sorted by incident then region.

    Incidents are points: a grid lookup (:mod:`atlas.lookup`, built once per set of
    regions, from ``lookup.MIN_POINTS`` points) answers points in cells that touch no
    region boundary and tests the rest exactly; small joins without a lookup use
    :func:`exact_pairs`. Same pairs as ``sindex.query(points, predicate=...)`` (tested).
    """
    if predicate not in PREDICATES:
        raise InputError(f"predicate {predicate!r} unknown; choose from {', '.join(PREDICATES)}")
    points = np.asarray(incidents.geometry.array)
    polys = np.asarray(regions.geometry.array)
    x, y = point_xy(points)
    # point-in-polygon: "intersects" and "covered_by" include the boundary, "within" not
    interior_only = predicate == "within"
    grid = lookup.cached(polys, build_if_missing=len(points) >= lookup.MIN_POINTS)
    if grid is None:
        return exact_pairs(
            polys, x, y, points=points, tree=regions.sindex, interior_only=interior_only
        )
    return lookup.pairs(grid, polys, x, y, interior_only=interior_only)


#: Most runs of rows a gather assembles from zero-copy slices (else a plain take).
_MAX_SLICES = 4096


def _gather_rows(frame: gpd.GeoDataFrame, positions: np.ndarray) -> gpd.GeoDataFrame:
    """``frame.iloc[positions]`` with the index reset, for sorted ``positions``.

    When few rows repeat (points on a shared border), Arrow-backed text columns are put
    together from zero-copy slices of the input instead of a take, which allocates every
    string again (~0.9 s for 1M rows of 16 text columns when that memory is fresh); the
    other columns are taken as usual. Same values and dtypes as ``iloc`` (tested).
    """
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    if len(breaks) >= _MAX_SLICES:
        return frame.iloc[positions].reset_index(drop=True)
    first = positions[np.concatenate([[0], breaks])].tolist()
    lengths = np.diff(np.concatenate([[0], breaks, [len(positions)]])).tolist()
    data = {}
    for i in range(frame.shape[1]):
        arr = frame.iloc[:, i].array
        if isinstance(arr, pd.arrays.ArrowStringArray):
            whole = arr._pa_array
            if whole.num_chunks == 1:  # the usual case: slice the one array directly
                one = whole.chunk(0)
                chunks = [one.slice(a, n) for a, n in zip(first, lengths, strict=True)]
            else:
                chunks = [c for a, n in zip(first, lengths, strict=True)
                          for c in whole.slice(a, n).chunks]  # fmt: skip
            data[i] = type(arr)(pa.chunked_array(chunks, type=whole.type), dtype=arr.dtype)
        else:
            data[i] = arr.take(positions)
    out = pd.DataFrame(data, copy=False)
    out.columns = frame.columns
    if isinstance(frame, gpd.GeoDataFrame):
        # the columns are new arrays (or slices of immutable Arrow data): no copy needed
        out = gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs, copy=False)
    out.attrs = dict(frame.attrs)
    return out


def join_incidents(
    incidents: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    *,
    predicate: str = "intersects",
    snap_km: float = 0.0,
) -> gpd.GeoDataFrame:
    """Long form: one row per (incident, region containing it); outside → one row, NA.

    ``snap_km`` > 0: an incident in no region takes the nearest region within that many
    kilometres (a sliver between simplified district polygons); the column
    ``snapped_km`` then holds its distance (NaN for incidents inside a region).

    Regions may overlap (the VRAEM and a district): an incident in both gets two rows.
    A point exactly on a shared boundary belongs to every region whose closed polygon
    contains it (``intersects``, the default; ``within`` would leave it in none).
    Added columns: ``region_id``, ``region_name``, ``region_layer`` (NA when outside).
    The incidents' own columns and geometry are kept; the index is reset.
    """
    _check_inputs(incidents, regions)
    inc_pos, reg_pos = _pairs(incidents, regions, predicate)
    matched = np.zeros(len(incidents), dtype=bool)
    matched[inc_pos] = True
    outside = np.flatnonzero(~matched)
    outside_reg = np.full(len(outside), -1)
    snapped = np.full(len(incidents), np.nan)
    if snap_km > 0 and len(outside):
        outside_reg, km = _nearest_within(incidents.iloc[outside], regions, snap_km)
        snapped[outside] = km
    all_inc = np.concatenate([inc_pos, outside])
    all_reg = np.concatenate([reg_pos, outside_reg])
    order = np.argsort(all_inc, kind="stable")
    all_inc, all_reg = all_inc[order], all_reg[order]

    if len(all_inc) == len(incidents):  # each incident once, in order: no row copy needed
        out = incidents.reset_index(drop=True)
    else:
        out = _gather_rows(incidents, all_inc)
    take = pa.array(all_reg, mask=all_reg < 0)  # -1 (outside) becomes null
    for target, source in (
        ("region_id", "region_id"),
        ("region_name", "name"),
        ("region_layer", "layer"),
    ):
        if source in regions.columns:
            labels = pa.array(regions[source].astype("string").to_numpy(na_value=None))
        else:
            labels = pa.nulls(len(regions), pa.string())
        # an Arrow take: one vectorised gather, not a Python list of a million strings
        out[target] = pd.array(labels.take(take), dtype="string")
    if snap_km > 0:
        out["snapped_km"] = snapped[all_inc]
    return out


def _nearest_within(
    incidents: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, max_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """(region position or -1, km or NaN) of the nearest region within ``max_km``."""
    points = incidents.geometry.to_crs(METRIC_CRS)
    polys = regions.geometry.to_crs(METRIC_CRS)
    which = np.full(len(incidents), -1)
    km = np.full(len(incidents), np.nan)
    present = (points.notna() & ~points.is_empty).to_numpy()
    if present.any():
        (inc_pos, reg_pos), dist = polys.sindex.nearest(
            np.asarray(points.array)[present],
            return_distance=True,
            return_all=False,
            max_distance=max_km * 1000.0,
        )
        rows = np.flatnonzero(present)[inc_pos]
        which[rows] = reg_pos
        km[rows] = dist / 1000.0
    return which, km


def one_row_per_incident(joined: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """From the long join (with ``_pos``): region ids joined by ";" and their count."""
    inside = joined[joined["region_id"].notna()]
    pos = inside["_pos"].to_numpy()
    counts = np.bincount(pos, minlength=n)
    ids = np.full(n, "", dtype=object)
    single = counts[pos] == 1
    ids[pos[single]] = inside["region_id"].to_numpy()[single]
    if (~single).any():
        multi = inside[~single].groupby("_pos", sort=False)["region_id"].agg(";".join)
        ids[multi.index.to_numpy()] = multi.to_numpy()
    return ids, counts


def join_per_incident(
    incidents: gpd.GeoDataFrame, regions: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """One row per incident with ``region_ids`` (";"-joined) and ``n_regions``; and the
    long join (:func:`join_incidents`, with the incident's position in ``_pos``).

    The per-incident table both join engines of ``conflict-atlas join`` write.
    """
    work = incidents.assign(_pos=np.arange(len(incidents)))
    joined = join_incidents(work, regions)
    ids, counts = one_row_per_incident(joined, len(incidents))
    out = incidents.copy()
    out["region_ids"] = pd.array(ids, dtype="string")
    out["n_regions"] = counts
    return out, joined


def assign_region(
    incidents: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    *,
    predicate: str = "intersects",
) -> pd.Series:
    """One region id per incident (NA outside), for a single non-overlapping layer.

    A point on a shared boundary gets the first region in ``regions`` order. Indexed
    like ``incidents``.
    """
    _check_inputs(incidents, regions)
    inc_pos, reg_pos = _pairs(incidents, regions, predicate)
    first = np.ones(len(inc_pos), dtype=bool)
    first[1:] = inc_pos[1:] != inc_pos[:-1]
    which = np.full(len(incidents), -1)
    which[inc_pos[first]] = reg_pos[first]
    labels = pa.array(regions["region_id"].astype("string").to_numpy(na_value=None))
    values = pd.array(labels.take(pa.array(which, mask=which < 0)), dtype="string")
    return pd.Series(values, index=incidents.index, name="region_id")


def distance_to_regions(incidents: gpd.GeoDataFrame, regions: gpd.GeoDataFrame) -> pd.Series:
    """Kilometres from each incident to the nearest region (0 inside; NaN without point).

    Computed in :data:`atlas.crs.METRIC_CRS` (UTM zone 18S): accurate to well under 1 %
    within a few hundred km of the VRAEM; the scale error grows away from the zone's
    central meridian (75°W), so distances elsewhere in the world are rough.
    """
    _check_inputs(incidents, regions)
    if regions.empty:
        raise InputError("regions: no regions to measure distance to")
    points = incidents.geometry.to_crs(METRIC_CRS)
    polys = regions.geometry.to_crs(METRIC_CRS)
    km = np.full(len(incidents), np.nan)
    present = (points.notna() & ~points.is_empty).to_numpy()
    if present.any():
        (inc_pos, _reg_pos), dist = polys.sindex.nearest(
            np.asarray(points.array)[present], return_distance=True, return_all=False
        )
        km[np.flatnonzero(present)[inc_pos]] = dist / 1000.0
    return pd.Series(km, index=incidents.index, name="distance_km")


def within_km(incidents: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, km: float) -> pd.Series:
    """True where an incident is inside a region or within ``km`` kilometres of one."""
    if not np.isfinite(km) or km < 0:
        raise InputError(f"within_km: distance must be a number ≥ 0 km, got {km!r}")
    dist = distance_to_regions(incidents, regions)
    return (dist <= km).rename("within_km")


def region_areas_km2(regions: gpd.GeoDataFrame) -> pd.Series:
    """Area of each region in km², in :data:`atlas.crs.EQUAL_AREA_CRS`."""
    return regions.geometry.to_crs(EQUAL_AREA_CRS).area / 1e6


def _bucket_start(dates: pd.Series, by: str) -> pd.Series:
    return dates.dt.to_period(_FREQ[by]).dt.start_time


def aggregate(
    incidents: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    *,
    by: str | None = None,
    joined: pd.DataFrame | None = None,
    snap_km: float = 0.0,
) -> pd.DataFrame:
    """Per region (and per week/month/year of ``date_start``): counts and fatalities.

    Columns: region_id, name, layer, [period], incidents, fatalities, fatalities_low,
    fatalities_high (sums over known values; NA when every incident's value is unknown,
    0 when there are no incidents), fatalities_unknown (incidents without a best
    estimate), area_km2, incidents_per_1000km2. Every region appears, with 0 for each
    bucket between the first and last incident date when ``by`` is set. Weeks start on
    Monday. Pass ``joined`` (from :func:`join_incidents`) to reuse a join. With ``by``,
    ``attrs["undated_rows"]`` counts joined rows without a start date (in no bucket).
    ``snap_km``: see :func:`join_incidents`; ``attrs["snapped"]`` counts the incidents
    that took the nearest region within that distance.
    """
    if by not in BY_CHOICES:
        raise InputError(f"aggregate: by={by!r} unknown; choose week, month or year")
    needed = ("date_start",) if by else ()
    _check_inputs(incidents, regions, incident_columns=needed)
    if regions["region_id"].duplicated().any():
        dups = ", ".join(regions.loc[regions["region_id"].duplicated(), "region_id"].head(5))
        raise InputError(f"regions: duplicate region_id {dups}; ids must be unique to aggregate")
    if joined is None:
        joined = join_incidents(incidents, regions, snap_km=snap_km)
    inside = joined[joined["region_id"].notna()]
    frame = pd.DataFrame({"region_id": inside["region_id"].astype("string").to_numpy()})
    for col in ("fatalities", "fatalities_low", "fatalities_high"):
        if col in inside.columns:
            frame[col] = pd.to_numeric(inside[col], errors="coerce").astype("Float64").to_numpy()
        else:
            frame[col] = pd.array([pd.NA] * len(inside), dtype="Float64")
    frame["_unknown"] = frame["fatalities"].isna().to_numpy(dtype="int64")
    keys = ["region_id"]
    if by:
        undated = int(pd.to_datetime(inside["date_start"]).isna().sum())
        start = _bucket_start(pd.to_datetime(inside["date_start"]), by)
        frame["period"] = start.to_numpy().astype("datetime64[ns]")
        keys.append("period")

    grouped = frame.groupby(keys, sort=False, dropna=False)
    stats = grouped.size().rename("incidents").to_frame()
    for col in ("fatalities", "fatalities_low", "fatalities_high"):
        stats[col] = grouped[col].sum(min_count=1)
    stats["fatalities_unknown"] = grouped["_unknown"].sum()

    base = pd.DataFrame(
        {
            "region_id": regions["region_id"].astype("string").to_numpy(),
            "name": regions["name"].astype("string").to_numpy()
            if "name" in regions.columns
            else regions["region_id"].astype("string").to_numpy(),
            "layer": regions["layer"].astype("string").to_numpy()
            if "layer" in regions.columns
            else pd.array([pd.NA] * len(regions), dtype="string"),
            "area_km2": region_areas_km2(regions).to_numpy(),
        }
    )
    if by:
        dates = pd.to_datetime(incidents["date_start"]).dropna()
        if len(dates):
            periods = pd.period_range(dates.min(), dates.max(), freq=_FREQ[by]).start_time
        else:
            periods = pd.DatetimeIndex([])
        periods = np.asarray(periods).astype("datetime64[ns]")
        base = base.merge(pd.DataFrame({"period": periods}), how="cross")
    out = base.merge(stats.reset_index(), on=keys, how="left")
    out["incidents"] = out["incidents"].fillna(0).astype("int64")
    none = out["incidents"] == 0
    for col in ("fatalities", "fatalities_low", "fatalities_high", "fatalities_unknown"):
        out[col] = out[col].astype("Float64")
        out.loc[none, col] = 0
    out["fatalities_unknown"] = out["fatalities_unknown"].astype("int64")
    out["incidents_per_1000km2"] = out["incidents"] / out["area_km2"] * 1000.0
    columns = ["region_id", "name", "layer"] + (["period"] if by else [])
    columns += [
        "incidents",
        "fatalities",
        "fatalities_low",
        "fatalities_high",
        "fatalities_unknown",
        "area_km2",
        "incidents_per_1000km2",
    ]
    out = out[columns].reset_index(drop=True)
    # Joined rows without a start date fall in no time bucket; say how many.
    out.attrs["undated_rows"] = undated if by else 0
    out.attrs["snapped"] = (
        int(joined["snapped_km"].notna().sum()) if "snapped_km" in joined.columns else 0
    )
    return out


def departments_key(departments: gpd.GeoDataFrame) -> str:
    """Names a departments layer (its codes and extent): what :class:`RowDepartments`
    were computed against."""
    return repr((tuple(departments["ubigeo"].astype(str)), tuple(departments.total_bounds)))


@dataclass(frozen=True)
class RowDepartments:
    """The department (2-digit INEI ubigeo, NA outside every department) of each row of
    one incident frame, by row label, worked out once when the frame is loaded.

    A view of that frame (a filter keeps the rows' labels) then reads its rows' departments
    instead of placing its points again: ~0.5 s at 1M points, which each new filter paid.
    The department is the one of the point as loaded, like ``inside_region``: a view whose
    points were generalised to a grid cell keeps its incidents' own departments. Replace
    it whenever the incidents are replaced by other rows (:func:`atlas.data.with_incidents`).
    """

    key: str  # departments_key of the layer the codes come from
    codes: pd.Series  # categorical codes, indexed like the frame

    def for_rows(self, departments: gpd.GeoDataFrame, index: pd.Index) -> pd.Series | None:
        """The departments of the rows labelled ``index``, or None when the codes are not
        for ``departments`` or some label is not among the frame's rows."""
        if departments_key(departments) != self.key or not self.codes.index.is_unique:
            return None
        pos = self.codes.index.get_indexer(index)
        if len(pos) and pos.min() < 0:
            return None
        return pd.Series(self.codes.array.take(pos), index=index, name="region_id", copy=False)


def row_departments(incidents: gpd.GeoDataFrame, departments: gpd.GeoDataFrame) -> RowDepartments:
    """:class:`RowDepartments` for every row of ``incidents`` (a point on a boundary
    between two departments gets the first in ``departments`` order)."""
    regions = gpd.GeoDataFrame(
        {"region_id": departments["ubigeo"].astype(str)},
        geometry=departments.geometry,
        crs=departments.crs,
    )
    which = assign_region(incidents, regions)
    codes = pd.Series(  # 1 byte a row; str categories, as they come back through Arrow
        pd.Categorical(which.to_numpy(dtype=object, na_value=None)),
        index=which.index,
        name="region_id",
    )
    return RowDepartments(departments_key(departments), codes)


__all__ = [
    "RowDepartments",
    "aggregate",
    "assign_region",
    "departments_key",
    "distance_to_regions",
    "join_incidents",
    "join_per_incident",
    "one_row_per_incident",
    "region_areas_km2",
    "row_departments",
    "within_km",
]
