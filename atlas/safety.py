"""Safety helpers: spreadsheet-formula neutralisation, HTML escaping and input limits.

Files come from strangers (uploads, downloads). Every CSV the project writes goes through
:func:`to_safe_csv` so a cell like ``=HYPERLINK(...)`` cannot run in a reader's spreadsheet
(OWASP "CSV injection"); every text shown in HTML goes through :func:`escape_text`; every
reader checks :class:`Limits` so a huge or zip-bomb upload fails with a clear message.
"""

from __future__ import annotations

import html
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from atlas.errors import LimitError


@dataclass(frozen=True)
class Limits:
    """Upper bounds for one input file; over any of them a LimitError is raised."""

    max_bytes: int = 200 * 2**20  # file size on disk / upload size
    max_rows: int = 2_000_000  # data rows in one table
    max_zip_ratio: float = 100.0  # unzipped / zipped size
    max_unzipped_bytes: int = 1 * 2**30  # total unzipped size of an archive
    max_zip_members: int = 1000  # files inside one archive
    read_seconds: float = 120.0  # wall-clock budget for reading one file


DEFAULT_LIMITS = Limits()

#: Row limit of the operator's start-up files (``CONFLICT_ATLAS_INCIDENTS``).
OPERATOR_ROWS_ENV = "CONFLICT_ATLAS_MAX_ROWS"
OPERATOR_MAX_ROWS = 10_000_000


def operator_limits() -> Limits:
    """Limits for files the operator configured at start-up, not for uploads.

    The operator chose the file, so there is no size limit (ACLED's global export is
    ~2.5M rows and grows weekly); the row limit is ``CONFLICT_ATLAS_MAX_ROWS`` (default
    10,000,000) and reading may take 30 minutes. Archive checks (zip bombs) stay.
    Uploads keep :data:`DEFAULT_LIMITS`.
    """
    raw = os.environ.get(OPERATOR_ROWS_ENV, "").strip()
    rows = OPERATOR_MAX_ROWS
    if raw:
        try:
            rows = int(raw.replace("_", ""))
        except ValueError:
            rows = -1
        if rows < 1:
            raise LimitError(
                f"{OPERATOR_ROWS_ENV}={raw!r} is not a positive whole number of rows; set "
                f"e.g. {OPERATOR_ROWS_ENV}=10000000 or unset it for the default"
            )
    return Limits(max_bytes=sys.maxsize, max_rows=rows, read_seconds=1800.0)


#: Leading characters a spreadsheet may treat as the start of a formula (OWASP list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A plain number ("-12.5", "+3", "-1e5", "-12,18" with a decimal comma) is data, not a formula.
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def neutralise_formula(value: Any) -> Any:
    """Prefix a text cell that a spreadsheet would run as a formula with an apostrophe.

    A cell that already starts with an apostrophe gets one more: a spreadsheet hides a
    leading apostrophe, so "'=x" would show as "=x" and read like a neutralised "=x";
    with the prefix each cell has one reading (drop one leading apostrophe).
    Non-text values and plain signed numbers ("-12.5") are returned unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith("'") or (
        value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value)
    ):
        return "'" + value
    return value


def _text_columns(df: pd.DataFrame) -> list[str]:
    return [
        c
        for c in df.columns
        if pd.api.types.is_object_dtype(df[c]) or pd.api.types.is_string_dtype(df[c])
    ]


def safe_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with formula-like text cells neutralised (geometry dropped to WKT)."""
    out = pd.DataFrame(df).copy()
    if "geometry" in out.columns and hasattr(out["geometry"], "to_wkt"):
        out["geometry"] = out["geometry"].to_wkt()
    elif "geometry" in out.columns:
        out["geometry"] = out["geometry"].astype(str)
    for col in _text_columns(out):
        series = out[col]
        text = series.astype("string")
        starts = text.str.slice(0, 1).isin(list(_FORMULA_START)).fillna(False)
        if not starts.any():
            continue
        plain = text.str.match(_PLAIN_NUMBER.pattern).fillna(False)
        hit = (starts & ~plain).to_numpy(dtype=bool)
        if hit.any():
            series = series.astype(object).copy()
            series[hit] = "'" + text[hit].astype(object)
            out[col] = series
    # Column names are cells too.
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def to_safe_csv(df: pd.DataFrame, path_or_buf: str | Path | IO[str] | None = None) -> str | None:
    """Write ``df`` as UTF-8 CSV with formulas neutralised; every CSV export uses this.

    Rows end in CRLF (RFC 4180) because Python's csv writer quotes only the characters of
    its line ending: with "\n" a cell holding a lone carriage return was written bare,
    and a spreadsheet starts a new row there, so ``"x\r=cmd|..."`` put an unneutralised
    formula at the start of a row.
    """
    frame = safe_csv_frame(df)
    if path_or_buf is None:
        return frame.to_csv(index=False, lineterminator="\r\n")
    if isinstance(path_or_buf, str | Path):
        frame.to_csv(path_or_buf, index=False, encoding="utf-8", lineterminator="\r\n")
        return None
    frame.to_csv(path_or_buf, index=False, lineterminator="\r\n")
    return None


def escape_text(s: Any) -> str:
    """HTML-escape untrusted text (quotes too); None/NA become "".

    Braces become entities too: branca renders each folium element's script once more
    as a Jinja template, so text containing ``{{ ... }}`` would otherwise be evaluated on
    the server (template injection) instead of shown.
    """
    if s is None:
        return ""
    try:
        if pd.isna(s):
            return ""
    except (TypeError, ValueError):  # list-like values: not a missing scalar
        pass
    return html.escape(str(s), quote=True).replace("{", "&#123;").replace("}", "&#125;")


__all__ = [
    "DEFAULT_LIMITS",
    "OPERATOR_MAX_ROWS",
    "Limits",
    "escape_text",
    "neutralise_formula",
    "operator_limits",
    "safe_csv_frame",
    "to_safe_csv",
]
