"""Smoke test of the benchmark harness (bench/run.py and its group modules).

Runs ``python -m bench --smoke`` (every measurement once at a small size; the dashboard
group on the shipped sample only) in a subprocess and checks the JSON it writes. It fails on errors and wrong results (a join
that differs from geopandas.sjoin), never on slowness: no timing is compared to a limit.
"""

from __future__ import annotations

import importlib
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from atlas.schema import INCIDENT_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
# bench/ is not an installed package (pyproject packages atlas and layers only)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
bench_core = importlib.import_module("bench.core")
bench_dashboard = importlib.import_module("bench.dashboard")
bench_data = importlib.import_module("bench.data")
bench_join = importlib.import_module("bench.join")
bench_report = importlib.import_module("bench.report")
TABLE_KEYS = {"measurement", "N", "ours", "reference", "ratio", "goal", "met"}
REFERENCES = (
    ("join", "sjoin"),
    ("join", "sjoin-full"),
    ("aggregate", "sjoin+groupby"),
    ("load", "read_csv"),
    ("cache", "to_parquet"),
    ("cache", "read_parquet"),
    ("map", "naive"),
)


def _run_smoke(tmp_path: Path, data_dir: Path, *extra: str) -> dict:
    out = tmp_path / "smoke.json"
    cmd = [
        sys.executable, "-m", "bench", "--smoke", "--no-markdown",
        "--out", str(out), "--data-dir", str(data_dir), *extra,
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not list(tmp_path.glob("*.tmp")), "the results file was not moved into place"
    return json.loads(out.read_text(encoding="utf-8"))


def _check_payload(payload: dict) -> None:
    assert payload["mode"] == "smoke"
    assert payload["command"].startswith(".venv/bin/python -m bench --smoke")
    machine = payload["machine"]
    assert machine["cores"] >= 1 and machine["python"] and machine["cpu"]
    assert machine["packages"]["geopandas"] != "not installed"

    results = payload["results"]
    errors = [f"{r['group']}/{r['impl']} n={r['n']}: {r['note']}" for r in results
              if r["status"] not in ("ok", "missing", "skipped")]  # fmt: skip
    assert not errors, "benchmark errors:\n" + "\n".join(errors)
    for r in results:
        if r["status"] == "ok":
            assert r["runs_s"] and all(t >= 0 for t in r["runs_s"])
            assert r["median_s"] == pytest.approx(statistics.median(r["runs_s"]))
        else:
            assert r["note"], f"{r['group']}/{r['impl']} has no reason for {r['status']}"
    by_key = {(r["group"], r["impl"]): r for r in results}
    for key in REFERENCES:
        assert by_key[key]["status"] == "ok", key

    # correctness: every join that ran gives the same (incident, region) pairs as sjoin
    sjoin_pairs = by_key[("join", "sjoin")]["extra"]["pairs"]
    assert sjoin_pairs > 0
    for impl in ("ours", "duckdb"):
        r = by_key.get(("join", impl))
        if r is not None and r["status"] == "ok":
            assert r["extra"]["identical"] is True, impl
            assert r["extra"]["pairs"] == sjoin_pairs
    agg = by_key[("aggregate", "ours")]
    if agg["status"] == "ok":
        assert agg["extra"]["identical"] is True
    ref_agg = by_key[("aggregate", "sjoin+groupby")]
    assert ref_agg["extra"]["incidents_counted"] == sjoin_pairs
    load = by_key[("load", "read_csv")]
    assert load["extra"]["rows"] == 10_000 and load["extra"]["rss_peak_mb"] > 0
    assert by_key[("map", "naive")]["extra"]["html_bytes"] > 0

    # the app in chromium (sample only in smoke mode): every measurement ran, in one map
    # the page's server time (AppTest, no browser) on the plan's synthetic file
    server = {r["name"]: r for r in results if r["group"] == "dashboard" and r["impl"] == "server"}
    assert set(server) == set(bench_dashboard.SERVER_NAMES)
    assert all(r["status"] == "ok" and r["n"] == 5_000 for r in server.values())
    assert server["server: filter change"]["extra"]["map_args_bytes"] > 0
    dash = {r["name"]: r for r in results if r["group"] == "dashboard" and r["impl"] != "server"}
    if shutil.which("chromium"):
        assert set(dash) == set(bench_dashboard.NAMES)
        assert {r["impl"] for r in dash.values()} == {"sample"}
        assert dash["filter change"]["extra"]["same_iframe"] is True
        assert dash["layer toggle"]["extra"]["same_iframe"] is True
        assert dash["play"]["extra"]["fps"] > 0 and dash["play"]["extra"]["steps_in_order"]
        rows = [r for r in payload["table"] if r["measurement"].startswith("dashboard")]
        assert len(rows) == len(bench_dashboard.NAMES) + len(bench_dashboard.SERVER_NAMES)

    assert payload["table"], "empty table"
    for row in payload["table"]:
        assert set(row) == TABLE_KEYS
        assert row["met"] in ("-", "yes") or row["met"].startswith("NO")
    section = bench_report.markdown_section(payload, bench_core.PLANS["smoke"])
    assert "| measurement | N | ours | reference | ratio | goal | met? |" in section
    assert payload["command"] in section


def test_smoke_without_real_data(tmp_path: Path) -> None:
    """No ../shared: the harness uses synthetic Voronoi districts and says so."""
    payload = _run_smoke(tmp_path, tmp_path / "no-such-data")
    _check_payload(payload)
    assert payload["regions"]["kind"] == "synthetic"
    assert payload["regions"]["used"] == bench_data.N_SYNTHETIC_REGIONS
    assert "SYNTHETIC Voronoi" in bench_report.markdown_section(payload, bench_core.PLANS["smoke"])


@pytest.mark.realdata
def test_smoke_with_real_districts(tmp_path: Path, real_data: Path) -> None:
    """With ../shared/data the real 2007 districts are read (8 null geometries left out).

    Only the groups that use the districts run here; the test above covers the rest.
    """
    payload = _run_smoke(tmp_path, real_data, "--only", "join,aggregate")
    results = payload["results"]
    assert {r["group"] for r in results} == {"join", "aggregate"}
    assert all(r["status"] in ("ok", "missing", "skipped") for r in results), results
    by_key = {(r["group"], r["impl"]): r for r in results}
    pairs = by_key[("join", "sjoin")]["extra"]["pairs"]
    assert pairs > 0
    for impl in ("ours", "duckdb"):
        if by_key[("join", impl)]["status"] == "ok":
            assert by_key[("join", impl)]["extra"]["identical"] is True, impl
    if by_key[("aggregate", "ours")]["status"] == "ok":
        assert by_key[("aggregate", "ours")]["extra"]["identical"] is True
    regions = payload["regions"]
    assert regions["kind"] == "real"
    assert (regions["features"], regions["used"], regions["null_geometry_left_out"]) == (
        1834,
        1826,
        8,
    )


def test_synthetic_regions_tile_the_box() -> None:
    """The fallback districts: 1,834 cells covering Peru's bbox without gaps or overlaps."""
    regions = bench_data.synthetic_regions()
    assert len(regions) == bench_data.N_SYNTHETIC_REGIONS
    assert regions["region_id"].is_unique
    box_area = shapely.box(*bench_data.PERU_BBOX).area
    assert shapely.area(regions.geometry.values).sum() == pytest.approx(box_area, rel=1e-9)
    assert shapely.union_all(regions.geometry.values).area == pytest.approx(box_area, rel=1e-9)
    mean_vertices = shapely.get_num_coordinates(regions.geometry.values).mean()
    assert 10 <= mean_vertices <= 25


def test_synthetic_data_is_labelled_and_seeded() -> None:
    a = bench_data.synthetic_incidents(500)
    b = bench_data.synthetic_incidents(500)
    assert list(a.columns) == list(INCIDENT_COLUMNS)
    assert a["synthetic"].all() and a["notes"].str.startswith("SAMPLE").all()
    assert a.geometry.equals(b.geometry)
    minx, miny, maxx, maxy = a.total_bounds
    assert bench_data.PERU_BBOX[0] <= minx and maxx <= bench_data.PERU_BBOX[2]
    assert bench_data.PERU_BBOX[1] <= miny and maxy <= bench_data.PERU_BBOX[3]
    acled = bench_data.acled_frame(100)
    assert tuple(acled.columns) == bench_data.ACLED_COLUMNS
    assert acled["event_id_cnty"].is_unique


def test_pair_keys_compare_as_sets() -> None:
    ids = pd.Index(["010101", "010102"])
    a = bench_join.pair_keys(np.array([0, 1, 1]), ["010101", "010101", "010102"], ids)
    b = bench_join.pair_keys(np.array([1, 0, 1, 1]), ["010102", "010101", "010101", "010101"], ids)
    assert np.array_equal(a, b)
    c = bench_join.pair_keys(np.array([0, 1]), ["010101", "010102"], ids)
    assert not np.array_equal(a, c)
    with pytest.raises(KeyError):
        bench_join.pair_keys(np.array([0]), ["999999"], ids)


def test_write_markdown_replaces_only_its_section(tmp_path: Path) -> None:
    md = tmp_path / "BENCHMARKS.md"
    md.write_text("# Benchmarks\n\nIntro kept.\n", encoding="utf-8")
    bench_report.write_markdown("quick one\n", "quick", md)
    bench_report.write_markdown("full one\n", "full", md)
    bench_report.write_markdown("quick two\n", "quick", md)
    text = md.read_text(encoding="utf-8")
    assert "Intro kept." in text and "full one" in text and "quick two" in text
    assert "quick one" not in text
    assert text.count("<!-- bench:quick:start -->") == 1


def test_merge_keeps_the_other_groups_rows() -> None:
    """``--only dashboard``: the file's other groups stay, marked with the run they came from."""
    result = bench_core.Result
    old = result("join", "spatial join", 10, "ours", runs_s=[1.0], extra={"load_avg_1m": 0.5})
    stale = result("dashboard", "play", 10, "sample", runs_s=[9.0])
    previous = {
        "started": "2026-01-01 00:00 UTC",
        "machine": {"git_commit": "abc1234"},
        "results": [old.to_dict(), stale.to_dict()],
    }
    new = result("dashboard", "play", 10, "sample", runs_s=[0.4], extra={"fps": 2.5})
    merged, runs = bench_report.merge_results(previous, [new])
    assert [(r.group, r.runs_s) for r in merged] == [("join", [1.0]), ("dashboard", [0.4])]
    assert merged[0].extra["run"] == "2026-01-01 00:00 UTC, git abc1234"
    assert runs == [
        {"run": "2026-01-01 00:00 UTC, git abc1234", "groups": ["join"], "load_avg_1m": [0.5, 0.5]}
    ]


_BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"


def test_watched_run_is_not_stalled_when_a_child_process_ends(monkeypatch) -> None:
    """The 10M harness stops a run whose process tree stops using CPU; a child that
    finishes (dask's workers at the end of a run) must not read as a stall."""
    from bench import engine

    monkeypatch.setattr(engine, "STALL_WINDOW_S", 1.0)
    monkeypatch.setattr(engine, "STALL_CPU_S", 0.05)
    child = _BURN.format(s=1.5)
    parent = (f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {child!r}])\n"
              + _BURN.format(s=2.0))  # fmt: skip
    outcome, _secs, _peak = engine.run_watched([sys.executable, "-c", parent], 2**34, 60)
    assert outcome == "ok"
    outcome, secs, _peak = engine.run_watched(
        [sys.executable, "-c", "import time; time.sleep(30)"], 2**34, 60
    )
    assert outcome == "stalled" and secs < 20
