"""`conflict-atlas fetch`: download, verify and cache the catalogue's sources."""

from __future__ import annotations

import argparse
import sys
import warnings

from atlas.catalog import CATALOG, PERU_COUNTRY_ID
from atlas.fetch import CACHE_ENV, MIRROR_ENV, TrustOnFirstUseWarning, cache_root, fetch_one


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``fetch`` subcommand."""
    parser = subparsers.add_parser(
        "fetch",
        help="download and verify boundaries / UCDP GED into the local cache",
        description=(
            "Download catalogue sources, check their sha256 and keep them in the cache "
            f"(--cache, else ${CACHE_ENV}, else the user cache folder). "
            f"${MIRROR_ENV}=http://host/path fetches {{mirror}}/{{id}}/{{filename}} instead "
            "of the original URL."
        ),
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="catalogue ids (see --list)")
    parser.add_argument("--list", action="store_true", help="list the catalogue and exit")
    parser.add_argument("--cache", metavar="DIR", default=None, help="cache folder")
    parser.add_argument(
        "--country-id",
        type=int,
        default=PERU_COUNTRY_ID,
        help=f"UCDP country_id kept from GED downloads (default {PERU_COUNTRY_ID}, Peru)",
    )
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """List the catalogue, or fetch each id and say what was fetched/verified and where."""
    if args.list or not args.ids:
        print(f"cache: {cache_root(args.cache)}")
        for entry in CATALOG.values():
            sha = entry.sha256[:12] + "..." if entry.sha256 else "unknown (trust on first use)"
            print(f"{entry.id:<20} {entry.title}")
            print(f"{'':<20} {entry.kind}, vintage {entry.vintage}, {entry.licence}, sha256 {sha}")
        if not args.list:
            print("give one or more ids to download them", file=sys.stderr)
        return 0
    progress = sys.stderr.isatty()
    for entry_id in args.ids:
        with warnings.catch_warnings():
            # the message is printed below; do not show it twice
            warnings.simplefilter("ignore", TrustOnFirstUseWarning)
            _, message = fetch_one(
                entry_id, cache_dir=args.cache, progress=progress, country_id=args.country_id
            )
        print(message)
    return 0
