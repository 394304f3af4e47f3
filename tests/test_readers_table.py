"""Generic table reader: names EN/ES, mapping, encodings, delimiters, DMS, XLSX, rejections."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from atlas.errors import InputError
from atlas.readers import read_incidents
from atlas.readers.table import normalise_name, plan_columns
from atlas.readers.validate import parse_dates, parse_dms
from atlas.schema import INCIDENT_COLUMNS

TODAY = dt.date(2026, 1, 1)


def ymd(series: pd.Series) -> list[str]:
    return series.dt.strftime("%Y-%m-%d").tolist()


def test_spanish_semicolon_latin1_decimal_comma(fixtures_dir):
    gdf, report = read_incidents(fixtures_dir / "tables/es_semicolon_latin1.csv", today=TODAY)
    assert report.kind == "table"
    assert (report.rows_read, report.rows_kept) == (4, 4)
    assert set(gdf["dataset"]) == {"es_semicolon_latin1"}
    # dd/mm/yyyy, "23 de mayo de 2021", "1 de setiembre de 2021", ISO
    assert ymd(gdf["date_start"]) == ["2021-05-23", "2021-05-23", "2021-09-01", "2021-10-02"]
    assert gdf.geometry.iloc[0].y == pytest.approx(-12.186)
    assert gdf.geometry.iloc[0].x == pytest.approx(-74.027)
    assert gdf["admin3"].iloc[0] == "Vizcatán del Ene"  # decoded from Windows-1252
    assert gdf["event_type"].tolist() == [
        "violence_against_civilians",
        "armed_clash",
        "protest",
        "other",
    ]
    assert gdf["source_event_type"].iloc[3] == "Emboscada"
    assert pd.isna(gdf["fatalities"].iloc[3])
    text = " ".join(report.warnings)
    assert "not UTF-8" in text and "Windows-1252" in text
    assert "decimal comma" in text


def test_english_bom_and_synthetic_flag(fixtures_dir):
    gdf, report = read_incidents(fixtures_dir / "tables/en_bom.csv", today=TODAY)
    assert report.rows_kept == 3 and not report.warnings
    assert gdf["event_id"].tolist() == ["T1", "T2", "T3"]  # "Event ID" found despite BOM
    assert ymd(gdf["date_start"]) == ["2024-01-15", "2025-05-16", "2025-05-16"]
    assert gdf["event_type"].tolist() == ["armed_clash", "armed_clash", "explosion_remote"]
    assert gdf["synthetic"].tolist() == [True, True, True]
    assert gdf["location"].iloc[0] == "Sample place"


def test_dms_columns(fixtures_dir):
    gdf, report = read_incidents(fixtures_dir / "tables/dms_columns.csv", today=TODAY)
    assert report.rows_kept == 3
    # 12°61' has 61 minutes: not a valid DMS value
    assert report.by_reason() == {"unparseable_coordinates": 1}
    assert report.rows_for("unparseable_coordinates") == [5]
    p = gdf.geometry
    assert p.iloc[0].y == pytest.approx(-(12 + 11 / 60 + 9.7 / 3600))
    assert p.iloc[0].x == pytest.approx(-(74 + 1 / 60 + 37.5 / 3600))
    assert (p.iloc[1].y, p.iloc[1].x) == (pytest.approx(-12.5), pytest.approx(-73.9))


def test_combined_coordinates_tsv(fixtures_dir):
    gdf, report = read_incidents(fixtures_dir / "tables/combined_coordinates.tsv", today=TODAY)
    assert report.rows_kept == 2
    assert report.rows_for("unparseable_coordinates") == [4]
    assert gdf.geometry.iloc[0].y == pytest.approx(-12.186028, abs=1e-5)
    assert gdf.geometry.iloc[1].x == pytest.approx(-73.9)
    assert gdf["fatalities"].tolist() == [16.0, 0.0]
    assert ymd(gdf["date_start"]) == ["2021-05-23", "2021-05-24"]


def test_every_rejection_reason(fixtures_dir):
    gdf, report = read_incidents(fixtures_dir / "tables/rejections.csv", today=TODAY)
    assert report.rows_read == 16
    assert report.rows_read == report.rows_kept + report.rows_rejected
    got = {(r.row, r.reason) for r in report.rejected}
    assert got == {
        (3, "no_coordinates"),
        (4, "unparseable_coordinates"),
        (5, "out_of_range"),
        (7, "out_of_range"),  # lat -120: swapped, (-12.1, -120) is nowhere near the file
        (8, "null_island"),
        (9, "no_date"),
        (10, "unparseable_date"),
        (11, "end_before_start"),
        (12, "invalid_fatalities"),
        (13, "invalid_fatalities"),
        (14, "duplicate_event_id"),
        (16, "unparseable_date"),
    }
    assert gdf["event_id"].tolist() == ["R01", "R05", "R14", "R16"]
    assert ymd(gdf["date_end"]) == ["2021-01-01", "2021-01-05", "2099-01-01", "2021-01-20"]
    future = [w for w in report.warnings if "2026-01-01" in w]
    assert future and "(row 15)" in future[0]
    assert not any("swapped" in w for w in report.warnings)  # no row was called swapped
    assert "row 3" in report.summary() or "rows 3" in report.summary()
    detail = {r.reason: r.detail for r in report.rejected}
    assert "abc" in detail["unparseable_coordinates"]


def test_explicit_mapping():
    data = (
        b"MyLat|MyLon|When|Killed|Who\n"
        b"-12.1|-74.0|2021-01-01|2|Sample actor\n"
        b"-12.2|-74.1|02/01/2021|0|Sample actor\n"
    )
    mapping = {"latitude": "MyLat", "longitude": "mylon", "date_start": "When", "actor1": "Who"}
    gdf, report = read_incidents(data, filename="custom.csv", mapping=mapping, today=TODAY)
    assert report.rows_kept == 2
    assert ymd(gdf["date_start"]) == ["2021-01-01", "2021-01-02"]  # day first
    assert gdf["actor1"].tolist() == ["Sample actor", "Sample actor"]
    assert gdf["fatalities"].tolist() == [2.0, 0.0]  # "Killed" found by name
    assert gdf["event_id"].tolist() == ["custom:2", "custom:3"]


def test_mapping_errors():
    data = b"a,b,c\n1,2,3\n"
    with pytest.raises(InputError, match=r"^t\.csv: no coordinate columns found; columns seen"):
        read_incidents(data, filename="t.csv")
    with pytest.raises(InputError, match="no such column"):
        read_incidents(data, filename="t.csv", mapping={"latitude": "zz", "longitude": "b"})
    with pytest.raises(InputError, match="not a column the atlas knows"):
        read_incidents(data, filename="t.csv", mapping={"lat": "a"})


def test_name_detection_accents_and_case():
    assert normalise_name("Latitud (°)") == "latitud"
    assert normalise_name("Fecha de Inicio") == "fecha_de_inicio"
    plan = plan_columns(
        ["LATITUD", "Longitud", "Fecha", "Víctimas", "Tipo", "Región"], name="x.csv"
    )
    assert plan == {
        "latitude": "LATITUD",
        "longitude": "Longitud",
        "date_start": "Fecha",
        "fatalities": "Víctimas",
        "event_type": "Tipo",
        "admin1": "Región",
    }


def test_parse_dates_formats():
    s = pd.Series(
        [
            "2021-05-23",
            "23/05/2021",
            "16 May 2025",
            "16-May-2025",
            "23 de mayo de 2021",
            "5 de Diciembre del 2020",
            "2021-05-23T10:00:00Z",
            "not a date",
            "",
            "2021",
        ]
    )
    from atlas.readers.validate import TABLE_DATE_FORMATS

    out = parse_dates(s, TABLE_DATE_FORMATS)
    assert out.dt.strftime("%Y-%m-%d").tolist()[:7] == [
        "2021-05-23",
        "2021-05-23",
        "2025-05-16",
        "2025-05-16",
        "2021-05-23",
        "2020-12-05",
        "2021-05-23",
    ]
    assert out.iloc[7:].isna().all()  # a bare year is not a day


def test_parse_dms_hemisphere_checks():
    s = pd.Series(["12°11'09.7\"S", "12°11'09.7\"W", "74°01'37.5\"O", "S 12° 30'", "-12°30'"])
    lat = parse_dms(s, "lat")
    assert lat.iloc[0] == pytest.approx(-12.186028, abs=1e-6)
    assert pd.isna(lat.iloc[1])  # W is not a latitude hemisphere
    assert lat.iloc[3] == pytest.approx(-12.5)
    assert lat.iloc[4] == pytest.approx(-12.5)
    assert parse_dms(s, "lon").iloc[2] == pytest.approx(-74.027083, abs=1e-6)  # O = Oeste


def test_xlsx_sheet_rows(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "eventos"
    sheet.append(["ID", "Fecha", "Latitud", "Longitud", "Muertos"])
    sheet.append(["X1", dt.datetime(2021, 5, 23), -12.186, -74.027, 16])
    sheet.append([None, None, None, None, None])  # blank sheet row 3
    sheet.append(["X2", "23/05/2021", "-12,5", "-73,9", 0])
    sheet.append(["X3", dt.date(2021, 5, 24), 0, 0, 1])
    book.create_sheet("other")
    path = tmp_path / "eventos.xlsx"
    book.save(path)
    gdf, report = read_incidents(path, today=TODAY)
    assert list(gdf.columns) == list(INCIDENT_COLUMNS)
    assert gdf["event_id"].tolist() == ["X1", "X2"]
    assert ymd(gdf["date_start"]) == ["2021-05-23", "2021-05-23"]
    assert gdf["fatalities"].tolist() == [16.0, 0.0]
    assert report.rows_for("null_island") == [5]  # the sheet's own row number
    assert any("first sheet ('eventos')" in w for w in report.warnings)
    assert any("blank row was skipped" in w for w in report.warnings)


def test_future_dates_kept_with_warning():
    data = b"lat,lon,date\n-12.1,-74.0,2025-06-01\n-12.1,-74.0,2024-06-01\n"
    gdf, report = read_incidents(data, filename="f.csv", today=dt.date(2025, 1, 1))
    assert report.rows_kept == 2
    assert report.warnings == [
        "1 row is dated after 2025-01-01 (row 2); it was kept: check the date."
    ]


def test_swapped_only_where_the_swapped_point_joins_the_files_points():
    """A latitude of 95 in a Peruvian file is out of range (swapping it puts the point in
    the Indian Ocean); in a file of Asian points, latitude 121 with longitude 14 is a swap."""
    peru = b"id,lat,lon,date\nA,-12.1,-74.0,2021-01-01\nB,-12.5,-73.9,2021-01-02\nC,95,-74.0,2021-01-03\n"
    _, report = read_incidents(peru, filename="peru.csv", today=TODAY)
    assert [(r.row, r.reason) for r in report.rejected] == [(4, "out_of_range")]
    asia = b"id,lat,lon,date\nA,14.6,121.0,2021-01-01\nB,10.3,123.9,2021-01-02\nC,121.1,14.5,2021-01-03\n"
    _, report = read_incidents(asia, filename="asia.csv", today=TODAY)
    assert [(r.row, r.reason) for r in report.rejected] == [(4, "swapped_coordinates")]
    assert any("choose its longitude column as the latitude" in w for w in report.warnings)
    whole = b"id,lat,lon,date\nA,121.0,14.6,2021-01-01\nB,123.9,10.3,2021-01-02\n"
    with pytest.raises(InputError) as info:  # every row swapped: nothing to compare with
        read_incidents(whole, filename="whole.csv", today=TODAY)
    assert "swapped" in str(info.value)
