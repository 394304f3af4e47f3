"""`conflict-atlas join` end to end: real files in, real files out, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from cli import main

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT / "tests" / "fixtures" / "regions" / "synthetic_districts_grid.geojson"
UTM = ROOT / "tests" / "fixtures" / "regions" / "synthetic_utm_no_crs.geojson"
NW, NE, SW, SE = "990101", "990102", "990201", "990202"

# Synthetic incidents: inside NW, on the NW/NE edge, on the 4-way corner, inside SE,
# outside everything; one formula-like note to check the CSV is neutralised.
INCIDENTS = """event_id,date,latitude,longitude,fatalities,notes
s1,2021-01-15,-12.05,-74.05,1,synthetic
s2,2021-03-01,-12.05,-74.0,,synthetic
s3,2021-03-31,-12.1,-74.0,2,synthetic
s4,2021-02-10,-12.15,-73.95,0,"=HYPERLINK(""http://example.invalid"")"
s5,2021-05-01,-13.0,-75.0,5,synthetic
"""


@pytest.fixture
def incidents_csv(tmp_path: Path) -> Path:
    path = tmp_path / "synthetic_incidents.csv"
    path.write_text(INCIDENTS, encoding="utf-8")
    return path


def test_join_csv_and_summary(tmp_path: Path, incidents_csv: Path, capsys) -> None:
    out = tmp_path / "joined.csv"
    summary = tmp_path / "summary.csv"
    code = main(
        [
            "join",
            "--incidents", str(incidents_csv),
            "--regions", str(GRID),
            "--out", str(out),
            "--summary", str(summary),
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "synthetic_incidents.csv: 5 rows read, 5 kept" in printed
    assert "synthetic_districts_grid.geojson: 4 rows read, 4 kept" in printed
    assert "5 incidents: 4 in at least one of 4 regions, 1 in none, 2 in several" in printed

    table = pd.read_csv(out, dtype={"region_ids": str}, keep_default_na=False)
    by_id = table.set_index("event_id")
    assert by_id.loc["s1", "region_ids"] == NW
    assert by_id.loc["s2", "region_ids"] == f"{NW};{NE}"
    assert by_id.loc["s3", "region_ids"] == f"{NW};{NE};{SW};{SE}"
    assert by_id.loc["s5", "region_ids"] == "" and by_id.loc["s5", "n_regions"] == 0
    assert by_id.loc["s4", "notes"].startswith("'=HYPERLINK")  # formula neutralised
    assert by_id.loc["s1", "longitude"] == -74.05 and by_id.loc["s1", "latitude"] == -12.05

    agg = pd.read_csv(summary, dtype={"region_id": str}).set_index("region_id")
    assert agg.loc[[NW, NE, SW, SE], "incidents"].tolist() == [3, 2, 1, 2]
    assert agg.loc[NW, "fatalities"] == 3 and agg.loc[NW, "fatalities_unknown"] == 1
    assert agg.loc[NW, "area_km2"] > 100


def test_join_geojson_dates_and_by_month(tmp_path: Path, incidents_csv: Path) -> None:
    out = tmp_path / "joined.geojson"
    summary = tmp_path / "monthly.csv"
    code = main(
        [
            "join", "--incidents", str(incidents_csv), "--regions", str(GRID),
            "--from", "2021-02-01", "--to", "2021-03-31",
            "--out", str(out), "--summary", str(summary), "--by", "month",
        ]
    )  # fmt: skip
    assert code == 0
    joined = gpd.read_file(out)
    assert sorted(joined["event_id"]) == ["s2", "s3", "s4"]
    assert joined.crs.to_epsg() == 4326
    monthly = pd.read_csv(summary, dtype={"region_id": str})
    assert sorted(monthly["period"].unique()) == ["2021-02-01", "2021-03-01"]
    assert len(monthly) == 4 * 2


def test_join_parquet_with_projected_regions(tmp_path: Path, incidents_csv: Path) -> None:
    out = tmp_path / "joined.parquet"
    code = main(
        [
            "join", "--incidents", str(incidents_csv), "--regions", str(UTM),
            "--regions-crs", "EPSG:32718", "--region-id", "code", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    joined = gpd.read_parquet(out).set_index("event_id")
    # The square reprojects to about lon -74.054..-73.962, lat -12.057..-11.966: it holds
    # s1 (-74.05, -12.05) and s2 (-74.0, -12.05), not s3 (-74.0, -12.1) or s4.
    assert joined.loc["s1", "region_ids"] == "Z1" and joined.loc["s2", "region_ids"] == "Z1"
    assert joined.loc["s3", "n_regions"] == 0 and joined.loc["s4", "n_regions"] == 0
    assert joined.loc["s5", "n_regions"] == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--regions", "missing.geojson"], "--regions missing.geojson: file not found"),
        (["--region-id", "IDDIST"], "no id field 'IDDIST'; the columns are ubigeo"),
        (["--out", "x.xlsx"], "unknown output format .xlsx"),
        (["--from", "2021-13-01"], "--from '2021-13-01': not a date"),
        (["--regions", str(UTM)], "coordinates look projected"),
    ],
)
def test_bad_input_exits_2(
    tmp_path: Path, incidents_csv: Path, capsys, extra: list[str], message: str
) -> None:
    args = {"--incidents": str(incidents_csv), "--regions": str(GRID), "--out": "o.csv"}
    for flag, value in zip(extra[::2], extra[1::2], strict=True):
        args[flag] = value
    if not args["--out"].startswith("/"):
        args["--out"] = str(tmp_path / args["--out"])
    argv = ["join"] + [item for pair in args.items() for item in pair]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1  # one line, no traceback


def test_no_usable_rows_exits_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("event_id,date,latitude,longitude\nx1,2021-01-01,,\n", encoding="utf-8")
    code = main(
        ["join", "--incidents", str(bad), "--regions", str(GRID), "--out", str(tmp_path / "o.csv")]
    )
    assert code == 2
    assert "bad.csv" in capsys.readouterr().err


def test_subprocess_entry_point(tmp_path: Path, incidents_csv: Path) -> None:
    out = tmp_path / "joined.csv"
    result = subprocess.run(
        [
            sys.executable, "-c", "import sys; from cli import main; sys.exit(main())",
            "join",
            "--incidents", str(incidents_csv), "--regions", str(GRID), "--out", str(out),
        ],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.is_file() and "Wrote" in result.stdout
