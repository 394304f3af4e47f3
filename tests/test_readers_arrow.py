"""The pyarrow CSV path of the text reader gives what the pandas path gave, row numbers too.

Every delimited fixture (clean, hostile, ACLED, UCDP) is read twice: by the default path
(pyarrow multithreaded, falling back to pandas on a ragged/blank row or another encoding)
and by the pandas parser alone (today's reader). Frames and LoadReports must be equal,
and errors the same.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from atlas.errors import AtlasError
from atlas.readers import read_incidents, table
from atlas.readers.validate import _to_float

TODAY = dt.date(2026, 1, 1)
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEXT_FILES = sorted(
    p for ext in ("*.csv", "*.tsv") for p in FIXTURES.rglob(ext) if "fetch" not in p.parts
)


def _read(path: Path) -> tuple[object, object]:
    try:
        gdf, report = read_incidents(path, today=TODAY)
    except AtlasError as exc:
        return type(exc).__name__, str(exc)
    return gdf, dataclasses.asdict(report)


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
@pytest.mark.parametrize("threads", [True, False], ids=["threads", "one-thread"])
def test_arrow_path_equals_pandas_path(path: Path, threads: bool, monkeypatch) -> None:
    monkeypatch.setattr(table, "ARROW_THREADS", threads)
    fast = _read(path)
    with monkeypatch.context() as m:
        m.setattr(table, "_open_arrow", lambda *a, **k: None)
        slow = _read(path)
    if isinstance(slow[0], str):
        assert fast == slow
        return
    pd.testing.assert_frame_equal(fast[0], slow[0])
    assert fast[1] == slow[1]


def test_arrow_path_is_taken_for_utf8_and_not_for_ragged_rows() -> None:
    ok = table.open_text(b'"a\nb",c\n1,2\n3,4\n', name="x.csv")
    chunk = next(ok.read())
    assert table.BLANK in chunk.columns  # the Arrow path marks blank rows
    assert ok.columns == ["a\nb", "c"] and chunk[table.ROW].tolist() == [2, 3]
    ragged = table.open_text(b"a,b\n1,2\n3\n", name="x.csv")
    chunk = next(ragged.read())
    assert table.BLANK not in chunk.columns  # pandas read it, short row padded as before
    assert chunk["b"].tolist() == ["2", ""]


def test_to_float_equals_pandas_to_numeric() -> None:
    rng = np.random.default_rng(7)
    values = [
        f"{v:.{d}f}"
        for v, d in zip(rng.normal(0, 80, 2000), rng.integers(0, 17, 2000), strict=True)
    ]
    values += ["+5", "5.", "-.5", ".5", "-0.0", "1e5", "inf", "abc", "", None, " 3 ", "-12,5"]
    values += ["1" * 30, "٣", "0x10", "1_000", "NaN"]
    for dtype in ("string", "str", object):
        text = pd.Series(values, dtype=dtype)
        got = _to_float(text).to_numpy()
        want = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
        assert np.array_equal(got, want, equal_nan=True), dtype
