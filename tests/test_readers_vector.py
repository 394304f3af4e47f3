"""Point vector files as incidents: GeoJSON, GeoPackage, zipped Shapefile, KML."""

from __future__ import annotations

import datetime as dt
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import LineString, MultiPoint, Point, Polygon

from atlas.errors import InputError
from atlas.readers import read_incidents
from atlas.schema import INCIDENT_COLUMNS

TODAY = dt.date(2026, 1, 1)


def sample() -> gpd.GeoDataFrame:
    """Five synthetic features: 3 usable points (one a 1-point MultiPoint), a line, a polygon."""
    return gpd.GeoDataFrame(
        {
            "id": ["V1", "V2", "V3", "V4", "V5"],
            "fecha": ["2021-05-23", "24/05/2021", "2021-05-25", "2021-05-26", "2021-05-27"],
            "muertos": [16, 0, 1, 2, 3],
            "tipo": ["Battles", "Protests", "Riots", "Riots", "Riots"],
            "lugar": ["Sample place 1", "Sample place 2", "Sample place 3", "L", "P"],
        },
        geometry=[
            Point(-74.027, -12.186),
            Point(-73.9, -12.5),
            MultiPoint([(-73.8, -12.6)]),
            LineString([(-74, -12), (-73, -12)]),
            Polygon([(-74, -12), (-73, -12), (-73, -13)]),
        ],
        crs="EPSG:4326",
    )


def check(gdf, report, dataset):
    assert list(gdf.columns) == list(INCIDENT_COLUMNS)
    assert gdf.crs.to_epsg() == 4326
    assert report.kind == "vector"
    assert (report.rows_read, report.rows_kept) == (5, 3)
    assert report.by_reason() == {"not_a_point": 2}
    assert report.rows_for("not_a_point") == [5, 6]
    assert gdf["event_id"].tolist() == ["V1", "V2", "V3"]
    assert set(gdf["dataset"]) == {dataset}
    assert gdf["date_start"].dt.strftime("%Y-%m-%d").tolist() == [
        "2021-05-23",
        "2021-05-24",
        "2021-05-25",
    ]
    assert gdf["fatalities"].tolist() == [16.0, 0.0, 1.0]
    assert gdf["event_type"].tolist() == ["armed_clash", "protest", "riot"]
    assert gdf.geometry.iloc[0].x == pytest.approx(-74.027)
    assert gdf.geometry.iloc[2].y == pytest.approx(-12.6)


def test_geojson(tmp_path):
    path = tmp_path / "puntos.geojson"
    sample().to_file(path, driver="GeoJSON")
    gdf, report = read_incidents(path, today=TODAY)
    check(gdf, report, "puntos")
    again, _ = read_incidents(path.read_bytes(), filename="puntos.geojson", today=TODAY)
    assert again["event_id"].tolist() == gdf["event_id"].tolist()


def test_geopackage_reprojected_from_utm(tmp_path):
    path = tmp_path / "utm.gpkg"
    sample().to_crs("EPSG:32718").to_file(path, driver="GPKG")
    gdf, report = read_incidents(path, today=TODAY)
    check(gdf, report, "utm")


def test_zipped_shapefile(tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    points = sample().iloc[:3].copy()
    points["geometry"] = [Point(-74.027, -12.186), Point(-73.9, -12.5), Point(-73.8, -12.6)]
    points.to_file(folder / "eventos.shp")
    zpath = tmp_path / "eventos.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, part.name)
    gdf, report = read_incidents(zpath, today=TODAY)
    assert (report.rows_read, report.rows_kept) == (3, 3)
    assert gdf["event_id"].tolist() == ["V1", "V2", "V3"]
    assert gdf["fatalities"].tolist() == [16.0, 0.0, 1.0]


def test_kml(tmp_path):
    path = tmp_path / "eventos.kml"
    points = sample().iloc[:2][["id", "fecha", "geometry"]].rename(columns={"id": "Name"})
    points.to_file(path, driver="KML")
    gdf, report = read_incidents(path, today=TODAY)
    assert report.rows_kept == 2
    assert gdf.geometry.iloc[1].y == pytest.approx(-12.5)
    assert gdf["date_start"].dt.strftime("%Y-%m-%d").tolist() == ["2021-05-23", "2021-05-24"]


def test_empty_geometry_rejected(tmp_path):
    path = tmp_path / "holes.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":['
        '{"type":"Feature","properties":{"date":"2021-01-01"},'
        '"geometry":{"type":"Point","coordinates":[-74.0,-12.1]}},'
        '{"type":"Feature","properties":{"date":"2021-01-02"},"geometry":null},'
        '{"type":"Feature","properties":{"date":"2021-01-03"},'
        '"geometry":{"type":"Point","coordinates":[0,0]}}]}'
    )
    gdf, report = read_incidents(path, today=TODAY)
    assert report.rows_kept == 1
    assert {(r.row, r.reason) for r in report.rejected} == {
        (3, "empty_geometry"),
        (4, "null_island"),
    }
    assert gdf["event_id"].tolist() == ["holes:2"]


def test_not_a_vector(tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text("this is not json")
    with pytest.raises(InputError, match=r"^bad\.geojson"):
        read_incidents(path)


def test_unnamed_upload_is_sniffed(tmp_path):
    path = tmp_path / "p.geojson"
    sample().to_file(path, driver="GeoJSON")
    gdf, report = read_incidents(path.read_bytes(), today=TODAY)
    assert report.source == "upload" and report.kind == "vector"
    assert report.rows_kept == 3
    assert set(gdf["dataset"]) == {"upload"}


def test_forced_vector_source_on_odd_name(tmp_path):
    path = tmp_path / "puntos.dat"
    sample().to_file(tmp_path / "p.geojson", driver="GeoJSON")
    path.write_bytes((tmp_path / "p.geojson").read_bytes())
    with pytest.raises(InputError, match=r"^puntos\.dat"):
        read_incidents(path, source="vector")
    gdf, report = read_incidents(path.read_bytes(), source="vector", today=TODAY)
    assert report.rows_kept == 3
