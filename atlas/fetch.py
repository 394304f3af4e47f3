"""Download, verify and cache the catalogue's sources (pooch).

* Cache folder: ``cache_dir`` argument, else env ``CONFLICT_ATLAS_CACHE``, else the
  platform's user cache (``~/.cache/conflict-atlas`` on Linux). Each source lives in
  ``<cache>/<id>/<filename>``.
* Mirror: ``mirror`` argument or env ``CONFLICT_ATLAS_MIRROR=http://host/path`` replaces
  the URL with ``{mirror}/{id}/{filename}`` (an offline copy, or a local test server).
* A known sha256 is checked on every download; pooch writes to a temporary file in the
  cache folder and moves it into place only when complete and matching, so a failed
  checksum, a dropped connection or a short body leaves no file behind.
* Sources without a published sha256 are trusted on first download: the hash seen is
  written to ``<filename>.sha256`` next to the file and a :class:`TrustOnFirstUseWarning`
  is issued; later runs check the file against that record.
* UCDP GED: the global zip is streamed (the CSV inside is read in chunks, never whole)
  and only one country's rows (Peru, ``country_id`` 135, by default) are written as
  GeoParquet in the cache; that file is what ``fetch`` returns.
"""

from __future__ import annotations

import hashlib
import os
import sys
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pooch
import requests

from atlas.catalog import PERU_COUNTRY_ID, CatalogEntry, get_entry
from atlas.crs import DISPLAY_CRS
from atlas.errors import FetchError

CACHE_ENV = "CONFLICT_ATLAS_CACHE"
MIRROR_ENV = "CONFLICT_ATLAS_MIRROR"
APP_NAME = "conflict-atlas"
TIMEOUT_S = 60
CHUNK_ROWS = 20_000
#: Numeric UCDP GED columns (the rest are kept as text).
_GED_NUMERIC = (
    "id",
    "year",
    "active_year",
    "type_of_violence",
    "where_prec",
    "latitude",
    "longitude",
    "country_id",
    "event_clarity",
    "date_prec",
    "number_of_sources",
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "best",
    "high",
    "low",
)


class TrustOnFirstUseWarning(UserWarning):
    """A source had no published sha256; the hash seen on first download was recorded."""


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The cache folder: argument, else $CONFLICT_ATLAS_CACHE, else the user cache."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(pooch.os_cache(APP_NAME))


def source_url(entry: CatalogEntry, mirror: str | None = None) -> str:
    """The URL to download from: ``{mirror}/{id}/{filename}`` when a mirror is set."""
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV, "").strip()
    if mirror:
        return f"{mirror.rstrip('/')}/{entry.id}/{entry.filename}"
    return entry.url


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_path(entry_id: str, cache_dir: str | Path | None = None) -> Path | None:
    """Path of a source already in the cache (the GeoParquet for UCDP), else None."""
    entry = get_entry(entry_id)
    folder = cache_root(cache_dir) / entry.id
    path = _ged_parquet_path(folder, PERU_COUNTRY_ID) if entry.kind == "ucdp-ged" else None
    path = path or folder / entry.filename
    return path if path.is_file() else None


def _download(entry: CatalogEntry, folder: Path, url: str, progress: bool) -> tuple[Path, str]:
    """Download one file through pooch; return its path and a one-line status."""
    target = folder / entry.filename
    record = folder / (entry.filename + ".sha256")
    existed = target.is_file()
    known = entry.sha256
    if known is None and record.is_file():
        known = record.read_text(encoding="utf-8").split()[0]
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=TIMEOUT_S)
    try:
        path = Path(
            pooch.retrieve(
                url,
                known_hash=f"sha256:{known}" if known else None,
                fname=entry.filename,
                path=folder,
                downloader=downloader,
                progressbar=progress,
            )
        )
    except ValueError as exc:  # pooch's checksum mismatch
        raise FetchError(
            f"{entry.id}: the file from {url} does not match its sha256 ({exc}). Nothing "
            "was kept. The server sent something else (changed file, error page or "
            "tampering): check the URL/mirror, or report it if the source changed."
        ) from None
    except requests.exceptions.RequestException as exc:
        raise FetchError(
            f"{entry.id}: download from {url} failed ({type(exc).__name__}: {exc}). Nothing "
            f"was kept. Check the network, or set {MIRROR_ENV} to a mirror holding "
            f"{entry.id}/{entry.filename}, then run `conflict-atlas fetch {entry.id}` again."
        ) from None
    except OSError as exc:
        raise FetchError(
            f"{entry.id}: could not write to the cache {folder} ({exc}). Choose a writable "
            f"folder with --cache or {CACHE_ENV}."
        ) from None
    digest = sha256_of(path)
    if known is None:
        record.write_text(f"{digest}  {entry.filename}\n", encoding="utf-8")
        message = (
            f"{entry.id}: no published sha256; trusted on first download and recorded "
            f"{digest} in {record}. Later downloads are checked against it."
        )
        warnings.warn(message, TrustOnFirstUseWarning, stacklevel=3)
        return path, message
    verb = "verified in cache" if existed else "downloaded and verified"
    return path, f"{entry.id}: {verb} (sha256 {digest[:12]}...) -> {path}"


def _ged_parquet_path(folder: Path, country_id: int) -> Path:
    return folder / f"ged_country_{int(country_id)}.parquet"


def filter_ged_zip(zip_path: Path, out: Path, *, country_id: int = PERU_COUNTRY_ID) -> int:
    """Stream the CSV inside a UCDP GED zip, keep one country, write GeoParquet.

    The CSV is read in chunks of ``CHUNK_ROWS`` rows as text, so the global file is
    never in memory. Returns the number of rows written.
    """
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile:
        raise FetchError(f"{zip_path.name}: not a zip file; delete it and fetch again") from None
    with archive:
        members = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if len(members) != 1:
            raise FetchError(
                f"{zip_path.name}: expected one CSV inside, found {len(members)} "
                f"({', '.join(members) or 'none'}); the UCDP release format may have changed"
            )
        kept = []
        with archive.open(members[0]) as fh:
            reader = pd.read_csv(
                fh, dtype=str, keep_default_na=False, chunksize=CHUNK_ROWS, encoding="utf-8"
            )
            for chunk in reader:
                if "country_id" not in chunk.columns:
                    raise FetchError(
                        f"{zip_path.name}/{members[0]}: no country_id column; not a UCDP GED CSV"
                    )
                kept.append(chunk[chunk["country_id"].str.strip() == str(int(country_id))])
    frame = pd.concat(kept, ignore_index=True)
    for col in _GED_NUMERIC:
        if col in frame.columns:
            values = pd.to_numeric(frame[col].replace("", pd.NA), errors="coerce")
            # convert only when every non-empty cell is a number; otherwise keep the text
            # so nothing is silently lost (the incident reader reports bad cells)
            if (values.notna() | (frame[col] == "")).all():
                frame[col] = values
    lon = pd.to_numeric(frame["longitude"], errors="coerce")
    lat = pd.to_numeric(frame["latitude"], errors="coerce")
    geometry = gpd.points_from_xy(lon, lat, crs=DISPLAY_CRS)
    gdf = gpd.GeoDataFrame(frame, geometry=geometry, crs=DISPLAY_CRS)
    tmp = out.with_suffix(".parquet.part")
    gdf.to_parquet(tmp, index=False)
    tmp.replace(out)
    return len(gdf)


def fetch_one(
    entry_id: str,
    *,
    cache_dir: str | Path | None = None,
    mirror: str | None = None,
    progress: bool = False,
    country_id: int = PERU_COUNTRY_ID,
) -> tuple[Path, str]:
    """Fetch one catalogue source; return its path and a status line for people."""
    entry = get_entry(entry_id)
    folder = cache_root(cache_dir) / entry.id
    url = source_url(entry, mirror)
    path, message = _download(entry, folder, url, progress)
    if entry.kind != "ucdp-ged":
        return path, message
    out = _ged_parquet_path(folder, country_id)
    if out.is_file() and out.stat().st_mtime >= path.stat().st_mtime:
        return out, f"{message}\n{entry.id}: country {country_id} extract in cache -> {out}"
    n = filter_ged_zip(path, out, country_id=country_id)
    return out, f"{message}\n{entry.id}: kept {n:,} rows with country_id {country_id} -> {out}"


def fetch(
    ids: list[str] | tuple[str, ...],
    *,
    cache_dir: str | Path | None = None,
    mirror: str | None = None,
    progress: bool = False,
    country_id: int = PERU_COUNTRY_ID,
) -> dict[str, Path]:
    """Download (or find in the cache) and verify each source; return id -> local path."""
    progress = progress and sys.stderr.isatty()
    return {
        i: fetch_one(
            i, cache_dir=cache_dir, mirror=mirror, progress=progress, country_id=country_id
        )[0]
        for i in ids
    }
