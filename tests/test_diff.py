"""atlas.diff and `conflict-atlas diff` on two hand-made ACLED-shaped versions.

Expected numbers are worked out by hand in tests/fixtures/diff/README.md; hostile cases
are in tests/fixtures/hostile/diff/README.md. Files go through the real readers.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from atlas.diff import diff_files
from atlas.errors import InputError
from atlas.spec import MapSpec
from cli import main

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "diff"
HOSTILE = ROOT / "tests" / "fixtures" / "hostile" / "diff"
V1, V2 = FIX / "acled_v1.csv", FIX / "acled_v2.csv"
SPEC_2023 = MapSpec(date_from=dt.date(2023, 1, 1), date_to=dt.date(2023, 12, 31))


@pytest.fixture(scope="module")
def result():
    return diff_files(V1, V2, SPEC_2023)


def _row(result, event_id: str) -> dict:
    rows = result.changes[result.changes["event_id"] == event_id]
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


def test_statuses_match_the_hand_made_versions(result) -> None:
    status = dict(zip(result.changes["event_id"], result.changes["status"], strict=True))
    assert status == {
        "PER2001": "unchanged", "PER2002": "changed", "PER2003": "changed",
        "PER2004": "removed", "PER2005": "changed", "PER2006": "changed",
        "PER2007": "unchanged", "PER2008": "added", "PER2009": "added", "PER2010": "added",
    }  # fmt: skip
    assert result.counts() == {"added": 3, "removed": 1, "changed": 4, "unchanged": 2}


def test_revisions_fields_km_and_days(result) -> None:
    r2 = _row(result, "PER2002")
    assert r2["fields_changed"] == "fatalities" and r2["fatalities_revision"] == "down"
    assert (r2["fatalities_old"], r2["fatalities_new"]) == (2, 0)
    r3 = _row(result, "PER2003")
    assert set(r3["fields_changed"].split(";")) == {"date_start", "date_end", "coordinates"}
    assert r3["days_moved"] == 2
    assert r3["km_moved"] == pytest.approx(1.106, abs=0.002)  # 0.01° of latitude at 12°S
    assert _row(result, "PER2005")["fatalities_revision"] == "down"
    assert _row(result, "PER2006")["days_moved"] == 3


def test_totals_inside_the_filter_match_before_filtering(result) -> None:
    vraem = result.totals[result.totals["region"] == "vraem-devida"]
    assert vraem["period"].tolist() == ["2023"]  # the 2022 row is outside the filter
    row = vraem.iloc[0].to_dict()
    assert row["events_old"] == 5 and row["events_new"] == 8
    assert (row["added"], row["removed"], row["revised"]) == (3, 1, 4)
    # PER2006 moved into 2023 by a revision: entered, not "added"
    assert (row["revised_in"], row["revised_out"]) == (1, 0)
    assert row["events_new"] == (
        row["events_old"] + row["added"] - row["removed"] + row["revised_in"] - row["revised_out"]
    )
    assert (row["fatalities_old"], row["fatalities_new"]) == (34, 34)
    lines = result.lines("en", {"vraem-devida": "VRAEM"})
    assert "VRAEM, 2023: +3 events, −1, fatalities 34 → 34; 4 revised" in lines
    everything = result.totals[result.totals["region"] == "all"].iloc[0]
    assert everything["events_old"] == 6  # + PER2007 in Lima


def test_filter_never_turns_a_hidden_event_into_a_deleted_one() -> None:
    only_clashes = SPEC_2023.replace(event_types=("armed_clash",))
    res = diff_files(V1, V2, only_clashes)
    # PER2004 (an explosion) is outside the filter in v1 and gone in v2: it is still
    # "removed" in the changes table, but no total inside the filter counts it
    assert _row(res, "PER2004")["status"] == "removed"
    vraem = res.totals[res.totals["region"] == "vraem-devida"].iloc[0]
    assert vraem["removed"] == 0 and vraem["added"] == 2  # PER2008 and PER2010 are clashes


def test_hashes_and_dates_recorded(result) -> None:
    assert result.old.sha256 == hashlib.sha256(V1.read_bytes()).hexdigest()
    assert result.new.sha256 == hashlib.sha256(V2.read_bytes()).hexdigest()
    assert (result.old.first_date, result.old.last_date) == ("2022-12-30", "2023-07-16")
    assert result.new.last_date == "2023-10-01"
    assert result.old.modified.endswith("+00:00")
    header = "\n".join(result.header())
    assert result.old.sha256 in header and result.new.sha256 in header


def test_different_sources_refused() -> None:
    with pytest.raises(InputError, match="read as acled .* as ucdp"):
        diff_files(V1, HOSTILE / "ucdp_version.csv")


def test_missing_ids_refused() -> None:
    with pytest.raises(InputError, match="no event id column"):
        diff_files(HOSTILE / "no_ids_v1.csv", HOSTILE / "no_ids_v2.csv")


def test_real_ids_shaped_like_numbered_rows_are_ids(tmp_path) -> None:
    """A file whose own id column reads "events:1", "events:2" (the shape the readers give
    rows of a file without ids) is matched by those ids, not refused as id-less."""
    head = "event_id,date,latitude,longitude,event_type,fatalities\n"
    old = tmp_path / "events.csv"
    new = tmp_path / "v2" / "events.csv"
    new.parent.mkdir()
    old.write_text(head + "events:1,2021-05-23,-12.1,-74.2,Battles,16\n"
                   "events:2,2021-06-01,-12.3,-74.0,Riots,0\n", encoding="utf-8")  # fmt: skip
    new.write_text(head + "events:1,2021-05-23,-12.1,-74.2,Battles,18\n"
                   "events:3,2021-07-01,-12.2,-74.1,Riots,1\n", encoding="utf-8")  # fmt: skip
    res = diff_files(old, new)
    assert res.counts() == {"added": 1, "removed": 1, "changed": 1, "unchanged": 0}
    changed = res.changes.set_index("event_id").loc["events:1"]
    assert (changed["fatalities_old"], changed["fatalities_new"]) == (16, 18)


def test_duplicate_ids_listed() -> None:
    with pytest.raises(InputError, match="repeat an event id.*PER2001"):
        diff_files(V1, HOSTILE / "duplicate_ids.csv")


def test_everything_changed() -> None:
    res = diff_files(V1, HOSTILE / "everything_changed.csv")
    assert res.counts() == {"added": 0, "removed": 0, "changed": 7, "unchanged": 0}
    fields = set(res.changes["fields_changed"].iloc[0].split(";"))
    assert {"date_start", "event_type", "actor1", "location", "coordinates",
            "geo_precision", "admin1"} <= fields  # fmt: skip


def test_formula_cells_neutralised(tmp_path: Path) -> None:
    out = tmp_path / "changes.csv"
    code = main(["diff", str(V1), str(HOSTILE / "formula_cells.csv"), "--out", str(out)])
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    added = next(r for r in rows if r["event_id"] == "PER2099")
    assert added["status"] == "added"
    assert added["actor1_new"].startswith("'=HYPERLINK")
    assert added["location_new"].startswith("'=cmd")
    for row in rows:
        assert not any(v.startswith(("=", "+", "@")) for v in row.values())


def test_cli_prints_summary_and_writes_csv(tmp_path: Path) -> None:
    spec = tmp_path / "view.toml"
    spec.write_text('date_from = "2023-01-01"\n', encoding="utf-8")
    out = tmp_path / "changes.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "diff", str(V1), str(V2), "--out", str(out),
         "--spec", str(spec)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "3 added, 1 removed, 4 changed, 2 unchanged" in proc.stdout
    assert "VRAEM, 2023: +3 events, −1, fatalities 34 → 34; 4 revised" in proc.stdout
    assert hashlib.sha256(V1.read_bytes()).hexdigest() in proc.stdout
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 10 and rows[0]["old_sha256"] == hashlib.sha256(V1.read_bytes()).hexdigest()


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(V1), str(HOSTILE / "duplicate_ids.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("conflict-atlas diff: duplicate_ids.csv") and err.count("\n") == 1
    assert main(["diff", str(V1), str(V2), "--out", str(tmp_path / "x.xlsx")]) == 2


# ---- found by the generated versions (tests/test_fuzz_parsers.py::test_fuzz_diff) ----------
def test_ids_padded_with_blanks_match_their_events() -> None:
    """The readers find duplicates on the stripped id but keep the cell as written: the
    diff used to call " PER2001 " a new event and PER2001 a removed one."""
    res = diff_files(V1, HOSTILE / "padded_ids.csv")
    assert res.counts() == {"added": 0, "removed": 0, "changed": 0, "unchanged": 7}
    assert sorted(res.changes["event_id"]) == [f"PER200{i}" for i in range(1, 8)]


def test_a_blank_id_is_refused_by_count_not_as_a_missing_column() -> None:
    with pytest.raises(InputError, match=r"^blank_id\.csv: 1 row has no event id"):
        diff_files(V1, HOSTILE / "blank_id.csv")


def test_a_hairs_move_across_the_regions_edge_is_a_move() -> None:
    """PER3001 moves 90 m (under the 0.001° threshold) from outside the VRAEM to inside:
    as "unchanged" it entered the VRAEM's totals with nothing to explain it."""
    res = diff_files(HOSTILE / "edge_hair_v1.csv", HOSTILE / "edge_hair_v2.csv")
    row = _row(res, "PER3001")
    assert (row["inside_old"], row["inside_new"]) == (False, True)
    assert row["status"] == "changed" and row["fields_changed"] == "coordinates"
    assert row["km_moved"] == pytest.approx(0.089, abs=0.002)  # 0.0008° of latitude
    vraem = res.totals[res.totals["region"] == "vraem-devida"].iloc[0]
    assert (vraem["events_old"], vraem["events_new"], vraem["revised_in"]) == (0, 1, 1)
    assert vraem["events_new"] == (vraem["events_old"] + vraem["added"] - vraem["removed"]
                                   + vraem["revised_in"] - vraem["revised_out"])  # fmt: skip


def test_a_carriage_return_cannot_start_a_formula_row(tmp_path: Path) -> None:
    out = tmp_path / "changes.csv"
    assert main(["diff", str(V1), str(HOSTILE / "carriage_return_formula.csv"),
                 "--out", str(out)]) == 0  # fmt: skip
    text = out.read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    added = next(r for r in rows if r["event_id"] == "PER2098")
    assert added["location_new"] == "Lugar\r=cmd|' /C calc'!A0"  # kept, and quoted
    assert added["actor1_new"] == "Actor\r\n@SUM(1+1)*cmd|' /C calc'!A0"
    # a spreadsheet ends a row at any CR or LF outside quotes: none starts with a formula
    outside = re.sub(r'"(?:[^"]|"")*"', '""', text)
    for line in re.split(r"\r\n|\r|\n", outside):
        assert not line.startswith(("=", "+", "-", "@")), line
