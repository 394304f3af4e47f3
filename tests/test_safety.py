"""Tests for atlas.safety: formula neutralisation, safe CSV export, HTML escaping, limits."""

from __future__ import annotations

import csv
import io
import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from atlas.safety import (
    DEFAULT_LIMITS,
    Limits,
    escape_text,
    neutralise_formula,
    safe_csv_frame,
    to_safe_csv,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        ("-1e5", "-1e5"),
        ("-12,18", "-12,18"),
        ("Ayacucho", "Ayacucho"),
        ("'=1+1", "''=1+1"),  # a cell written with its own apostrophe keeps it
        ("'quoted", "''quoted"),
        ("", ""),
        (3, 3),
        (None, None),
    ],
)
def test_neutralise_formula(raw, expected):
    assert neutralise_formula(raw) == expected


def test_safe_csv_frame_neutralises_text_only():
    df = pd.DataFrame(
        {
            "notes": ["=cmd()", "plain", None, "-12.5", "@x"],
            "actor": pd.array(["+a", "b", pd.NA, "", "-"], dtype="string"),
            "lat": [-12.5, -1.0, 0.0, 3.0, 4.0],
        }
    )
    out = safe_csv_frame(df)
    assert out["notes"].tolist()[:2] == ["'=cmd()", "plain"]
    assert out["notes"].iloc[3] == "-12.5"
    assert out["notes"].iloc[4] == "'@x"
    assert out["actor"].iloc[0] == "'+a"
    assert out["actor"].iloc[4] == "'-"
    assert out["lat"].tolist() == df["lat"].tolist()
    # input untouched
    assert df["notes"].iloc[0] == "=cmd()"


def test_to_safe_csv_round_trip(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"notes": ["=1+2", "ok"], "n": [1, -2]},
        geometry=[Point(-74.0, -12.1), Point(-73.9, -12.2)],
        crs="EPSG:4326",
    )
    path = tmp_path / "out.csv"
    to_safe_csv(gdf, path)
    back = pd.read_csv(path)
    assert back["notes"].tolist() == ["'=1+2", "ok"]
    assert back["n"].tolist() == [1, -2]
    assert back["geometry"].iloc[0].startswith("POINT (-74")
    buf = io.StringIO()
    to_safe_csv(gdf[["notes"]], buf)
    assert "'=1+2" in buf.getvalue()
    assert to_safe_csv(gdf[["notes"]]).splitlines()[1] == "'=1+2"


def test_a_carriage_return_cannot_start_a_row_with_a_formula(tmp_path):
    """A lone CR inside a cell used to be written bare (the csv writer quoted only "\n"):
    a spreadsheet starts a new row there, so the "=cmd" after it ran as a formula."""
    df = pd.DataFrame({"location": ["Lugar\r=cmd|' /C calc'!A0", "ok"], "n": [1, 2]})
    text = to_safe_csv(df)
    to_safe_csv(df, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes().decode("utf-8") == text
    assert '"Lugar\r=cmd' in text  # quoted
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["location", "n"], ["Lugar\r=cmd|' /C calc'!A0", "1"], ["ok", "2"]]
    unquoted = re.sub(r'"(?:[^"]|"")*"', '""', text)  # what is left outside quotes
    for line in re.split(r"\r\n|\r|\n", unquoted):
        assert not line.startswith(("=", "+", "-", "@")), line


def test_safe_csv_frame_column_names():
    out = safe_csv_frame(pd.DataFrame({"=evil": [1]}))
    assert list(out.columns) == ["'=evil"]


def test_escape_text():
    assert escape_text('<script>alert("x")</script>') == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    )
    assert escape_text("O'Brien & co") == "O&#x27;Brien &amp; co"
    assert escape_text(None) == ""
    assert escape_text(pd.NA) == ""
    assert escape_text(float("nan")) == ""
    assert escape_text(12) == "12"
    # braces too: folium/branca render scripts again as Jinja templates
    assert escape_text("{{ 7*7 }}") == "&#123;&#123; 7*7 &#125;&#125;"


def test_limits_defaults_and_frozen():
    assert DEFAULT_LIMITS.max_bytes == 200 * 2**20
    assert DEFAULT_LIMITS.max_rows == 2_000_000
    assert DEFAULT_LIMITS.max_zip_ratio == 100.0
    assert DEFAULT_LIMITS.max_unzipped_bytes == 2**30
    assert DEFAULT_LIMITS.max_zip_members == 1000
    assert DEFAULT_LIMITS.read_seconds == 120.0
    small = Limits(max_rows=10)
    assert small.max_rows == 10
    with pytest.raises(AttributeError):
        small.max_rows = 5  # type: ignore[misc]
