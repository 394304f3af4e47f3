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
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from atlas.errors import InputError
from atlas.regions import read_regions
from atlas.safety import to_safe_csv
from atlas.spatial import aggregate, join_incidents

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


def one_row_per_incident(joined: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """From the long join (with ``_pos``): region ids joined by ";" and their count."""
    inside = joined[joined["region_id"].notna()]
    pos = inside["_pos"].to_numpy()
    counts = np.bincount(pos, minlength=n)
    ids = np.full(n, "", dtype=object)
    single = counts[pos] == 1
    ids[pos[single]] = inside["region_id"].to_numpy()[single]
    if (~single).any():
        multi = inside[~single].groupby("_pos", sort=False)["region_id"].agg(";".join)
        ids[multi.index.to_numpy()] = multi.to_numpy()
    return ids, counts


def run(args: argparse.Namespace) -> int:
    """Read both inputs, join, write --out (and --summary); print the load reports."""
    from atlas.readers import read_incidents

    date_from = _date(args.date_from, "--from")
    date_to = _date(args.date_to, "--to")
    if date_from and date_to and date_to < date_from:
        raise InputError(f"--to {date_to} is before --from {date_from}; swap them")
    out_format = _out_format(args.out, "--out")
    if args.summary:
        if Path(args.summary).suffix.lower() != ".csv":
            raise InputError(f"--summary {args.summary}: the summary is written as .csv")
        _out_format(args.summary, "--summary")
    for flag, value in (("--incidents", args.incidents), ("--regions", args.regions)):
        if not Path(value).is_file():
            raise InputError(f"{flag} {value}: file not found; check the path")

    incidents, inc_report = read_incidents(args.incidents, source=args.source)
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

    work = incidents.assign(_pos=np.arange(len(incidents)))
    joined = join_incidents(work, regions)
    ids, counts = one_row_per_incident(joined, len(incidents))
    out = incidents.copy()
    out["region_ids"] = pd.array(ids, dtype="string")
    out["n_regions"] = counts
    if out_format == ".csv":
        table = pd.DataFrame(out.drop(columns=out.geometry.name))
        table["longitude"] = out.geometry.x
        table["latitude"] = out.geometry.y
        to_safe_csv(table, args.out)
    elif out_format == ".geojson":
        out.to_file(args.out, driver="GeoJSON")
    else:
        out.to_parquet(args.out)
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


__all__ = ["add_parser", "filter_dates", "one_row_per_incident", "run"]
