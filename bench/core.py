"""Shared runner of the benchmarks: plans, results, timing, module lookup, machine.

Every measurement group (join, load, map, browser, export, memory, dashboard) times its cases
through a :class:`Recorder`; the errors our modules may raise are recorded, not raised.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas.errors import AtlasError

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Errors the code under test may raise. The harness records them as "error" with the
#: message and goes on to the next measurement, so one broken module does not hide the
#: others' figures; the smoke test fails on any recorded error.
UNDER_TEST_ERRORS: tuple[type[BaseException], ...] = (
    AtlasError,
    ArithmeticError,
    AssertionError,
    AttributeError,
    ImportError,
    IndexError,
    KeyError,
    LookupError,
    NotImplementedError,
    OSError,
    RuntimeError,
    TypeError,
    ValueError,
)


# ---- plans ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """Sizes and repeats of one mode."""

    mode: str
    repeats: int
    budget_s: float  # a single run longer than this is not repeated
    join_sizes: tuple[int, ...]
    duckdb_sizes: tuple[int, ...]
    duckdb_1m_if_100k_under_s: float | None  # full mode: add 1M when 100k was fast
    agg_sizes: tuple[int, ...]
    load_sizes: tuple[int, ...]
    map_sizes: tuple[int, ...]
    naive_sizes: tuple[int, ...]
    browser_sizes: tuple[int, ...]
    browser_naive_sizes: tuple[int, ...]
    export_sizes: tuple[int, ...]
    memory_n: int
    dashboard_sizes: tuple[int, ...]  # synthetic ACLED CSVs the app runs on, after the sample
    dashboard_play_s: float  # how long the time player plays per measurement
    engine_sizes: tuple[int, ...] = ()
    server_n: int = 0  # the app's server time (AppTest) on this many rows; 0: not run


PLANS: dict[str, Plan] = {
    "quick": Plan(
        mode="quick",
        repeats=3,
        budget_s=10.0,
        join_sizes=(10_000, 100_000, 1_000_000),
        duckdb_sizes=(10_000, 100_000),
        duckdb_1m_if_100k_under_s=None,
        agg_sizes=(10_000, 100_000, 1_000_000),
        load_sizes=(100_000, 1_000_000),
        map_sizes=(1_000, 10_000, 100_000, 1_000_000),
        naive_sizes=(1_000, 10_000, 100_000),
        browser_sizes=(10_000, 100_000),
        browser_naive_sizes=(10_000,),
        export_sizes=(10_000, 100_000),
        memory_n=1_000_000,
        dashboard_sizes=(100_000,),
        dashboard_play_s=5.0,
        engine_sizes=(1_000_000,),
        server_n=1_000_000,
    ),
    "full": Plan(
        mode="full",
        repeats=5,
        budget_s=30.0,
        join_sizes=(10_000, 100_000, 1_000_000),
        duckdb_sizes=(10_000, 100_000),
        duckdb_1m_if_100k_under_s=30.0,
        agg_sizes=(10_000, 100_000, 1_000_000),
        load_sizes=(100_000, 1_000_000),
        map_sizes=(1_000, 10_000, 100_000, 1_000_000),
        naive_sizes=(1_000, 10_000, 100_000),
        browser_sizes=(10_000, 100_000),
        browser_naive_sizes=(10_000, 100_000),
        export_sizes=(10_000, 100_000),
        memory_n=1_000_000,
        dashboard_sizes=(100_000,),
        dashboard_play_s=5.0,
        engine_sizes=(1_000_000,),
        server_n=1_000_000,
    ),
    # the smoke test's plan: every measurement once at a small size
    "smoke": Plan(
        mode="smoke",
        repeats=1,
        budget_s=5.0,
        join_sizes=(10_000,),
        duckdb_sizes=(10_000,),
        duckdb_1m_if_100k_under_s=None,
        agg_sizes=(10_000,),
        load_sizes=(10_000,),
        map_sizes=(1_000,),
        naive_sizes=(1_000,),
        browser_sizes=(1_000,),
        browser_naive_sizes=(1_000,),
        export_sizes=(1_000,),
        memory_n=10_000,
        dashboard_sizes=(),
        dashboard_play_s=2.0,
        engine_sizes=(10_000,),
        server_n=5_000,
    ),
}


# ---- results ----------------------------------------------------------------------------
@dataclass
class Result:
    """One measurement: ``status`` is ok / missing / error / skipped."""

    group: str
    name: str
    n: int
    impl: str
    status: str = "ok"
    runs_s: list[float] = field(default_factory=list)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.runs_s) if self.runs_s else None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["median_s"] = self.median_s
        return d


class Recorder:
    """Collects results and prints one line per measurement as it goes."""

    def __init__(self, plan: Plan, quiet: bool = False) -> None:
        self.plan = plan
        self.results: list[Result] = []
        self.quiet = quiet

    def add(self, result: Result) -> Result:
        self.results.append(result)
        if not self.quiet:
            med = f"{result.median_s:.3f} s" if result.median_s is not None else "-"
            extra = ", ".join(f"{k}={v}" for k, v in result.extra.items() if k != "traceback")
            print(
                f"[{result.group}] {result.name} n={result.n:,} {result.impl}: {result.status} "
                f"{med} ({len(result.runs_s)} runs) {extra} {result.note}".rstrip(),
                flush=True,
            )
        return result

    def get(self, group: str, name: str, n: int, impl: str) -> Result | None:
        for r in self.results:
            if (r.group, r.name, r.n, r.impl) == (group, name, n, impl):
                return r
        return None

    def time(
        self,
        group: str,
        name: str,
        n: int,
        impl: str,
        fn: Callable[[], Any],
        *,
        repeats: int | None = None,
        under_test: bool = False,
        note: str = "",
        defer: bool = False,
    ) -> tuple[Result, Any]:
        """Time ``fn`` (median of repeats); return the result and the first run's output.

        With ``under_test`` the errors our modules may raise are recorded, not raised.
        """
        result = Result(group, name, n, impl, note=note)
        result.extra["load_avg_1m"] = round(os.getloadavg()[0], 2)
        try:
            runs, out = measure(fn, repeats or self.plan.repeats, self.plan.budget_s)
        except UNDER_TEST_ERRORS as exc:
            if not under_test:
                raise
            result.status = "error"
            result.note = f"{type(exc).__name__}: {exc}"[:400]
            self.add(result)
            return result, None
        result.runs_s = runs
        if not defer:  # deferred: the caller adjusts the result, then adds it
            self.add(result)
        return result, out

    def time_many(
        self, group: str, name: str, n: int, cases: list[Case]
    ) -> dict[str, tuple[Result, Any]]:
        """Time several implementations interleaved: round r runs each case once.

        On a shared machine the load changes from second to second; interleaving exposes
        ours and the references to the same conditions, so their ratio is fairer than
        timing one after the other. A case whose run exceeds the budget is not repeated.
        """
        runs: dict[str, list[float]] = {c.impl: [] for c in cases}
        first: dict[str, Any] = {}
        errors: dict[str, str] = {}
        loads: dict[str, float] = {}
        done: set[str] = set()
        for i in range(self.plan.repeats):
            for case in cases:
                if case.impl in done:
                    continue
                loads.setdefault(case.impl, round(os.getloadavg()[0], 2))
                gc.collect()
                t0 = time.perf_counter()
                try:
                    out = case.fn()
                except UNDER_TEST_ERRORS as exc:
                    if not case.under_test:
                        raise
                    errors[case.impl] = f"{type(exc).__name__}: {exc}"[:400]
                    done.add(case.impl)
                    continue
                elapsed = time.perf_counter() - t0
                runs[case.impl].append(elapsed)
                if i == 0:
                    first[case.impl] = out
                del out
                if elapsed > self.plan.budget_s:
                    done.add(case.impl)
        results: dict[str, tuple[Result, Any]] = {}
        for case in cases:
            res = Result(group, name, n, case.impl, note=case.note)
            res.extra["load_avg_1m"] = loads.get(case.impl)
            res.extra["interleaved_with"] = [c.impl for c in cases if c.impl != case.impl]
            if case.impl in errors:
                res.status = "error"
                res.note = errors[case.impl]
                res.runs_s = []
            else:
                res.runs_s = runs[case.impl]
            self.add(res)
            results[case.impl] = (res, first.get(case.impl))
        return results

    def skip(self, group: str, name: str, n: int, impl: str, status: str, note: str) -> Result:
        return self.add(Result(group, name, n, impl, status=status, note=note))


@dataclass
class Case:
    """One implementation to time in :meth:`Recorder.time_many`."""

    impl: str
    fn: Callable[[], Any]
    note: str = ""
    under_test: bool = False


def measure(fn: Callable[[], Any], repeats: int, budget_s: float) -> tuple[list[float], Any]:
    """Run ``fn`` up to ``repeats`` times; stop early when one run exceeds ``budget_s``."""
    runs: list[float] = []
    first: Any = None
    for i in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t0)
        if i == 0:
            first = out
        del out
        if runs[-1] > budget_s:
            break
    return runs, first


def resolve(module: str, attr: str) -> tuple[Callable[..., Any] | None, str, str]:
    """Find ``module.attr``: (callable, status, note) with status ok / missing / error."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        return None, "missing", f"not measured (module missing: {module})"
    try:
        mod = importlib.import_module(module)
    except UNDER_TEST_ERRORS as exc:
        return None, "error", f"{module} failed to import: {type(exc).__name__}: {exc}"[:400]
    fn = getattr(mod, attr, None)
    if not callable(fn):
        return None, "missing", f"not measured (module missing: {module}.{attr})"
    return fn, "ok", ""


# ---- memory subprocesses ---------------------------------------------------------------
def child_memory(args: list[str]) -> dict[str, Any]:
    """Run ``python -m bench.run --child ...`` and return its peak RSS figures."""
    cmd = [sys.executable, "-m", "bench.run", "--child", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"memory_error": f"child {args[0]} exited {proc.returncode}: {tail[0]}"[:400]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- machine ---------------------------------------------------------------------------
PACKAGES = (
    "numpy", "pandas", "geopandas", "shapely", "pyproj", "pyogrio", "pyarrow", "folium",
    "matplotlib", "streamlit", "duckdb", "duckdb-extension-spatial", "playwright",
)  # fmt: skip


def machine() -> dict[str, Any]:
    """CPU, cores, RAM, Python and package versions, chromium, git commit."""
    cpu = platform.processor() or "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_gb = None
    with open("/proc/meminfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    chromium = shutil.which("chromium")
    chromium_version = ""
    if chromium:
        proc = subprocess.run(
            [chromium, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
        chromium_version = proc.stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "os": platform.platform(),
        "packages": versions,
        "chromium": chromium_version,
        "git_commit": commit,
    }


def wait_for_health(
    url: str, timeout_s: float, *, proc: subprocess.Popen | None = None, pause_s: float = 0.3
) -> None:
    """Wait until a Streamlit server at ``url`` answers its health check; raise the last
    connection error at the deadline, or RuntimeError if ``proc`` (the server) exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(pause_s)
