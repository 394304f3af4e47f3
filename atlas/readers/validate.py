"""The one shared validator every incident reader uses.

A reader (ACLED, UCDP, table, vector) only *stages* its rows: it renames its columns to
the canonical names (:data:`atlas.schema.INCIDENT_COLUMNS`), maps its categories, and keeps
coordinates, dates and fatalities as the raw text it found, plus a ``_row`` column holding
the spreadsheet row number (header = row 1). This module then parses and checks them,
rejects bad rows into the :class:`~atlas.schema.LoadReport` with a reason and the row
number, and builds the canonical GeoDataFrame. Everything is vectorised; Python loops run
only over rejected rows (to write their messages).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atlas.crs import DISPLAY_CRS
from atlas.errors import InputError
from atlas.schema import INCIDENT_COLUMNS, STRING_COLUMNS, LoadReport

ROW = "_row"

#: Table date formats, tried in this order on the cells still unparsed. Day-first for
#: slashes (Peru writes 23/05/2021); "ISO" means YYYY-MM-DD with an optional time.
TABLE_DATE_FORMATS: tuple[str, ...] = (
    "ISO",
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d %B %Y",
    "%d %b %Y",
    "%d-%b-%Y",
    "%d-%B-%Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "SPANISH",
)

_ISO_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.+\-Z]*)?$")
_DECIMAL_COMMA = r"^[+-]?\d+,\d+$"
_NUM = r"\d+(?:[.,]\d+)?"
_DMS = re.compile(
    r"^\s*(?P<sign>[+-])?\s*(?P<pre>[NSEWOnsewo])?\s*"
    rf"(?P<deg>{_NUM})\s*(?:°|º|˚|d|deg)\s*"
    rf"(?:(?P<min>{_NUM})\s*(?:'|′|’|m|min)\s*)?"
    rf"(?:(?P<sec>{_NUM})\s*(?:\"|″|”|''|s|sec)\s*)?"
    r"(?P<hem>[NSEWOnsewo])?\s*$"
)
_PAIR_DECIMAL = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*[,; ]\s*([+-]?\d+(?:\.\d+)?)\s*$")
_PAIR_DMS = re.compile(r"^\s*(.+?[NSns])\s*[,;/]?\s*(.+?[EWOewo])\s*$")

_SPANISH_MONTHS = {
    "enero": 1, "ene": 1, "febrero": 2, "feb": 2, "marzo": 3, "mar": 3, "abril": 4,
    "abr": 4, "mayo": 5, "may": 5, "junio": 6, "jun": 6, "julio": 7, "jul": 7,
    "agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9, "sept": 9, "set": 9,
    "sep": 9, "octubre": 10, "oct": 10, "noviembre": 11, "nov": 11, "diciembre": 12,
    "dic": 12,
}  # fmt: skip
_SPANISH_MONTH_RE = re.compile(
    r"\b(" + "|".join(sorted(_SPANISH_MONTHS, key=len, reverse=True)) + r")\.?\b"
)


# ---- parsing helpers ----------------------------------------------------------------------
def header_matches(columns: Iterable[str], signature: frozenset[str]) -> bool:
    """True when a header holds every column of a source's ``signature`` (any case)."""
    return signature <= {str(c).strip().lower() for c in columns}


def crosswalk(raw: pd.DataFrame, columns: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Staged frame holding ``_row`` and each canonical column found via ``columns``
    (canonical -> lower-case source name); also the lower-case -> actual header lookup."""
    cols = {str(c).strip().lower(): c for c in raw.columns}
    out = pd.DataFrame({"_row": raw["_row"]})
    for canonical, name in columns.items():
        if name in cols:
            out[canonical] = raw[cols[name]]
    return out, cols


def code_column(raw: pd.DataFrame, cols: dict[str, str], name: str) -> pd.Series:
    """A code column as stripped text ("1.0" read as "1"); NA when missing or empty."""
    if name not in cols:
        return pd.Series(pd.NA, index=raw.index, dtype="string")
    text = raw[cols[name]].astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    return text.mask(text == "")


def _text(series: pd.Series) -> pd.Series:
    """Stripped text with NA for missing; "" stays "" (it means missing to callers)."""
    return series.astype("string").str.strip()


def parse_numbers(series: pd.Series) -> tuple[pd.Series, int]:
    """Parse decimal numbers, accepting decimal commas ("-12,18").

    Returns float values (NaN where unreadable or empty) and how many decimal commas
    were converted.
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return pd.to_numeric(series, errors="coerce").astype("float64"), 0
    text = _text(series)
    values = _to_float(text)
    todo = values.isna() & text.notna() & (text != "")
    commas = 0
    if todo.any():
        comma = todo & text.str.match(_DECIMAL_COMMA).fillna(False)
        if comma.any():
            fixed = pd.to_numeric(text[comma].str.replace(",", ".", regex=False), errors="coerce")
            values[comma] = fixed.astype("float64")
            commas = int(comma.sum())
    return values, commas


#: A plain decimal ("-12.5", "+3", "5.", ".5"), no exponent: the Arrow cast reads these.
_PLAIN_DECIMAL = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"


def _to_float(text: pd.Series) -> pd.Series:
    """``pd.to_numeric(text, errors="coerce")`` as float64, ~10x faster on plain decimals.

    Plain decimals go through one Arrow cast (correctly rounded, as pandas' parser is:
    equal values, tested; only the sign of a zero may differ); anything else (exponents,
    "inf", odd text) through pandas.
    """
    out = np.full(len(text), np.nan)
    arr = _arrow_strings(text)
    plain = pc.match_substring_regex(arr, _PLAIN_DECIMAL).fill_null(False)
    ok = plain.to_numpy(zero_copy_only=False)
    if ok.any():
        out[ok] = pc.cast(arr.filter(plain), pa.float64()).to_numpy(zero_copy_only=False)
    rest = ~ok & text.notna().to_numpy() & (text != "").fillna(False).to_numpy()
    if rest.any():
        out[rest] = pd.to_numeric(text[rest], errors="coerce").astype("float64").to_numpy()
    return pd.Series(out, index=text.index, dtype="float64")


def _arrow_strings(text: pd.Series) -> pa.ChunkedArray:
    """The text as Arrow strings: zero-copy for Arrow-backed pandas strings."""
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        return pa.chunked_array(text.array._pa_array)
    return pa.chunked_array([pa.array(text.to_numpy(dtype=object, na_value=None), pa.string())])


def parse_dms(series: pd.Series, axis: str) -> pd.Series:
    """Parse degrees-minutes-seconds text (12°11'09.7"S) to signed decimal degrees.

    ``axis`` is "lat" or "lon"; a hemisphere letter of the other axis gives NaN.
    """
    text = _text(series).fillna("")
    parts = text.str.extract(_DMS)
    ok = parts["deg"].notna()
    out = pd.Series(np.nan, index=series.index, dtype="float64")
    if not ok.any():
        return out

    def num(col: str) -> pd.Series:
        return pd.to_numeric(parts[col].str.replace(",", ".", regex=False), errors="coerce").astype(
            "float64"
        )

    deg, mins, secs = num("deg"), num("min").fillna(0.0), num("sec").fillna(0.0)
    hem = parts["hem"].fillna(parts["pre"]).fillna("").str.upper()
    allowed = {"lat": {"", "N", "S"}, "lon": {"", "E", "W", "O"}}[axis]
    valid = ok & (mins < 60) & (secs < 60) & hem.isin(allowed)
    value = deg + mins / 60.0 + secs / 3600.0
    negative = hem.isin({"S", "W", "O"}) | (parts["sign"] == "-").fillna(False)
    value = value.where(~negative, -value)
    out[valid] = value[valid]
    return out


def split_pair(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split one "lat, lon" cell (decimal or DMS with hemispheres) into two text columns."""
    text = _text(series).fillna("")
    lat = pd.Series(pd.NA, index=series.index, dtype="string")
    lon = lat.copy()
    dec = text.str.extract(_PAIR_DECIMAL)
    hit = dec[0].notna()
    lat[hit], lon[hit] = dec.loc[hit, 0], dec.loc[hit, 1]
    rest = ~hit & (text != "")
    if rest.any():
        dms = text[rest].str.extract(_PAIR_DMS)
        found = dms[0].notna()
        idx = dms.index[found]
        lat[idx], lon[idx] = dms.loc[found, 0], dms.loc[found, 1]
        left = dms.index[~found]
        lat[left] = text[left]  # keep the raw text so the rejection shows it
        lon[left] = text[left]
    return lat, lon


def parse_coordinate(series: pd.Series, axis: str) -> tuple[pd.Series, int]:
    """Decimal degrees from numbers, decimal-comma text or DMS text; NaN if unreadable."""
    values, commas = parse_numbers(series)
    if pd.api.types.is_numeric_dtype(series):
        return values, commas
    text = _text(series)
    todo = values.isna() & text.notna() & (text != "")
    if todo.any():
        values[todo] = parse_dms(series[todo], axis)
    return values, commas


def _spanish_to_numeric(text: pd.Series) -> pd.Series:
    """'23 de mayo de 2021' -> '23 5 2021' (accents and 'de' removed)."""
    t = text.str.lower().str.normalize("NFKD").str.replace(r"[\u0300-\u036f]", "", regex=True)
    t = t.str.replace(r"\bdel?\b", " ", regex=True)
    t = t.str.replace(
        _SPANISH_MONTH_RE.pattern, lambda m: f" {_SPANISH_MONTHS[m.group(1)]} ", regex=True
    )
    return t.str.replace(r"[\s/\-.,]+", " ", regex=True).str.strip()


def parse_dates(series: pd.Series, formats: Sequence[str]) -> pd.Series:
    """Parse date cells trying ``formats`` in order; NaT where empty or unreadable.

    Special formats: "ISO" (YYYY-MM-DD, optional time/zone) and "SPANISH" (Spanish month
    names, day first). Times are dropped: incidents are dated to the day.
    """
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(series):
        s = series.dt.tz_convert(None) if getattr(series.dt, "tz", None) else series
        return s.astype("datetime64[ns]").dt.normalize()
    # Dates repeat a lot (a million events fall on a few thousand days): parse each
    # distinct text once, then spread the results back.
    codes, uniques = pd.factorize(_text(series), use_na_sentinel=True)
    if len(uniques) < len(series):
        parsed_unique = parse_dates(pd.Series(uniques, dtype="string"), formats)
        # append NaT so the missing-value code -1 picks it
        table = np.append(parsed_unique.to_numpy(), np.datetime64("NaT", "ns"))
        out[:] = table[codes]
        return out
    text = _text(series)
    todo = text.notna() & (text != "")
    for fmt in formats:
        if not todo.any():
            break
        sub = text[todo]
        if fmt == "ISO":
            sub = sub[sub.str.match(_ISO_SHAPE.pattern).fillna(False)]
            if sub.empty:
                continue
            parsed = pd.to_datetime(sub, format="ISO8601", errors="coerce", utc=True)
            parsed = parsed.dt.tz_convert(None)
        elif fmt == "SPANISH":
            parsed = pd.to_datetime(_spanish_to_numeric(sub), format="%d %m %Y", errors="coerce")
        else:
            parsed = pd.to_datetime(sub, format=fmt, errors="coerce")
        good = parsed.notna()
        if good.any():
            idx = parsed.index[good]
            out[idx] = parsed[good].astype("datetime64[ns]").dt.normalize()
            todo[idx] = False
    return out


def parse_bool(series: pd.Series) -> pd.Series:
    """true/yes/1/sí -> True, false/no/0 -> False, anything else NA (nullable boolean)."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean")
    t = _text(series).str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[t.isin(["true", "t", "yes", "y", "1", "si", "sí", "verdadero"]).fillna(False)] = True
    out[t.isin(["false", "f", "no", "n", "0", "falso"]).fillna(False)] = False
    return out


def _show(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _reject(
    report: LoadReport, rows: pd.Series, mask: pd.Series, reason: str, detail: Iterable[str]
) -> None:
    for row, text in zip(rows[mask].tolist(), detail, strict=False):
        report.reject(int(row), reason, text)


# ---- the validator --------------------------------------------------------------------------
def validate_chunk(
    staged: pd.DataFrame,
    report: LoadReport,
    *,
    date_formats: Sequence[str] = TABLE_DATE_FORMATS,
    counters: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Check one staged chunk; reject bad rows into ``report``; return the good rows parsed.

    ``staged`` has ``_row``, ``latitude``, ``longitude``, ``date_start`` (raw) and any other
    canonical columns. ``counters`` accumulates facts for warnings across chunks.
    """
    counters = counters if counters is not None else {}
    df = staged
    rows = df[ROW]
    raw_lat = df["latitude"] if "latitude" in df else pd.Series(pd.NA, index=df.index)
    raw_lon = df["longitude"] if "longitude" in df else pd.Series(pd.NA, index=df.index)
    lat, c1 = parse_coordinate(raw_lat, "lat")
    lon, c2 = parse_coordinate(raw_lon, "lon")
    counters["decimal_commas"] = counters.get("decimal_commas", 0) + c1 + c2

    def blank(s: pd.Series) -> pd.Series:
        if pd.api.types.is_numeric_dtype(s):
            return s.isna()
        t = _text(s)
        return (t.isna() | (t == "")).fillna(True)

    alive = pd.Series(True, index=df.index)

    def take(mask: pd.Series, reason: str, detail: Iterable[str]) -> None:
        nonlocal alive
        mask = mask & alive
        if mask.any():
            _reject(report, rows, mask, reason, detail)
            alive = alive & ~mask

    def why(template: str, mask: pd.Series, *columns: pd.Series) -> Iterator[str]:
        """Messages for the rows in ``mask`` (computed before ``take`` narrows ``alive``)."""
        picked = [c[mask & alive].tolist() for c in columns]
        return (template.format(*map(_show, values)) for values in zip(*picked, strict=True))

    missing = blank(raw_lat) | blank(raw_lon)
    take(missing, "no_coordinates", repeat("latitude or longitude is empty"))
    unread = lat.isna() | lon.isna()
    take(unread, "unparseable_coordinates",
         why("latitude={!r}, longitude={!r}", unread, raw_lat, raw_lon))  # fmt: skip
    infinite = ~(np.isfinite(lat) & np.isfinite(lon))
    take(infinite, "out_of_range", why("latitude={}, longitude={}", infinite, lat, lon))
    take((lat == 0) & (lon == 0), "null_island", repeat("latitude=0, longitude=0"))
    swapped = (lat.abs() > 90) & (lat.abs() <= 180) & (lon.abs() <= 90)
    # "swapped" only when the swapped point lands where the file's other points are (a
    # latitude of 95 in a Peruvian file is a typo, not a swap); with no good rows to go
    # by (the whole file swapped), swapping making both valid is enough
    good = alive & (lat.abs() <= 90) & (lon.abs() <= 180)
    if good.any():
        pad = 1.0
        lat_lo, lat_hi = lat[good].min() - pad, lat[good].max() + pad
        lon_lo, lon_hi = lon[good].min() - pad, lon[good].max() + pad
        swapped = swapped & lon.between(lat_lo, lat_hi) & lat.between(lon_lo, lon_hi)
    take(swapped, "swapped_coordinates",
         why("latitude={} is outside -90..90 but longitude={} fits as a latitude where the "
             "file's other points are; swap the two columns", swapped, lat, lon))  # fmt: skip
    outside = (lat.abs() > 90) | (lon.abs() > 180)
    take(outside, "out_of_range", why("latitude={}, longitude={}", outside, lat, lon))

    raw_start = df["date_start"] if "date_start" in df else pd.Series(pd.NA, index=df.index)
    start = parse_dates(raw_start, date_formats)
    if "date_end" in df:
        raw_end = df["date_end"]
        end = parse_dates(raw_end, date_formats)
        end_blank = blank(raw_end)
    else:
        raw_end = pd.Series(pd.NA, index=df.index)
        end = start.copy()
        end_blank = pd.Series(True, index=df.index)
    take(blank(raw_start), "no_date", repeat("date is empty"))
    take(start.isna(), "unparseable_date", why("date={!r}", start.isna(), raw_start))
    bad_end = end.isna() & ~end_blank
    take(bad_end, "unparseable_date", why("end date={!r}", bad_end, raw_end))
    end = end.where(~end_blank, start)
    before = end < start
    take(before, "end_before_start", why("start {}, end {}", before, start, end))

    out = df.loc[:, [c for c in df.columns if c not in ("latitude", "longitude")]].copy()
    out["date_start"], out["date_end"] = start, end
    for col in ("fatalities", "fatalities_low", "fatalities_high"):
        if col not in df:
            out[col] = np.nan
            continue
        values, _ = parse_numbers(df[col])
        bad = (values.isna() & ~blank(df[col])) | (values < 0) | np.isinf(values)
        take(bad, "invalid_fatalities", why(col + "={!r}", bad, df[col]))
        out[col] = values
    out["_lat"], out["_lon"] = lat, lon
    return out[alive]


def finish(
    parts: list[pd.DataFrame],
    report: LoadReport,
    *,
    dataset: str,
    today: dt.date | None = None,
    counters: dict[str, int] | None = None,
) -> gpd.GeoDataFrame:
    """Join validated chunks, drop duplicate ids (first kept), warn, build the frame.

    Raises InputError (with the report attached as ``.report``) when no row is usable.
    """
    counters = counters or {}
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({ROW: []})
    if "event_id" in df and len(df):
        ids = _text(df["event_id"]).fillna("")
        # counting distinct ids in Arrow is ~5x quicker than marking duplicates
        distinct = pc.count_distinct(_arrow_strings(ids)).as_py()
        dup = ids.duplicated(keep="first") & (ids != "") if distinct < len(ids) else None
        if dup is not None and dup.any():
            for row, value in zip(df.loc[dup, ROW].tolist(), ids[dup].tolist(), strict=True):
                report.reject(int(row), "duplicate_event_id", f"event_id={_show(value)!r}")
            df = df[~dup]
    df = df.reset_index(drop=True)
    report.rows_kept = len(df)
    if today is None:
        today = dt.date.today()
    future = df["date_start"] > pd.Timestamp(today) if len(df) else pd.Series([], dtype=bool)
    close_report(report, counters, df.loc[future, ROW].tolist() if len(df) else [], today)
    return build_frame(df, dataset)


def close_report(
    report: LoadReport, counters: dict[str, int], future_rows: list[int], today: dt.date
) -> None:
    """Sort rejections by row, check the counts, add the file-wide warnings.

    Raises InputError (with the report attached as ``.report``) when no row is usable.
    ``future_rows``: spreadsheet rows of kept incidents dated after ``today``.
    """
    report.rejected.sort(key=lambda r: r.row)  # checks ran by reason; show them by row
    report.check()
    report.numbered_ids = bool(counters.get("numbered_ids"))
    if counters.get("decimal_commas"):
        report.warnings.append(
            f"{counters['decimal_commas']:,} coordinate values used a decimal comma "
            '("-12,18"); they were read as decimal points.'
        )
    if report.rejected and report.by_reason().get("swapped_coordinates"):
        report.warnings.append(
            "Some rows look like latitude and longitude are swapped; they were left out. If "
            "the whole file is swapped, choose its longitude column as the latitude and its "
            "latitude column as the longitude (the column choice beside the upload, or "
            "mapping= in Python)."
        )
    if not report.rows_kept:
        exc = InputError(f"{report.source}: no usable rows. {report.summary()}")
        exc.report = report  # type: ignore[attr-defined]
        raise exc
    if future_rows:
        rows = sorted(future_rows)
        shown = ", ".join(str(r) for r in rows[:5]) + (", …" if len(rows) > 5 else "")
        one = len(rows) == 1
        report.warnings.append(
            f"{len(rows):,} {'row is' if one else 'rows are'} dated after {today.isoformat()} "
            f"({'row' if one else 'rows'} {shown}); {'it was' if one else 'they were'} kept: "
            f"check the {'date' if one else 'dates'}."
        )


def build_frame(df: pd.DataFrame, dataset: str) -> gpd.GeoDataFrame:
    """Canonical columns, dtypes and point geometry from a validated frame."""
    n = len(df)
    out = pd.DataFrame(index=df.index)
    for col in INCIDENT_COLUMNS:
        if col == "geometry":
            continue
        if col in STRING_COLUMNS:
            values = df[col] if col in df else pd.Series("", index=df.index)
            out[col] = values.astype("string").fillna("")
        elif col in ("date_start", "date_end"):
            out[col] = df[col].astype("datetime64[ns]")
        elif col.startswith("fatalities"):
            out[col] = pd.array(df[col].to_numpy(dtype="float64"), dtype="Float64")
        elif col == "civilian_targeting":
            values = df[col] if col in df else pd.Series(pd.NA, index=df.index)
            out[col] = values.astype("boolean")
        elif col == "synthetic":
            values = parse_bool(df[col]) if col in df else pd.Series(False, index=df.index)
            out[col] = values.fillna(False).astype(bool)
    out["dataset"] = pd.Series([dataset] * n, index=df.index, dtype="string")
    for col, default in (("date_precision", "day"), ("geo_precision", "exact"),
                         ("event_type", "other")):  # fmt: skip
        out[col] = out[col].mask(out[col] == "", default)
    geometry = gpd.points_from_xy(df["_lon"].to_numpy(), df["_lat"].to_numpy(), crs=DISPLAY_CRS)
    return gpd.GeoDataFrame(out, geometry=geometry, crs=DISPLAY_CRS)[list(INCIDENT_COLUMNS)]


__all__ = [
    "ROW",
    "TABLE_DATE_FORMATS",
    "build_frame",
    "close_report",
    "finish",
    "parse_bool",
    "parse_coordinate",
    "parse_dates",
    "parse_dms",
    "parse_numbers",
    "split_pair",
    "validate_chunk",
]
