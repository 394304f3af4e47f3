"""Engine faults for ``join --engine dask``, on real dask clusters (no mocks).

- a ``--scheduler`` address where nothing answers (a closed port; a port that accepts the
  connection and never speaks) stops the command within ``SCHEDULER_TIMEOUT`` with an
  error naming the address, and nothing is written;
- a worker process killed (SIGKILL) while it runs the join's tasks: with dask's retries
  the output equals the default engine's; with retries off the command fails naming the
  lost worker and leaves no file, partial or whole.

Skipped without the optional ``dask`` extra.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("dask_geopandas", reason="optional extra: pip install 'conflict-atlas[dask]'")
distributed = pytest.importorskip("distributed", reason="optional extra: conflict-atlas[dask]")

import dask  # noqa: E402

from atlas import dask_join  # noqa: E402
from cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "geodata" / "sample_incidents.csv"
VRAEM = ROOT / "geodata" / "peru" / "vraem_devida_2023.geojson"
ROWS = 30_000  # several 256 KB blocks: a worker is busy when it is killed


def _join(incidents: Path, out: Path, *extra: str) -> int:
    return main(["join", "--incidents", str(incidents), "--regions", str(VRAEM),
                 "--out", str(out), *extra])  # fmt: skip


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(dask_join, "SCHEDULER_TIMEOUT", 3.0)
    return 3.0


def test_a_closed_scheduler_port_is_named(tmp_path: Path, short_wait: float, capsys) -> None:
    with socket.socket() as s:  # a port nobody listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    started = time.monotonic()
    code = _join(SAMPLE, tmp_path / "out.csv", "--engine", "dask", "--scheduler", address)
    waited = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"the dask scheduler at {address} did not answer within 3 s" in err, err
    assert "nothing was written" in err and "Traceback" not in err
    assert waited < short_wait + 20, waited
    assert list(tmp_path.iterdir()) == []


def test_a_scheduler_that_accepts_and_never_speaks_is_named(
    tmp_path: Path, short_wait: float, capsys
) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nothing ever answers
    address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
    try:
        code = _join(SAMPLE, tmp_path / "out.parquet", "--engine", "dask", "--scheduler", address)
    finally:
        silent.close()
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"the dask scheduler at {address} did not answer" in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_scheduler_address_that_is_not_one_is_named(
    tmp_path: Path, short_wait: float, capsys
) -> None:
    code = _join(SAMPLE, tmp_path / "out.csv", "--engine", "dask", "--scheduler",
                 "tcp://scheduler-host:port")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "the dask scheduler at tcp://scheduler-host:port" in err, err
    assert list(tmp_path.iterdir()) == []


# ---- a worker killed mid-run ----------------------------------------------------------------
@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT))
    from bench.data import acled_frame

    path = tmp_path_factory.mktemp("faults") / "acled_faults.csv"
    acled_frame(ROWS).to_csv(path, index=False)
    return path


#: Task names of the run's stages: the first pass over the blocks, the P2P shuffle's
#: transfer (the second pass's blocks feed it) and the join after the shuffle.
STAGES = {"first pass": "_check_block", "shuffle": "shuffle-transfer",
          "join": "_join_partition"}  # fmt: skip


class Killer(threading.Thread):
    """Watches the scheduler; SIGKILLs the first worker seen running a task of ours (one
    whose name holds ``stage``, any of :data:`STAGES` by default)."""

    def __init__(self, address: str, stage: str | None = None) -> None:
        super().__init__(daemon=True)
        self.names = [stage] if stage else list(STAGES.values())
        self.client = distributed.Client(address, timeout=30)
        self.pids = self.client.run(os.getpid)  # worker address -> process id
        self.killed: str | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and self.killed is None:
            for worker, keys in self.client.processing().items():
                if any(name in str(k) for k in keys for name in self.names):
                    os.kill(self.pids[worker], signal.SIGKILL)
                    self.killed = worker
                    return
            time.sleep(0.02)

    def close(self) -> None:
        self.stop.set()
        self.join(timeout=10)
        self.client.close()


def _cluster(allowed_failures: int):
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                        dashboard_address=None)  # fmt: skip


def _sorted(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.sort_values(["event_id", "region_ids"]).reset_index(drop=True)


@pytest.mark.ondemand  # ~5 minutes here: see BENCHMARKS.md, *Reliability runs*
def test_a_killed_worker_is_replaced_and_the_output_is_the_same(
    tmp_path: Path, big_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dask_join, "BLOCKSIZE", 2**18)
    default = tmp_path / "default.csv"
    assert _join(big_csv, default) == 0
    cluster = _cluster(allowed_failures=3)
    killer = Killer(cluster.scheduler_address)
    try:
        killer.start()
        out = tmp_path / "dask.csv"
        code = _join(big_csv, out, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    finally:
        killer.close()
        cluster.close()
    assert killer.killed is not None, "no worker was seen running a task"
    assert code == 0
    pd.testing.assert_frame_equal(_sorted(out), _sorted(default))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dask.csv", "default.csv"]


@pytest.mark.parametrize("stage", list(STAGES))
def test_a_killed_worker_without_retries_is_named_and_nothing_is_written(
    tmp_path: Path, big_csv: Path, monkeypatch: pytest.MonkeyPatch, capsys, stage: str
) -> None:
    monkeypatch.setattr(dask_join, "BLOCKSIZE", 2**18)
    cluster = _cluster(allowed_failures=0)
    killer = Killer(cluster.scheduler_address, STAGES[stage])
    out = tmp_path / "dask.parquet"
    try:
        killer.start()
        code = _join(big_csv, out, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    finally:
        killer.close()
        cluster.close()
    err = capsys.readouterr().err
    assert killer.killed is not None, "no worker was seen running a task"
    assert code == 2, err
    assert f"the dask worker {killer.killed} was lost" in err, err
    assert "nothing was written" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no partial folder, no part files
