"""Point vector files (GeoJSON, GeoPackage, zipped Shapefile, KML) as incidents.

The file is opened by :func:`atlas.vectorio.read_vector` (zip-safe, raw CRS), reprojected
to EPSG:4326, and its properties are mapped like a table's (:mod:`atlas.readers.table`).
Rows without a geometry are rejected as ``empty_geometry``; lines and polygons as
``not_a_point`` (a one-point MultiPoint is read as that point). Row numbers count features
as a spreadsheet of the attribute table would: the first feature is row 2.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from atlas.crs import DISPLAY_CRS
from atlas.errors import CRSError
from atlas.readers import table
from atlas.readers.validate import ROW
from atlas.safety import DEFAULT_LIMITS, Limits
from atlas.schema import LoadReport


def open_vector(
    src: str | Path | bytes,
    *,
    name: str,
    filename: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read the file in EPSG:4326 (a file without a CRS is taken as EPSG:4326, with a warning
    when its coordinates fit lon/lat, else CRSError)."""
    from atlas.vectorio import read_vector

    gdf = read_vector(src, filename=filename, limits=limits)  # None: sniff the bytes
    warnings: list[str] = []
    if gdf.crs is None:
        bounds = gdf.geometry.total_bounds if len(gdf) else np.zeros(4)
        if np.all(np.isnan(bounds)) or (
            bounds[0] >= -180 and bounds[2] <= 180 and bounds[1] >= -90 and bounds[3] <= 90
        ):
            warnings.append(f"{name}: the file names no CRS; it was read as EPSG:4326 lon/lat.")
            gdf = gdf.set_crs(DISPLAY_CRS)
        else:
            raise CRSError(
                f"{name}: the file names no CRS and its coordinates are not lon/lat; save it "
                "with its CRS (a .prj beside a Shapefile) or reproject it to EPSG:4326"
            )
    elif not gdf.crs.equals(DISPLAY_CRS):
        gdf = gdf.to_crs(DISPLAY_CRS)
    return gdf, warnings


def stage(
    gdf: gpd.GeoDataFrame,
    report: LoadReport,
    *,
    name: str,
    dataset: str,
    mapping: dict[str, str] | None,
    counters: dict[str, int],
) -> pd.DataFrame:
    """Reject non-point and empty geometries; stage the rest with lon/lat from the points."""
    geoms = gdf.geometry.reset_index(drop=True)
    props = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).reset_index(drop=True)
    props[ROW] = np.arange(2, len(props) + 2)
    values = geoms.to_numpy()
    kinds = shapely.get_type_id(values)
    empty = shapely.is_missing(values) | shapely.is_empty(values)
    single_multi = (kinds == 4) & (shapely.get_num_geometries(values) == 1)
    points = np.where(single_multi, shapely.get_geometry(values, 0), values)
    is_point = (shapely.get_type_id(points) == 0) & ~empty
    for row in props.loc[empty, ROW].tolist():
        report.reject(int(row), "empty_geometry", "the feature has no geometry")
    bad = ~empty & ~is_point
    for row, kind in zip(props.loc[bad, ROW].tolist(), shapely.get_type_id(values[bad]),
                         strict=True):  # fmt: skip
        report.reject(int(row), "not_a_point", f"geometry type {_TYPE_NAMES.get(int(kind), kind)}")
    props = props[is_point]
    xy = shapely.get_coordinates(points[is_point])
    columns = [c for c in props.columns if c != ROW]
    plan = table.plan_columns(columns, name=name, mapping=mapping, need_coordinates=False)
    for key in ("latitude", "longitude", "coordinates"):
        plan.pop(key, None)
    raw = props.astype({c: "string" for c in columns if props[c].dtype == object})
    staged = table.stage(raw, plan, dataset=dataset, counters=counters)
    staged["longitude"] = xy[:, 0] if len(xy) else np.array([], dtype=float)
    staged["latitude"] = xy[:, 1] if len(xy) else np.array([], dtype=float)
    return staged


_TYPE_NAMES = {
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}
