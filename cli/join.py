"""`conflict-atlas join`: which region(s) each incident falls in, and per-region totals.

Reads incidents (ACLED, UCDP GED, any table, point vector file) and a polygon file,
joins them with :func:`atlas.spatial.join_incidents` (a point on a shared boundary
belongs to every region that touches it) and writes one row per incident with its
region id(s), plus an optional per-region summary CSV. Each input's LoadReport is
printed so nothing is lost silently.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
from concurrent.futures import CancelledError
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from atlas.errors import InputError
from atlas.generalise import generalise_incidents
from atlas.generalise import note as generalise_note
from atlas.regions import read_regions
from atlas.safety import operator_limits, to_safe_csv
from atlas.spatial import aggregate, join_per_incident, one_row_per_incident
from atlas.spec import parse_generalise

OUT_FORMATS = (".csv", ".geojson", ".parquet")
INCIDENT_SOURCES = ("auto", "acled", "ucdp", "table", "vector")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``join`` subcommand."""
    parser = subparsers.add_parser(
        "join",
        help="attach region ids to incidents and count incidents per region",
        description=(
            "Join incidents to regions. A point on a boundary shared by two regions "
            "belongs to both; an incident in no region is kept with an empty region_ids. "
            "--out gets one row per incident (.csv, .geojson or .parquet); --summary gets "
            "per-region counts, fatalities and incidents per 1,000 km² (CSV)."
        ),
    )
    parser.add_argument("--incidents", required=True, metavar="PATH", help="incident file")
    parser.add_argument(
        "--source", choices=INCIDENT_SOURCES, default="auto", help="incident format (auto)"
    )
    parser.add_argument("--regions", required=True, metavar="PATH", help="polygon file")
    parser.add_argument("--region-id", metavar="FIELD", default=None, help="region id field")
    parser.add_argument("--region-name", metavar="FIELD", default=None, help="region name field")
    parser.add_argument(
        "--regions-crs",
        metavar="CRS",
        default=None,
        help="CRS of the regions file when it declares none (e.g. EPSG:32718)",
    )
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD")
    parser.add_argument("--out", required=True, metavar="PATH", help="per-incident output")
    parser.add_argument("--summary", metavar="PATH", default=None, help="per-region CSV")
    parser.add_argument(
        "--by",
        choices=("week", "month", "year"),
        default=None,
        help="split the summary by time bucket of the start date",
    )
    parser.add_argument(
        "--engine",
        choices=("default", "dask"),
        default="default",
        help="dask: partitions on a dask cluster (pip install 'conflict-atlas[dask]')",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="with --engine dask: a running dask scheduler (tcp://host:8786); default: a "
        "local cluster on this machine",
    )
    parser.add_argument(
        "--workers", type=int, default=None, metavar="N", help="local cluster size (cores)"
    )
    parser.add_argument(
        "--worker-memory",
        default="auto",
        metavar="SIZE",
        help="memory per local worker (e.g. 4GB): dask spills to disk above it and pauses "
        "near it; default: the machine's memory shared between the workers",
    )
    parser.add_argument(
        "--generalise",
        metavar="SETTING",
        default="none",
        help="safe locations in --out: none, district or grid:<km> (cells in EPSG:32718); "
        "region ids and --summary are computed from the original points first",
    )
    parser.set_defaults(run=run)
    return parser


def _date(value: str | None, flag: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{flag} {value!r}: not a date; write it as YYYY-MM-DD") from None


def _out_format(path: str, flag: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in OUT_FORMATS:
        raise InputError(
            f"{flag} {path}: unknown output format {suffix or '(none)'}; use "
            f"{', '.join(OUT_FORMATS)}"
        )
    if not Path(path).resolve().parent.is_dir():
        raise InputError(f"{flag} {path}: the folder does not exist; create it first")
    return suffix


def filter_dates(
    incidents: gpd.GeoDataFrame, date_from: dt.date | None, date_to: dt.date | None
) -> gpd.GeoDataFrame:
    """Keep incidents whose [date_start, date_end] overlaps the inclusive day range."""
    keep = np.ones(len(incidents), dtype=bool)
    if date_from is not None:
        end = pd.to_datetime(incidents["date_end"]).fillna(pd.to_datetime(incidents["date_start"]))
        keep &= (end >= pd.Timestamp(date_from)).to_numpy()
    if date_to is not None:
        keep &= (pd.to_datetime(incidents["date_start"]) <= pd.Timestamp(date_to)).to_numpy()
    return incidents[keep]


def run(args: argparse.Namespace) -> int:
    """Read both inputs, join, write --out (and --summary); print the load reports."""
    from atlas.readers import read_incidents

    date_from = _date(args.date_from, "--from")
    date_to = _date(args.date_to, "--to")
    if date_from and date_to and date_to < date_from:
        raise InputError(f"--to {date_to} is before --from {date_from}; swap them")
    out_format = _out_format(args.out, "--out")
    parse_generalise(args.generalise)
    if getattr(args, "engine", "default") == "dask" and args.generalise != "none":
        raise InputError("--generalise is not applied by --engine dask; run without --engine")
    if getattr(args, "engine", "default") == "dask" and args.summary:
        raise InputError(
            "--summary is not computed by --engine dask yet; run without --engine dask, or "
            "aggregate the --out table"
        )
    if args.summary:
        if Path(args.summary).suffix.lower() != ".csv":
            raise InputError(f"--summary {args.summary}: the summary is written as .csv")
        _out_format(args.summary, "--summary")
    for flag, value in (("--incidents", args.incidents), ("--regions", args.regions)):
        if not (Path(value).is_file() or (flag == "--incidents" and Path(value).is_dir())):
            raise InputError(f"{flag} {value}: file not found; check the path")

    if getattr(args, "engine", "default") == "dask":
        return run_dask(args, out_format, date_from, date_to)
    # the command line reads the operator's own files: no upload limits
    incidents, inc_report = read_incidents(
        args.incidents, source=args.source, limits=operator_limits()
    )
    print(inc_report.summary())
    regions, reg_report = read_regions(
        args.regions, id_field=args.region_id, name_field=args.region_name, crs=args.regions_crs
    )
    print(reg_report.summary())
    if incidents.empty:
        raise InputError(f"{Path(args.incidents).name}: no usable incident rows")

    before = len(incidents)
    incidents = filter_dates(incidents, date_from, date_to).reset_index(drop=True)
    if len(incidents) < before:
        print(
            f"{before - len(incidents):,} of {before:,} incidents are outside the dates "
            f"{date_from or '…'} to {date_to or '…'} and were left out."
        )

    out, joined = join_per_incident(incidents, regions)
    counts = out["n_regions"].to_numpy()
    if args.generalise != "none":
        out = generalise_incidents(out, args.generalise)
        print(generalise_note(args.generalise, "en"))
    write_output(out, args.out, out_format)
    inside = int((counts > 0).sum())
    print(
        f"{len(out):,} incidents: {inside:,} in at least one of {len(regions):,} regions, "
        f"{len(out) - inside:,} in none, {int((counts > 1).sum()):,} in several. "
        f"Wrote {args.out}."
    )
    if args.summary:
        summary = aggregate(incidents, regions, by=args.by, joined=joined.drop(columns="_pos"))
        if "period" in summary.columns:
            summary["period"] = pd.to_datetime(summary["period"]).dt.strftime("%Y-%m-%d")
        to_safe_csv(summary, args.summary)
        print(f"Wrote {args.summary} ({len(summary):,} rows).")
    return 0


def write_output(out: gpd.GeoDataFrame, path: str, out_format: str) -> None:
    """One file: CSV (formulas neutralised, longitude/latitude columns), GeoJSON, GeoParquet."""
    if out_format == ".csv":
        table = pd.DataFrame(out.drop(columns=out.geometry.name))
        table["longitude"] = out.geometry.x
        table["latitude"] = out.geometry.y
        to_safe_csv(table, path)
    elif out_format == ".geojson":
        out.to_file(path, driver="GeoJSON")
    else:
        out.to_parquet(path)


def run_dask(
    args: argparse.Namespace, out_format: str, date_from: dt.date | None, date_to: dt.date | None
) -> int:
    """The join on dask (atlas.dask_join); output written to a temporary name, then renamed.

    ``.parquet`` becomes a folder of part files (one per partition, each written by the
    worker that joined it); CSV and GeoJSON are gathered into one file like the default
    engine's, in this process, so they need the memory the default engine needs. A lost worker: dask retries its
    tasks elsewhere (same output); when it cannot, the run fails naming the worker and
    nothing is left at --out.
    """
    from atlas import dask_join

    dask_join._require_dask()
    from distributed import Client, KilledWorker, LocalCluster

    regions, reg_report = read_regions(
        args.regions, id_field=args.region_id, name_field=args.region_name, crs=args.regions_crs
    )
    print(reg_report.summary())
    if args.scheduler:
        client = _connect(Client, args.scheduler, args.out)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=args.workers or None, threads_per_worker=1, processes=True,
            dashboard_address=None, memory_limit=getattr(args, "worker_memory", "auto"),
        )  # fmt: skip
        client = Client(cluster)
    target = Path(args.out)
    tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    done = False
    workers = set(client.scheduler_info()["workers"])
    try:
        frames, inc_report = dask_join.read_partitions(Path(args.incidents), source=args.source)
        print(inc_report.summary())
        if inc_report.rows_kept == 0:
            raise InputError(f"{Path(args.incidents).name}: no usable incident rows")
        if date_from or date_to:
            frames = frames.map_partitions(filter_dates, date_from, date_to, meta=frames._meta)
        out = dask_join.join(frames, regions, client)
        if out_format == ".parquet":
            out.to_parquet(tmp)
        else:
            write_output(out.compute().reset_index(drop=True), str(tmp), out_format)
        _replace(tmp, target)
        done = True
    except KilledWorker as exc:
        worker = getattr(exc.last_worker, "address", exc.last_worker)
        raise dask_join.EngineError(
            f"the dask worker {worker} was lost while running {exc.task!r}, after "
            f"{exc.allowed_failures + 1} workers died on that task; nothing was written to "
            f"{args.out}. Check that worker's memory and logs, then run again"
        ) from None
    except CancelledError:
        # a worker that died holding the P2P shuffle's outputs can make the scheduler
        # forget the run's keys: dask then cancels the result instead of naming the worker
        lost = sorted(workers - set(client.scheduler_info()["workers"]))
        if not lost:
            raise
        raise dask_join.EngineError(
            f"the dask worker {', '.join(lost)} was lost during the run, which dask then "
            f"cancelled; nothing was written to {args.out}. Check that worker's memory and "
            "logs, then run again"
        ) from None
    finally:
        if not done:
            _remove(tmp)  # no partial output, whatever stopped the run
        client.close()
        if cluster is not None:
            cluster.close()
    print(f"Wrote {args.out} (engine dask, {len(regions):,} regions).")
    return 0


def _connect(client_class: type, address: str, out: str) -> object:
    """A client of the scheduler at ``address``; EngineError naming it when it does not
    answer within ``dask_join.SCHEDULER_TIMEOUT`` seconds (dask's own wait is 30 s)."""
    import asyncio

    from atlas import dask_join

    wait = dask_join.SCHEDULER_TIMEOUT
    try:
        # dask's Client bounds the TCP connect but not the scheduler's first reply: a
        # port that accepts and never speaks would hang it, so ask for its identity first
        reply = asyncio.run(asyncio.wait_for(_identity(address, wait), wait))
        if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
            raise ValueError("what answered is not a dask scheduler")
        return client_class(address, timeout=wait)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise dask_join.EngineError(
            f"the dask scheduler at {address} did not answer within "
            f"{dask_join.SCHEDULER_TIMEOUT:g} s ({reason}); nothing was written to {out}. "
            "Check the address and that `dask scheduler` runs there, or leave out "
            "--scheduler to use this machine's cores"
        ) from None


async def _identity(address: str, wait: float) -> object:
    from distributed.comm import connect

    comm = await connect(address, timeout=wait)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def _replace(tmp: Path, target: Path) -> None:
    """Move the finished output into place (a folder replaces a folder)."""
    old = None
    if target.is_dir():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    tmp.replace(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


__all__ = ["add_parser", "filter_dates", "one_row_per_incident", "run", "write_output"]
