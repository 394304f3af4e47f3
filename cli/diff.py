"""`conflict-atlas diff OLD NEW`: what changed between two versions of an incident file.

Events are matched by id over every row of both files (before any filter), then the
totals per region and period are taken inside the spec's filters (``--spec``), so an
event deleted from the file is never confused with one a filter hides. Prints both files'
hashes and dates, the counts per status and one line per region and period
("VRAEM, 2023: +3 events, −1, fatalities 34 → 31"); ``--out`` writes the changes table
as CSV (formula cells neutralised).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from atlas.errors import InputError
from atlas.spec import MapSpec


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``diff`` subcommand."""
    parser = subparsers.add_parser(
        "diff",
        help="what changed between two versions of an incident file (matched by id)",
        description=(
            "Compare OLD and NEW versions of one source's file: events added, removed and "
            "changed (fields compared, fatalities up/down, km and days moved), and totals "
            "per region and period inside --spec's filters."
        ),
    )
    parser.add_argument("old", metavar="OLD", help="the earlier file")
    parser.add_argument("new", metavar="NEW", help="the later file")
    parser.add_argument("--out", metavar="PATH", help="write the changes table (.csv)")
    parser.add_argument("--spec", metavar="SPEC", help="settings file (.toml or .json): "
                        "its filters and region frame the totals")  # fmt: skip
    parser.add_argument("--by", choices=("year", "quarter", "month"), default="year",
                        help="period of the totals (default year)")  # fmt: skip
    parser.add_argument("--lang", choices=("en", "es"), help="language of the lines")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Diff, print the summary, write --out."""
    from atlas.data import load_shipped
    from atlas.diff import diff_files

    if args.out and Path(args.out).suffix.lower() != ".csv":
        raise InputError(f"--out {args.out}: the changes table is written as .csv")
    if args.out and not Path(args.out).resolve().parent.is_dir():
        raise InputError(f"--out {args.out}: folder does not exist; create it first")
    spec = MapSpec.from_file(args.spec) if args.spec else MapSpec()
    lang = args.lang or spec.lang
    regions = load_shipped().regions
    result = diff_files(args.old, args.new, spec, regions, by=args.by)
    for line in result.header():
        print(line)
    counts = result.counts()
    print(
        f"matched by event id over every row: {counts['added']:,} added, "
        f"{counts['removed']:,} removed, {counts['changed']:,} changed, "
        f"{counts['unchanged']:,} unchanged"
    )
    from atlas.ui_state import short_region_name

    names = dict(zip(regions["region_id"].astype(str), regions["name"].astype(str).map(short_region_name),
                     strict=True))  # fmt: skip
    for line in result.lines(lang, names):
        print(line)
    if args.out:
        Path(args.out).write_text(result.to_csv(), encoding="utf-8")
        print(f"wrote {args.out} ({len(result.changes):,} rows)")
    return 0


__all__ = ["add_parser", "run"]
