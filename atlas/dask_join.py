"""The join on dask: incidents in partitions, across processes or machines.

Optional (``pip install conflict-atlas[dask]``). Partitioning, scheduling and I/O are
dask's: ``dask.dataframe.read_csv`` cuts a CSV into byte blocks (``dask_geopandas.
read_parquet`` reads a GeoParquet of canonical incidents), each block is staged and
validated by the same reader code as the default engine. Nothing is persisted, so a
worker holds a few blocks at a time whatever the file's size:

1. a lean first pass returns per block only its LoadReport infos (merged into one: row
   numbers are offset by the rows of the blocks before), the bounds of its points and
   its (event_id, block, row) triples; those are shuffled by event id to find the ids
   seen twice (the first occurrence in file order is kept, as the default engine does);
2. the returned graph reads and validates the blocks again, drops the later duplicates
   and turns each block into Arrow-friendly columns: x/y floats instead of shapely
   points, and the distance along dask-geopandas' Hilbert curve;
3. :func:`join` sorts the rows on that distance with dask's ``set_index`` through its
   disk-backed P2P shuffle (the shuffle's data waits on the workers' disks, not in their
   memory), rebuilds the points from x/y and joins each partition with
   :func:`atlas.spatial.join_per_incident`: the same grid lookup, built once per worker
   process.

The result equals the default engine's after sorting by (event_id, region_ids)
(tested on the sample, on 1M rows on demand, and measured at 2M).

Limits of this version: CSV input must be UTF-8 without line breaks inside quoted cells
(dask splits the file at line ends); ``--summary`` is not computed here; CSV and GeoJSON
output is gathered into the calling process (``.parquet`` is written by the workers).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from atlas.crs import DISPLAY_CRS
from atlas.errors import AtlasError, InputError
from atlas.readers import plan_table
from atlas.readers.validate import ROW, build_frame, close_report, validate_chunk
from atlas.schema import INCIDENT_COLUMNS, LoadReport, Rejection

PART = "_part"
X, Y, HILBERT = "_x", "_y", "_hilbert"
#: The incident columns carried through the shuffle beside x/y.
ATTRIBUTES = tuple(c for c in INCIDENT_COLUMNS if c != "geometry")
#: Level of the Hilbert curve the partitions are sorted on (dask-geopandas' default).
HILBERT_LEVEL = 16
#: Hilbert bounds when there is no point to take them from.
WORLD = (-180.0, -90.0, 180.0, 90.0)
#: Bytes of CSV per partition (dask's blocksize).
BLOCKSIZE = 64 * 2**20
#: Seconds to wait for a ``--scheduler`` to answer before saying it does not.
SCHEDULER_TIMEOUT = 10.0


class EngineError(AtlasError):
    """The dask run failed (the scheduler did not answer, a worker was lost); nothing
    was written."""


def _require_dask() -> None:
    try:
        import dask  # noqa: F401
        import dask_geopandas  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise InputError(
            f"--engine dask needs the optional packages ({exc.name} is missing); install "
            "them with: pip install 'conflict-atlas[dask]'"
        ) from None


def _validate_block(
    raw: pd.DataFrame,
    part: int,
    *,
    columns: list[str],
    source: str,
    name: str,
    stem: str,
    today: dt.date,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """One CSV block: stage and validate with local row numbers (first data row = 2)."""
    counters: dict[str, int] = {}
    raw = raw.reset_index(drop=True)
    raw.columns = columns
    _kind, dataset, formats, stage, _keep = plan_table(
        columns, source=source, name=name, stem=stem, mapping=None, counters=counters
    )
    raw[ROW] = np.arange(2, len(raw) + 2)
    blank = raw.drop(columns=ROW).fillna("").eq("").all(axis=1)
    chunk = raw[~blank]
    report = LoadReport(source=name, kind=_kind, rows_read=len(chunk))
    validated = validate_chunk(stage(chunk), report, date_formats=formats, counters=counters)
    frame = build_frame(validated, dataset)
    frame[ROW] = validated[ROW].to_numpy(dtype="int64")
    frame[PART] = part
    future = validated.loc[validated["date_start"] > pd.Timestamp(today), ROW].tolist()
    info = {
        "raw_rows": len(raw),
        "rows_read": len(chunk),
        "blank": int(blank.sum()),
        "rejected": [(r.row, r.reason, r.detail) for r in report.rejected],
        "counters": counters,
        "future": future,
        "kind": _kind,
    }
    return frame.reset_index(drop=True), info


def _check_block(raw: pd.DataFrame, part: int, **kw: Any) -> tuple[dict, pd.DataFrame]:
    """The lean first pass over one block: its LoadReport infos, the bounds of its valid
    points and its non-empty event ids with their rows; the validated frame is dropped."""
    frame, info = _validate_block(raw, part, **kw)
    info["bounds"] = tuple(float(b) for b in frame.total_bounds) if len(frame) else None
    ids = pd.DataFrame({"event_id": frame["event_id"], PART: np.int64(part), ROW: frame[ROW]})
    return info, ids[ids["event_id"] != ""].reset_index(drop=True)


def _repeated(ids: pd.DataFrame) -> pd.DataFrame:
    """The rows of ids seen more than once (all rows of an id share a shuffled partition)."""
    return ids[ids["event_id"].duplicated(keep=False)]


def _incident_block(
    raw: pd.DataFrame, part: int, drop: frozenset[int], bounds: tuple, **kw: Any
) -> pd.DataFrame:
    """The second pass over one block: validated again (the same code, so the same rows),
    later duplicates dropped, made lean for the shuffle (:func:`_lean`)."""
    frame, _info = _validate_block(raw, part, **kw)
    if drop:
        frame = frame[~frame[ROW].isin(drop)]
    return _lean(frame, bounds)


def _lean(frame: gpd.GeoDataFrame, bounds: tuple) -> pd.DataFrame:
    """Canonical incidents as Arrow-friendly columns: the point as x/y floats instead of
    shapely objects, plus its distance along dask-geopandas' Hilbert curve over
    ``bounds`` (the key the partitions are sorted on)."""
    from dask_geopandas.hilbert_distance import _hilbert_distance

    out = pd.DataFrame(frame[list(ATTRIBUTES)]).reset_index(drop=True)
    out[X] = frame.geometry.x.to_numpy()
    out[Y] = frame.geometry.y.to_numpy()
    distance = _hilbert_distance(frame, total_bounds=bounds, level=HILBERT_LEVEL)
    out[HILBERT] = distance.to_numpy(dtype="int64")
    return out


def incidents(lean: pd.DataFrame) -> gpd.GeoDataFrame:
    """Canonical incidents again from a lean partition: the points rebuilt from x/y (the
    same floats, so the same points) and the canonical dtypes restored after Arrow."""
    lean = lean.reset_index(drop=True)
    frame = pd.DataFrame(lean[list(ATTRIBUTES)]).astype(_dtypes())
    geometry = gpd.points_from_xy(lean[X].to_numpy(), lean[Y].to_numpy(), crs=DISPLAY_CRS)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=DISPLAY_CRS)


@functools.lru_cache(maxsize=1)
def _dtypes() -> dict[str, Any]:
    """The canonical incident dtypes (those :func:`build_frame` gives), geometry aside."""
    needed = ("date_start", "date_end", "fatalities", "fatalities_low", "fatalities_high",
              "_lon", "_lat")  # fmt: skip
    empty = pd.DataFrame({c: pd.Series([], dtype="float64") for c in needed})
    return build_frame(empty, "acled").dtypes.drop("geometry").to_dict()


def _span(bounds: Any) -> tuple[float, float, float, float]:
    """Bounds with a non-zero width and height (one point, or points on one line, would
    divide by zero in the Hilbert distance)."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    return (minx, miny, maxx if maxx > minx else minx + 1.0, maxy if maxy > miny else miny + 1.0)


def read_partitions(
    path: Path, *, source: str = "auto", today: dt.date | None = None
) -> tuple[Any, LoadReport]:
    """(dask frame of the valid incidents in lean form, merged LoadReport) for a CSV or
    GeoParquet; :func:`incidents` rebuilds a partition's canonical frame.

    Nothing is persisted: a first lean pass over the CSV blocks computes the report, the
    bounds and the duplicate ids (shuffled by id); the returned frame's graph reads and
    validates the blocks again when it is computed, so a worker holds a few blocks at a
    time, not its share of the file.
    """
    import dask
    import dask.dataframe as dd
    import dask_geopandas

    path = Path(path)
    today = today or dt.date.today()
    if path.suffix.lower() == ".parquet" or path.is_dir():
        frames = dask_geopandas.read_parquet(path)
        missing = [c for c in INCIDENT_COLUMNS if c not in frames.columns]
        if missing:
            raise InputError(
                f"{path.name}: not a GeoParquet of canonical incidents (missing "
                f"{', '.join(missing[:5])}); pass the CSV export instead"
            )
        frames = frames[list(INCIDENT_COLUMNS)]
        n = int(frames.map_partitions(len).sum().compute())
        bounds = _span(frames.total_bounds.compute()) if n else WORLD
        lean = frames.map_partitions(_lean, bounds, meta=_lean(frames._meta, WORLD))
        return lean, LoadReport(path.name, "geoparquet", n, n)
    header = pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8-sig")
    columns = [str(c) for c in header.columns]
    try:
        raw = dd.read_csv(path, blocksize=BLOCKSIZE, dtype=str, keep_default_na=False,
                          na_filter=False, encoding="utf-8-sig")  # fmt: skip
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot be read as a UTF-8 CSV ({exc})") from None
    kw = {"columns": columns, "source": source, "name": path.name, "stem": path.stem,
          "today": today}  # fmt: skip
    empty = pd.DataFrame({c: pd.Series([], dtype=str) for c in columns})
    blocks = raw.to_delayed()
    checks = [dask.delayed(_check_block, nout=2)(b, i, **kw) for i, b in enumerate(blocks)]
    ids = dd.from_delayed([c[1] for c in checks], meta=_check_block(empty, 0, **kw)[1])
    repeated = ids.shuffle("event_id").map_partitions(_repeated, meta=ids._meta)
    # one graph of delayed objects (mixing them with a dask-expr frame would warn)
    infos, found = dask.compute([c[0] for c in checks], repeated.to_delayed())
    rows = pd.concat([repeated._meta, *found], ignore_index=True)
    report, offsets = _merge_reports(tuple(infos), path.name)

    # duplicate ids across blocks: the first occurrence in file order stays
    drop: dict[int, set[int]] = {}
    if len(rows):
        rows = rows.assign(_global=rows[ROW].to_numpy() + offsets[rows[PART].to_numpy()])
        rows = rows.sort_values("_global")
        later = rows["event_id"].duplicated(keep="first")
        for event_id, part, row, global_row in rows[later].itertuples(index=False):
            report.rejected.append(Rejection(int(global_row), "duplicate_event_id",
                                             f"event_id={event_id!r}"))  # fmt: skip
            drop.setdefault(int(part), set()).add(int(row))
        report.rows_kept -= int(later.sum())
    future = [r + offsets[i] for i, info in enumerate(infos) for r in info["future"]]
    counters: dict[str, int] = {}
    for info in infos:
        for k, v in info["counters"].items():
            counters[k] = counters.get(k, 0) + v
    if report.rows_read == 0:
        raise InputError(
            f"{path.name}: the file has a header but no data rows; export the table again "
            "with its rows"
        )
    _precision_warnings(report, counters)
    close_report(report, counters, future, today)

    found = np.array([i["bounds"] for i in infos if i["bounds"] is not None]).reshape(-1, 4)
    bounds = (_span((found[:, 0].min(), found[:, 1].min(), found[:, 2].max(),
                     found[:, 3].max())) if len(found) else WORLD)  # fmt: skip
    parts = [
        dask.delayed(_incident_block)(b, i, frozenset(drop.get(i, ())), bounds, **kw)
        for i, b in enumerate(blocks)
    ]
    meta = _incident_block(empty, 0, frozenset(), WORLD, **kw)
    return dd.from_delayed(parts, meta=meta), report


def _merge_reports(infos: tuple[dict, ...], name: str) -> tuple[LoadReport, np.ndarray]:
    """One LoadReport from the blocks', row numbers made global; each block's row offset."""
    offsets = np.concatenate([[0], np.cumsum([i["raw_rows"] for i in infos])[:-1]])
    kind = infos[0]["kind"] if infos else "table"
    report = LoadReport(source=name, kind=kind)
    for info, offset in zip(infos, offsets, strict=True):
        report.rows_read += info["rows_read"]
        for row, reason, detail in info["rejected"]:
            report.rejected.append(Rejection(int(row + offset), reason, detail))
    report.rows_kept = report.rows_read - len(report.rejected)
    blank = sum(i["blank"] for i in infos)
    if blank:
        report.warnings.append(
            f"{blank:,} blank {'row was' if blank == 1 else 'rows were'} skipped "
            "(not counted as read)."
        )
    return report, offsets


def _precision_warnings(report: LoadReport, counters: dict[str, int]) -> None:
    from atlas.readers import _precision_warnings as warn

    warn(report, counters)


def _join_partition(part: pd.DataFrame, regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The default engine's per-incident output for one lean partition (same lookup)."""
    from atlas import lookup
    from atlas.spatial import join_per_incident

    lookup.cached(np.asarray(regions.geometry.array))  # once per worker process
    out, _joined = join_per_incident(incidents(part), regions)
    return out


def join(frames: Any, regions: gpd.GeoDataFrame, client: Any) -> Any:
    """Spatially sorted partitions joined to ``regions`` (broadcast to every worker).

    The sort is dask's ``set_index`` on the Hilbert distance with its disk-backed P2P
    shuffle (``shuffle_method="p2p"``): rows travel as Arrow tables through the workers'
    disks, so the shuffle's memory does not grow with the file. The points are rebuilt
    from x/y after it.
    """
    frames = frames.set_index(HILBERT, npartitions=frames.npartitions, shuffle_method="p2p")
    meta = _join_partition(frames._meta, regions)
    (regions_f,) = client.scatter([regions], broadcast=True)
    return frames.map_partitions(_join_partition, regions_f, meta=meta)


__all__ = ["BLOCKSIZE", "SCHEDULER_TIMEOUT", "EngineError", "incidents", "join",
           "read_partitions"]  # fmt: skip
