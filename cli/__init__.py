"""`conflict-atlas`: the command-line front door (join, fetch, export, diff, facts).

Each subcommand is a module in this package with ``add_parser(subparsers)`` and
``run(args) -> int``. Errors the user can fix (AtlasError) become a one-line message on
stderr and exit status 2; nothing else is caught.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from atlas import __version__
from atlas.errors import AtlasError

SUBCOMMANDS = ("join", "fetch", "export", "diff", "facts")
#: Options whose value may start with "-" (a western longitude): argparse would read
#: ``--bbox -75,-13,-73,-11`` as two options, so the value is glued on as ``--bbox=…``.
SIGNED_VALUE_OPTIONS = ("--bbox",)


def glue_signed_values(argv: list[str]) -> list[str]:
    """``[--bbox, -75,…]`` -> ``[--bbox=-75,…]`` for :data:`SIGNED_VALUE_OPTIONS`."""
    out: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg in SIGNED_VALUE_OPTIONS:
            value = next(it, None)
            out.append(arg if value is None else f"{arg}={value}")
        else:
            out.append(arg)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conflict-atlas",
        description="Map violent incidents against coca-growing regions.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"cli.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(glue_signed_values(sys.argv[1:] if argv is None else list(argv)))
    try:
        return int(args.run(args) or 0)
    except AtlasError as exc:
        print(f"conflict-atlas {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
