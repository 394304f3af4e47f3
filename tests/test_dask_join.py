"""`conflict-atlas join --engine dask` gives the default engine's output and LoadReport.

Skipped when the optional ``dask`` extra is not installed (``./dev test`` installs it).
The CSV is cut into several dask blocks (a small blocksize) so that rejected rows,
duplicate event ids and points on shared region borders fall in different partitions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask_geopandas", reason="optional extra: pip install 'conflict-atlas[dask]'")
distributed = pytest.importorskip("distributed", reason="optional extra: conflict-atlas[dask]")

from atlas import dask_join  # noqa: E402
from atlas.readers import read_incidents  # noqa: E402
from cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "geodata" / "sample_incidents.csv"
VRAEM = ROOT / "geodata" / "peru" / "vraem_devida_2023.geojson"
GRID = ROOT / "tests" / "fixtures" / "regions" / "synthetic_districts_grid.geojson"
TODAY = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def scheduler() -> str:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield cluster.scheduler_address
    client.close()
    cluster.close()


def _table(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        import geopandas as gpd

        gdf = gpd.read_parquet(path) if fmt == ".parquet" else gpd.read_file(path)
        frame = pd.DataFrame(gdf.drop(columns="geometry")).reset_index(drop=True)
        frame["geometry"] = gdf.geometry.to_wkb(hex=True).to_numpy()
        frame = frame.astype(str)
    return frame.sort_values(["event_id", "region_ids"]).reset_index(drop=True)


def _edge_file(tmp_path: Path) -> Path:
    """A table with points on the grid fixture's shared edges and corner, bad rows and
    duplicate ids spread over the file."""
    rng = np.random.default_rng(4)
    n = 600
    lat = rng.uniform(-12.25, -11.95, n).round(3)
    lon = rng.uniform(-74.15, -73.85, n).round(3)
    lat[::50], lon[::50] = -12.1, -74.0  # the four-way corner
    lon[7::50] = -74.0  # the shared north-south edge
    ids = [f"E{i}" for i in range(n)]
    ids[400], ids[500] = "E3", "E250"  # duplicates in later blocks
    lat_text = lat.astype(str).astype(object)
    lat_text[33], lat_text[333] = "", "north"
    frame = pd.DataFrame(
        {"id": ids, "fecha": "2021-05-23", "latitud": lat_text, "longitud": lon.astype(str)}
    )
    path = tmp_path / "edges.csv"
    frame.to_csv(path, index=False)
    return path


def _args(**kw: object) -> list[str]:
    out = []
    for k, v in kw.items():
        out += [f"--{k.replace('_', '-')}", str(v)]
    return out


@pytest.mark.parametrize("fmt", [".csv", ".parquet", ".geojson"])
def test_sample_equals_default_engine(tmp_path: Path, scheduler: str, fmt: str) -> None:
    default, dask = tmp_path / f"default{fmt}", tmp_path / f"dask{fmt}"
    common = _args(incidents=SAMPLE, regions=VRAEM)
    assert main(["join", *common, "--out", str(default)]) == 0
    assert main(["join", *common, "--out", str(dask), "--engine", "dask",
                 "--scheduler", scheduler]) == 0  # fmt: skip
    if fmt == ".parquet":
        assert dask.is_dir() and len(list(dask.glob("*.parquet"))) >= 1
    pd.testing.assert_frame_equal(_table(dask, fmt), _table(default, fmt))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


def test_partitions_merge_to_the_default_report(
    tmp_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _edge_file(tmp_path)
    monkeypatch.setattr(dask_join, "BLOCKSIZE", 4000)  # several blocks
    client = distributed.Client(scheduler)
    try:
        frames, report = dask_join.read_partitions(path, today=TODAY)
        assert frames.npartitions > 2
        _, want = read_incidents(path, today=TODAY)
        assert dataclasses.asdict(report) == dataclasses.asdict(want)
        assert report.by_reason() == {
            "no_coordinates": 1,
            "unparseable_coordinates": 1,
            "duplicate_event_id": 2,
        }
    finally:
        client.close()
    default, dask = tmp_path / "default.csv", tmp_path / "dask.csv"
    common = _args(incidents=path, regions=GRID)
    assert main(["join", *common, "--out", str(default)]) == 0
    assert main(["join", *common, "--out", str(dask), "--engine", "dask",
                 "--scheduler", scheduler]) == 0  # fmt: skip
    got, expected = _table(dask, ".csv"), _table(default, ".csv")
    pd.testing.assert_frame_equal(got, expected)
    assert (expected["n_regions"].astype(int) > 1).any()  # border points in several regions


def test_the_lean_partitions_hold_the_default_readers_incidents_and_nothing_is_kept(
    tmp_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first pass leaves no data on the workers (nothing persisted); the shuffled
    form carries no Python objects (x/y floats, Arrow strings), and the points and
    columns rebuilt from it equal what the default reader gives for the same file."""
    path = _edge_file(tmp_path)
    monkeypatch.setattr(dask_join, "BLOCKSIZE", 4000)
    client = distributed.Client(scheduler)
    try:
        frames, _report = dask_join.read_partitions(path, today=TODAY)
        assert client.has_what() and not any(client.has_what().values())
        assert "geometry" not in frames.columns
        assert not [c for c, t in frames.dtypes.items() if t is object or t == "object"], (
            frames.dtypes
        )
        got = dask_join.incidents(frames.compute())
    finally:
        client.close()
    want, _ = read_incidents(path, today=TODAY)
    got = got.sort_values("event_id").reset_index(drop=True)
    want = want.sort_values("event_id").reset_index(drop=True)
    assert len(want) == 600 - 4  # two bad rows, two later duplicates
    pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(want))


def test_lost_worker_is_named_and_nothing_is_written(
    tmp_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """When dask gives up on a task (its workers died), the run fails naming the worker."""

    class Worker:
        address = "tcp://10.0.0.7:40123"

    def dies(frames, regions, client):
        partial = tmp_path / f".dask.parquet.partial-{os.getpid()}"  # a half-written run
        partial.mkdir()
        (partial / "part.0.parquet").write_bytes(b"half")
        raise distributed.KilledWorker(("join-partition", 3), Worker(), 3)

    monkeypatch.setattr(dask_join, "join", dies)
    out = tmp_path / "dask.parquet"
    code = main(["join", *_args(incidents=SAMPLE, regions=VRAEM), "--out", str(out),
                 "--engine", "dask", "--scheduler", scheduler])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "tcp://10.0.0.7:40123 was lost" in err and "nothing was written" in err
    assert list(tmp_path.iterdir()) == []


def test_summary_is_refused_with_a_reason(tmp_path: Path, capsys) -> None:
    code = main(["join", *_args(incidents=SAMPLE, regions=VRAEM), "--out",
                 str(tmp_path / "o.csv"), "--summary", str(tmp_path / "s.csv"),
                 "--engine", "dask"])  # fmt: skip
    assert code == 2
    assert "--summary is not computed by --engine dask" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.ondemand
def test_one_million_incidents_equal(tmp_path: Path, scheduler: str) -> None:
    """1M synthetic ACLED rows against the real districts or the synthetic Voronoi cells."""
    import sys

    sys.path.insert(0, str(ROOT))
    from bench.data import acled_frame, synthetic_regions

    path = tmp_path / "acled_1m.csv"
    acled_frame(1_000_000).to_csv(path, index=False)
    regions = tmp_path / "regions.geojson"
    synthetic_regions().to_file(regions, driver="GeoJSON")
    default, dask = tmp_path / "default.parquet", tmp_path / "dask.parquet"
    common = _args(incidents=path, regions=regions)
    assert main(["join", *common, "--out", str(default)]) == 0
    assert main(["join", *common, "--out", str(dask), "--engine", "dask",
                 "--scheduler", scheduler]) == 0  # fmt: skip
    pd.testing.assert_frame_equal(_table(dask, ".parquet"), _table(default, ".parquet"))


def test_local_cluster_with_a_worker_memory_limit_equals_default(tmp_path: Path) -> None:
    """`--workers 1 --worker-memory 1GB`: the local cluster dask starts itself, its worker
    capped (dask spills above the cap), gives the default engine's output."""
    default, dask = tmp_path / "default.csv", tmp_path / "dask.csv"
    common = _args(incidents=SAMPLE, regions=VRAEM)
    assert main(["join", *common, "--out", str(default)]) == 0
    assert main(["join", *common, "--out", str(dask), "--engine", "dask", "--workers", "1",
                 "--worker-memory", "1GB"]) == 0  # fmt: skip
    pd.testing.assert_frame_equal(_table(dask, ".csv"), _table(default, ".csv"))
