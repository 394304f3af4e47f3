"""atlas.vectorio: every accepted format reads; hostile files are refused with a reason."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from atlas.errors import InputError, LimitError
from atlas.safety import Limits
from atlas.vectorio import read_vector

HOSTILE = Path(__file__).resolve().parent / "fixtures" / "hostile" / "vector"

KML_EXTENDED = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>Zona A</name>
  <ExtendedData>
    <Data name="ubigeo"><value>050503</value></Data>
    <Data name="note"><value>synthetic test polygon</value></Data>
  </ExtendedData>
  <Polygon><outerBoundaryIs><LinearRing><coordinates>
    -74.2,-12.6 -74.0,-12.6 -74.0,-12.4 -74.2,-12.4 -74.2,-12.6
  </coordinates></LinearRing></outerBoundaryIs></Polygon>
</Placemark>
</Document></kml>
"""


def _frame(crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["050503", "120606"], "name": ["a", "b"]},
        geometry=[box(-74.2, -12.6, -74.0, -12.4), box(-74.0, -12.6, -73.8, -12.4)],
        crs=crs,
    )


def _zip_shapefile(tmp_path: Path, *, drop: tuple[str, ...] = (), crs: str | None = "EPSG:4326"):
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    frame = _frame(crs)
    frame.to_file(shp_dir / "zones.shp")
    out = tmp_path / "zones.shp.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(shp_dir.iterdir()):
            if part.suffix.lower() not in drop:
                zf.write(part, f"zones/{part.name}")
    return out


def test_geojson_path_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    _frame().to_file(path, driver="GeoJSON")
    from_path = read_vector(path)
    from_bytes = read_vector(path.read_bytes(), filename="upload.geojson")
    sniffed = read_vector(path.read_bytes())  # no name: format sniffed from content
    for gdf in (from_path, from_bytes, sniffed):
        assert len(gdf) == 2
        assert gdf.crs.to_epsg() == 4326
        assert list(gdf["code"]) == ["050503", "120606"]  # text stays text, zeros kept


def test_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "zones.gpkg"
    _frame().to_crs("EPSG:32718").to_file(path, driver="GPKG")
    gdf = read_vector(path)
    assert gdf.crs.to_epsg() == 32718  # raw: CRS as declared, not reprojected
    assert len(gdf) == 2


def test_geopackage_several_layers_are_stacked(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    _frame().iloc[:1].to_file(path, layer="north", driver="GPKG")
    _frame().iloc[1:].to_file(path, layer="south", driver="GPKG")
    gdf = read_vector(path)
    assert sorted(gdf["source_layer"]) == ["north", "south"]


def test_zipped_shapefile(tmp_path: Path) -> None:
    gdf = read_vector(_zip_shapefile(tmp_path))
    assert len(gdf) == 2
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.iloc[0].equals(box(-74.2, -12.6, -74.0, -12.4))


def test_zipped_shapefile_without_prj_has_no_crs(tmp_path: Path) -> None:
    gdf = read_vector(_zip_shapefile(tmp_path, drop=(".prj",)))
    assert gdf.crs is None
    assert len(gdf) == 2


def test_zipped_shapefile_without_dbf(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"zip has no \.dbf; a Shapefile needs \.shp, \.shx and"):
        read_vector(_zip_shapefile(tmp_path, drop=(".dbf",)))


def test_bare_shp_asks_for_a_zip(tmp_path: Path) -> None:
    _frame().to_file(tmp_path / "z.shp")
    with pytest.raises(InputError, match="zip the .shp"):
        read_vector(tmp_path / "z.shp")


def test_kml_extended_data_become_columns(tmp_path: Path) -> None:
    path = tmp_path / "zones.kml"
    path.write_text(KML_EXTENDED, encoding="utf-8")
    gdf = read_vector(path)
    assert len(gdf) == 1
    assert gdf["ubigeo"].iloc[0] == "050503"
    assert gdf["note"].iloc[0] == "synthetic test polygon"
    assert gdf.geometry.iloc[0].geom_type == "Polygon"


def test_kmz(tmp_path: Path) -> None:
    path = tmp_path / "zones.kmz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("doc.kml", KML_EXTENDED)
    assert read_vector(path)["ubigeo"].iloc[0] == "050503"


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("zip_slip.zip", LimitError, r"'\.\./\.\./evil\.geojson' points outside"),
        ("zip_absolute.zip", LimitError, r"'/tmp/evil\.geojson' points outside"),
        ("zip_symlink.zip", LimitError, "symbolic link"),
        ("kml_entity.kml", InputError, "DOCTYPE/ENTITY"),
        ("kml_network_link.kml", InputError, "NetworkLink"),
        ("vrt_named_geojson.geojson", InputError, "content is not .geojson"),
        ("not_json.geojson", InputError, "cannot be opened"),
    ],
)
def test_hostile_files_refused(name: str, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        read_vector(HOSTILE / name)
    assert name in str(info.value)


def test_zip_slip_writes_nothing_outside(tmp_path: Path) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    with pytest.raises(LimitError):
        read_vector((HOSTILE / "zip_slip.zip").read_bytes(), filename="slip.zip")
    assert not list(tmp_path.rglob("evil.geojson"))


def test_zip_bomb_ratio(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("zeros.geojson", b"\0" * (50 * 2**20))
    assert bomb.stat().st_size < 200_000
    with pytest.raises(LimitError, match="looks like a zip bomb"):
        read_vector(bomb)


def test_zip_total_size_and_members(tmp_path: Path) -> None:
    path = _zip_shapefile(tmp_path)
    with pytest.raises(LimitError, match="would unpack to"):
        read_vector(path, limits=Limits(max_unzipped_bytes=100))
    with pytest.raises(LimitError, match="members, over the limit of 2"):
        read_vector(path, limits=Limits(max_zip_members=2))


def test_size_and_row_limits(tmp_path: Path) -> None:
    path = tmp_path / "zones.geojson"
    _frame().to_file(path, driver="GeoJSON")
    with pytest.raises(LimitError, match="over the 10-byte limit"):
        read_vector(path, limits=Limits(max_bytes=10))
    with pytest.raises(LimitError, match="more than 1 features"):
        read_vector(path, limits=Limits(max_rows=1))


def test_missing_and_unknown(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope.geojson: file not found"):
        read_vector(tmp_path / "nope.geojson")
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    with pytest.raises(InputError, match="a.csv: unknown vector format"):
        read_vector(tmp_path / "a.csv")
    with pytest.raises(InputError, match="unknown vector format"):
        read_vector(b"hello world")


def test_zip_without_vector_data(tmp_path: Path) -> None:
    path = tmp_path / "docs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "no data here")
    with pytest.raises(InputError, match="holds no vector data"):
        read_vector(path)


def test_mixed_geometry_types_are_read_raw(tmp_path: Path) -> None:
    path = tmp_path / "mixed.geojson"
    gpd.GeoDataFrame(
        {"code": ["1", "2"]}, geometry=[Point(-74, -12), box(-74, -12, -73, -11)], crs=4326
    ).to_file(path, driver="GeoJSON")
    gdf = read_vector(path)
    assert sorted(gdf.geom_type) == ["Point", "Polygon"]


def test_read_time_limit_gives_a_clear_error(tmp_path: Path) -> None:
    """A read that outlasts limits.read_seconds ends in LimitError, not a hung page."""
    import numpy as np

    rng = np.random.default_rng(3)
    n = 200_000
    frame = gpd.GeoDataFrame(
        {"event_id": np.arange(n).astype(str), "note": ["x" * 40] * n},
        geometry=gpd.points_from_xy(rng.uniform(-80, -70, n), rng.uniform(-18, 0, n)),
        crs="EPSG:4326",
    )
    path = tmp_path / "many.geojson"
    frame.to_file(path, driver="GeoJSON")
    # a 200k-feature GeoJSON takes far longer than 10 ms to parse on any machine
    with pytest.raises(LimitError, match=r"many\.geojson: reading took longer than 0\.01 s"):
        read_vector(path, limits=Limits(read_seconds=0.01))
    with pytest.raises(LimitError, match="reading took longer than 0 s"):
        read_vector(path, limits=Limits(read_seconds=0.0))
    assert len(read_vector(path)) == n  # within the default budget it reads in full


def test_gdal_reasons_name_the_file_not_the_server_copy(tmp_path: Path) -> None:
    """GDAL's reason is shown to the reader: with the uploaded file's name where GDAL
    printed the temporary copy's path, and without the SQL it ran on a GeoPackage."""
    cut_kml = (
        b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        b"<Placemark><Point><coordinates>-74.0,-12.2"
    )
    with pytest.raises(InputError) as kml:
        read_vector(cut_kml, filename="zonas.kml")
    text = str(kml.value)
    assert text.startswith("zonas.kml: cannot be opened as vector data")
    assert "parsing kml zonas.kml" in text
    assert "/tmp" not in text and "atlas-vec" not in text and str(tmp_path) not in text

    not_gpkg = b"SQLite format 3\x00" + bytes(200)  # an SQLite header and nothing usable
    with pytest.raises(InputError) as gpkg:
        read_vector(not_gpkg, filename="distritos.gpkg")
    text = str(gpkg.value)
    assert text == "distritos.gpkg: cannot be opened as vector data (file is not a database)"
