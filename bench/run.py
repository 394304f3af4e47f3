"""Benchmarks for the conflict atlas: ``python -m bench --quick`` or ``--full``.

Measures our modules against the references a user would otherwise write (plain
``geopandas.sjoin``, DuckDB spatial, ``pandas.read_csv``, a naive folium map of
CircleMarkers) in the same run, so ratios compare like with like on this machine.
Every figure is the median of several runs (quick: 3, full: 5); one run longer than
the plan's budget is not repeated and the table says how many runs it had.

Writes ``bench/results/<mode>.json`` and rewrites that mode's table in BENCHMARKS.md.
All incidents are synthetic (seeded numpy, inside Peru's bbox). The district polygons
are read at run time from ``../shared/data`` when present and never copied; otherwise
a synthetic Voronoi tessellation of similar size stands in and the table says so.

This module holds the command line and runs the groups in order. The groups are in
``join``, ``load``, ``engine`` (the join command's two engines), ``map``, ``browser``,
``export``, ``memory`` and ``dashboard`` on the shared runner in ``core`` (data from
``data``); ``report`` turns the results into the table. ``--only`` runs some groups and
keeps the other groups' rows from the results file.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/ first, not the repo
    sys.path.insert(0, str(ROOT))

from bench.browser import bench_browser  # noqa: E402
from bench.core import PLANS, Recorder, machine  # noqa: E402
from bench.dashboard import bench_dashboard, bench_server  # noqa: E402
from bench.data import DEFAULT_DATA_DIR, load_districts  # noqa: E402
from bench.engine import bench_engines, bench_engines_10m  # noqa: E402
from bench.export import bench_export  # noqa: E402
from bench.join import DuckJoin, bench_aggregate, bench_join, make_duck  # noqa: E402
from bench.load import bench_load  # noqa: E402
from bench.map import bench_maps  # noqa: E402
from bench.memory import bench_memory, child_main  # noqa: E402
from bench.report import (  # noqa: E402
    BENCHMARKS_MD,
    markdown_section,
    merge_results,
    table_rows,
    write_markdown,
)

RESULTS_DIR = ROOT / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick")
    mode.add_argument("--full", dest="mode", action="store_const", const="full")
    mode.add_argument("--smoke", dest="mode", action="store_const", const="smoke",
                      help="every measurement once at a small size (the test suite's)")  # fmt: skip
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                   help="real data folder (default ../shared/data); read only")  # fmt: skip
    p.add_argument(
        "--out", type=Path, default=None, help="results JSON (default bench/results/<mode>.json)"
    )
    p.add_argument("--no-markdown", action="store_true", help="do not rewrite BENCHMARKS.md")
    p.add_argument(
        "--only",
        default="",
        help="comma list of groups: join,aggregate,load,map,browser,export,memory,dashboard; "
        "the other groups' rows are kept from the existing results file of the same mode",
    )
    p.add_argument(
        "--no-merge",
        action="store_true",
        help="with --only: write only this run's rows (default: merge into the results file)",
    )
    p.add_argument("--child", nargs=2, metavar=("KIND", "ARG"), help=argparse.SUPPRESS)
    p.set_defaults(mode="quick")
    return p.parse_args(argv)


GROUPS = ("join", "aggregate", "load", "engine", "map", "browser", "export", "memory", "dashboard")
#: Groups run only when named in --only (their rows are kept from earlier runs otherwise).
ON_DEMAND = ("engine10m",)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(*args.child)
    plan = PLANS[args.mode]
    only = {g for g in args.only.split(",") if g} or set(GROUPS)
    unknown = only - set(GROUPS) - set(ON_DEMAND)
    if unknown:
        print(f"--only: unknown group(s) {', '.join(sorted(unknown))}; use {', '.join(GROUPS)}")
        return 2
    argv_list = sys.argv[1:] if argv is None else argv
    command = shlex.join([".venv/bin/python", "-m", "bench", *argv_list])
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    rec = Recorder(plan)
    regions, region_info = load_districts(args.data_dir)
    print(f"regions: {region_info}", flush=True)
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        workdir = Path(tmp)
        duck: DuckJoin | None = None
        duck_error = ""
        if "join" in only:
            duck, duck_error = make_duck(regions)
            bench_join(rec, regions, duck, args.data_dir)
            if duck is None:
                for n in plan.duckdb_sizes:
                    rec.skip("join", "spatial join", n, "duckdb", "skipped", duck_error)
        if "aggregate" in only:
            bench_aggregate(rec, regions)
        csv_paths: dict[int, Path] = {}
        if "load" in only:
            csv_paths = bench_load(rec, workdir)
        if "engine" in only:
            bench_engines(rec, regions, workdir)
        if "engine10m" in only:
            bench_engines_10m(rec, regions, workdir)
        html_files: dict[str, Path] = {}
        if "map" in only or "browser" in only:
            html_files = bench_maps(rec, workdir)
        if "browser" in only:
            bench_browser(rec, html_files, workdir)
        if "export" in only:
            bench_export(rec, workdir)
        if "memory" in only:
            bench_memory(rec, workdir, csv_paths)
        if "dashboard" in only:
            bench_server(rec, workdir)
            bench_dashboard(rec, workdir)
    payload = {
        "mode": plan.mode,
        "command": command,
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": round(time.perf_counter() - t0, 1),
        "machine": machine(),
        "plan": dataclasses.asdict(plan),
        "regions": region_info,
        "duckdb": {"extension": duck.extension if duck else "", "error": duck_error},
        "results": [r.to_dict() for r in rec.results],
    }
    out = args.out or RESULTS_DIR / f"{plan.mode}.json"
    results = rec.results
    if args.only and not args.no_merge and out.is_file():
        # a partial run: the other groups keep the rows (and their run's facts) on file
        previous = json.loads(out.read_text(encoding="utf-8"))
        if previous.get("mode") == plan.mode:
            results, merged = merge_results(previous, rec.results)
            if merged:
                payload["merged"] = merged
            payload["results"] = [r.to_dict() for r in results]
            for m in merged:
                print(f"kept the rows of {', '.join(m['groups'])} from the run of {m['run']}")
    payload["table"] = table_rows(results, plan)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf-8")
    tmp_out.replace(out)
    print(f"wrote {out}")
    if not args.no_markdown:
        write_markdown(markdown_section(payload, plan), plan.mode)
        print(f"rewrote the {plan.mode} table in {BENCHMARKS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
