"""A GeoParquet cache of the operator's incident files, so a restart skips the CSV parse.

Only start-up files the operator configured (``CONFLICT_ATLAS_INCIDENTS``, read through
:func:`atlas.data.load_bundle`, when ``CONFLICT_ATLAS_CACHE`` is set) come here; uploads never do (they may be sensitive and
belong to one session). An entry is the canonical frame as GeoParquet plus its
LoadReport as JSON, under ``<cache>/incidents/``, keyed by the file's content hash, the
reader version (:data:`atlas.readers.READER_VERSION`), the source and the column mapping,
so a changed file, reader or mapping is a miss. Above a size cap
(``CONFLICT_ATLAS_INCIDENT_CACHE_BYTES``, default 2 GiB) the least recently used entries
are removed first; a hit counts as a use.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import geopandas as gpd

from atlas.errors import InputError
from atlas.fetch import cache_root
from atlas.readers import READER_VERSION, read_incidents
from atlas.safety import Limits
from atlas.schema import LoadReport

SUBDIR = "incidents"
MAX_BYTES_ENV = "CONFLICT_ATLAS_INCIDENT_CACHE_BYTES"
DEFAULT_MAX_BYTES = 2 * 2**30


def file_digest(path: Path) -> str:
    """BLAKE2b of the file's bytes, read in 8 MiB blocks."""
    digest = hashlib.blake2b(digest_size=20)
    with path.open("rb") as fh:
        while block := fh.read(8 * 2**20):
            digest.update(block)
    return digest.hexdigest()


def cache_key(path: Path, *, source: str = "auto", mapping: dict[str, str] | None = None) -> str:
    """Content hash + reader version + source + mapping: what decides the loaded frame."""
    extra = json.dumps(
        {"reader": READER_VERSION, "source": source, "mapping": mapping or {}}, sort_keys=True
    )
    tail = hashlib.blake2b(extra.encode(), digest_size=8).hexdigest()
    return f"{file_digest(path)}-{tail}"


def max_bytes_from_env() -> int:
    """The cache's size cap: ``CONFLICT_ATLAS_INCIDENT_CACHE_BYTES`` or 2 GiB."""
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise InputError(
            f"{MAX_BYTES_ENV}={raw!r} is not a whole number of bytes; set e.g. 2147483648"
        ) from None
    if value < 0:
        raise InputError(f"{MAX_BYTES_ENV}={raw!r} must be 0 or more bytes")
    return value


def read_cached(
    path: Path,
    *,
    limits: Limits,
    source: str = "auto",
    mapping: dict[str, str] | None = None,
    cache_dir: str | Path | None = None,
    max_bytes: int | None = None,
) -> tuple[gpd.GeoDataFrame, LoadReport, bool]:
    """The file's incidents and LoadReport from the cache, else read and stored.

    Returns (frame, report, hit). A cached entry that cannot be read is treated as a
    miss and replaced.
    """
    path = Path(path)
    folder = cache_root(cache_dir) / SUBDIR
    key = cache_key(path, source=source, mapping=mapping)
    frame_path, report_path = folder / f"{key}.parquet", folder / f"{key}.json"
    if frame_path.is_file() and report_path.is_file():
        try:
            report = _report_from_json(report_path.read_text(encoding="utf-8"))
            frame = gpd.read_parquet(frame_path)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # damaged entry: read the file again below
        else:
            for p in (frame_path, report_path):
                os.utime(p)  # a use: eviction goes by last use
            report.source = path.name
            return frame, report, True
    frame, report = read_incidents(path, source=source, mapping=mapping, limits=limits)
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomic(report_path, json.dumps(asdict(report)).encode("utf-8"))
    tmp = frame_path.with_name(frame_path.name + ".tmp")
    frame.to_parquet(tmp)
    tmp.replace(frame_path)
    evict(folder, max_bytes_from_env() if max_bytes is None else max_bytes, keep=key)
    return frame, report, False


def evict(folder: Path, max_bytes: int, *, keep: str = "") -> list[str]:
    """Remove least recently used entries until the folder holds at most ``max_bytes``.

    The entry ``keep`` (just written) stays even when it alone is over the cap. Returns
    the keys removed.
    """
    entries: dict[str, list[Path]] = {}
    for p in folder.glob("*"):
        if p.suffix in (".parquet", ".json"):
            entries.setdefault(p.stem, []).append(p)
    sizes = {k: sum(p.stat().st_size for p in ps) for k, ps in entries.items()}
    used = {k: max(p.stat().st_mtime for p in ps) for k, ps in entries.items()}
    total = sum(sizes.values())
    removed = []
    for k in sorted(entries, key=lambda k: used[k]):
        if total <= max_bytes:
            break
        if k == keep:
            continue
        for p in entries[k]:
            p.unlink(missing_ok=True)
        total -= sizes[k]
        removed.append(k)
    return removed


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _report_from_json(text: str) -> LoadReport:
    return LoadReport.from_dict(json.loads(text))


__all__ = ["cache_key", "evict", "file_digest", "max_bytes_from_env", "read_cached"]
