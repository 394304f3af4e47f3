"""`conflict-atlas facts --spec view.toml`: the view's key numbers for an article.

The same figures as the app's "Numbers for the article" panel and the notebook
(:func:`layers.facts.article_facts`): counts and deaths, inside/outside the focus region,
the previous period, top districts, coca per 1,000 ha, each with the filters, boundary
vintage and input files' SHA-256 they come from. Markdown (default) or JSON, printed or
written to ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from atlas.errors import InputError
from atlas.spec import MapSpec


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``facts`` subcommand."""
    parser = subparsers.add_parser(
        "facts",
        help="the view's key numbers, with what produced them (Markdown or JSON)",
        description=(
            "Key numbers of the view described by --spec (TOML/JSON; flags win): incidents "
            "and deaths, inside/outside the focus region, change against the previous "
            "period, top districts, incidents per 1,000 ha of coca; each with the filters, "
            "boundary vintage and input files' SHA-256."
        ),
    )
    parser.add_argument("--spec", metavar="SPEC", help="settings file (.toml or .json)")
    parser.add_argument("--incidents", nargs="+", metavar="PATH",
                        help="incident files (ACLED/UCDP/table); default: the shipped sample")  # fmt: skip
    parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day")
    parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day")
    parser.add_argument("--lang", choices=("en", "es"), help="language of the text")
    parser.add_argument("--format", choices=("md", "json"), default="md", help="default md")
    parser.add_argument("--out", metavar="PATH", help="write to this file instead of printing")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from atlas import data as atlas_data
    from atlas.fetch import sha256_of
    from layers.facts import article_facts

    settings = MapSpec.from_file(args.spec).to_dict() if args.spec else {}
    for key, value in (("date_from", args.date_from), ("date_to", args.date_to),
                       ("lang", args.lang)):  # fmt: skip
        if value:
            settings[key] = value
    spec = MapSpec.from_dict(settings)
    if args.out and not Path(args.out).resolve().parent.is_dir():
        raise InputError(f"--out {args.out}: folder does not exist; create it first")
    inputs = []
    if args.incidents:
        paths = [Path(p) for p in args.incidents]
        for path in paths:
            if not path.is_file():
                raise InputError(f"{path}: incident file not found; check the path")
        data = atlas_data.load_bundle(incidents=paths)
        inputs = [(p.name, sha256_of(p)) for p in paths]
    else:
        data = atlas_data.load_shipped()
    for report in data.reports:
        if report.kind != "vector":
            print(f"{report.source}: {report.rows_read:,} rows read, {report.rows_kept:,} kept, "
                  f"{report.rows_rejected:,} left out")  # fmt: skip
    facts = article_facts(spec, data, inputs=inputs)
    text = facts.to_json() + "\n" if args.format == "json" else facts.markdown()
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0
