"""atlas.upload_worker: an upload read in a child process gives what reading it here gives.

Real child processes (``python -m atlas.upload_worker``), real pipes, the fixtures' files;
the expected frame and LoadReport are ``atlas.readers.read_incidents`` run in this process
on the same bytes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal

from atlas.data import load_departments
from atlas.errors import InputError, LimitError
from atlas.readers import read_incidents
from atlas.safety import Limits
from atlas.spatial import row_departments
from atlas.ui_state import read_upload
from atlas.upload_worker import ISOLATE_BYTES, WorkerError, read_incidents_isolated

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: One file per reader path: ACLED, UCDP, a Spanish Latin-1 table with decimal commas, a
#: table with rejected rows (their reasons and row numbers), DMS coordinates, formula
#: cells, markup in text.
SAME = [
    "acled/acled_current_columns.csv",
    "ucdp/ged_sample.csv",
    "tables/es_semicolon_latin1.csv",
    "tables/rejections.csv",
    "tables/dms_columns.csv",
    "hostile/tables/formula_injection.csv",
    "hostile/tables/script_in_text.csv",
]


def _same(data: bytes, name: str, **kw) -> tuple[gpd.GeoDataFrame, object]:
    here, report = read_incidents(data, filename=name, **kw)
    there, their_report, departments = read_incidents_isolated(data, filename=name, **kw)
    assert_geodataframe_equal(there, here, check_dtype=True, check_crs=True)
    assert list(there.dtypes.astype(str)) == list(here.dtypes.astype(str))
    assert their_report == report
    # each row's department, worked out in the worker: as the server would place them
    ours = row_departments(here, load_departments())
    assert departments is not None and departments.key == ours.key
    pd.testing.assert_series_equal(departments.codes, ours.codes, check_names=False)
    return there, their_report


@pytest.mark.parametrize("rel", SAME)
def test_the_worker_reads_what_the_reader_reads(rel: str) -> None:
    path = FIXTURES / rel
    frame, report = _same(path.read_bytes(), path.name)
    assert report.rows_read == report.rows_kept + report.rows_rejected and len(frame)


def test_a_point_geojson_and_a_mapping_come_back_the_same() -> None:
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-74.03, -12.19]},
             "properties": {"fecha": "2021-05-23", "muertos": 16, "lugar": "<b>Vizcatán</b>"}},
            {"type": "Feature", "geometry": None, "properties": {"fecha": "2021-06-01"}},
        ],
    }  # fmt: skip
    frame, report = _same(json.dumps(geojson).encode(), "puntos.geojson")
    assert report.rows_kept == 1 and report.by_reason() == {"empty_geometry": 1}
    assert frame.loc[0, "location"] == "<b>Vizcatán</b>"  # text kept as given, inert
    table = b"when,y_deg,x_deg\n2021-05-23,-12.19,-74.03\n2021-05-24,,-74.0\n"
    mapping = {"latitude": "y_deg", "longitude": "x_deg", "date_start": "when"}
    frame, report = _same(table, "mine.csv", mapping=mapping)
    assert (report.rows_kept, report.rows_for("no_coordinates")) == (1, [3])
    assert report.numbered_ids  # no id column: the report says the rows were numbered


def test_the_readers_errors_come_back_with_what_the_page_needs() -> None:
    """The column picker needs ``columns``; a file with no usable row carries its
    report; a limit is a LimitError; messages are the reader's own."""
    for rel, attr in (("hostile/tables/no_coordinate_columns.csv", "columns"),
                      ("hostile/tables/all_rows_bad.csv", "report")):  # fmt: skip
        data = (FIXTURES / rel).read_bytes()
        with pytest.raises(InputError) as here:
            read_incidents(data, filename="f.csv")
        with pytest.raises(InputError) as there:
            read_incidents_isolated(data, filename="f.csv")
        assert type(there.value) is type(here.value)
        assert str(there.value) == str(here.value)
        assert getattr(there.value, attr) == getattr(here.value, attr)
    data = (FIXTURES / "tables/rejections.csv").read_bytes()
    with pytest.raises(LimitError, match=r"^r\.csv: more than 1 rows") as there:
        read_incidents_isolated(data, filename="r.csv", limits=Limits(max_rows=1))
    with pytest.raises(LimitError) as here:
        read_incidents(data, filename="r.csv", limits=Limits(max_rows=1))
    assert str(there.value) == str(here.value)


def _children() -> list[str]:
    """Command lines of this process's living children."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmd = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = next((ln.split()[1] for ln in text.splitlines() if ln.startswith("PPid:")), "")
        state = next((ln.split()[1] for ln in text.splitlines() if ln.startswith("State:")), "")
        if ppid == str(os.getpid()) and state != "Z":
            found.append(cmd)
    return found


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_worker_past_its_time_is_ended_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed mid-read (a 96 MB GeoJSON, ~6 s to read, opened from a temporary copy), the
    child leaves no process and no temporary folder behind; 100,000 features were once read
    within the 2.5 s on a quiet machine."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-74.0, -12.2]},
               "properties": {"fecha": "2021-05-23", "notas": "x" * 200}}  # fmt: skip
    data = json.dumps({"type": "FeatureCollection", "features": [feature] * 300_000}).encode()
    for timeout in (0.05, 2.5):  # before the child has started, and while it reads
        started = time.monotonic()
        with pytest.raises(
            WorkerError, match=rf"^late\.geojson: reading took longer than {timeout:g} s"
        ):
            read_incidents_isolated(data, filename="late.geojson", timeout=timeout)
        assert time.monotonic() - started < 60
        assert not [c for c in _children() if "atlas.upload_worker" in c]
        assert list(tmp_path.iterdir()) == []


def test_nothing_is_written_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload travels through pipes: the child's temporary folder stays empty."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    data = (FIXTURES / "tables/rejections.csv").read_bytes()
    read_incidents_isolated(data, filename="secret.csv")
    assert list(temp.iterdir()) == []


def test_read_upload_from_the_threshold_gives_the_same_upload() -> None:
    """A table just over ISOLATE_BYTES goes to the worker; the Upload equals the one
    read here (``isolate=False``), bad rows and row numbers included."""
    rng = np.random.default_rng(3)
    n = ISOLATE_BYTES // 28 + 1000  # ~32 bytes a row
    frame = pd.DataFrame({
        "fecha": "2021-05-23",
        "lat": rng.uniform(-13.5, -11, n).round(4).astype(str),
        "lon": rng.uniform(-75, -73, n).round(4).astype(str),
        "muertos": rng.integers(0, 3, n),
    })  # fmt: skip
    frame.loc[[5, 777], "lat"] = ["", "norte"]
    data = frame.to_csv(index=False).encode()
    assert len(data) >= ISOLATE_BYTES
    there = read_upload("big.csv", data, "incidents", 2**30)
    here = read_upload("big.csv", data, "incidents", 2**30, isolate=False)
    assert_geodataframe_equal(there.frame, here.frame, check_dtype=True, check_crs=True)
    assert there.report == here.report and there.sha256 == here.sha256
    assert there.report.rows_for("no_coordinates") == [7]
    assert there.report.rows_for("unparseable_coordinates") == [779]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_the_worker_reads_in_the_background() -> None:
    """While it reads (a 300,000-feature GeoJSON, seconds of work), every thread of the
    child runs at NICE and, where Linux has it, in the batch class: its imports and its
    reader's threads included, so other readers' pages get the CPU first. Where the kernel
    shares the CPU between sessions (autogroups), the child has a session of its own whose
    group has the same niceness."""
    import threading

    from atlas.upload_worker import NICE

    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-74.0, -12.2]},
               "properties": {"fecha": "2021-05-23", "notas": "x" * 200}}  # fmt: skip
    data = json.dumps({"type": "FeatureCollection", "features": [feature] * 300_000}).encode()
    done = threading.Event()
    result: list = []
    reader = threading.Thread(target=lambda: (result.append(
        read_incidents_isolated(data, filename="bg.geojson")), done.set()))  # fmt: skip
    reader.start()
    seen: dict[str, tuple[int, int]] = {}
    groups: dict[str, str] = {}
    while not done.wait(0.05):
        for stat in Path("/proc").glob("[0-9]*/task/[0-9]*/stat"):
            try:
                cmd = (stat.parents[2] / "cmdline").read_bytes()
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            # after ")": state is field 3 of proc(5), ppid 4, nice 19, policy 41
            if b"atlas.upload_worker" in cmd and fields[1] == str(os.getpid()):
                pid = stat.parents[2].name
                seen[f"{pid}/{stat.parent.name}"] = (int(fields[16]), int(fields[38]))
                # session id (field 6) and the session's scheduling group
                try:
                    nice = (stat.parents[2] / "autogroup").read_text().split()[-1]
                except OSError:  # no autogroups here, or the child has just ended
                    continue
                groups[pid] = f"{fields[3] == pid} {nice}"
    reader.join()
    assert result and len(result[0][0]) == 300_000
    assert len(seen) >= 2, seen  # the child's main thread and its pools' threads
    assert {nice for nice, _ in seen.values()} == {NICE}, seen
    if hasattr(os, "SCHED_BATCH"):
        assert {policy for _, policy in seen.values()} == {os.SCHED_BATCH}, seen
    if Path("/proc/self/autogroup").exists():
        assert set(groups.values()) == {f"True {NICE}"}, groups


def test_the_geometries_are_made_without_the_collector_running() -> None:
    """Making 300,000 points back in the server starts no garbage collection (each would
    walk every session's objects while holding Python's lock), and the collector is on
    again afterwards."""
    import gc
    import io

    from atlas.upload_worker import _answer, _decode, _encode

    _, report = read_incidents((FIXTURES / "tables/rejections.csv").read_bytes(),
                               filename="rejections.csv")  # fmt: skip
    n = 300_000
    frame = gpd.GeoDataFrame({"event_id": [f"e{i}" for i in range(n)]},
                             geometry=gpd.points_from_xy(np.linspace(-75, -73, n),
                                                         np.linspace(-13, -11, n)),
                             crs="EPSG:4326")  # fmt: skip
    out = io.BytesIO()
    _answer(out, {"report": report.to_dict(), "columns": ["event_id", "geometry"],
                  "crs": "EPSG:4326"}, _encode(frame))  # fmt: skip
    starts: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start":
            starts.append(info["generation"])

    assert gc.isenabled()
    gc.collect()
    gc.callbacks.append(seen)
    try:
        back, back_report, _departments = _decode(out.getvalue())
    finally:
        gc.callbacks.remove(seen)
    assert gc.isenabled()
    assert back_report == report
    assert_geodataframe_equal(back, frame, check_dtype=True, check_crs=True)
    assert len(starts) < 5, f"{len(starts)} collections while decoding"
    # the new points are set aside (frozen) until the app's next sweep, and the young
    # count starts again: the next allocations do not start a pass over 300,000 objects
    try:
        assert gc.get_count()[0] < 700
        assert gc.get_freeze_count() >= n
        walked = {id(o) for o in gc.get_objects()}
        assert not any(id(g) in walked for g in back.geometry.array[:: n // 50])
    finally:
        gc.unfreeze()  # as the sweep would, for the tests after this one


def test_read_upload_takes_the_digest_it_is_given_and_names_where_it_reads() -> None:
    """The page hashes an upload once (its key) and hands the digest on; the rule for the
    worker process is one function the page also asks (it decides the clean-up after)."""
    import hashlib

    from atlas.ui_state import read_in_worker

    data = (FIXTURES / "tables/rejections.csv").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert read_upload("r.csv", data, "incidents", 2**30, sha256=digest).sha256 == digest
    assert read_upload("r.csv", data, "incidents", 2**30).sha256 == digest
    assert read_in_worker("incidents", ISOLATE_BYTES)
    assert not read_in_worker("incidents", ISOLATE_BYTES - 1)
    assert not read_in_worker("regions", 10 * ISOLATE_BYTES)
