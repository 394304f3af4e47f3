"""The join on dask: incidents in partitions, across processes or machines.

Optional (``pip install conflict-atlas[dask]``). Partitioning, scheduling and I/O are
dask's: ``dask.dataframe.read_csv`` cuts a CSV into byte blocks (``dask_geopandas.
read_parquet`` reads a GeoParquet of canonical incidents), each block is staged and
validated by the same reader code as the default engine (one LoadReport per block,
merged into one: row numbers are offset by the rows of the blocks before), duplicate
event ids are found across blocks with a dask ``value_counts`` (the first occurrence in
file order is kept, as the default engine does), the valid incidents are spatially
sorted (``spatial_shuffle``, Hilbert curve) and each partition is joined with
:func:`atlas.spatial.join_incidents`: the same grid lookup, built once per worker
process. The result equals the default engine's after sorting by (event_id,
region_ids) (tested).

Limits of this first version: CSV input must be UTF-8 without line breaks inside
quoted cells (dask splits the file at line ends); ``--summary`` is not computed here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from atlas.errors import AtlasError, InputError
from atlas.readers import plan_table
from atlas.readers.validate import ROW, build_frame, close_report, validate_chunk
from atlas.schema import INCIDENT_COLUMNS, LoadReport, Rejection

PART = "_part"
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


def read_partitions(
    path: Path, *, source: str = "auto", today: dt.date | None = None
) -> tuple[Any, LoadReport]:
    """(dask-geopandas frame of valid incidents, merged LoadReport) for a CSV/GeoParquet."""
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
        n = int(frames.map_partitions(len).sum().compute())
        return frames[list(INCIDENT_COLUMNS)], LoadReport(path.name, "geoparquet", n, n)
    header = pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8-sig")
    columns = [str(c) for c in header.columns]
    try:
        raw = dd.read_csv(path, blocksize=BLOCKSIZE, dtype=str, keep_default_na=False,
                          na_filter=False, encoding="utf-8-sig")  # fmt: skip
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot be read as a UTF-8 CSV ({exc})") from None
    stem = path.stem
    results = [
        dask.delayed(_validate_block, nout=2)(
            block, i, columns=columns, source=source, name=path.name, stem=stem, today=today
        )
        for i, block in enumerate(raw.to_delayed())
    ]
    frames_d = [r[0] for r in results]
    infos_d = [r[1] for r in results]
    frames_d, infos_d = dask.persist(frames_d, infos_d)
    infos = dask.compute(*infos_d)
    meta = _validate_block(
        pd.DataFrame({c: pd.Series([], dtype=str) for c in columns}), 0, columns=columns,
        source=source, name=path.name, stem=stem, today=today,
    )[0]  # fmt: skip
    frames = dask_geopandas.from_dask_dataframe(dd.from_delayed(frames_d, meta=meta))
    report, offsets = _merge_reports(infos, path.name)

    # duplicate ids across blocks: the first occurrence in file order stays
    counts = frames["event_id"].value_counts().compute()
    dup_ids = counts.index[(counts > 1) & (counts.index != "")]
    drop: set[tuple[int, int]] = set()
    if len(dup_ids):
        rows = frames[frames["event_id"].isin(list(dup_ids))][["event_id", PART, ROW]].compute()
        rows["global"] = rows[ROW].to_numpy() + offsets[rows[PART].to_numpy()]
        rows = rows.sort_values("global")
        later = rows["event_id"].duplicated(keep="first")
        for event_id, part, row, global_row in rows[later].itertuples(index=False):
            report.rejected.append(Rejection(int(global_row), "duplicate_event_id",
                                             f"event_id={event_id!r}"))  # fmt: skip
            drop.add((int(part), int(row)))
        report.rows_kept -= len(drop)
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
    if drop:
        frames = frames.map_partitions(_drop_rows, drop, meta=frames._meta)
    return frames, report


def _drop_rows(part: pd.DataFrame, drop: set[tuple[int, int]]) -> pd.DataFrame:
    keys = pd.MultiIndex.from_arrays([part[PART].to_numpy(), part[ROW].to_numpy()])
    return part[~keys.isin(list(drop))].reset_index(drop=True)


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


def _join_partition(part: gpd.GeoDataFrame, regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The default engine's per-incident output for one partition (same lookup)."""
    from atlas import lookup
    from atlas.spatial import join_per_incident

    lookup.cached(np.asarray(regions.geometry.array))  # once per worker process
    out, _joined = join_per_incident(part[list(INCIDENT_COLUMNS)].reset_index(drop=True), regions)
    return out


def join(frames: Any, regions: gpd.GeoDataFrame, client: Any) -> Any:
    """Spatially sorted partitions joined to ``regions`` (broadcast to every worker)."""
    frames = frames.spatial_shuffle(by="hilbert")
    meta = _join_partition(frames._meta, regions)
    (regions_f,) = client.scatter([regions], broadcast=True)
    return frames.map_partitions(_join_partition, regions_f, meta=meta)


__all__ = ["BLOCKSIZE", "SCHEDULER_TIMEOUT", "EngineError", "join", "read_partitions"]
