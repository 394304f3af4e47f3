"""Regions: polygons with an id and a name (the VRAEM, coca zones, districts).

``read_regions`` turns any polygon file into the canonical regions frame
(:data:`REGION_COLUMNS`, EPSG:4326) with a :class:`~atlas.schema.LoadReport`;
``build_region`` dissolves districts listed in a :class:`RegionDefinition` (ubigeo codes
over a boundary vintage) into one region, or one region per subzone.

Decisions (documented in docs/ARCHITECTURE.md by the lead):

* Row numbers in the report are feature numbers, 1-based, in file order.
* Invalid polygons are repaired with ``shapely.make_valid`` keeping the polygonal parts;
  the count is reported as a warning. Null/empty and non-polygon features are rejected.
* Several features with the same id (a district stored as separate island parts) are
  merged into one region, and a warning says which ids; no area is dropped.
* A file without CRS whose coordinates fit lon/lat is taken as EPSG:4326 with a warning;
  projected-looking coordinates raise CRSError asking for the CRS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pyproj.exceptions
import shapely

from atlas.crs import DISPLAY_CRS, EQUAL_AREA_CRS
from atlas.errors import CRSError, InputError
from atlas.safety import DEFAULT_LIMITS, Limits
from atlas.schema import LoadReport, Rejection
from atlas.vectorio import read_vector

REGION_COLUMNS: tuple[str, ...] = (
    "region_id",
    "name",
    "layer",
    "approximate",
    "vintage",
    "source",
    "geometry",
)

#: Id columns looked for, in order (case-insensitive).
ID_CANDIDATES: tuple[str, ...] = (
    "region_id",
    "ubigeo",
    "iddist",
    "ubigeo_inei",
    "codigo",
    "code",
    "id",
    "idprov",
    "first_idpr",
    "iddpto",
    "first_iddp",
    "ccdd",
)
#: Name columns looked for, in order (case-insensitive).
NAME_CANDIDATES: tuple[str, ...] = (
    "name",
    "nombre",
    "nombdist",
    "nombre_distrito",
    "distrito",
    "nombprov",
    "nombre_provincia",
    "nombdep",
    "nombre_departamento",
    "title",
)
#: Id fields that hold INEI ubigeo codes: integers are zero-padded to 6 digits.
UBIGEO_FIELDS: frozenset[str] = frozenset({"ubigeo", "iddist", "ubigeo_inei", "inei", "codigo"})

_POLYGONAL = ("Polygon", "MultiPolygon")


def _find_field(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    lower = {c.lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def normalise_codes(values: pd.Series, *, field_name: str = "") -> pd.Series:
    """Ids as text: integers lose a trailing ".0"; ubigeo-like fields are padded to 6.

    Codes stored as numbers lose leading zeros (050503 -> 50503); for a ubigeo field
    they are padded back to 6 digits, otherwise to the longest code in the column.
    """
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric:
        as_float = pd.to_numeric(values, errors="coerce")
        whole = as_float.dropna()
        if len(whole) and (whole == np.floor(whole)).all():
            text = as_float.astype("Int64").astype("string")
        else:
            text = values.astype("string")
    else:
        text = values.astype("string").str.strip()
    text = text.mask(text == "")
    if numeric:
        digits = text.dropna()
        longest = int(digits.str.len().max()) if len(digits) else 0
        width = 6 if field_name.lower() in UBIGEO_FIELDS else longest
        text = text.str.zfill(width)
    return text


def _parse_crs(value: object, name: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError:
        raise CRSError(
            f"{name}: {value!r} is not a CRS pyproj knows; give it as 'EPSG:32718' or similar"
        ) from None


def _looks_lonlat(bounds: np.ndarray) -> bool:
    minx, miny, maxx, maxy = bounds
    return bool(-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90)


def _resolve_crs(
    gdf: gpd.GeoDataFrame, name: str, crs: object | None, report: LoadReport
) -> gpd.GeoDataFrame:
    """Set or check the CRS, then reproject to EPSG:4326."""
    geoms = gdf.geometry
    bounds = np.asarray(geoms.total_bounds) if len(geoms.dropna()) else np.zeros(4)
    shown = ", ".join(f"{b:,.1f}" for b in bounds)
    if crs is not None:
        wanted = _parse_crs(crs, name)
        if gdf.crs is not None and not pyproj.CRS(gdf.crs).equals(wanted):
            report.warnings.append(
                f"The file declares {pyproj.CRS(gdf.crs).to_string()} but "
                f"{wanted.to_string()} was given; the given CRS was used."
            )
        gdf = gdf.set_crs(wanted, allow_override=True)
    elif gdf.crs is None:
        if not _looks_lonlat(bounds):
            raise CRSError(
                f"{name}: the file declares no CRS and its coordinates look projected "
                f"(bounds {shown}, beyond lon/lat ranges); declare it, e.g. crs='EPSG:32718' "
                "or --regions-crs EPSG:32718 for UTM zone 18S metres"
            )
        report.warnings.append(
            "The file declares no CRS; its coordinates fit longitude/latitude, so EPSG:4326 "
            "was assumed."
        )
        gdf = gdf.set_crs(DISPLAY_CRS)
    if pyproj.CRS(gdf.crs).is_geographic and not _looks_lonlat(bounds):
        raise CRSError(
            f"{name}: the CRS is {pyproj.CRS(gdf.crs).to_string()} (degrees; GeoJSON "
            f"implies it) but the coordinates look projected (bounds {shown}); declare the real CRS, e.g. "
            "crs='EPSG:32718' or --regions-crs EPSG:32718"
        )
    if not pyproj.CRS(gdf.crs).equals(pyproj.CRS(DISPLAY_CRS)):
        report.warnings.append(
            f"Reprojected from {pyproj.CRS(gdf.crs).to_string()} to {DISPLAY_CRS}."
        )
        gdf = gdf.to_crs(DISPLAY_CRS)
    return gdf


def polygonal_parts(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygon parts of each geometry (MultiPolygon; None when none)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    parts, idx = shapely.get_parts(geoms, return_index=True)
    # GeometryCollections may hold MultiPolygons: split once more.
    parts2, idx2 = shapely.get_parts(parts, return_index=True)
    idx = idx[idx2]
    keep = shapely.get_type_id(parts2) == 3  # Polygon
    keep &= ~shapely.is_empty(parts2)
    if keep.any():
        kept_idx = idx[keep]
        multi = shapely.multipolygons(parts2[keep], indices=kept_idx)
        out[np.unique(kept_idx)] = multi
    return out


def clean_polygons(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repair polygons vectorised: returns (geometries, reason per row or "", repaired)."""
    arr = shapely.force_2d(np.asarray(geoms.array, dtype=object))
    reason = np.full(len(arr), "", dtype=object)
    missing = shapely.is_missing(arr) | shapely.is_empty(arr)
    reason[missing] = "empty_geometry"
    types = np.asarray(shapely.get_type_id(arr))
    # 3 Polygon, 6 MultiPolygon, 7 GeometryCollection
    collection = types == 7
    other = ~missing & ~np.isin(types, (3, 6, 7))
    reason[other] = "not_a_polygon"
    candidates = ~missing & ~other
    invalid = candidates & ~shapely.is_valid(arr)
    repaired = np.zeros(len(arr), dtype=bool)
    if invalid.any():
        arr[invalid] = shapely.make_valid(arr[invalid])
        repaired[invalid] = True
    fix = invalid | collection
    if fix.any():
        arr[fix] = polygonal_parts(arr[fix])
        lost = fix & shapely.is_missing(arr)
        reason[lost & collection & ~invalid] = "not_a_polygon"
        reason[lost & invalid] = "invalid_geometry"
        repaired &= ~lost
    # A single-part MultiPolygon made by the repair reads better as a Polygon.
    single = fix & ~shapely.is_missing(arr) & (shapely.get_num_geometries(arr) == 1)
    if single.any():
        arr[single] = shapely.get_geometry(arr[single], 0)
    arr[reason != ""] = None
    return arr, reason, repaired


def read_regions(
    src: str | Path | bytes,
    *,
    filename: str | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
    layer: str | None = None,
    crs: object | None = None,
    vintage: str = "",
    source: str = "",
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read a polygon file (GeoJSON, GPKG, zipped SHP, KML) as canonical regions.

    Returns (regions in EPSG:4326 with :data:`REGION_COLUMNS` first and the file's other
    attributes after, LoadReport). ``crs`` declares or overrides the file's CRS.
    """
    name = filename or (Path(src).name if isinstance(src, str | Path) else "upload")
    raw = read_vector(src, filename=filename, limits=limits)
    report = LoadReport(source=name, kind="regions", rows_read=len(raw))
    columns = [c for c in raw.columns if c != raw.geometry.name]

    if id_field is not None and id_field not in raw.columns:
        raise InputError(
            f"{name}: no id field {id_field!r}; the columns are {', '.join(columns) or 'none'}"
        )
    id_col = id_field or _find_field(columns, ID_CANDIDATES)
    if name_field is not None and name_field not in raw.columns:
        raise InputError(
            f"{name}: no name field {name_field!r}; the columns are {', '.join(columns) or 'none'}"
        )
    name_col = name_field or _find_field(columns, NAME_CANDIDATES)

    geoms, reason, repaired = clean_polygons(raw.geometry)
    if id_col is None:
        ids = pd.Series(np.arange(1, len(raw) + 1).astype(str), index=raw.index, dtype="string")
        report.warnings.append(
            f"No id field found (looked for {', '.join(ID_CANDIDATES[:6])}...); features "
            f"were numbered 1..{len(raw)}. Choose one of {', '.join(columns) or 'none'} "
            "with id_field / --region-id."
        )
    else:
        ids = normalise_codes(raw[id_col], field_name=id_col)
    no_id = ids.isna().to_numpy() & (reason == "")
    reason[no_id] = "no_region_id"

    for pos in np.flatnonzero(reason != ""):
        detail = "" if pd.isna(ids.iloc[pos]) else f"id {ids.iloc[pos]}"
        report.rejected.append(Rejection(int(pos) + 1, str(reason[pos]), detail))
    n_repaired = int(repaired.sum())
    if n_repaired:
        shown = ", ".join(str(i) for i in ids[repaired].dropna().head(5))
        report.warnings.append(
            f"{n_repaired} invalid polygon(s) were repaired with make_valid (ids {shown})."
        )

    keep = reason == ""
    if name_col is not None:
        names = raw[name_col].astype("string").str.strip()
        names = names.fillna(ids)
    else:
        names = ids
    extra = [c for c in columns if c not in REGION_COLUMNS]
    frame = gpd.GeoDataFrame(
        {
            "region_id": ids.to_numpy()[keep],
            "name": names.to_numpy()[keep],
            **{c: raw[c].to_numpy()[keep] for c in extra},
        },
        geometry=gpd.GeoSeries(geoms[keep], crs=raw.crs),
    )
    report.rows_kept = int(keep.sum())
    if frame.empty:
        raise InputError(f"{name}: no usable polygons; " + (report.summary()))
    frame = _resolve_crs(frame, name, crs, report)
    frame = _merge_duplicates(frame, report)

    stem = name[: -len(".shp.zip")] if name.lower().endswith(".shp.zip") else Path(name).stem
    frame["layer"] = layer or stem
    frame["approximate"] = False
    frame["vintage"] = vintage
    frame["source"] = source or name
    ordered = list(REGION_COLUMNS) + extra
    frame = frame[ordered]
    for col in ("region_id", "name", "layer", "vintage", "source"):
        frame[col] = frame[col].astype("string")
    frame["approximate"] = frame["approximate"].astype(bool)
    report.check()
    return frame.reset_index(drop=True), report


def _merge_duplicates(frame: gpd.GeoDataFrame, report: LoadReport) -> gpd.GeoDataFrame:
    """Union the features that share an id (island parts) into one region each."""
    dup = frame["region_id"].duplicated(keep=False)
    if not dup.any():
        return frame
    ids = frame.loc[dup, "region_id"].unique()
    shown = ", ".join(str(i) for i in ids[:5]) + (", …" if len(ids) > 5 else "")
    report.warnings.append(
        f"{len(ids)} id(s) appear on several features and were merged into one region "
        f"each ({shown})."
    )
    single = frame[~dup]
    merged = frame[dup].dissolve(by="region_id", sort=False, as_index=False, aggfunc="first")
    merged = merged[frame.columns]
    out = pd.concat([single, merged], ignore_index=True)
    order = pd.Index(pd.unique(frame["region_id"]))
    out = out.iloc[np.argsort(order.get_indexer(out["region_id"]), kind="stable")]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)


# ---- definitions -----------------------------------------------------------------------
@dataclass(frozen=True)
class RegionDefinition:
    """How a region is built: district ubigeo codes over a boundary vintage."""

    region_id: str
    name: str
    codes: tuple[str, ...]
    subzones: dict[str, str] | None = None  # code -> subzone name ("norte", "centro", ...)
    source: str = ""
    layer: str = "vraem"


@dataclass
class BuildReport:
    """What a build used: codes found, codes missing from the boundary file."""

    region_id: str
    codes_requested: tuple[str, ...]
    codes_found: tuple[str, ...]
    codes_missing: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)

    @property
    def districts_used(self) -> int:
        return len(self.codes_found)

    def summary(self) -> str:
        text = (
            f"{self.region_id}: {self.districts_used} of {len(self.codes_requested)} "
            "district codes found in the boundary file"
        )
        if self.codes_missing:
            text += (
                f"; missing {', '.join(self.codes_missing)} (a different boundary vintage is "
                "the usual reason: districts created after the boundary file are absent)"
            )
        text += "."
        if self.warnings:
            text += " " + " ".join(self.warnings)
        return text


def _code6(values: pd.Series | list[str] | tuple[str, ...]) -> pd.Series:
    return pd.Series(list(values), dtype="string").str.strip().str.zfill(6)


def build_region(
    definition: RegionDefinition,
    districts: gpd.GeoDataFrame,
    *,
    code_field: str = "region_id",
    vintage: str = "",
    by_subzone: bool = False,
    fill_holes_km2: float = 0.0,
) -> tuple[gpd.GeoDataFrame, BuildReport]:
    """Dissolve the districts listed in ``definition`` into one region (or one per subzone).

    The geometry is the union of the district polygons found (made valid, polygonal).
    Codes are compared as 6-character strings; codes missing from ``districts`` are
    listed in the BuildReport, never guessed. Boundaries simplified per polygon (not
    topologically) leave sliver gaps between neighbours that become interior holes of
    the union: the report counts them, and ``fill_holes_km2`` > 0 fills holes smaller
    than that area (measured in the equal-area CRS).
    """
    if code_field not in districts.columns:
        raise InputError(
            f"districts: no code field {code_field!r}; the columns are "
            f"{', '.join(map(str, districts.columns))}"
        )
    if districts.crs is None:
        raise CRSError("districts: no CRS; read them with read_regions (EPSG:4326)")
    wanted = _code6(definition.codes)
    wanted = wanted[~wanted.duplicated()]
    have = _code6(districts[code_field].astype("string"))
    mask = have.isin(set(wanted)).to_numpy()
    found_codes = tuple(c for c in wanted if c in set(have[mask]))
    missing = tuple(c for c in wanted if c not in set(found_codes))
    report = BuildReport(definition.region_id, tuple(wanted), found_codes, missing)
    if not found_codes:
        raise InputError(
            f"{definition.region_id}: none of its {len(wanted)} district codes are in the "
            f"boundary file (field {code_field!r}); check the field and the vintage"
        )
    chosen = districts.loc[mask].copy()
    chosen["_code"] = have[mask].to_numpy()
    if by_subzone:
        subzones = definition.subzones or {}
        chosen["_group"] = chosen["_code"].map(lambda c: subzones.get(c, "")).astype("string")
        if (chosen["_group"] == "").any():
            loose = ", ".join(chosen.loc[chosen["_group"] == "", "_code"])
            report.warnings.append(f"Codes without a subzone were left out: {loose}.")
            chosen = chosen[chosen["_group"] != ""]
    else:
        chosen["_group"] = ""
    # Subzones in the order the definition lists their codes.
    group_of = dict(zip(chosen["_code"], chosen["_group"], strict=True))
    order = list(dict.fromkeys(group_of[c] for c in found_codes if c in group_of))
    rows = []
    for group in order:
        part = chosen[chosen["_group"] == group]
        geom = shapely.union_all(np.asarray(part.geometry.array))
        geom = polygonal_parts(np.asarray([shapely.make_valid(geom)], dtype=object))[0]
        geom = _handle_holes(geom, districts.crs, fill_holes_km2, group, report)
        if geom is not None and shapely.get_num_geometries(geom) == 1:
            geom = shapely.get_geometry(geom, 0)
        suffix = f"-{group}" if group else ""
        rows.append(
            {
                "region_id": f"{definition.region_id}{suffix}",
                "name": f"{definition.name} ({group})" if group else definition.name,
                "layer": f"{definition.layer}-subzone" if group else definition.layer,
                "approximate": False,
                "vintage": vintage,
                "source": definition.source,
                "districts": len(part),
                "geometry": geom,
            }
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=districts.crs)
    if not pyproj.CRS(out.crs).equals(pyproj.CRS(DISPLAY_CRS)):
        out = out.to_crs(DISPLAY_CRS)
    for col in ("region_id", "name", "layer", "vintage", "source"):
        out[col] = out[col].astype("string")
    return out, report


def _handle_holes(geom, crs, fill_km2: float, group: str, report: BuildReport):
    """Count interior holes of a union; fill those under ``fill_km2`` when asked."""
    if geom is None:
        return None
    polys = shapely.get_parts(geom)
    rings = [list(p.interiors) for p in polys]
    flat = [shapely.Polygon(r) for rs in rings for r in rs]
    if not flat:
        return geom
    areas = gpd.GeoSeries(flat, crs=crs).to_crs(EQUAL_AREA_CRS).area.to_numpy() / 1e6
    where = f" ({group})" if group else ""
    if fill_km2 <= 0:
        report.warnings.append(
            f"The union{where} has {len(flat)} interior hole(s), {areas.sum():,.1f} km² in "
            f"all, the largest {areas.max():,.2f} km²; gaps between neighbours in simplified "
            "boundaries look like this (fill_holes_km2 fills small ones)."
        )
        return geom
    small = iter(areas < fill_km2)
    rebuilt = []
    for poly, rs in zip(polys, rings, strict=True):
        kept = [r for r in rs if not next(small)]
        rebuilt.append(shapely.Polygon(poly.exterior, kept))
    n_filled = int((areas < fill_km2).sum())
    report.warnings.append(
        f"{n_filled} interior hole(s) under {fill_km2:g} km² in the union{where} were filled "
        f"({areas[areas < fill_km2].sum():,.1f} km² in all)."
    )
    return shapely.MultiPolygon(rebuilt) if len(rebuilt) > 1 else rebuilt[0]


__all__ = [
    "REGION_COLUMNS",
    "BuildReport",
    "RegionDefinition",
    "build_region",
    "clean_polygons",
    "normalise_codes",
    "read_regions",
]
