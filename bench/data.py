"""Benchmark data: seeded synthetic incidents and ACLED tables, districts (real or not).

All incidents are synthetic (seeded numpy, inside Peru's bbox). The district polygons
are read at run time from ``../shared/data`` when present and never copied; otherwise
a synthetic Voronoi tessellation of similar size stands in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from atlas.schema import EVENT_TYPES, INCIDENT_COLUMNS
from bench.core import ROOT

DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
DISTRICTS_FILE = "boundaries/juaneladio_peru_distrital_simple.geojson"
#: Peru's bounding box (lon min, lat min, lon max, lat max) for synthetic points.
PERU_BBOX = (-81.4, -18.4, -68.6, -0.0)
SEED = 20210523
N_SYNTHETIC_REGIONS = 1834
#: mean vertices per polygon in the real 2007 district file (27,859 / 1,826 non-null)
SYNTHETIC_VERTICES_PER_REGION = 15
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


GAZETTEER_FILE = "gazetteer/castagnetto_ubigeo_ccpp_from_rds.csv"
#: Jitter of a border point, in degrees (standard deviation; ~0.5 km).
BORDER_JITTER_DEG = 0.005


def border_points(
    regions: gpd.GeoDataFrame, n: int, data_dir: Path | None = None, seed: int = SEED
) -> tuple[np.ndarray, np.ndarray, str]:
    """Seeded lon/lat clustered near district borders, and what they were built from.

    Each point is a populated place (the gazetteer's villages when ``data_dir`` has it,
    else uniform seeds in Peru's box), moved to the nearest point of its nearest district
    boundary and jittered by ~0.5 km: the case where a raster shortcut helps least. One
    point in 1,000 is left exactly on the boundary (a vertex), for the boundary rule.
    """
    rng = np.random.default_rng(seed + 4)
    path = (data_dir / GAZETTEER_FILE) if data_dir else None
    if path is not None and path.is_file():
        places = pd.read_csv(path, usecols=["latitude", "longitude"]).dropna()
        lon, lat = places["longitude"].to_numpy(), places["latitude"].to_numpy()
        source = f"gazetteer villages ({len(lon):,}, ../shared/data/{GAZETTEER_FILE})"
    else:
        lon, lat = random_points(20_000, seed + 5)
        source = "20,000 uniform seeds in Peru's box (no gazetteer)"
    polys = regions.geometry.values
    lines = shapely.boundary(np.asarray(polys[~polys.isna()]))
    tree = shapely.STRtree(lines)
    seeds = shapely.points(lon, lat)
    seed_pos, line_pos = tree.query_nearest(seeds, all_matches=False)
    snapped = shapely.shortest_line(seeds[seed_pos], lines[line_pos])
    ends = shapely.get_coordinates(shapely.get_point(snapped, 1))
    pick = rng.integers(0, len(ends), n)
    x = ends[pick, 0] + rng.normal(0.0, BORDER_JITTER_DEG, n)
    y = ends[pick, 1] + rng.normal(0.0, BORDER_JITTER_DEG, n)
    vertices = shapely.get_coordinates(lines)
    exact = rng.random(n) < 0.001
    which = rng.integers(0, len(vertices), int(exact.sum()))
    x[exact], y[exact] = vertices[which, 0], vertices[which, 1]
    return x, y, f"near district borders: {source}, snapped to the nearest border, jittered"


def with_points(incidents: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> gpd.GeoDataFrame:
    """``incidents`` with their points replaced (same columns, same ids)."""
    out = incidents.copy()
    out["geometry"] = gpd.points_from_xy(x, y, crs=incidents.crs)
    return out
