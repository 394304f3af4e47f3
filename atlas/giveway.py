"""Page runs over a very large table give way to other readers' quick runs.

The server runs each reader's page in a thread of one Python process, and Python runs one
thread at a time (the GIL), handing the lock round evenly. The first page of a 1M-row
upload is about a second of Python; a reader's rerun on the shipped sample is a fifth of
that. Sharing the lock evenly, the quick run took twice its time or more while the big
one ran (tests/browser/test_load_and_soak.py measures this with 20 readers), and a
reporter on deadline feels every one of those turns, where the reader who loaded a
million rows expects to wait.

So a page run says when it is **heavy** (:func:`mark_heavy`: its table has
:data:`HEAVY_ROWS` rows or more, or it is taking in a big upload), and a heavy run calls
:func:`give_way` between its steps: while any light run is in progress it waits, and the
light runs have the lock to themselves; the heavy run goes on in the time between them.
Each wait is bounded (:data:`WAIT_S` per call, :data:`BUDGET_S` per run), so a stream of
light runs slows a heavy one down and never stops it. It also waits :data:`GRACE_S`
after a light run ends (the page is still being sent), so its work falls in the gaps
between other readers' turns, a little in each, rather than into one of them. A light
run pays one lock round at its start and end; :func:`give_way` in a light run, or
outside any run, returns at once.

A run is the body of ``with page_run():`` in the thread that runs it (app.main wraps the
page in one). Heavy runs never wait for each other.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

#: Rows from which a page run is heavy (the shipped sample has a few thousand; a country's
#: ACLED export tens of thousands; a page on 250,000 rows is ~0.3 s of Python here).
HEAVY_ROWS = 250_000
#: At most this long per :func:`give_way` call, and in all per heavy run (seconds).
WAIT_S = 1.0
BUDGET_S = 6.0
#: After a light run ends its page is still on its way (the server's event loop sends
#: what the run drew): a heavy run also waits until no light run has ended for this long,
#: so its work falls between readers' turns, a little in each gap, not into one turn.
GRACE_S = 0.25


@dataclass
class _Run:
    heavy: bool = False
    waited: float = 0.0  # seconds this run spent giving way
    waits: int = 0  # give_way calls that waited


class _Board:
    """How many light runs are in progress, under one condition."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.light = 0
        self.heavy = 0
        self.light_ended = float("-inf")  # time.monotonic() when a light run last ended
        self.given = 0  # give_way calls that waited, since the process started (tests)


_BOARD = _Board()
_LOCAL = threading.local()


def _current() -> _Run | None:
    return getattr(_LOCAL, "run", None)


@contextlib.contextmanager
def page_run() -> Iterator[None]:
    """One page run in this thread: light until :func:`mark_heavy`."""
    if _current() is not None:  # a run inside a run (a fragment called by the page)
        yield
        return
    run = _Run()
    _LOCAL.run = run
    with _BOARD.cond:
        _BOARD.light += 1
    try:
        yield
    finally:
        _LOCAL.run = None
        with _BOARD.cond:
            if run.heavy:
                _BOARD.heavy -= 1
            else:
                _BOARD.light -= 1
                _BOARD.light_ended = time.monotonic()
            _BOARD.cond.notify_all()


def mark_heavy() -> None:
    """This thread's run is heavy from now on (no-op outside a run or when already so)."""
    run = _current()
    if run is None or run.heavy:
        return
    run.heavy = True
    with _BOARD.cond:
        _BOARD.light -= 1
        _BOARD.heavy += 1
        _BOARD.cond.notify_all()


def _busy(now: float) -> bool:
    """Whether a light run is in progress or ended less than GRACE_S ago (hold the lock)."""
    return _BOARD.light > 0 or now - _BOARD.light_ended < GRACE_S


def heavy_if(rows: int) -> None:
    """:func:`mark_heavy` when a run's table has :data:`HEAVY_ROWS` rows or more."""
    if rows >= HEAVY_ROWS:
        mark_heavy()


def is_heavy() -> bool:
    run = _current()
    return run is not None and run.heavy


def give_way() -> float:
    """In a heavy run: wait while light runs are in progress (bounded, see the module
    doc). Returns the seconds waited (0 in a light run or outside a run)."""
    run = _current()
    if run is None or not run.heavy:
        return 0.0
    limit = min(WAIT_S, BUDGET_S - run.waited)
    if limit <= 0:
        return 0.0
    start = time.monotonic()
    deadline = start + limit
    with _BOARD.cond:
        if not _busy(start):
            return 0.0
        now = start
        while _busy(now) and now < deadline:
            quiet_at = _BOARD.light_ended + GRACE_S if _BOARD.light <= 0 else deadline
            _BOARD.cond.wait(timeout=max(0.0, min(deadline, quiet_at) - now))
            now = time.monotonic()
        _BOARD.given += 1
    waited = time.monotonic() - start
    run.waited += waited
    run.waits += 1
    return waited


def light_runs() -> int:
    """Light runs in progress now (for tests and the benchmark)."""
    with _BOARD.cond:
        return _BOARD.light


def heavy_runs() -> int:
    """Heavy runs in progress now (the garbage collector's sweep waits for one to end:
    :func:`atlas.data.collect_now_and_then`)."""
    with _BOARD.cond:
        return _BOARD.heavy


def waits_so_far() -> int:
    """``give_way`` calls that waited since the process started (for tests)."""
    with _BOARD.cond:
        return _BOARD.given


__all__ = [
    "BUDGET_S",
    "GRACE_S",
    "HEAVY_ROWS",
    "WAIT_S",
    "give_way",
    "heavy_if",
    "heavy_runs",
    "is_heavy",
    "light_runs",
    "mark_heavy",
    "page_run",
    "waits_so_far",
]
