"""Read a large incident upload in a separate process, so other readers' pages keep running.

Measured in the app server during a 1M-row upload (a probe thread that sleeps 10 ms
and notes when it wakes late, plus ``py-spy --gil``): reading the file in the server's
own process held Python's lock (the GIL) for most of its ~15 s, in pieces up to ~1 s
(building 1M point geometries is one C call; the column staging is Python per row), and
another reader's rerun, which needs that lock thousands of times, took up to 4.5x its
time alone. Here the readers run in a fresh Python process at a lower CPU priority: the
file's bytes go to it through a pipe, the canonical frame comes back through another as
Arrow IPC (geometry as WKB) and the LoadReport as JSON. Nothing is written to a file
(uploads may be sensitive) and the process's memory is gone when it exits. The frame,
its dtypes and the report are the same as reading in-process (tests/test_upload_worker.py);
the geometry is rebuilt here in slices so no single step holds the lock for long.

``python -m atlas.upload_worker`` is the child's entry point; nothing else calls it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import shapely

from atlas.errors import CRSError, InputError, LimitError
from atlas.giveway import give_way, mark_heavy
from atlas.safety import DEFAULT_LIMITS, Limits
from atlas.schema import LoadReport
from atlas.spatial import RowDepartments, row_departments

#: Uploads from this size are read in a worker process; a smaller file is read faster
#: in-process than a fresh interpreter imports pandas (~1.5 s here), and its lock holds
#: are short (a 4 MB table has ~45,000 rows: ~50 ms of geometry).
ISOLATE_BYTES = 4 * 2**20
#: The worker's niceness: under load the readers' own pages get the CPU first, and the
#: reading waits for cores they leave idle. Set by the server as soon as the child exists
#: (before its ~1.5 s of imports and the threads they start) and by the child again.
NICE = 19
#: Geometries rebuilt per call (each call holds the GIL for ~20 ms per 20,000 points).
GEOMETRY_SLICE = 20_000
_ERRORS = {cls.__name__: cls for cls in (InputError, LimitError, CRSError)}
_ROOT = Path(__file__).resolve().parents[1]
_LEN = 8
_DEPARTMENT = "_department"  # the codes' column on the wire (no canonical column has "_")


class WorkerError(InputError):
    """The worker process ended without an answer (killed, out of memory, a crash)."""


def read_incidents_isolated(
    data: bytes,
    *,
    filename: str,
    mapping: dict[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    timeout: float | None = None,
) -> tuple[gpd.GeoDataFrame, LoadReport, RowDepartments | None]:
    """``atlas.readers.read_incidents(data, filename=..., mapping=..., limits=...)`` run
    in a child process; the same frame and LoadReport, or the same InputError/LimitError
    (with its ``columns`` or ``report``). Third: each row's department, worked out there
    too (:class:`atlas.spatial.RowDepartments`; None if the departments could not be
    read), so the first map of the file does not place a million points in the server.
    A child that ends without an answer (killed, out of memory) or runs past ``timeout``
    seconds (default: twice ``limits.read_seconds`` plus a minute; the reader stops
    itself at its own limit first) is ended and raises :class:`WorkerError` naming the
    file."""
    if timeout is None:
        timeout = 2 * limits.read_seconds + 60
    # the page run taking in a file this size is heavy: decoding the answer gives way to
    # other readers' quick runs (atlas.giveway), and waiting for it does not count as one
    mark_heavy()
    header = json.dumps(
        {"filename": filename, "mapping": mapping, "limits": asdict(limits)}
    ).encode("utf-8")
    # the child's temporary folder is this private one (a vector file is opened from a
    # temporary copy): removed here even when the child was killed before its own cleanup
    private = tempfile.mkdtemp(prefix="atlas-upload-")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "atlas.upload_worker"],
            cwd=_ROOT,  # `-m` imports this checkout's atlas, whatever the server's folder
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            start_new_session=True,  # its own scheduling group: see _background
            env={**os.environ, "TMPDIR": private},
        )
    except OSError:
        shutil.rmtree(private, ignore_errors=True)
        raise
    _background(proc.pid)
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        proc.kill()

    watchdog = threading.Timer(timeout, stop)
    watchdog.daemon = True
    writer = threading.Thread(target=_feed, args=(proc, header, data), daemon=True)
    try:
        watchdog.start()
        writer.start()
        answer = proc.stdout.read()  # the child reads all its input before it answers
        code = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:  # interrupted while waiting: leave no child behind
            proc.kill()
            proc.wait()
        proc.stdout.close()
        writer.join()
        shutil.rmtree(private, ignore_errors=True)
    if timed_out.is_set():
        raise WorkerError(
            f"{filename}: reading took longer than {timeout:g} s and was stopped; split "
            "the file or filter it before uploading"
        )
    if not _complete(answer):  # a whole answer counts even if the exit then failed
        why = "it was stopped, perhaps out of memory" if code < 0 else f"exit code {code}"
        raise WorkerError(
            f"{filename}: the process reading the file ended without an answer ({why}); "
            "try a smaller file, or ask the operator to check the server's log"
        )
    return _decode(answer)


def _background(pid: int) -> None:
    """Make process ``pid`` (a child that has not started threads yet: Linux keeps the
    priority per thread, and new threads take their creator's) background work.

    - Its threads' niceness is NICE and, where the system has it, their class is batch
      (CPU-bound; never preempts an interactive task when it wakes).
    - Where the kernel groups the CPU by session (``/proc/<pid>/autogroup``, on here),
      niceness only ranks threads inside one group, and every group gets an equal
      share: a child in the server's group took a core from twenty readers' browsers as
      if it were the server itself (measured with 20 pages: while it read, their
      changes took a median 1.8x their time without it, up to 4x). So the child starts
      its own session (``start_new_session``) and its group gets the same niceness.

    Best effort: where none of this exists the file is read at the normal priority."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, max(NICE, os.getpriority(os.PRIO_PROCESS, pid)))
    except (AttributeError, OSError):
        pass
    try:
        os.sched_setscheduler(pid, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError):
        pass
    group = Path(f"/proc/{pid}/autogroup")
    try:
        if os.getsid(pid) == pid and group.exists():  # only a session of its own
            group.write_text(str(NICE))
    except OSError:
        pass


def _feed(proc: subprocess.Popen, header: bytes, data: bytes) -> None:
    """Write the request to the child's stdin (in a thread: the pipe holds 64 KB)."""
    try:
        proc.stdin.write(len(header).to_bytes(_LEN, "little"))
        proc.stdin.write(header)
        proc.stdin.write(data)
    except (BrokenPipeError, OSError):
        pass  # the child ended early; its exit code says so
    finally:
        try:
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass


def _complete(answer: bytes) -> bool:
    """Whether ``answer`` holds a header and all the body it announces."""
    if len(answer) < _LEN:
        return False
    size = int.from_bytes(answer[:_LEN], "little")
    if len(answer) < _LEN + size:
        return False
    try:
        meta = json.loads(answer[_LEN : _LEN + size])
    except ValueError:
        return False
    return isinstance(meta, dict) and len(answer) == _LEN + size + meta.get("body", 0)


def _decode(answer: bytes) -> tuple[gpd.GeoDataFrame, LoadReport, RowDepartments | None]:
    view = memoryview(answer)
    size = int.from_bytes(view[:_LEN], "little")
    meta = json.loads(bytes(view[_LEN : _LEN + size]))
    if "error" in meta:
        err = meta["error"]
        exc = _ERRORS.get(err["type"], InputError)(err["message"])
        if err.get("columns") is not None:
            exc.columns = list(err["columns"])  # type: ignore[attr-defined]
        if err.get("report") is not None:
            exc.report = LoadReport.from_dict(err["report"])  # type: ignore[attr-defined]
        raise exc
    report = LoadReport.from_dict(meta["report"])
    with pa.ipc.open_stream(pa.py_buffer(view[_LEN + size :])) as stream:
        table = stream.read_all()
    wkb = table.column("geometry")
    give_way()
    frame = table.drop_columns(["geometry"]).to_pandas()
    parts = []
    for start in range(0, len(wkb), GEOMETRY_SLICE):
        give_way()  # outside the pause below: a quick run may collect meanwhile
        with _collector_paused():
            chunk = wkb.slice(start, GEOMETRY_SLICE).to_numpy(zero_copy_only=False)
            parts.append(shapely.from_wkb(chunk))
    geometry = np.concatenate(parts) if parts else np.array([], dtype=object)
    departments = None
    if meta.get("departments") is not None:  # categorical codes, indexed like the frame
        codes = frame.pop(_DEPARTMENT).rename("region_id")
        departments = RowDepartments(meta["departments"], codes)
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.array.GeometryArray(geometry, crs=meta["crs"]))
    return gdf[meta["columns"]], report, departments


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while the geometries are made, then as it
    was. Each point is an object the collector tracks: making a million of them started
    several full collections of the whole server (every session's objects), which more than
    doubled the time this held Python's lock (measured on 1M points: 0.85 s with the
    collector, 0.33 s without, the longest holds ~0.1 s either way). Points hold no
    references, so there is nothing for it to find here.

    Re-enabled as it was, the collector would still walk the million new objects as young
    ones, in up to three passes (young, middle, then a full pass they trigger), each a
    ~0.1-0.4 s hold of the lock in whichever session's thread allocates next (one was
    seen holding it 0.37 s in a page run just after a 1M upload). So everything tracked
    is set aside without a pass (``gc.freeze``: a list splice, and the young count starts
    again at zero), as the app's own collection does at each sweep
    (:func:`atlas.data.collect_now_and_then`): the next sweep walks them, once, with the
    rest. The cost: cycles other threads made just before are found at that sweep rather
    than at a young collection."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()


def _encode(frame: gpd.GeoDataFrame, departments: RowDepartments | None = None) -> bytes:
    """The frame as one Arrow IPC stream, geometry as WKB (pandas dtypes in its metadata),
    with the rows' department codes as one more column when given."""
    plain = frame.drop(columns=frame.geometry.name)
    if departments is not None:
        plain[_DEPARTMENT] = departments.codes.array  # worked out from this frame: same order
    table = pa.Table.from_pandas(plain, preserve_index=True)
    table = table.append_column(
        "geometry", pa.array(shapely.to_wkb(np.asarray(frame.geometry.array)))
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    return sink.getvalue().to_pybytes()


def _answer(out, meta: dict, body: bytes = b"") -> None:
    head = json.dumps({**meta, "body": len(body)}).encode("utf-8")
    out.write(len(head).to_bytes(_LEN, "little"))
    out.write(head)
    out.write(body)
    out.flush()


def main() -> int:
    """The child: request on stdin, answer on stdout; anything printed goes to stderr."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library's stray print must not corrupt the answer
    _background(os.getpid())  # again, in case the server could not
    raw = sys.stdin.buffer.read()
    size = int.from_bytes(raw[:_LEN], "little")
    request = json.loads(raw[_LEN : _LEN + size])
    data = memoryview(raw)[_LEN + size :]

    from atlas.readers import read_incidents

    try:
        frame, report = read_incidents(
            data,
            filename=request["filename"],
            mapping=request["mapping"],
            limits=Limits(**request["limits"]),
        )
    except (InputError, LimitError) as exc:
        report = getattr(exc, "report", None)
        _answer(out, {"error": {
            "type": type(exc).__name__ if type(exc).__name__ in _ERRORS else "InputError",
            "message": str(exc),
            "columns": getattr(exc, "columns", None),
            "report": report.to_dict() if report is not None else None,
        }})  # fmt: skip
        return 0
    del raw, data
    departments = _departments_of(frame)
    meta = {
        "report": report.to_dict(),
        "columns": list(frame.columns),
        "crs": frame.crs.to_string() if frame.crs is not None else None,
        "departments": departments.key if departments is not None else None,
    }
    _answer(out, meta, _encode(frame, departments))
    return 0


def _departments_of(frame: gpd.GeoDataFrame) -> RowDepartments | None:
    """Each row's department (the shipped INEI 2023 layer, as the server loads it); None,
    with a line on stderr, when it cannot be worked out: the server then places the points
    itself, so the read never fails for it."""
    from atlas.data import load_departments

    try:
        return row_departments(frame, load_departments())
    except (InputError, CRSError, OSError) as exc:
        print(f"upload worker: departments not worked out: {exc}", file=sys.stderr)
        return None


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    # the answer is written and flushed: skip the interpreter's teardown, where pyarrow's
    # thread pools once aborted the process ("terminate called without an active
    # exception") after a LimitError
    os._exit(code)
