"""atlas.regions: reading polygons into canonical regions, and building regions from codes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import box

from atlas.errors import CRSError, InputError
from atlas.regions import (
    REGION_COLUMNS,
    RegionDefinition,
    build_region,
    read_regions,
)

FIX = Path(__file__).resolve().parent / "fixtures" / "regions"
GRID = FIX / "synthetic_districts_grid.geojson"
MESSY = FIX / "synthetic_messy_regions.geojson"
UTM = FIX / "synthetic_utm_no_crs.geojson"


def test_grid_reads_canonical() -> None:
    regions, report = read_regions(GRID, vintage="synthetic", source="test grid")
    assert tuple(regions.columns[: len(REGION_COLUMNS)]) == REGION_COLUMNS
    assert list(regions["region_id"]) == ["990101", "990102", "990201", "990202"]
    assert list(regions["name"]) == ["Synthetic NW", "Synthetic NE", "Synthetic SW", "Synthetic SE"]
    assert str(regions["region_id"].dtype) == "string"
    assert regions.crs.to_epsg() == 4326
    assert set(regions["layer"]) == {"synthetic_districts_grid"}
    assert not regions["approximate"].any()
    assert set(regions["vintage"]) == {"synthetic"} and set(regions["source"]) == {"test grid"}
    assert "subzona" in regions.columns  # other attributes kept after the canonical ones
    assert report.rows_read == 4 and report.rows_kept == 4 and not report.rejected
    report.check()


def test_messy_file_rejects_repairs_and_merges() -> None:
    regions, report = read_regions(MESSY)
    report.check()
    assert report.rows_read == 9
    assert report.by_reason() == {"not_a_polygon": 2, "empty_geometry": 2, "no_region_id": 1}
    assert report.rows_for("not_a_polygon") == [3, 4]  # feature numbers, 1-based
    assert report.rows_for("empty_geometry") == [5, 6]
    assert list(regions["region_id"]) == ["A", "B", "G"]
    bowtie = regions.set_index("region_id").geometry["B"]
    assert bowtie.is_valid
    # make_valid splits the bowtie into its two triangles: half the bounding square.
    assert bowtie.area == pytest.approx(0.5 * 0.1 * 0.1)
    assert any("1 invalid polygon(s) were repaired" in w for w in report.warnings)
    island = regions.set_index("region_id").geometry["G"]
    assert island.geom_type == "MultiPolygon" and len(island.geoms) == 2
    assert any("merged" in w and "(G)" in w for w in report.warnings)
    assert "geometry is not a polygon" in report.summary()


def test_explicit_fields_and_missing_field() -> None:
    regions, _ = read_regions(GRID, id_field="nombre", name_field="subzona", layer="grid")
    assert list(regions["region_id"])[0] == "Synthetic NW"
    assert list(regions["name"])[0] == "norte"
    assert set(regions["layer"]) == {"grid"}
    with pytest.raises(InputError, match=r"no id field 'IDDIST'; the columns are ubigeo, nombre"):
        read_regions(GRID, id_field="IDDIST")


def test_integer_ubigeo_keeps_leading_zero(tmp_path: Path) -> None:
    path = tmp_path / "ints.geojson"
    gpd.GeoDataFrame(
        {"ubigeo": [50503, 120606]},
        geometry=[box(-74.2, -12.6, -74.0, -12.4), box(-74.0, -12.6, -73.8, -12.4)],
        crs=4326,
    ).to_file(path, driver="GeoJSON")
    regions, _ = read_regions(path)
    assert list(regions["region_id"]) == ["050503", "120606"]


def test_projected_geojson_without_crs_member_is_refused() -> None:
    with pytest.raises(CRSError, match=r"look projected \(bounds 603,000\.0, 8,667,000\.0") as e:
        read_regions(UTM)
    assert "--regions-crs EPSG:32718" in str(e.value)


def test_declared_utm_is_reprojected() -> None:
    regions, report = read_regions(UTM, crs="EPSG:32718")
    minx, miny, maxx, maxy = regions.total_bounds
    assert regions.crs.to_epsg() == 4326
    assert -74.1 < minx < maxx < -73.9 and -12.1 < miny < maxy < -11.9
    assert any("Reprojected from EPSG:32718" in w for w in report.warnings)


def _shapefile_zip(tmp_path: Path, frame: gpd.GeoDataFrame, *, prj: bool) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "zones.shp")
    out = tmp_path / "zones.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for part in folder.iterdir():
            if prj or part.suffix != ".prj":
                zf.write(part, part.name)
    return out


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj_lonlat_assumed(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"code": ["1"]}, geometry=[box(-74.2, -12.6, -74.0, -12.4)])
    regions, report = read_regions(_shapefile_zip(tmp_path, frame, prj=False))
    assert regions.crs.to_epsg() == 4326
    assert any("EPSG:4326 was assumed" in w for w in report.warnings)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj_projected_is_refused(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"code": ["1"]}, geometry=[box(603000, 8667000, 613000, 8677000)])
    path = _shapefile_zip(tmp_path, frame, prj=False)
    with pytest.raises(CRSError, match="declares no CRS and its coordinates look projected"):
        read_regions(path)
    regions, _ = read_regions(path, crs="EPSG:32718")
    assert regions.total_bounds[0] == pytest.approx(-74.054, abs=1e-3)


def test_bad_crs_argument() -> None:
    with pytest.raises(CRSError, match="'EPSG:nope' is not a CRS"):
        read_regions(GRID, crs="EPSG:nope")


def test_no_usable_polygons(tmp_path: Path) -> None:
    path = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"id": ["1"]}, geometry=gpd.points_from_xy([-74], [-12]), crs=4326).to_file(
        path, driver="GeoJSON"
    )
    with pytest.raises(InputError, match="no usable polygons"):
        read_regions(path)


# ---- build_region ----------------------------------------------------------------------
DEF = RegionDefinition(
    region_id="synthetic-zone",
    name="Synthetic zone",
    codes=("990101", "990102", "990201", "990999"),
    subzones={"990101": "norte", "990102": "norte", "990201": "sur"},
    source="test definition (synthetic)",
    layer="vraem",
)


def test_build_region_equals_union_and_reports_missing() -> None:
    districts, _ = read_regions(GRID)
    region, report = build_region(DEF, districts, vintage="synthetic")
    assert len(region) == 1
    row = region.iloc[0]
    assert row["region_id"] == "synthetic-zone" and row["layer"] == "vraem"
    assert row["source"] == "test definition (synthetic)" and row["vintage"] == "synthetic"
    assert not row["approximate"] and row["districts"] == 3
    expected = shapely.union_all(districts.geometry.iloc[:3].to_numpy())
    assert row.geometry.is_valid
    assert row.geometry.symmetric_difference(expected).area == pytest.approx(0, abs=1e-12)
    assert report.codes_missing == ("990999",)
    assert report.districts_used == 3
    assert "990999" in report.summary() and "vintage" in report.summary()


def test_build_region_by_subzone() -> None:
    districts, _ = read_regions(GRID)
    parts, report = build_region(DEF, districts, by_subzone=True)
    assert list(parts["region_id"]) == ["synthetic-zone-norte", "synthetic-zone-sur"]
    assert set(parts["layer"]) == {"vraem-subzone"}
    assert list(parts["districts"]) == [2, 1]
    assert parts.geometry.iloc[0].equals(box(-74.1, -12.1, -73.9, -12.0))


def test_build_region_codes_as_numbers_and_nothing_found() -> None:
    districts, _ = read_regions(GRID)
    region, _ = build_region(RegionDefinition("z", "Z", (" 990202",)), districts)
    assert region.geometry.iloc[0].equals(box(-74.0, -12.2, -73.9, -12.1))
    with pytest.raises(InputError, match="none of its 1 district codes"):
        build_region(RegionDefinition("z", "Z", ("123456",)), districts)
    with pytest.raises(InputError, match="no code field 'IDDIST'"):
        build_region(DEF, districts, code_field="IDDIST")


def test_build_region_counts_and_fills_sliver_holes() -> None:
    # A ring of four squares around a 0.001-degree gap: the union has one small hole.
    squares = [
        box(0, 0, 1, 0.4995),
        box(0, 0.5005, 1, 1),
        box(0, 0, 0.4995, 1),
        box(0.5005, 0, 1, 1),
    ]
    districts = gpd.GeoDataFrame({"region_id": ["1", "2", "3", "4"]}, geometry=squares, crs=4326)
    definition = RegionDefinition("r", "R", ("1", "2", "3", "4"))
    kept, report = build_region(definition, districts)
    assert len(kept.geometry.iloc[0].interiors) == 1
    assert any("1 interior hole(s)" in w for w in report.warnings)
    filled, report = build_region(definition, districts, fill_holes_km2=5)
    assert len(filled.geometry.iloc[0].interiors) == 0
    assert any("were filled" in w for w in report.warnings)
