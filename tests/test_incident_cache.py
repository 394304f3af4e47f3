"""Operator files: the GeoParquet cache (hit, miss, eviction) and limits apart from uploads."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from atlas import incident_cache
from atlas.data import load_bundle
from atlas.errors import LimitError
from atlas.incident_cache import evict, read_cached
from atlas.readers import read_incidents
from atlas.safety import DEFAULT_LIMITS, OPERATOR_MAX_ROWS, operator_limits
from atlas.ui_state import read_upload

ACLED = Path(__file__).resolve().parent / "fixtures" / "acled" / "acled_current_columns.csv"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CONFLICT_ATLAS_CACHE", str(folder))
    return folder / incident_cache.SUBDIR


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*")) if folder.is_dir() else []


def test_miss_then_hit_gives_the_same_frame_and_report(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "export.csv"
    shutil.copy(ACLED, path)
    frame, report, hit = read_cached(path, limits=operator_limits())
    assert not hit
    assert len(_entries(cache)) == 2  # frame (GeoParquet) and report (JSON)
    again, report2, hit2 = read_cached(path, limits=operator_limits())
    assert hit2
    pd.testing.assert_frame_equal(again, frame)
    assert report2 == report
    direct, direct_report = read_incidents(path)
    pd.testing.assert_frame_equal(again, direct)
    assert report2 == direct_report


def test_changed_file_or_mapping_is_a_miss(tmp_path: Path, cache: Path) -> None:
    path = tmp_path / "export.csv"
    shutil.copy(ACLED, path)
    read_cached(path, limits=operator_limits())
    path.write_bytes(path.read_bytes() + b"\n")  # same rows, different bytes
    _, _, hit = read_cached(path, limits=operator_limits())
    assert not hit
    table = tmp_path / "table.csv"
    table.write_text("fecha,lat,lon\n2021-05-23,-12.1,-74.0\n", encoding="utf-8")
    read_cached(table, limits=operator_limits(), source="table")
    _, _, hit = read_cached(
        table, limits=operator_limits(), source="table", mapping={"latitude": "lat"}
    )
    assert not hit
    assert len(_entries(cache)) == 8


def test_eviction_removes_least_recently_used_first(tmp_path: Path, cache: Path) -> None:
    paths = []
    for i in range(3):
        p = tmp_path / f"export{i}.csv"
        p.write_bytes(ACLED.read_bytes() + b"\n" * i)
        paths.append(p)
    read_cached(paths[0], limits=operator_limits())
    one_entry = sum(p.stat().st_size for p in cache.glob("*"))
    cap = int(one_entry * 2.5)  # room for two entries
    read_cached(paths[1], limits=operator_limits(), max_bytes=cap)
    old = time.time() - 100
    for p in cache.glob("*"):  # make file 0 the oldest use, then use it again
        os.utime(p, (old, old))
    _, _, hit = read_cached(paths[0], limits=operator_limits(), max_bytes=cap)
    assert hit
    read_cached(paths[2], limits=operator_limits(), max_bytes=cap)
    keys = {p.stem for p in cache.glob("*.parquet")}
    assert len(keys) == 2
    assert incident_cache.cache_key(paths[1]) not in keys  # least recently used went
    assert incident_cache.cache_key(paths[0]) in keys
    assert sum(p.stat().st_size for p in cache.glob("*")) <= cap
    assert evict(cache, 0, keep=incident_cache.cache_key(paths[2])) and len(_entries(cache)) == 2


def test_load_bundle_caches_operator_files_and_uploads_are_never_cached(
    tmp_path: Path, cache: Path
) -> None:
    path = tmp_path / "export.csv"
    shutil.copy(ACLED, path)
    load_bundle(incidents=[path], use_cache=False, cache_incidents=False)
    assert _entries(cache) == []
    # on by default when CONFLICT_ATLAS_CACHE is set, whatever use_cache (district
    # downloads) says: the app calls load_bundle(..., use_cache=False)
    first = load_bundle(incidents=[path], use_cache=False)
    assert len(_entries(cache)) == 2
    second = load_bundle(incidents=[path], use_cache=False)
    pd.testing.assert_frame_equal(first.incidents, second.incidents)
    read_upload("upload.csv", ACLED.read_bytes(), "incidents", max_bytes=10 * 2**20)
    assert len(_entries(cache)) == 2
    assert not (cache.parent / "upload.csv").exists()


def test_no_cache_without_the_cache_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONFLICT_ATLAS_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "export.csv"
    shutil.copy(ACLED, path)
    load_bundle(incidents=[path], use_cache=False)
    assert not list(tmp_path.rglob("*.parquet"))


def test_operator_limits_defaults_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONFLICT_ATLAS_MAX_ROWS", raising=False)
    limits = operator_limits()
    assert limits.max_rows == OPERATOR_MAX_ROWS > 5_000_000 > DEFAULT_LIMITS.max_rows
    assert limits.max_bytes == sys.maxsize > DEFAULT_LIMITS.max_bytes
    monkeypatch.setenv("CONFLICT_ATLAS_MAX_ROWS", "3")
    assert operator_limits().max_rows == 3
    monkeypatch.setenv("CONFLICT_ATLAS_MAX_ROWS", "lots")
    with pytest.raises(LimitError, match="CONFLICT_ATLAS_MAX_ROWS='lots'"):
        operator_limits()


def test_operator_row_limit_applies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "export.csv"
    shutil.copy(ACLED, path)
    monkeypatch.setenv("CONFLICT_ATLAS_MAX_ROWS", "1")
    with pytest.raises(LimitError, match=r"export\.csv: more than 1 rows"):
        load_bundle(incidents=[path], use_cache=False)


@pytest.mark.slow
def test_operator_file_beyond_upload_limits_accepted_upload_refused(
    tmp_path: Path, cache: Path
) -> None:
    """2,000,001 rows: over the upload row limit (2M); the operator's default is 10M."""
    n = DEFAULT_LIMITS.max_rows + 1
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "fecha": "2021-05-23",
            "lat": rng.uniform(-15, -5, n).round(3),
            "lon": rng.uniform(-78, -70, n).round(3),
        }
    )
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    data = load_bundle(incidents=[path])
    assert len(data.incidents) == n and data.reports[0].rows_kept == n
    with pytest.raises(LimitError, match=r"^big\.csv: more than 2,000,000 rows"):
        read_upload("big.csv", path.read_bytes(), "incidents", max_bytes=2**31)
    assert {p.stem for p in cache.glob("*.parquet")} == {incident_cache.cache_key(path)}
