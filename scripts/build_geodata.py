"""Build geodata/peru/ from the pinned sources in ../shared/data, deterministically.

Usage (from the repository root)::

    python scripts/build_geodata.py                # sources in ../shared/data
    python scripts/build_geodata.py --source DIR   # another copy of the same files

Every input is a file under the source folder, pinned below by sha256; a missing or
altered file stops the build with the file's name and the expected hash. Everything is
written to a temporary folder beside ``geodata/peru`` and swapped in at the end, so a
failed build leaves the previous ``geodata/peru`` as it was. A rerun gives the same bytes
(sorted features, fixed coordinate rounding, no timestamps).

What it makes (details, licences and attribution lines in geodata/README.md):

* ``districts_2023.geojson``: the 1,890 INEI 2023 districts (CC BY 4.0), invalid
  polygons repaired, overlaps between neighbours removed (the overlap stays with the
  district of the lower ubigeo), coordinates on a 1e-5° grid.
* ``districts_2023_z7.geojson``: the same simplified to 0.01° for national views.
* ``provinces_2023.geojson``, ``departments_2023.geojson``: districts grouped by ubigeo
  prefix (4 and 2 digits) and dissolved; holes under 2 km² filled. Names and capitals
  from the INEI province and department files.
* ``vraem_devida_2023.geojson``: the DEVIDA coca-monitoring zone, the dissolve of its 24
  districts (valid, not overlap-trimmed) with holes under 2 km² filled, and its three
  subzones.
* ``rivers.geojson``: Natural Earth 10m rivers (public domain), the
  "Ucayali" course split and named Apurímac / Ene / Tambo / Ucayali at the confluences
  nearest three INEI centros poblados.
* ``towns.geojson``: ranked places: Lima and the department capitals (Natural Earth),
  the VRAEM centros poblados by INEI code (jmcastagnetto gazetteer, MIT).
* ``lakes.geojson``: Natural Earth 10m lakes (Lago Titicaca).
* ``build_report.json``: what the build measured and repaired.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from atlas.crs import EQUAL_AREA_CRS  # noqa: E402
from atlas.regions import polygonal_parts  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "data"
DEFAULT_GEODATA = ROOT / "geodata"
OUT_NAME = "peru"
GRID = 1e-4  # output coordinate grid, degrees (about 11 m; the sources have 4 decimals)
FILL_HOLES_KM2 = 2.0
SIMPLIFY_Z7 = 0.01  # degrees, districts for national views
SIMPLIFY_LINES = 0.002  # degrees, province and department outlines


class BuildError(Exception):
    """A source is missing or altered, or a build step found something it cannot ship."""


@dataclass(frozen=True)
class Source:
    path: str  # relative to the source folder
    sha256: str


#: Every input of the build, pinned. Origins, commits and licences: geodata/README.md and
#: ../shared/data/PROVENANCE.md.
SOURCES: dict[str, Source] = {
    "districts": Source(
        "boundaries/inei2023_light_distritos.geojson",
        "59ad7be4366c620d510e3e50dc12389743bcaae2a9fa356b039df200d32ce026",
    ),
    "provinces": Source(
        "boundaries/inei2023_light_provincias.geojson",
        "c028d76997af1cb0394e4c1efa5221198033c7adfd01b4c651c738e8c0996ec9",
    ),
    "departments": Source(
        "boundaries/inei2023_light_departamentos.geojson",
        "758208415681cffbea674ea75ea26fb60112288afb6ecdd42e679fc7a29d8131",
    ),
    "vraem": Source(
        "vraem/devida_zona_vraem_24_distritos.csv",
        "0518e27e17f29ef27b1063096d666007734ac5aeea19d402acf6c76c84d65e8b",
    ),
    "rivers": Source(
        "basemap/rivers_peru_naturalearth.geojson",
        "2a7f5641b96617673317e3a97e634acaa767a69bbd24886f5e648da65ef81e70",
    ),
    "lakes": Source(
        "basemap/lakes_peru_naturalearth.geojson",
        "e2f5149de35c30ca246f8f1ca951d2fb2882d32962309881e307e3bdeb460638",
    ),
    "places": Source(
        "basemap/places_peru_naturalearth.geojson",
        "d75a3aa8c62a4ee3be31cdd0da2b336152c7a9af57e049774c68941e6cb3d10a",
    ),
    "ccpp": Source(
        "gazetteer/castagnetto_ubigeo_ccpp_from_rds.csv",
        "4e6c89ba52fa77f1035513aefa0906e8295d011ddd2cdbf1c0cb11e3d497a88e",
    ),
}

#: Natural Earth's "Ucayali" is the Apurímac-Ene-Tambo-Ucayali course: the stretch names,
#: upstream first, and the INEI centro poblado nearest each confluence where the name
#: changes (the river joining there is not in Natural Earth 10m).
RIVER_AXIS = "Ucayali"
RIVER_STRETCHES = ("Apurímac", "Ene", "Tambo", "Ucayali")
RIVER_SPLITS = (
    ("1206090015", "Boca Mantaro", "Mantaro"),  # Apurímac -> Ene
    ("1206080171", "Puerto Prado", "Perené"),  # Ene -> Tambo
    ("2502010001", "Atalaya", "Urubamba"),  # Tambo -> Ucayali
)

#: VRAEM-scale towns by INEI centro poblado code (issue 12), in label priority order
#: (``order``: within a rank, lower first; Natural Earth towns use -POP_MAX); display
#: names with accents are in geodata/town_names.csv (hand-made, cited), joined on load.
VRAEM_TOWNS = (
    "0809100001",  # Pichari
    "0809070001",  # Kimbiri
    "0504080001",  # Llochegua
    "0504070001",  # Sivia
    "0505070001",  # Santa Rosa
    "0505030001",  # San Francisco
    "0505090001",  # Palmapampa
    "1206060019",  # San Ramón de Pangoa
    "1206040001",  # Mazamari
    "1206010001",  # Satipo
    "1206080001",  # Puerto Ocopa
    "1206090001",  # San Miguel del Ene
    "0504090001",  # Canayre
    "0504010001",  # Huanta
    "0501010001",  # Ayacucho
)

#: Town ranks: 1 national capital, 2 department capital, 3 province capital, 4 other.
RANK_CAPITAL, RANK_DEPARTMENT, RANK_PROVINCE, RANK_TOWN = 1, 2, 3, 4


# ---- sources -------------------------------------------------------------------------------
def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sources(source_dir: Path, sources: dict[str, Source] = SOURCES) -> dict[str, Path]:
    """Paths of every pinned source; BuildError naming each missing or altered file."""
    problems = []
    paths = {}
    for key, src in sources.items():
        path = Path(source_dir) / src.path
        if not path.is_file():
            problems.append(f"{src.path}: missing (expected sha256 {src.sha256})")
            continue
        got = sha256_of(path)
        if got != src.sha256:
            problems.append(f"{src.path}: altered: sha256 is {got}, expected {src.sha256}")
            continue
        paths[key] = path
    if problems:
        raise BuildError(
            f"{len(problems)} source file(s) under {source_dir} cannot be used; nothing "
            "was written:\n  " + "\n  ".join(problems)
        )
    return paths


# ---- geometry helpers ------------------------------------------------------------------------
def _read_geojson(path: Path) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(path)
    return gdf.set_crs("EPSG:4326", allow_override=True)


def _areas_km2(geoms) -> np.ndarray:
    geoms = list(geoms)
    if not geoms:
        return np.zeros(0)
    return gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(EQUAL_AREA_CRS).area.to_numpy() / 1e6


def _valid(geom):
    """A valid (Multi)Polygon on the output grid, or None."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    geom = polygonal_parts(np.asarray([geom], dtype=object))[0]
    if geom is None:
        return None
    geom = shapely.set_precision(geom, GRID)
    geom = polygonal_parts(np.asarray([geom], dtype=object))[0]
    if geom is not None and shapely.get_num_geometries(geom) == 1:
        geom = shapely.get_geometry(geom, 0)
    return geom


def fill_holes(geom, max_km2: float) -> tuple[object, int, float, list[float]]:
    """Fill interior rings under ``max_km2``: (geometry, filled, km² filled, kept areas)."""
    polys = list(shapely.get_parts(geom))
    rings = [list(p.interiors) for p in polys]
    flat = [shapely.Polygon(r) for rs in rings for r in rs]
    if not flat:
        return geom, 0, 0.0, []
    areas = iter(_areas_km2(flat))
    rebuilt, filled, filled_km2, kept_areas = [], 0, 0.0, []
    for poly, rs in zip(polys, rings, strict=True):
        kept = []
        for ring in rs:
            a = next(areas)
            if a < max_km2:
                filled += 1
                filled_km2 += a
            else:
                kept.append(ring)
                kept_areas.append(round(float(a), 2))
        rebuilt.append(shapely.Polygon(poly.exterior, kept))
    out = shapely.MultiPolygon(rebuilt) if len(rebuilt) > 1 else rebuilt[0]
    return out, filled, filled_km2, kept_areas


def _title(text: str) -> str:
    """'vizcatan del ene' -> 'Vizcatan del Ene' (source names carry no accents)."""
    small = {"de", "del", "la", "las", "los", "y", "el", "en"}
    words = str(text).strip().split()
    return " ".join(w.capitalize() if i == 0 or w not in small else w for i, w in enumerate(words))


# ---- deterministic GeoJSON -----------------------------------------------------------------
def _round(coords, decimals: int):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), decimals) + 0.0 for c in coords]
    return [_round(c, decimals) for c in coords]


def write_geojson(
    path: Path, frame: gpd.GeoDataFrame, key: str, name: str, *, decimals: int = 4
) -> None:
    """One feature per row, sorted by ``key``; properties in column order; no timestamps."""
    frame = frame.sort_values(key, kind="stable")
    props = [c for c in frame.columns if c != frame.geometry.name]
    features = []
    for row, geom in zip(frame[props].itertuples(index=False), frame.geometry, strict=True):
        mapping = shapely.geometry.mapping(geom)
        values = {}
        for col, value in zip(props, row, strict=True):
            if isinstance(value, (np.integer,)):
                value = int(value)
            elif isinstance(value, (np.floating, float)):
                value = None if np.isnan(value) else round(float(value), 4)
            elif value is pd.NA or value is None:
                value = None
            else:
                value = value if isinstance(value, (bool, int)) else str(value)
            values[col] = value
        features.append(
            {
                "type": "Feature",
                "properties": values,
                "geometry": {
                    "type": mapping["type"],
                    "coordinates": _round(mapping["coordinates"], decimals),
                },
            }
        )
    doc = {"type": "FeatureCollection", "name": name, "features": features}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")


# ---- boundaries ------------------------------------------------------------------------------
def load_districts(path: Path, report: dict) -> gpd.GeoDataFrame:
    """Districts with valid polygons (make_valid on the invalid ones, counted)."""
    raw = _read_geojson(path)
    raw["ubigeo"] = raw["ubigeo"].astype(str).str.zfill(6)
    if raw["ubigeo"].duplicated().any():
        raise BuildError(f"{path.name}: duplicate ubigeo codes")
    invalid = ~raw.geometry.is_valid
    report["districts_read"] = len(raw)
    report["districts_invalid_repaired"] = sorted(raw.loc[invalid, "ubigeo"])
    raw["geometry"] = [_valid(g) for g in raw.geometry]
    if raw.geometry.isna().any():
        lost = ", ".join(raw.loc[raw.geometry.isna(), "ubigeo"])
        raise BuildError(f"{path.name}: no polygon left after repair for {lost}")
    return raw.sort_values("ubigeo").reset_index(drop=True)


def remove_overlaps(districts: gpd.GeoDataFrame, report: dict) -> gpd.GeoDataFrame:
    """Each overlap between neighbours stays with the lower ubigeo (codes are sorted)."""
    geoms = np.asarray(districts.geometry.array, dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    inter = shapely.intersection(geoms[left], geoms[right])
    area = shapely.area(inter)
    real = area > 0
    km2 = _areas_km2(inter[real]) if real.any() else np.zeros(0)
    report["overlap_pairs"] = int(real.sum())
    report["overlap_km2_total"] = round(float(km2.sum()), 1)
    if len(km2):
        worst = int(np.argmax(km2))
        codes = districts["ubigeo"].to_numpy()
        report["overlap_largest"] = {
            "pair": [str(codes[left[real][worst]]), str(codes[right[real][worst]])],
            "km2": round(float(km2[worst]), 2),
        }
    earlier: dict[int, list[int]] = {}
    for a, b in zip(left[real], right[real], strict=True):
        earlier.setdefault(int(b), []).append(int(a))
    out = geoms.copy()
    for b, lows in earlier.items():
        trimmed = shapely.difference(geoms[b], shapely.union_all(geoms[lows]))
        out[b] = _valid(trimmed)
        if out[b] is None:
            raise BuildError(f"district {districts['ubigeo'].iloc[b]}: nothing left after trim")
    result = districts.copy()
    result["geometry"] = out
    return result


def coverage_gaps(districts: gpd.GeoDataFrame, report: dict) -> None:
    """Holes in the union of all districts (slivers between neighbours, and lakes)."""
    union = shapely.union_all(np.asarray(districts.geometry.array))
    holes = [shapely.Polygon(r) for p in shapely.get_parts(union) for r in p.interiors]
    km2 = _areas_km2(holes)
    report["gaps_in_district_cover"] = {
        "holes": len(holes),
        "km2_total": round(float(km2.sum()), 1),
        "under_2_km2": int((km2 < FILL_HOLES_KM2).sum()),
        "largest_km2": round(float(km2.max()), 1) if len(km2) else 0.0,
    }


def group_by_prefix(
    districts: gpd.GeoDataFrame, width: int, names: gpd.GeoDataFrame, report_key: str, report
) -> gpd.GeoDataFrame:
    """Dissolve districts by the first ``width`` ubigeo digits; names from ``names``."""
    codes = districts["ubigeo"].str[:width]
    rows = []
    filled_n, filled_km2 = 0, 0.0
    for code in sorted(codes.unique()):
        geom = _valid(shapely.union_all(np.asarray(districts.geometry[codes == code].array)))
        geom, n, km2, _kept = fill_holes(geom, FILL_HOLES_KM2)
        filled_n += n
        filled_km2 += km2
        geom = _valid(shapely.simplify(geom, SIMPLIFY_LINES, preserve_topology=True))
        rows.append({"ubigeo": code, "geometry": geom})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    names = names.copy()
    names["ubigeo"] = names["ubigeo"].astype(str).str.zfill(width)
    missing = sorted(set(out["ubigeo"]) ^ set(names["ubigeo"]))
    if missing:
        raise BuildError(f"{report_key}: codes differ between levels: {', '.join(missing)}")
    level = "nombre_provincia" if width == 4 else "nombre_departamento"
    info = names.set_index("ubigeo")
    out["name"] = [_title(info.loc[c, level]) for c in out["ubigeo"]]
    out["capital"] = [_title(info.loc[c, "capital"]) for c in out["ubigeo"]]
    if width == 4:
        out["department"] = out["ubigeo"].str[:2]
    # Compare the dissolve with the published file of this level (they were simplified
    # separately, so they do not nest exactly).
    pub = names.set_index("ubigeo").geometry.map(_valid)
    diff = [
        shapely.symmetric_difference(g, pub.loc[c])
        for c, g in zip(out["ubigeo"], out.geometry, strict=True)
    ]
    report[report_key] = {
        "units": len(out),
        "holes_filled": filled_n,
        "holes_filled_km2": round(filled_km2, 1),
        "symmetric_difference_vs_published_km2": round(float(_areas_km2(diff).sum()), 1),
        "published_invalid_repaired": int((~names.geometry.is_valid).sum()),
    }
    return out[["ubigeo", "name", "capital", *(["department"] if width == 4 else []), "geometry"]]


def build_vraem(districts_valid: gpd.GeoDataFrame, table: pd.DataFrame, report: dict):
    """The 24-district zone and its three subzones, holes under 2 km² filled."""
    codes = table["ubigeo_inei"].astype(str).str.zfill(6)
    missing = sorted(set(codes) - set(districts_valid["ubigeo"]))
    if missing:
        raise BuildError(f"VRAEM: codes not in the district file: {', '.join(missing)}")
    rows = []
    groups = [("", codes)] + [(z, codes[table["subzona"] == z]) for z in ("norte", "centro", "sur")]
    for zone, group in groups:
        part = districts_valid[districts_valid["ubigeo"].isin(set(group))]
        union = _valid(shapely.union_all(np.asarray(part.geometry.array)))
        holes_before = sum(len(p.interiors) for p in shapely.get_parts(union))
        geom, n, km2, kept = fill_holes(union, FILL_HOLES_KM2)
        geom = _valid(geom)
        rid = "vraem-devida" + (f"-{zone}" if zone else "")
        rows.append(
            {
                "region_id": rid,
                "layer": "vraem-subzone" if zone else "vraem",
                "subzone": zone,
                "districts": len(part),
                "codes": " ".join(sorted(part["ubigeo"])),
                "geometry": geom,
            }
        )
        report.setdefault("vraem", {})[rid] = {
            "districts": len(part),
            "holes_in_dissolve": holes_before,
            "holes_filled": n,
            "holes_filled_km2": round(km2, 1),
            "holes_kept_km2": kept,
            "area_km2": round(float(_areas_km2([geom])[0]), 1),
            "parts": int(shapely.get_num_geometries(geom)),
        }
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


# ---- rivers, lakes, towns ------------------------------------------------------------------
def _ccpp(path: Path, codes: set[str]) -> pd.DataFrame:
    table = pd.read_csv(path, dtype={"inei_ccpp": str, "inei_distrito": str})
    table = table[table["inei_ccpp"].isin(codes)]
    missing = sorted(codes - set(table["inei_ccpp"]))
    if missing:
        raise BuildError(f"{path.name}: centros poblados not found: {', '.join(missing)}")
    return table.set_index("inei_ccpp")


def build_rivers(path: Path, ccpp: pd.DataFrame, report: dict) -> gpd.GeoDataFrame:
    rivers = _read_geojson(path)
    rivers = rivers[rivers["name"].notna() & rivers.geometry.notna()].copy()
    axis_rows = rivers[rivers["name"] == RIVER_AXIS]
    if len(axis_rows) != 1:
        raise BuildError(f"{path.name}: expected one {RIVER_AXIS!r} feature")
    axis = shapely.line_merge(axis_rows.geometry.iloc[0])
    if axis.geom_type != "LineString":
        raise BuildError(f"{path.name}: the {RIVER_AXIS!r} course is not one line")
    # upstream first: the Apurímac rises in the south, the Ucayali flows north
    if axis.coords[0][1] > axis.coords[-1][1]:
        axis = shapely.reverse(axis)
    cuts = []
    splits = []
    for code, name, joining in RIVER_SPLITS:
        pt = shapely.Point(ccpp.loc[code, "longitude"], ccpp.loc[code, "latitude"])
        at = axis.project(pt)
        snapped = axis.interpolate(at)
        km = float(
            gpd.GeoSeries([pt, snapped], crs="EPSG:4326")
            .to_crs(32718)
            .iloc[0]
            .distance(gpd.GeoSeries([snapped], crs="EPSG:4326").to_crs(32718).iloc[0])
            / 1000
        )
        cuts.append(at)
        splits.append({"ccpp": code, "name": name, "joins": joining, "offset_km": round(km, 1)})
    if cuts != sorted(cuts):
        raise BuildError("river split points are not in upstream-to-downstream order")
    edges = [0.0, *cuts, axis.length]
    rows = []
    for i, stretch in enumerate(RIVER_STRETCHES):
        rows.append(
            {
                "name": stretch,
                "scalerank": float(axis_rows["scalerank"].iloc[0]),
                "source_name": RIVER_AXIS,
                "geometry": substring(axis, edges[i], edges[i + 1]),
            }
        )
    others = rivers[rivers["name"] != RIVER_AXIS]
    for name, scalerank, geom in zip(
        others["name"], others["scalerank"], others.geometry, strict=True
    ):
        rows.append(
            {"name": name, "scalerank": float(scalerank), "source_name": name, "geometry": geom}
        )
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    out["geometry"] = [
        shapely.set_precision(shapely.simplify(g, 0.001), GRID) for g in out.geometry
    ]
    out["order"] = range(len(out))
    report["rivers"] = {"features": len(out), "splits": splits}
    return out


def build_lakes(path: Path) -> gpd.GeoDataFrame:
    lakes = _read_geojson(path)
    out = gpd.GeoDataFrame(
        {"name": lakes["name"].fillna("").astype(str)},
        geometry=[_valid(shapely.simplify(g, 0.002)) for g in lakes.geometry],
        crs="EPSG:4326",
    )
    return out


def build_towns(places_path: Path, ccpp: pd.DataFrame, report: dict) -> gpd.GeoDataFrame:
    places = _read_geojson(places_path)
    rows = []
    for _, p in places.iterrows():
        cla = p["FEATURECLA"]
        if cla not in ("Admin-0 capital", "Admin-1 capital"):
            continue
        name = p["NAME_ES"] if isinstance(p["NAME_ES"], str) and p["NAME_ES"] else p["NAME"]
        rows.append(
            {
                "town_id": f"ne:{p['NAME']}",
                "name": str(name),
                "rank": RANK_CAPITAL if cla == "Admin-0 capital" else RANK_DEPARTMENT,
                "order": -int(pop) if pd.notna(pop := p.get("POP_MAX")) else 0,
                "ubigeo": "",
                "source": "Natural Earth 10m populated places (NAME_ES)",
                "geometry": shapely.Point(round(p.geometry.x, 5), round(p.geometry.y, 5)),
            }
        )
    ne_names = {r["name"].casefold(): i for i, r in enumerate(rows)}
    dropped = []
    for order, code in enumerate(VRAEM_TOWNS):
        c = ccpp.loc[code]
        name = str(c["ccpp"])
        ubigeo = str(c["inei_distrito"])
        if code[6:] == "0001" and ubigeo[4:] == "01":
            rank = RANK_PROVINCE
        else:
            rank = RANK_TOWN
        match = ne_names.get(name.casefold())
        if match is not None and rows[match]["rank"] == RANK_DEPARTMENT:
            dropped.append(rows[match]["town_id"])
            rank = RANK_DEPARTMENT  # the INEI point replaces Natural Earth's
        rows.append(
            {
                "town_id": code,
                "name": name,
                "rank": rank,
                "order": order,
                "ubigeo": ubigeo,
                "source": "INEI centros poblados via jmcastagnetto/ubigeo-peru-aumentado",
                "geometry": shapely.Point(round(c["longitude"], 5), round(c["latitude"], 5)),
            }
        )
    rows = [r for r in rows if r["town_id"] not in dropped]
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    report["towns"] = {
        "features": len(out),
        "by_rank": {str(k): int(v) for k, v in out["rank"].value_counts().sort_index().items()},
        "natural_earth_replaced_by_inei": dropped,
    }
    return out


# ---- the build -------------------------------------------------------------------------------
def build_into(folder: Path, paths: dict[str, Path]) -> dict:
    """Write every output file into ``folder``; returns the build report."""
    report: dict = {"sources": {k: SOURCES[k].path for k in sorted(paths)}}
    valid = load_districts(paths["districts"], report)
    table = pd.read_csv(paths["vraem"], dtype=str)
    vraem = build_vraem(valid, table, report)
    trimmed = remove_overlaps(valid, report)
    coverage_gaps(trimmed, report)

    names = _read_geojson(paths["districts"]).set_index("ubigeo")
    districts = gpd.GeoDataFrame(
        {
            "ubigeo": trimmed["ubigeo"],
            "name": [_title(names.loc[c, "nombre_distrito"]) for c in trimmed["ubigeo"]],
            "province": trimmed["ubigeo"].str[:4],
            "department": trimmed["ubigeo"].str[:2],
        },
        geometry=trimmed.geometry,
        crs="EPSG:4326",
    )
    write_geojson(folder / "districts_2023.geojson", districts, "ubigeo", "districts_2023")
    low = districts.copy()
    low["geometry"] = [
        _valid(shapely.set_precision(shapely.simplify(g, SIMPLIFY_Z7), 1e-3)) for g in low.geometry
    ]
    write_geojson(
        folder / "districts_2023_z7.geojson", low, "ubigeo", "districts_2023_z7", decimals=3
    )

    provinces = group_by_prefix(trimmed, 4, _read_geojson(paths["provinces"]), "provinces", report)
    write_geojson(folder / "provinces_2023.geojson", provinces, "ubigeo", "provinces_2023")
    departments = group_by_prefix(
        trimmed, 2, _read_geojson(paths["departments"]), "departments", report
    )
    write_geojson(folder / "departments_2023.geojson", departments, "ubigeo", "departments_2023")
    write_geojson(folder / "vraem_devida_2023.geojson", vraem, "region_id", "vraem_devida_2023")

    codes = {c for c, _n, _j in RIVER_SPLITS} | set(VRAEM_TOWNS)
    ccpp = _ccpp(paths["ccpp"], codes)
    rivers = build_rivers(paths["rivers"], ccpp, report)
    write_geojson(folder / "rivers.geojson", rivers, "order", "rivers")
    write_geojson(folder / "lakes.geojson", build_lakes(paths["lakes"]), "name", "lakes")
    towns = build_towns(paths["places"], ccpp, report)
    write_geojson(folder / "towns.geojson", towns, "town_id", "towns")

    text = json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True)
    (folder / "build_report.json").write_text(text + "\n", encoding="utf-8")
    return report


def build(
    source_dir: Path = DEFAULT_SOURCE,
    geodata_dir: Path = DEFAULT_GEODATA,
    *,
    sources: dict[str, Source] = SOURCES,
    steps=build_into,
) -> dict:
    """Check the sources, build into a temporary folder, then swap it in as geodata/peru."""
    paths = check_sources(source_dir, sources)
    geodata_dir = Path(geodata_dir)
    geodata_dir.mkdir(parents=True, exist_ok=True)
    target = geodata_dir / OUT_NAME
    tmp = Path(tempfile.mkdtemp(prefix=f".{OUT_NAME}.build-", dir=geodata_dir))
    try:
        report = steps(tmp, paths)
        os.chmod(tmp, 0o755)
        old = None
        if target.exists():
            old = geodata_dir / f".{OUT_NAME}.old-{os.getpid()}"
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="../shared/data")
    parser.add_argument("--geodata", type=Path, default=DEFAULT_GEODATA, help="geodata/")
    args = parser.parse_args(argv)
    try:
        report = build(args.source, args.geodata)
    except BuildError as exc:
        print(f"build_geodata: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in report.items() if k != "sources"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
