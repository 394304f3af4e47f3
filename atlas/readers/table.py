"""Any table of incidents (CSV, TSV, XLSX): find the columns by name, or take a mapping.

Column names are matched case- and accent-insensitively against common English and
Spanish names (``ALIASES``), or given explicitly: ``mapping={"latitude": "MyLat", ...}``.
This module also opens the containers every table-shaped source shares (delimited text
with encoding and delimiter sniffing, and the first sheet of an XLSX workbook), yielding
raw text chunks with spreadsheet row numbers.
"""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atlas.errors import InputError, LimitError
from atlas.readers.validate import ROW, parse_bool, split_pair
from atlas.safety import DEFAULT_LIMITS, Limits
from atlas.schema import DATE_PRECISIONS, EVENT_TYPE_LABELS, EVENT_TYPES, GEO_PRECISIONS

CHUNK_ROWS = 200_000
#: Column the Arrow path adds to each chunk: True where every cell of the row is empty.
BLANK = "_blank"
#: pyarrow parses with all cores (as ``pandas.read_csv(engine="pyarrow")`` does); a
#: ragged row then cannot be located by pyarrow, and pandas' parser reads the file again.
ARROW_THREADS = True
_HEAD_BYTES = 1 << 20

#: canonical -> accepted column names (normalised: lower case, no accents, "_" separators),
#: best first.
ALIASES: dict[str, tuple[str, ...]] = {
    "latitude": ("latitude", "latitud", "lat", "lat_dd", "decimal_latitude", "y"),
    "longitude": ("longitude", "longitud", "lon", "lng", "long", "lon_dd",
                  "decimal_longitude", "x"),
    "coordinates": ("coordinates", "coordenadas", "coords", "coordinate", "coordenada",
                    "latlon", "lat_lon", "lat_long", "lat_lng"),
    "date_start": ("date_start", "event_date", "date", "fecha", "fecha_inicio",
                   "fecha_de_inicio", "start_date", "fecha_evento", "fecha_del_evento",
                   "dia"),
    "date_end": ("date_end", "end_date", "fecha_fin", "fecha_final", "fecha_de_fin",
                 "fecha_termino"),
    "fatalities": ("fatalities", "deaths", "killed", "muertos", "fallecidos", "victimas",
                   "muertes", "victimas_fatales", "deaths_best", "best"),
    "fatalities_low": ("fatalities_low", "deaths_low", "low"),
    "fatalities_high": ("fatalities_high", "deaths_high", "high"),
    "event_type": ("event_type", "type", "tipo", "tipo_evento", "tipo_de_evento",
                   "category", "categoria"),
    "sub_event_type": ("sub_event_type", "sub_type", "subtype", "subtipo"),
    "event_id": ("event_id", "id", "id_evento", "evento_id", "codigo", "code"),
    "actor1": ("actor1", "actor_1", "actor", "side_a", "perpetrator", "perpetrador",
               "responsable"),
    "actor2": ("actor2", "actor_2", "side_b", "target", "objetivo"),
    "location": ("location", "lugar", "localidad", "place", "ubicacion", "location_name",
                 "centro_poblado", "sitio"),
    "admin1": ("admin1", "adm_1", "region", "departamento", "department", "state"),
    "admin2": ("admin2", "adm_2", "provincia", "province"),
    "admin3": ("admin3", "adm_3", "distrito", "district"),
    "country": ("country", "pais"),
    "source": ("source", "sources", "fuente", "fuentes"),
    "notes": ("notes", "notas", "description", "descripcion", "comments", "comentarios",
              "observaciones"),
    "geo_precision": ("geo_precision", "precision_geografica", "location_precision"),
    "date_precision": ("date_precision", "time_precision", "precision_fecha",
                       "precision_de_fecha"),
    "civilian_targeting": ("civilian_targeting", "ataque_a_civiles"),
    "synthetic": ("synthetic", "sintetico", "sample"),
}  # fmt: skip

#: Event-type words (normalised) a table may use -> canonical type.
TABLE_EVENT_TYPES: dict[str, str] = {
    **{t: t for t in EVENT_TYPES},
    "battles": "armed_clash",
    "violence_against_civilians": "violence_against_civilians",
    "explosions_remote_violence": "explosion_remote",
    "riots": "riot",
    "protests": "protest",
    "strategic_developments": "strategic",
}
for _key, _labels in EVENT_TYPE_LABELS.items():
    for _label in _labels.values():
        TABLE_EVENT_TYPES.setdefault(re.sub(r"[^a-z0-9]+", "_", _label.lower()).strip("_"), _key)
TABLE_EVENT_TYPES = {
    unicodedata.normalize("NFKD", k).encode("ascii", "ignore").decode(): v
    for k, v in TABLE_EVENT_TYPES.items()
}


def normalise_name(name: object) -> str:
    """'Latitud (°)' -> 'latitud'; 'Fecha de inicio' -> 'fecha_de_inicio'."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def plan_columns(
    columns: list[str],
    *,
    name: str,
    mapping: dict[str, str] | None = None,
    need_coordinates: bool = True,
) -> dict[str, str]:
    """Decide which raw column feeds each canonical column (canonical -> raw name)."""
    plan: dict[str, str] = {}
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(normalise_name(col), col)
    for key, raw in (mapping or {}).items():
        if key not in ALIASES:
            raise InputError(
                f"{name}: mapping key {key!r} is not a column the atlas knows; use one of "
                + ", ".join(ALIASES)
            )
        if raw in columns:
            plan[key] = raw
        elif normalise_name(raw) in by_norm:
            plan[key] = by_norm[normalise_name(raw)]
        else:
            raise InputError(
                f"{name}: mapping says {key} is in column {raw!r}, but the file has no such "
                f"column; columns seen: {_list(columns)}"
            )
    used = set(plan.values())
    for canonical, names in ALIASES.items():
        if canonical in plan:
            continue
        for alias in names:
            col = by_norm.get(alias)
            if col is not None and col not in used:
                plan[canonical] = col
                used.add(col)
                break
    has_pair = "latitude" in plan and "longitude" in plan
    if need_coordinates and not has_pair and "coordinates" not in plan:
        exc = InputError(
            f"{name}: no coordinate columns found; columns seen: {_list(columns)}. Name them "
            "latitude/longitude (or latitud/longitud, lat/lon), or pass "
            "mapping={'latitude': '<column>', 'longitude': '<column>'}"
        )
        exc.columns = [str(c) for c in columns]  # type: ignore[attr-defined]  # for a picker
        raise exc
    if has_pair:
        plan.pop("coordinates", None)
    return plan


def _list(columns: list[str]) -> str:
    """The columns for a message: at most 30, each cut to 80 characters."""
    shown = ", ".join(repr(_cut(str(c))) for c in columns[:30])
    return shown + (f" and {len(columns) - 30} more" if len(columns) > 30 else "")


def _cut(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def stage(
    raw: pd.DataFrame, plan: dict[str, str], *, dataset: str, counters: dict[str, int]
) -> pd.DataFrame:
    """Staged canonical columns from one raw chunk, following ``plan``."""
    out = pd.DataFrame({ROW: raw[ROW]})
    for canonical, col in plan.items():
        out[canonical] = raw[col]
    if "coordinates" in out:
        out["latitude"], out["longitude"] = split_pair(out.pop("coordinates"))
    if "event_id" not in plan:
        out["event_id"] = dataset + ":" + raw[ROW].astype("string")
        counters["numbered_ids"] = counters.get("numbered_ids", 0) + len(raw)
    if "event_type" in out:
        original = out["event_type"].astype("string").str.strip().fillna("")
        out["source_event_type"] = original
        key = original.map(normalise_name, na_action="ignore")
        out["event_type"] = key.map(TABLE_EVENT_TYPES).fillna("other")
    for col, allowed, default in (("geo_precision", GEO_PRECISIONS, "exact"),
                                  ("date_precision", DATE_PRECISIONS, "day")):  # fmt: skip
        if col not in out:
            continue
        text = out[col].astype("string").str.strip().str.lower().fillna("")
        known = text.isin(allowed)
        unknown = ~known & (text != "")
        counters[f"unknown_{col}"] = counters.get(f"unknown_{col}", 0) + int(unknown.sum())
        out[col] = text.where(known, default)
    if "civilian_targeting" in out:
        out["civilian_targeting"] = parse_bool(out["civilian_targeting"])
    return out


# ---- containers -------------------------------------------------------------------------
@dataclass
class RawTable:
    """A table opened for reading: its header and ``read(keep)``, which yields raw text
    chunks with a ``_row`` column. Every column is parsed (given ``usecols``, pandas
    would silently ignore extra fields on a row, and a ragged row must be an error
    instead); ``keep`` (column names) lets a reader skip converting columns it does not
    use, and such chunks carry ``_blank`` (every cell of the row empty)."""

    columns: list[str]
    read: Callable[..., Iterator[pd.DataFrame]]
    warnings: list[str] = field(default_factory=list)


def decode_text(data: bytes, name: str) -> tuple[str, str, list[str]]:
    """Check and name the encoding: UTF-8 (BOM or not), UTF-16 with BOM, else
    Windows-1252/Latin-1 (with a warning). Returns (text, encoding, warnings)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:8192]:
        raise InputError(
            f"{name}: looks like a binary file, not a text table; save it as CSV (UTF-8) or XLSX"
        )
    try:
        return data.decode("utf-8-sig"), "utf-8-sig", []
    except UnicodeDecodeError:
        pass
    note = (
        f"{name}: the file is not UTF-8; it was read as Windows-1252 (Latin-1). Check that "
        "accented names (á, ñ) look right, or save it as CSV UTF-8."
    )
    try:
        return data.decode("cp1252"), "cp1252", [note]
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", [note]


def sniff_delimiter(text: str, filename: str = "") -> str:
    """Pick , ; tab or | from the header line (a .tsv file is tab-separated)."""
    if filename.lower().endswith((".tsv", ".tab")):
        return "\t"
    first = text.split("\n", 1)[0]
    first = re.sub(r'"[^"]*"', "", first)  # ignore delimiters inside quoted names
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_text(
    data: bytes, *, name: str, filename: str = "", limits: Limits = DEFAULT_LIMITS
) -> RawTable:
    """Open delimited text; chunks carry ``_row`` (header = row 1).

    UTF-8 text that pyarrow's CSV reader accepts is read by it (fast, multithreaded);
    anything else (another encoding, a ragged or blank row) by pandas' parser, as before.
    """
    fast = _open_arrow(data, name=name, filename=filename, limits=limits)
    if fast is not None:
        return fast
    text, encoding, warnings = decode_text(data, name)
    if not text.strip():
        raise InputError(f"{name}: the file is empty; export the table again with its rows")
    sep = sniff_delimiter(text[:100_000], filename)
    # pandas decodes bytes itself (faster than a StringIO); non-UTF-8 goes through the text.
    utf8 = encoding == "utf-8-sig"
    del text
    options = dict(sep=sep, dtype=str, na_filter=False, skip_blank_lines=False,
                   index_col=False, engine="c")  # fmt: skip

    def source() -> io.IOBase:
        return io.BytesIO(data) if utf8 else io.StringIO(data.decode(encoding, "replace"))

    try:
        columns = [
            str(c)
            for c in pd.read_csv(
                source(), nrows=0, encoding="utf-8-sig" if utf8 else None, **options
            ).columns  # fmt: skip
        ]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        raise InputError(f"{name}: cannot be read as a table ({_short(exc)}); {_fix()}") from None
    if not columns:
        raise InputError(f"{name}: the file has no header row; {_fix()}")

    def read(keep: list[str] | None = None) -> Iterator[pd.DataFrame]:
        try:
            reader = pd.read_csv(source(), chunksize=CHUNK_ROWS,
                                 encoding="utf-8-sig" if utf8 else None,
                                 **options)  # fmt: skip
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
            raise InputError(
                f"{name}: cannot be read as a table ({_short(exc)}); {_fix()}"
            ) from None
        return _text_chunks(reader, name, columns, limits)

    return RawTable(columns, read, warnings)


def _text_chunks(reader, name: str, columns: list[str], limits: Limits) -> Iterator[pd.DataFrame]:
    start = 0
    deadline = time.monotonic() + limits.read_seconds
    while True:
        try:
            chunk = next(reader)
        except StopIteration:
            return
        except (pd.errors.ParserError, csv.Error, ValueError) as exc:
            raise InputError(
                f"{name}: cannot be read as a table ({_short(exc)}); {_fix()}"
            ) from None
        chunk.columns = columns
        chunk[ROW] = pd.RangeIndex(start + 2, start + 2 + len(chunk))
        start += len(chunk)
        _check_limits(name, start, deadline, limits)
        yield chunk


def _open_arrow(data: bytes, *, name: str, filename: str, limits: Limits) -> RawTable | None:
    """The fast path of :func:`open_text`, or None to take the pandas path.

    Only the head of the file is decoded (to find the delimiter and the header); pyarrow
    checks that every cell is UTF-8 while parsing.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:8192]:
        return None
    head = data[:_HEAD_BYTES]
    if len(data) > len(head):
        head = head[: head.rfind(b"\n") + 1]  # whole lines: no cut multi-byte character
    try:
        head_text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not head_text.strip():
        return None
    sep = sniff_delimiter(head_text[:100_000], filename)
    try:
        header = pd.read_csv(io.BytesIO(data), nrows=0, encoding="utf-8-sig", sep=sep,
                             dtype=str, na_filter=False, skip_blank_lines=False,
                             index_col=False, engine="c")  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError):
        return None
    columns = [str(c) for c in header.columns]
    if not columns:
        return None
    arrow = _arrow_table(data, sep, len(columns))
    if arrow is None:
        return None

    def read(keep: list[str] | None = None) -> Iterator[pd.DataFrame]:
        return _arrow_chunks(arrow, name, columns, limits, keep)

    return RawTable(columns, read, [])


def _arrow_table(data: bytes, sep: str, width: int) -> pa.Table | None:
    """The body of UTF-8 delimited text as an Arrow table of strings, or None.

    pyarrow's CSV reader (multithreaded when :data:`ARROW_THREADS`) keeps every cell as
    text, empty cells as "" (like ``na_filter=False``), quoted newlines inside values. It
    refuses a row whose field count differs from the header's, a blank line and invalid
    UTF-8; with several threads it cannot say which row, so None sends the file to the
    pandas parser, which reads it as it always did or names the line it stops at.
    """
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(use_threads=ARROW_THREADS, column_names=names),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # the header is parsed as row 0 and dropped: skip_rows counts lines, and a quoted
    # header cell may hold a newline
    return table.slice(1)


def _arrow_chunks(
    arrow: pa.Table, name: str, columns: list[str], limits: Limits, keep: list[str] | None
) -> Iterator[pd.DataFrame]:
    """The Arrow table in CHUNK_ROWS slices as raw text frames with ``_row`` (header = 1).

    Only the ``keep`` columns are converted to pandas (all when None); whether a row is
    blank in every column is computed in Arrow and sent as the ``_blank`` column.
    """
    deadline = time.monotonic() + limits.read_seconds
    _check_limits(name, arrow.num_rows, deadline, limits)
    wanted = set(columns if keep is None else keep)
    picks = [i for i, c in enumerate(columns) if c in wanted]
    for start in range(0, arrow.num_rows, CHUNK_ROWS):
        part = arrow.slice(start, CHUNK_ROWS)
        blank = pc.equal(part.column(0), "")
        for i in range(1, part.num_columns):
            blank = pc.and_(blank, pc.equal(part.column(i), ""))
        chunk = part.select(picks).to_pandas()
        chunk.columns = [columns[i] for i in picks]
        chunk[ROW] = pd.RangeIndex(start + 2, start + 2 + len(chunk))
        chunk[BLANK] = blank.to_numpy()
        _check_limits(name, start + len(chunk), deadline, limits)
        yield chunk


def _check_limits(name: str, rows: int, deadline: float, limits: Limits) -> None:
    if rows > limits.max_rows:
        raise LimitError(
            f"{name}: more than {limits.max_rows:,} rows (the limit); split the file or filter "
            "it (by date or region) before loading"
        )
    if time.monotonic() > deadline:
        raise LimitError(
            f"{name}: reading took longer than {limits.read_seconds:g} s (the limit) after "
            f"{rows:,} rows; split the file or filter it before loading"
        )


def open_xlsx(data: bytes, *, name: str, limits: Limits = DEFAULT_LIMITS) -> RawTable:
    """Open the first sheet of an XLSX workbook; ``_row`` is the sheet's row number."""
    import openpyxl  # heavy; only when an XLSX arrives
    from openpyxl.utils.exceptions import InvalidFileException

    from atlas.vectorio import check_zip

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            f"{name}: cannot be opened as an XLSX workbook ({_short(exc)}); save it again "
            "as .xlsx or as CSV UTF-8"
        ) from None
    with archive:
        check_zip(archive, name, limits)  # LimitError for zip bombs, before inflating
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InputError(
            f"{name}: cannot be opened as an XLSX workbook ({_short(exc)}); save it again "
            "as .xlsx or as CSV UTF-8"
        ) from None
    sheets = book.worksheets
    if not sheets:
        raise InputError(f"{name}: the workbook has no sheets")
    sheet = sheets[0]
    warnings = []
    if len(sheets) > 1:
        warnings.append(
            f"{name}: only the first sheet ({sheet.title!r}) was read; the workbook has "
            f"{len(sheets)} sheets."
        )
    rows = sheet.iter_rows(values_only=True)
    deadline = time.monotonic() + limits.read_seconds
    header: tuple | None = None
    header_row = 0
    for number, values in enumerate(rows, start=1):
        if any(v not in (None, "") for v in values):
            header, header_row = values, number
            break
    if header is None:
        raise InputError(f"{name}: the first sheet is empty; put the table on the first sheet")
    columns = [_cell(v) or f"column_{i + 1}" for i, v in enumerate(header)]
    width = len(columns)
    body: list[list[str]] = []
    numbers: list[int] = []
    for number, values in enumerate(rows, start=header_row + 1):
        cells = [_cell(v) for v in values[:width]]
        cells += [""] * (width - len(cells))
        body.append(cells)
        numbers.append(number)
        if len(body) % 10_000 == 0:
            _check_limits(name, len(body), deadline, limits)
    _check_limits(name, len(body), deadline, limits)
    book.close()
    frame = pd.DataFrame(body, columns=columns, dtype=object)
    frame[ROW] = numbers
    frames = [frame] if len(frame) else []

    def read(keep: list[str] | None = None) -> Iterator[pd.DataFrame]:
        return iter(frames)

    return RawTable(columns, read, warnings)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _fix() -> str:
    return (
        "check the delimiter and quoting: it must be a comma-, semicolon- or tab-separated "
        "table with one header row and the same number of fields on every row"
    )


__all__ = [
    "ALIASES",
    "BLANK",
    "RawTable",
    "decode_text",
    "normalise_name",
    "open_text",
    "open_xlsx",
    "plan_columns",
    "sniff_delimiter",
    "stage",
]
