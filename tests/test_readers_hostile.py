"""Hostile and broken inputs: each fails with an InputError naming the file, or loads safely."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd
import pytest

from atlas.errors import InputError, LimitError
from atlas.readers import read_incidents
from atlas.safety import Limits, escape_text, to_safe_csv

TODAY = dt.date(2026, 1, 1)
HOSTILE = "hostile/tables/"


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("empty.csv", r"^empty\.csv: the file is empty"),
        ("whitespace_only.csv", r"^whitespace_only\.csv: the file is empty"),
        ("header_only.csv", r"^header_only\.csv: the file has a header but no data rows"),
        ("binary_with_nul.csv", r"^binary_with_nul\.csv: looks like a binary file"),
        ("ragged_rows.csv", r"^ragged_rows\.csv: cannot be read as a table .*delimiter"),
        ("no_coordinate_columns.csv", r"^no_coordinate_columns\.csv: no coordinate columns"),
        ("all_rows_bad.csv", r"^all_rows_bad\.csv: no usable rows\. .*2 rows read, 0 kept"),
    ],
)
def test_bad_tables_raise_input_error(fixtures_dir, name, pattern):
    with pytest.raises(InputError, match=pattern):
        read_incidents(fixtures_dir / HOSTILE / name, today=TODAY)


def test_no_usable_rows_error_carries_report(fixtures_dir):
    with pytest.raises(InputError) as info:
        read_incidents(fixtures_dir / HOSTILE / "all_rows_bad.csv", today=TODAY)
    report = info.value.report
    assert report.by_reason() == {"no_coordinates": 1, "null_island": 1}


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(InputError, match=r"^nope\.csv: file not found"):
        read_incidents(tmp_path / "nope.csv")
    (tmp_path / "x.docx").write_bytes(b"hello")
    with pytest.raises(InputError, match=r"^x\.docx: unknown format"):
        read_incidents(tmp_path / "x.docx")
    with pytest.raises(InputError, match="source='nope' is not known"):
        read_incidents(b"a", filename="a.csv", source="nope")


def test_formula_cells_load_verbatim_and_export_neutralised(fixtures_dir, tmp_path):
    gdf, report = read_incidents(fixtures_dir / HOSTILE / "formula_injection.csv", today=TODAY)
    assert report.rows_kept == 3
    assert gdf["actor1"].iloc[0].startswith("=HYPERLINK")
    out = tmp_path / "export.csv"
    to_safe_csv(gdf, out)
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert back["actor1"].tolist() == [
        '\'=HYPERLINK("http://example.invalid","x")',
        "'@SUM(A1)",
        "'-",
    ]
    assert back["notes"].tolist() == ["'+cmd|' /C calc'!A0", "'-2+3", "-12.5"]


def test_script_text_is_kept_and_escapes(fixtures_dir):
    gdf, _ = read_incidents(fixtures_dir / HOSTILE / "script_in_text.csv", today=TODAY)
    assert gdf["notes"].iloc[0] == "<script>alert('x')</script>"
    assert "<" not in escape_text(gdf["notes"].iloc[0])
    assert escape_text(gdf["location"].iloc[0]).startswith("&lt;img")


def test_size_limit(fixtures_dir):
    path = fixtures_dir / "tables/rejections.csv"
    with pytest.raises(LimitError, match=r"^rejections\.csv: .* over the 100-byte limit"):
        read_incidents(path, limits=Limits(max_bytes=100))
    with pytest.raises(LimitError, match="over the 100-byte limit"), path.open("rb") as fh:
        read_incidents(fh, limits=Limits(max_bytes=100))


def test_row_limit(fixtures_dir):
    with pytest.raises(LimitError, match=r"^rejections\.csv: more than 10 rows"):
        read_incidents(fixtures_dir / "tables/rejections.csv", limits=Limits(max_rows=10))


def test_time_limit(fixtures_dir):
    with pytest.raises(LimitError, match="longer than 0 s"):
        read_incidents(fixtures_dir / "tables/rejections.csv", limits=Limits(read_seconds=0.0))


def test_xlsx_zip_bomb_refused():
    # a workbook-shaped zip whose member inflates far beyond the ratio limit
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * 5_000_000)
    with pytest.raises(LimitError, match=r"^bomb\.xlsx"):
        read_incidents(buf.getvalue(), filename="bomb.xlsx")


def test_not_really_xlsx():
    with pytest.raises(InputError, match=r"^fake\.xlsx: cannot be opened as an XLSX"):
        read_incidents(b"id,lat,lon\n1,2,3\n", filename="fake.xlsx")


def test_text_file_object_refused(fixtures_dir):
    with (
        (fixtures_dir / "tables/en_bom.csv").open("r", encoding="utf-8") as fh,
        pytest.raises(InputError, match="binary mode"),
    ):
        read_incidents(fh)
