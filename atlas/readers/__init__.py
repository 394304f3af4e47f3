"""Incident readers: one declaration per source, one shared validator.

:func:`read_incidents` opens any supported input (ACLED export CSV, UCDP GED CSV, any
CSV/TSV/XLSX table with coordinates, point GeoJSON/GeoPackage/zipped Shapefile/KML),
detects the source, stages its columns, validates every row and returns the canonical
GeoDataFrame (:data:`atlas.schema.INCIDENT_COLUMNS`, EPSG:4326) with a
:class:`~atlas.schema.LoadReport`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import geopandas as gpd
import pandas as pd

from atlas.errors import InputError, LimitError
from atlas.readers import acled, table, ucdp, vector
from atlas.readers.validate import ROW, TABLE_DATE_FORMATS, finish, validate_chunk
from atlas.safety import DEFAULT_LIMITS, Limits
from atlas.schema import LoadReport

#: Bump when the readers' output for the same file changes: it keys the operator cache.
READER_VERSION = "2"
SOURCES: tuple[str, ...] = ("auto", "acled", "ucdp", "table", "vector")
TEXT_EXTENSIONS = (".csv", ".tsv", ".tab", ".txt")
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
VECTOR_EXTENSIONS = (".geojson", ".json", ".gpkg", ".kml", ".kmz", ".zip", ".shp")


def read_incidents(
    src: str | Path | bytes | BinaryIO,
    *,
    source: str = "auto",
    filename: str | None = None,
    mapping: dict[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    today: dt.date | None = None,
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    """Read incidents from a path, bytes or a binary file object.

    ``source`` is "auto" (by extension and columns), "acled", "ucdp", "table" or "vector".
    ``filename`` names an upload (and gives its format); ``mapping`` maps canonical column
    names to the file's (``{"latitude": "MyLat"}``); ``today`` dates the future-date check.
    Raises InputError/LimitError naming the file and the fix.
    """
    if source not in SOURCES:
        raise InputError(f"source={source!r} is not known; use one of {', '.join(SOURCES)}")
    data, path, name = _load(src, filename, limits, source)
    ext = _extension(name)
    stem = name[: -len(".shp.zip")] if name.lower().endswith(".shp.zip") else Path(name).stem
    if source == "auto" and ext == "" and _looks_vector(data):
        ext = ".vector"
    if source == "vector" or (source == "auto" and ext in (*VECTOR_EXTENSIONS, ".vector")):
        return _read_vector(
            data if path is None else path, name, filename, stem, mapping, limits, today
        )
    if ext in XLSX_EXTENSIONS or (ext == "" and data[:4] == b"PK\x03\x04"):
        raw = table.open_xlsx(data, name=name, limits=limits)
    elif ext in TEXT_EXTENSIONS or ext == "" or source != "auto":
        raw = table.open_text(data, name=name, filename=name, limits=limits)
    else:
        raise InputError(
            f"{name}: unknown format {ext!r}; give a CSV/TSV/XLSX table or a GeoJSON, "
            "GeoPackage, KML or zipped Shapefile"
        )
    counters: dict[str, int] = {}
    kind, dataset, formats, stage, keep = plan_table(
        raw.columns, source=source, name=name, stem=stem, mapping=mapping, counters=counters
    )
    report = LoadReport(source=name, kind=kind, warnings=list(raw.warnings))
    parts = []
    blank_rows = 0
    for chunk in raw.read(keep):
        if table.BLANK in chunk.columns:
            blank = chunk.pop(table.BLANK)
        else:
            blank = chunk.drop(columns=ROW).fillna("").eq("").all(axis=1)
        if blank.any():
            blank_rows += int(blank.sum())
            chunk = chunk[~blank]
        report.rows_read += len(chunk)
        if len(chunk):
            parts.append(validate_chunk(stage(chunk), report, date_formats=formats,
                                        counters=counters))  # fmt: skip
    if blank_rows:
        report.warnings.append(
            f"{blank_rows:,} blank {'row was' if blank_rows == 1 else 'rows were'} skipped "
            "(not counted as read)."
        )
    if report.rows_read == 0:
        raise InputError(
            f"{name}: the file has a header but no data rows; export the table again with its rows"
        )
    _precision_warnings(report, counters)
    return finish(parts, report, dataset=dataset, today=today, counters=counters), report


def plan_table(
    columns: list[str],
    *,
    source: str,
    name: str,
    stem: str,
    mapping: dict[str, str] | None,
    counters: dict[str, int],
) -> tuple[str, str, tuple[str, ...], Callable[[pd.DataFrame], pd.DataFrame], list[str]]:
    """How to stage a table with this header: (kind, dataset, date formats, stage, columns).

    ``kind`` is acled/ucdp/table (detected when ``source`` is "auto"); ``stage`` maps one
    raw chunk to staged canonical columns (counting facts in ``counters``); the columns
    are the raw ones ``stage`` reads. Shared by :func:`read_incidents` and the dask engine.
    """
    kind = source
    if source == "auto":
        kind = "table"
        if acled.matches(columns):
            kind = "acled"
        elif ucdp.matches(columns):
            kind = "ucdp"
    if kind in ("acled", "ucdp") and mapping:
        raise InputError(f"{name}: mapping is only used for source='table' or 'vector'")
    if kind == "acled":
        _require(acled.SIGNATURE | {"latitude", "longitude"}, columns, name, "ACLED")
        dataset, formats, used = acled.DATASET, acled.DATE_FORMATS, acled.USED
        stage = acled.stage
    elif kind == "ucdp":
        _require(ucdp.SIGNATURE | {"latitude", "longitude"}, columns, name, "UCDP GED")
        dataset, formats, used = ucdp.DATASET, ucdp.DATE_FORMATS, ucdp.USED
        stage = ucdp.stage
    else:
        plan = table.plan_columns(columns, name=name, mapping=mapping)
        dataset, formats = stem, TABLE_DATE_FORMATS
        used = frozenset(c.strip().lower() for c in plan.values())

        def stage(chunk: pd.DataFrame) -> pd.DataFrame:
            return table.stage(chunk, plan, dataset=dataset, counters=counters)

    keep = [c for c in columns if c.strip().lower() in used]
    return kind, dataset, formats, stage, keep


def _read_vector(
    src: str | Path | bytes,
    name: str,
    filename: str | None,
    stem: str,
    mapping: dict[str, str] | None,
    limits: Limits,
    today: dt.date | None,
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    gdf, warnings = vector.open_vector(src, name=name, filename=filename, limits=limits)
    if len(gdf) > limits.max_rows:
        raise LimitError(
            f"{name}: {len(gdf):,} features is over the {limits.max_rows:,}-row limit; split "
            "or filter the file"
        )
    if not len(gdf):
        raise InputError(f"{name}: the file holds no features")
    report = LoadReport(source=name, kind="vector", rows_read=len(gdf), warnings=warnings)
    counters: dict[str, int] = {}
    staged = vector.stage(gdf, report, name=name, dataset=stem, mapping=mapping,
                          counters=counters)  # fmt: skip
    parts = [validate_chunk(staged, report, date_formats=TABLE_DATE_FORMATS, counters=counters)]
    _precision_warnings(report, counters)
    return finish(parts, report, dataset=stem, today=today, counters=counters), report


def _precision_warnings(report: LoadReport, counters: dict[str, int]) -> None:
    for col, default in (("geo_precision", "exact"), ("date_precision", "day")):
        n = counters.get(f"unknown_{col}", 0)
        if n:
            report.warnings.append(
                f"{n:,} rows had a {col} the atlas does not know; they were set to {default!r}."
            )


def _require(needed: frozenset[str], columns: list[str], name: str, what: str) -> None:
    have = {c.strip().lower() for c in columns}
    missing = sorted(needed - have)
    if missing:
        raise InputError(
            f"{name}: not a complete {what} export: missing columns {', '.join(missing)}; "
            "download the full export, or read it with source='table' and a mapping"
        )


def _looks_vector(data: bytes) -> bool:
    """An unnamed upload that is GeoJSON, KML, GeoPackage or a zip that is not a workbook."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"{", b"SQLite format 3\x00")) or b"<kml" in head.lower():
        return True
    return head.startswith(b"PK\x03\x04") and b"xl/" not in data[:65536]


def _extension(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".shp.zip"):
        return ".zip"
    return Path(lower).suffix


def _load(
    src: str | Path | bytes | BinaryIO, filename: str | None, limits: Limits, source: str
) -> tuple[bytes, Path | None, str]:
    """Bytes of the input (size-checked), its path when it is a file, and its display name."""
    if isinstance(src, bytes | bytearray | memoryview):
        data = bytes(src)
        name = filename or "upload"
        path = None
    elif isinstance(src, str | Path):
        path = Path(src)
        name = filename or path.name
        if not path.is_file():
            raise InputError(f"{name}: file not found ({path}); check the path")
        size = path.stat().st_size
        _check_size(name, size, limits)
        if source == "vector" or (source == "auto" and _extension(name) in VECTOR_EXTENSIONS):
            return b"", path, name  # vectorio reads the file itself
        data = path.read_bytes()
    elif hasattr(src, "read"):
        name = filename or Path(str(getattr(src, "name", "upload"))).name
        data = src.read(limits.max_bytes + 1)
        if isinstance(data, str):
            raise InputError(f"{name}: open the file in binary mode ('rb')")
        path = None
    else:
        raise InputError(f"{type(src).__name__} is not a file path, bytes or a binary file")
    _check_size(name, len(data), limits)
    blank = b" \t\r\n\xef\xbb\xbf"
    if not data[:65536].strip(blank) and not data.strip(blank):
        raise InputError(f"{name}: the file is empty; export the table again with its rows")
    return data, path, name


def _check_size(name: str, size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise LimitError(
            f"{name}: {size:,} bytes is over the {limits.max_bytes:,}-byte limit; split the "
            "file or filter it before loading"
        )


__all__ = ["READER_VERSION", "SOURCES", "read_incidents"]
