"""ACLED reader: both column sets, date formats, precisions, types, rejections."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from atlas.readers import read_incidents
from atlas.schema import INCIDENT_COLUMNS, STRING_COLUMNS

TODAY = dt.date(2026, 1, 1)


def test_pre2023_columns(fixtures_dir):
    gdf, report = read_incidents(fixtures_dir / "acled/acled_pre2023_columns.csv", today=TODAY)
    assert report.kind == "acled"
    assert (report.rows_read, report.rows_kept, report.rows_rejected) == (3, 3, 0)
    assert list(gdf.columns) == list(INCIDENT_COLUMNS)
    assert gdf.crs.to_epsg() == 4326
    assert gdf["event_id"].tolist() == ["PER0001", "PER0002", "PER0003"]
    assert set(gdf["dataset"]) == {"acled"}
    # "16 May 2019", "02 June 2019" and "30-Jun-2019"
    assert gdf["date_start"].dt.strftime("%Y-%m-%d").tolist() == [
        "2019-05-16",
        "2019-06-02",
        "2019-06-30",
    ]
    assert (gdf["date_end"] == gdf["date_start"]).all()
    assert gdf["date_precision"].tolist() == ["day", "week", "month"]
    assert gdf["geo_precision"].tolist() == ["exact", "near", "admin2"]
    assert gdf["event_type"].tolist() == [
        "armed_clash",
        "violence_against_civilians",
        "explosion_remote",
    ]
    assert gdf["source_event_type"].iloc[2] == "Explosions/Remote violence"
    assert gdf["civilian_targeting"].isna().all()  # not in the old column set
    assert gdf["fatalities"].tolist() == [3.0, 0.0, 1.0]
    assert gdf["fatalities_low"].isna().all()
    assert gdf.geometry.iloc[0].x == pytest.approx(-74.0271)
    assert gdf.geometry.iloc[0].y == pytest.approx(-12.1860)
    assert not gdf["synthetic"].any()


def test_current_columns(fixtures_dir):
    gdf, report = read_incidents(fixtures_dir / "acled/acled_current_columns.csv", today=TODAY)
    assert (report.rows_read, report.rows_kept, report.rows_rejected) == (6, 4, 2)
    assert report.by_reason() == {"null_island": 1, "duplicate_event_id": 1}
    assert report.rows_for("null_island") == [5]
    assert report.rows_for("duplicate_event_id") == [6]
    first = gdf.iloc[0]
    assert first["event_id"] == "PER1001"
    assert first["fatalities"] == 16  # the first occurrence was kept
    assert bool(first["civilian_targeting"])
    assert gdf["civilian_targeting"].tolist() == [True, False, False, False]
    assert gdf["event_type"].tolist() == [
        "violence_against_civilians",
        "protest",
        "riot",
        "armed_clash",
    ]
    # empty fatalities stays unknown, not 0
    assert pd.isna(gdf.loc[gdf["event_id"] == "PER1003", "fatalities"].iloc[0])
    # notes are kept verbatim (neutralised only on CSV export)
    assert gdf["notes"].iloc[-1].startswith("=HYPERLINK")


def test_dtypes(fixtures_dir):
    gdf, _ = read_incidents(fixtures_dir / "acled/acled_current_columns.csv", today=TODAY)
    for col in STRING_COLUMNS:
        assert str(gdf[col].dtype) == "string", col
        assert not gdf[col].isna().any(), col  # "" not NA
    assert str(gdf["date_start"].dtype) == "datetime64[ns]"
    assert str(gdf["fatalities"].dtype) == "Float64"
    assert str(gdf["civilian_targeting"].dtype) == "boolean"
    assert gdf["synthetic"].dtype == bool
    assert gdf["actor2"].iloc[1] == ""


def test_bytes_and_file_object_and_source_forced(fixtures_dir):
    path = fixtures_dir / "acled/acled_pre2023_columns.csv"
    a, _ = read_incidents(path.read_bytes(), filename="export.csv", today=TODAY)
    with path.open("rb") as fh:
        b, rb = read_incidents(fh, today=TODAY)
    c, rc = read_incidents(path, source="acled", today=TODAY)
    assert a["event_id"].tolist() == b["event_id"].tolist() == c["event_id"].tolist()
    assert rb.source == "acled_pre2023_columns.csv"
    assert rc.kind == "acled"


def test_acled_as_table_keeps_file_stem(fixtures_dir):
    gdf, report = read_incidents(
        fixtures_dir / "acled/acled_pre2023_columns.csv", source="table", today=TODAY
    )
    assert report.kind == "table"
    assert set(gdf["dataset"]) == {"acled_pre2023_columns"}
    assert gdf["date_start"].dt.strftime("%Y-%m-%d").tolist()[0] == "2019-05-16"


def test_incomplete_acled_export_names_missing_columns():
    data = b"event_id_cnty,event_date,notes\nPER1,2020-01-01,x\n"
    from atlas.errors import InputError

    with pytest.raises(InputError, match=r"^cut\.csv: .*latitude, longitude"):
        read_incidents(data, filename="cut.csv", source="acled")


def test_synthetic_column_is_honoured(fixtures_dir):
    text = (fixtures_dir / "acled/acled_pre2023_columns.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[0] += ",synthetic"
    lines[1:] = [line + ",true" for line in lines[1:3]] + [lines[3] + ",false"]
    gdf, _ = read_incidents("\n".join(lines).encode(), filename="sample.csv", today=TODAY)
    assert gdf["synthetic"].tolist() == [True, True, False]


def test_ragged_acled_row_is_an_error(fixtures_dir):
    lines = (fixtures_dir / "acled/acled_pre2023_columns.csv").read_text().splitlines()
    lines[2] += ",an extra field"
    from atlas.errors import InputError

    with pytest.raises(InputError, match=r"^ragged\.csv: cannot be read as a table .*line 3"):
        read_incidents("\n".join(lines).encode(), filename="ragged.csv")
