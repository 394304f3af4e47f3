"""Results as the BENCHMARKS.md table: rows, the mode's markdown section, the file."""

from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path
from typing import Any

from bench.core import ROOT, Plan, Result
from bench.data import PERU_BBOX, SEED
from bench.export import MULTIPLES_CASES

BENCHMARKS_MD = ROOT / "BENCHMARKS.md"


def _fmt_bytes(b: int | None) -> str:
    if b is None:
        return "-"
    if b >= 1_000_000:
        return f"{b / 1_000_000:.1f} MB"
    return f"{b / 1000:.0f} kB"


def _cell(r: Result | None, plan: Plan, size_key: str | None = None) -> str:
    """Median seconds (and a size), or why there is no figure."""
    if r is None:
        return "-"
    if r.status != "ok" or r.median_s is None:
        label = r.status if r.status in ("skipped", "missing") else "ERROR"
        return f"{label}: {r.note}" if label == "ERROR" else r.note or label
    text = f"{r.median_s:.3f} s"
    if len(r.runs_s) < plan.repeats:
        text += f" ({len(r.runs_s)} run{'s' if len(r.runs_s) > 1 else ''})"
    if size_key and size_key in r.extra:
        text += f", {_fmt_bytes(r.extra[size_key])}"
    return text


def _labelled(label: str, r: Result | None, plan: Plan, size_key: str | None = None) -> str:
    """'sjoin 0.123 s' or 'DuckDB: not run at 1M ...'."""
    if r is None:
        return "-"
    sep = " " if r.status == "ok" and r.median_s is not None else ": "
    return label + sep + _cell(r, plan, size_key)


def _ratio(a: Result | None, b: Result | None) -> float | None:
    if a is None or b is None or a.median_s is None or b.median_s is None:
        return None
    if a.status != "ok" or b.status != "ok" or b.median_s == 0:
        return None
    return a.median_s / b.median_s


def _join_goal(n: int, ratio: float | None) -> tuple[str, str]:
    """Issue 15: ours <= 0.5x the geometry-only sjoin at 1M, for both point sets."""
    if n != 1_000_000:
        return "-", "-"
    met = "-" if ratio is None else ("yes" if ratio <= 0.5 else "NO (missed)")
    return "ours/sjoin <= 0.5", met


def _yes_no(value: Any) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def table_rows(results: list[Result], plan: Plan) -> list[dict[str, str]]:
    """The BENCHMARKS.md table: measurement, N, ours, reference, ratio, goal, met?."""
    idx = {(r.group, r.name, r.n, r.impl): r for r in results}
    rows: list[dict[str, str]] = []

    def add(measurement: str, n: int, ours: str, ref: str, ratio: str, goal: str, met: str):
        rows.append(
            {
                "measurement": measurement,
                "N": f"{n:,}",
                "ours": ours,
                "reference": ref,
                "ratio": ratio,
                "goal": goal,
                "met": met,
            }
        )

    for n in plan.join_sizes:
        o = idx.get(("join", "spatial join", n, "ours"))
        s = idx.get(("join", "spatial join", n, "sjoin"))
        d = idx.get(("join", "spatial join", n, "duckdb"))
        full = idx.get(("join", "spatial join", n, "sjoin-full"))
        if o is None and s is None:
            continue
        ratio = _ratio(o, s)
        ratio_full = _ratio(o, full)
        goal, met = _join_goal(n, ratio)
        ident = o.extra.get("identical") if o else None
        add(
            "spatial join vs geopandas.sjoin",
            n,
            _cell(o, plan),
            "sjoin "
            + _cell(s, plan)
            + " (geometry only); "
            + _cell(full, plan)
            + " (how='left', all columns)",
            (f"{ratio:.2f}" if ratio is not None else "-")
            + (f" ({ratio_full:.2f} vs all columns)" if ratio_full is not None else "")
            + f"; identical: {_yes_no(ident)}",
            goal,
            met,
        )
        ob = idx.get(("join", "spatial join (near borders)", n, "ours"))
        sb = idx.get(("join", "spatial join (near borders)", n, "sjoin"))
        if ob is not None or sb is not None:
            ratio_b = _ratio(ob, sb)
            add(
                "spatial join vs geopandas.sjoin, points near district borders",
                n,
                _cell(ob, plan),
                "sjoin " + _cell(sb, plan) + " (geometry only)",
                (f"{ratio_b:.2f}" if ratio_b is not None else "-")
                + f"; identical: {_yes_no(ob.extra.get('identical') if ob else None)}",
                *_join_goal(n, ratio_b),
            )
        if d is not None:
            ratio_d = _ratio(o, d)
            ratio_ds = _ratio(d, s)
            extra = f"; DuckDB/sjoin {ratio_ds:.1f}" if ratio_ds is not None else ""
            add(
                "spatial join vs DuckDB spatial",
                n,
                _cell(o, plan),
                _labelled("DuckDB", d, plan),
                (f"{ratio_d:.3f}" if ratio_d is not None else "-")
                + f"; DuckDB identical to sjoin: {_yes_no(d.extra.get('identical'))}"
                + extra,
                "-",
                "-",
            )
    b = next((r for r in results if (r.group, r.name) == ("join", "grid lookup build")), None)
    if b is not None:
        share = b.extra.get("boundary_share")
        add(
            "grid lookup build (once per set of regions, cached)",
            b.n,
            _cell(b, plan)
            + (f"; {b.extra['cells']:,} cells, {share:.1%} touch a boundary" if share else "")
            + (f"; {b.extra['megabytes']:.0f} MB" if b.extra.get("megabytes") else ""),
            "- (sjoin builds and caches its STRtree likewise)",
            "-",
            "-",
            "-",
        )
    for n in plan.agg_sizes:
        o = idx.get(("aggregate", "aggregate by region and month", n, "ours"))
        s = idx.get(("aggregate", "aggregate by region and month", n, "sjoin+groupby"))
        if o is None and s is None:
            continue
        ratio = _ratio(o, s)
        same = o.extra.get("same_total") if o else None
        add(
            "aggregate by region x month",
            n,
            _cell(o, plan),
            "sjoin+groupby " + _cell(s, plan),
            (f"{ratio:.2f}" if ratio is not None else "-")
            + f"; same total: {_yes_no(same)}"
            + f"; identical counts: {_yes_no(o.extra.get('identical') if o else None)}",
            "- (ours zero-fills every region x month and adds areas)",
            "-",
        )
    for n in plan.load_sizes:
        o = idx.get(("load", "load ACLED-shaped CSV", n, "ours"))
        s = idx.get(("load", "load ACLED-shaped CSV", n, "read_csv"))
        if o is None and s is None:
            continue
        ratio = _ratio(o, s)

        def mem(r: Result | None) -> str:
            if r is None or "rss_peak_mb" not in r.extra:
                return ""
            return f", peak RSS {r.extra['rss_peak_mb']:.0f} MB"

        one = idx.get(("load", "load ACLED-shaped CSV", n, "ours-1thread"))
        ratio_one = _ratio(one, s)
        goal, met = "-", "-"
        if n == 1_000_000:
            goal = "ours/read_csv(pyarrow) <= 2.0"
            met = "-" if ratio is None else ("yes" if ratio <= 2.0 else "NO (missed)")
        add(
            "load ACLED-shaped CSV (validated)",
            n,
            _cell(o, plan)
            + mem(o)
            + (
                "; over the default 200 MiB upload limit (the app refuses it with LimitError), "
                "timed with limits.max_bytes raised"
                if o is not None and o.extra.get("over_default_limit")
                else ""
            ),
            "read_csv(engine='pyarrow')+points_from_xy " + _cell(s, plan) + mem(s),
            (f"{ratio:.2f}" if ratio is not None else "-")
            + (
                f"; pyarrow parsing on one thread: {_cell(one, plan)}, {ratio_one:.2f}"
                if ratio_one is not None
                else ""
            ),
            goal,
            met,
        )
        hit = idx.get(("cache", "operator cache", n, "hit"))
        miss = idx.get(("cache", "operator cache", n, "miss"))
        if hit is not None and miss is not None:
            ratio_hit = _ratio(hit, s)
            add(
                "operator file cache (GeoParquet): restart load / first load",
                n,
                f"{_cell(hit, plan)} (hit: {_yes_no(hit.extra.get('hit'))}) / {_cell(miss, plan)}",
                "read_csv(engine='pyarrow')+points_from_xy " + _cell(s, plan),
                f"{ratio_hit:.2f}" if ratio_hit is not None else "-",
                "-",
                "-",
            )
        w = idx.get(("cache", "GeoParquet write", n, "to_parquet"))
        r = idx.get(("cache", "GeoParquet read", n, "read_parquet"))
        if w is not None and r is not None:
            add(
                "GeoParquet cache: write / read",
                n,
                f"{_cell(w, plan)} / {_cell(r, plan)}, {_fmt_bytes(w.extra.get('bytes'))}",
                "CSV read " + _cell(s, plan),
                "-",
                "-",
                "-",
            )
    engine_ns = sorted({r.n for r in results if r.group in ("engine", "engine10m")})
    for n in engine_ns:

        def engine_row(impl: str, n: int = n) -> Result | None:
            # the on-demand 10M run (group engine10m) over the regular run's "not run" row
            name = "join command: default vs dask engine"
            return idx.get(("engine10m", name, n, impl)) or idx.get(("engine", name, n, impl))

        o, s = engine_row("dask"), engine_row("default")
        ratio = _ratio(o, s)
        peaks = [f"{label} {r.extra['rss_peak_mb'] / 1024:.1f} GB" for label, r in
                 (("dask", o), ("default", s)) if r is not None and r.extra.get("rss_peak_mb")]  # fmt: skip
        add(
            "join command (read CSV + join + GeoParquet): dask engine vs default",
            n,
            _labelled("dask", o, plan),
            _labelled("default", s, plan),
            (f"{ratio:.2f}" if ratio is not None else "-")
            + f"; identical after sorting: {_yes_no(o.extra.get('identical') if o else None)}"
            + (f"; peak RSS of the process tree: {', '.join(peaks)}" if peaks else ""),
            "-",
            "-",
        )
    for n in sorted(set(plan.map_sizes) | set(plan.naive_sizes)):
        o = idx.get(("map", "build + render map HTML", n, "ours"))
        s = idx.get(("map", "build + render map HTML", n, "naive"))
        if o is None and s is None:
            continue
        ratio = _ratio(o, s)
        goal, met = "-", "-"
        if n == 100_000:
            goal = "< 1 s and a few MB (<= 5 MB)"
            if o is not None and o.status == "ok" and o.median_s is not None:
                ok = o.median_s < 1.0 and o.extra.get("html_bytes", 0) <= 5_000_000
                met = "yes" if ok else "NO (missed)"
        add(
            "map: build + render HTML",
            n,
            _cell(o, plan, "html_bytes"),
            _labelled("naive CircleMarkers", s, plan, "html_bytes"),
            f"{ratio:.3f}" if ratio is not None else "-",
            goal,
            met,
        )
    from bench.map import VIEWS

    for label, *_ in VIEWS:
        for o in sorted((r for r in results if r.group == "map" and r.impl == label
                         and r.name == "incident layers payload"), key=lambda r: r.n):  # fmt: skip
            if o.status != "ok":
                add(f"map: incident layers payload, {label}", o.n, _cell(o, plan), "-", "-",
                    "incident layers <= 3 MB, basemap <= 1 MB", "NO (failed, see the note)")  # fmt: skip
                continue
            e = o.extra
            what = (f"{e.get('hexagons', 0):,} hexagons" if e.get("mode") == "hexagons"
                    else "points")  # fmt: skip
            ours = (f"incident layers {e.get('incident_bytes', 0) / 1e6:.2f} MB ({what}, "
                    f"{e.get('in_view', 0):,} incidents in the covered area); basemap "
                    f"{e.get('base_bytes', 0) / 1e6:.2f} MB; built in {o.median_s:.3f} s")  # fmt: skip
            ok = e.get("incident_bytes", 0) <= 3_000_000 and e.get("base_bytes", 0) <= 1_000_000
            add(f"map: incident layers payload, {label}", o.n, ours, "-", "-",
                "incident layers <= 3 MB, basemap <= 1 MB", "yes" if ok else "NO (missed)")  # fmt: skip
    browser_ns = sorted(set(plan.browser_sizes) | set(plan.browser_naive_sizes))
    for n in browser_ns:
        o = idx.get(("browser", "time to rendered map", n, "ours"))
        s = idx.get(("browser", "time to rendered map", n, "naive"))
        if o is None and s is None:
            continue
        ratio = _ratio(o, s)
        add(
            "browser: time to rendered map (headless chromium)",
            n,
            _cell(o, plan, "html_bytes"),
            _labelled("naive CircleMarkers", s, plan, "html_bytes"),
            f"{ratio:.3f}" if ratio is not None else "-",
            "-",
            "-",
        )
    sample_rows = sorted(
        {(k[1], k[2]) for k in idx if k[0] == "export" and k[1].endswith(" (shipped sample)")}
    )
    for name, n in sample_rows:
        o = idx.get(("export", name, n, "ours"))
        limit = 2.0 if name.startswith("PNG") else 5.0
        met = "-"
        if o.status == "ok" and o.median_s is not None:
            met = "yes" if o.median_s <= limit else "NO (missed)"
        add(f"export {name}", n, _cell(o, plan, "bytes"), "-", "-", f"<= {limit:.0f} s", met)
    for n in plan.export_sizes:
        for name, limit in (("PNG 1200x675", 2.0), ("PDF A4 300 dpi", 5.0)):
            o = idx.get(("export", name, n, "ours"))
            if o is None:
                continue
            met = "-"
            if o is not None and o.status == "ok" and o.median_s is not None:
                met = "yes" if o.median_s <= limit else "NO (missed)"
            add(f"export {name}", n, _cell(o, plan, "bytes"), "-", "-", f"<= {limit:.0f} s", met)
        for name, *_ in MULTIPLES_CASES:  # recorded, no goal set yet
            o = idx.get(("export", name, n, "ours"))
            if o is not None:
                add(f"export {name}", n, _cell(o, plan, "bytes"), "-", "-", "-", "-")
    _animation_rows(results, add, plan)
    m = idx.get(("memory", "peak RSS: load + map", plan.memory_n, "ours"))
    if m is not None:
        text = m.note if m.status != "ok" else f"{m.extra.get('rss_peak_mb', 0):.0f} MB peak RSS"
        if m.status == "ok":
            text += f" (after imports {m.extra.get('rss_after_imports_mb', 0):.0f} MB)"
        add("memory: app work (load + map)", plan.memory_n, text, "-", "-", "-", "-")
    m = idx.get(("memory", "peak RSS: streamlit app process", plan.memory_n, "ours"))
    if m is not None:
        ok = m.status == "ok"
        rss = m.extra.get("rss_mb")
        text = m.note if not ok else f"{rss or 0:.0f} MB RSS after the pages"
        if ok:
            text += (f" (peak {m.extra.get('rss_peak_mb', 0):.0f} MB while loading; first page "
                     f"{m.extra.get('cold_page_s', m.median_s):.0f} s after start)")  # fmt: skip
        met = "-" if not ok or rss is None else ("yes" if rss <= 1200 else "NO (missed)")
        add("memory: streamlit app process", plan.memory_n, text, "-", "-",
            "RSS with 1M loaded <= 1.2 GB", met)  # fmt: skip
        warm = m.extra.get("warm_page_s") or []
        if ok and warm:
            med = statistics.median(warm)
            add("dashboard (synthetic ACLED CSV): first page, warm (a new page in chromium: "
                "navigation to counts line and map)", plan.memory_n,
                f"{med:.3f} s (median of {len(warm)}, max {max(warm):.3f} s)", "-", "-",
                "<= 5 s", "yes" if med <= 5.0 else "NO (missed)")  # fmt: skip
    for r in _dashboard_rows(results, plan):
        add(*r)
    return rows


_DASHBOARD_LABELS = {
    "first map (cold)": "first map, cold (new server: navigation to settled map)",
    "first map (warm)": "first map, warm (a later page: navigation to settled map)",
    "filter change": "filter change to settled map",
    "layer toggle": "layer toggle (heat map) to settled map",
    "play": "play frame rate",
}


def _animation_rows(results: list[Result], add: Any, plan: Plan) -> None:
    """GIF and MP4 at web size: the shipped sample first, then the synthetic size."""
    from bench.export import ANIMATION_CASES

    for impl in ("sample", "ours"):
        for name, _ext, goal in ANIMATION_CASES:
            for r in (r for r in results if (r.group, r.name, r.impl) == ("export", name, impl)):
                cell = _cell(r, plan, "bytes")
                if r.status == "ok" and r.extra.get("frames"):
                    cell += f", {r.extra['frames']} frames"
                goal_text, met = "-", "-"
                if goal is not None and impl == "sample":
                    goal_text = f"<= {goal:.0f} s (sample)"
                    if r.status == "ok" and r.median_s is not None:
                        met = "yes" if r.median_s <= goal else "NO (missed)"
                label = "shipped sample" if impl == "sample" else "synthetic"
                add(f"export {name} ({label})", r.n, cell, "-", "-", goal_text, met)


def _dashboard_rows(
    results: list[Result], plan: Plan
) -> list[tuple[str, int, str, str, str, str, str]]:
    """The app in chromium: one row per measurement and dataset (sample first)."""
    from bench.dashboard import GOALS, NAMES

    one = dataclasses.replace(plan, repeats=1)  # these rows say their own run counts
    found = [r for r in results if r.group == "dashboard"]
    rows = _server_rows([r for r in found if r.impl == "server"], one)
    found = [r for r in found if r.impl != "server"]
    datasets = sorted({(r.impl, r.n) for r in found}, key=lambda k: (k[0] != "sample", k[1]))
    idx = {(r.name, r.impl, r.n): r for r in found}
    for impl, n in datasets:
        data = "shipped sample" if impl == "sample" else "synthetic ACLED CSV"
        for name in NAMES:
            r = idx.get((name, impl, n))
            if r is None:
                continue
            goal_value = GOALS.get((name, impl))
            ok = r.status == "ok" and r.median_s is not None
            if name == "play":
                goal = f">= {goal_value:.0f} frames/s" if goal_value else "-"
                fps = r.extra.get("fps") if ok else None
                ours = (
                    f"{fps:.2f} frames/s ({r.extra.get('frames')} frames in "
                    f"{r.extra.get('window_s', 0):.0f} s, worst gap "
                    f"{r.extra.get('worst_gap_s', 0):.2f} s; {r.extra.get('path')} path)"
                    if fps is not None
                    else _cell(r, one)
                )
                met = "-" if fps is None or not goal_value else (
                    "yes" if fps >= goal_value else "NO (missed)")  # fmt: skip
            else:
                goal = f"<= {goal_value:.0f} s" if goal_value else "-"
                ours = _cell(r, one)
                if ok and len(r.runs_s) > 1:
                    ours += f" (median of {len(r.runs_s)}, max {max(r.runs_s):.3f} s)"
                if ok and r.extra.get("same_iframe") is False:
                    ours += "; map iframe remounted"
                met = "-" if not ok or not goal_value else (
                    "yes" if r.median_s <= goal_value else "NO (missed)")  # fmt: skip
            if r.status == "error" and goal != "-":
                met = "NO (failed, see the note)"
            rows.append((f"dashboard ({data}): {_DASHBOARD_LABELS[name]}", n, ours, "-", "-",
                         goal, met))  # fmt: skip
    return rows


def _server_rows(found: list[Result], one: Plan) -> list[tuple[str, int, str, str, str, str, str]]:
    """The page's server time (AppTest) on the synthetic ACLED file, with the goals."""
    from bench.dashboard import SERVER_GOALS, SERVER_NAMES

    rows = []
    for name in SERVER_NAMES:
        for r in sorted((r for r in found if r.name == name), key=lambda r: r.n):
            goal_value = SERVER_GOALS.get(name)
            ok = r.status == "ok" and r.median_s is not None
            ours = _cell(r, one)
            if ok and len(r.runs_s) > 1:
                ours += f" (median of {len(r.runs_s)}, max {max(r.runs_s):.3f} s)"
            if ok and r.extra.get("map_args_bytes"):
                ours += f"; map component {r.extra['map_args_bytes'] / 1e6:.2f} MB"
                if "aggregated" in r.extra:
                    ours += ", hexagons" if r.extra["aggregated"] else ", points"
            goal = f"<= {goal_value:g} s" if goal_value else "-"
            met = "-" if not ok or not goal_value else (
                "yes" if r.median_s <= goal_value else "NO (missed)")  # fmt: skip
            if r.status == "error" and goal != "-":
                met = "NO (failed, see the note)"
            rows.append((f"dashboard (synthetic ACLED CSV): {name} (AppTest)", r.n, ours, "-",
                         "-", goal, met))  # fmt: skip
    return rows


def merge_results(
    previous: dict[str, Any], new: list[Result]
) -> tuple[list[Result], list[dict[str, Any]]]:
    """This run's results plus the previous file's results of the groups not run now.

    Kept results carry ``extra["run"]`` (when and on which commit they were measured), so
    the section can say which rows come from which run. Returns the results and one entry
    per earlier run whose rows were kept.
    """
    ran = {r.group for r in new}
    run = (
        f"{previous.get('started', '?')}, git {previous.get('machine', {}).get('git_commit', '?')}"
    )
    kept: list[Result] = []
    for d in previous.get("results", []):
        if d["group"] in ran:
            continue
        r = _result_from_dict(d)
        r.extra.setdefault("run", run)
        kept.append(r)
    runs: dict[str, dict[str, Any]] = {}
    for r in kept:
        entry = runs.setdefault(r.extra["run"], {"run": r.extra["run"], "groups": [], "loads": []})
        if r.group not in entry["groups"]:
            entry["groups"].append(r.group)
        if r.extra.get("load_avg_1m") is not None:
            entry["loads"].append(r.extra["load_avg_1m"])
    merged = [
        {"run": e["run"], "groups": e["groups"],
         "load_avg_1m": [min(e["loads"]), max(e["loads"])] if e["loads"] else None}
        for e in runs.values()
    ]  # fmt: skip
    return kept + list(new), merged


def markdown_section(payload: dict[str, Any], plan: Plan) -> str:
    """The mode's section of BENCHMARKS.md: machine, command, regions, table, notes."""
    m = payload["machine"]
    reg = payload["regions"]
    pk = m["packages"]
    if reg["kind"] == "real":
        regions = (
            f"real district polygons, {reg['file']} read at run time ({reg['features']:,} "
            f"features, {reg['null_geometry_left_out']} with null geometry left out, "
            f"{reg['used']:,} used, {reg['vertices']:,} vertices)"
        )
    else:
        regions = (
            f"SYNTHETIC Voronoi cells ({reg['used']:,} polygons, {reg['vertices']:,} vertices): "
            "the real district file was not found"
        )
    lines = [
        f"### {plan.mode} mode",
        "",
        f"- Command: `{payload['command']}`",
        f"- Date: {payload['started']} (took {payload['duration_s']:.0f} s); git {m['git_commit']}",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['os']}",
        f"- Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in pk.items())
        + (f"; {m['chromium']}" if m["chromium"] else ""),
        f"- Regions: {regions}",
        f"- Incidents: SYNTHETIC, seeded numpy (seed {SEED}), uniform in lon "
        f"{PERU_BBOX[0]}..{PERU_BBOX[2]}, lat {PERU_BBOX[1]}..{PERU_BBOX[3]}; the "
        "near-borders join set moves each point to a gazetteer village's nearest district "
        "border (villages from ../shared/data when present, else uniform seeds), jittered "
        "~0.5 km, 0.1 % left exactly on a vertex",
        f"- Each figure is the median of {plan.repeats} runs unless marked; a single run over "
        f"{plan.budget_s:.0f} s is not repeated.",
        _load_line(payload),
        *_merged_lines(payload),
        "",
        "| measurement | N | ours | reference | ratio | goal | met? |",
        "|---|---:|---|---|---|---|---|",
    ]
    for row in payload["table"]:
        cells = [row[k].replace("|", "\\|") for k in
                 ("measurement", "N", "ours", "reference", "ratio", "goal", "met")]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    missed = [r for r in payload["table"] if r["met"].startswith("NO")]
    lines.append("")
    if missed:
        lines.append("Missed goals: " + "; ".join(
            f"{r['measurement']} at N={r['N']} ({r['ours']}, goal {r['goal']})" for r in missed
        ) + ".")  # fmt: skip
    else:
        lines.append("Missed goals: none among the goals that were measured.")
    not_measured = sorted({r.note for r in map(_result_from_dict, payload["results"])
                           if r.status in ("missing", "error")})  # fmt: skip
    if not_measured:
        lines.append("")
        lines.append("Not measured or failed: " + "; ".join(not_measured) + ".")
    return "\n".join(lines) + "\n"


def _merged_lines(payload: dict[str, Any]) -> list[str]:
    """For a partial run (``--only``): which rows were kept from which earlier run."""
    lines = []
    for m in payload.get("merged", []):
        load = m.get("load_avg_1m")
        lines.append(
            f"- Rows of {', '.join(m['groups'])} are kept from the run of {m['run']}"
            + (f" (load average {load[0]:.1f} to {load[1]:.1f})" if load else "")
            + "; the other rows, the date, machine and load above are this run's."
        )
    return lines


def _load_line(payload: dict[str, Any]) -> str:
    """Say how busy the machine was: timings on a shared 2-core box are noisy."""
    loads = [r["extra"]["load_avg_1m"] for r in payload["results"]
             if "load_avg_1m" in r["extra"] and "run" not in r["extra"]]  # fmt: skip
    if not loads:
        return "- Load average: not recorded."
    cores = payload["machine"]["cores"] or 1
    text = f"- Load average (1 min) at the start of each measurement: {min(loads):.1f} to {max(loads):.1f}"
    if max(loads) > cores:
        text += (
            f" on {cores} cores: other work shared the machine during this run, so absolute "
            "times are inflated and noisy; ratios were measured side by side but are noisy too"
        )
    return text + "."


def _result_from_dict(d: dict[str, Any]) -> Result:
    keys = {f.name for f in dataclasses.fields(Result)}
    return Result(**{k: v for k, v in d.items() if k in keys})


def write_markdown(section: str, mode: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the mode's marked section of BENCHMARKS.md (append it when absent)."""
    start, end = f"<!-- bench:{mode}:start -->", f"<!-- bench:{mode}:end -->"
    block = f"{start}\n{section}{end}"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
