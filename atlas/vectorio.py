"""Open any vector file safely: GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ.

Files come from strangers, so before GDAL sees anything this module checks the size,
the zip directory (paths that escape, symlinks, too many members, zip bombs by total size
or ratio) and refuses XML entity declarations in KML. Archives are extracted into a
temporary folder with the written bytes counted, not trusted from the zip header.

The result is *raw*: columns as the file has them, CRS as declared (``None`` when a
Shapefile has no ``.prj``). Validation, CRS decisions and reprojection are the caller's
(:mod:`atlas.regions`, :mod:`atlas.readers.vector`).
"""

from __future__ import annotations

import re
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path, PurePosixPath
from typing import TypeVar

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors

from atlas.errors import InputError, LimitError
from atlas.safety import DEFAULT_LIMITS, Limits

#: Extensions accepted (lower case) -> GDAL drivers allowed to open them. The content is
#: checked too, so a file named .geojson that is really a GDAL VRT (which can read other
#: files on this machine) is refused.
VECTOR_EXTENSIONS: dict[str, tuple[str, ...]] = {
    ".geojson": ("GeoJSON",),
    ".json": ("GeoJSON",),
    ".gpkg": ("GPKG",),
    ".kml": ("LIBKML", "KML"),  # LIBKML (ExtendedData as columns) when GDAL has it
    ".zip": (),
    ".kmz": (),
}
_INNER_DRIVERS: dict[str, tuple[str, ...]] = {**VECTOR_EXTENSIONS, ".shp": ("ESRI Shapefile",)}
#: Data files looked for inside an archive, in order of preference.
_INNER_EXTENSIONS = (".shp", ".gpkg", ".geojson", ".json", ".kml")
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf")
_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
)
_ENTITY = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_NETWORK_LINK = re.compile(rb"<(\w+:)?NetworkLink[\s>]", re.IGNORECASE)
_CHUNK = 1 << 20


def _suffix(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".shp.zip"):
        return ".zip"
    return Path(lower).suffix


def _sniff(head: bytes) -> str | None:
    """Guess an extension from the first bytes of an unnamed upload."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK\x03\x04"):
        return ".zip"
    if head.startswith(b"SQLite format 3\x00"):
        return ".gpkg"
    if stripped.startswith(b"{"):
        return ".geojson"
    if stripped.startswith(b"<") and b"<kml" in head[:4096].lower():
        return ".kml"
    return None


def read_vector(
    src: str | Path | bytes,
    *,
    filename: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> gpd.GeoDataFrame:
    """Read a vector file (path or uploaded bytes) into a raw GeoDataFrame.

    ``filename`` names the input in messages and gives the format for bytes uploads
    (otherwise the first bytes are sniffed). Several layers (KML folders, GeoPackage
    tables) are stacked with a ``source_layer`` column. Raises InputError / LimitError
    naming the input and the fix.
    """
    with tempfile.TemporaryDirectory(prefix="atlas-vec-") as tmp:
        tmpdir = Path(tmp)
        if isinstance(src, bytes | bytearray | memoryview):
            data = bytes(src)
            name = filename or "upload"
            if len(data) > limits.max_bytes:
                raise LimitError(
                    f"{name}: {len(data):,} bytes is over the {limits.max_bytes:,}-byte limit; "
                    "simplify or split the file"
                )
            ext = _suffix(name) if filename else None
            if ext not in VECTOR_EXTENSIONS:
                ext = _sniff(data[:4096]) if not filename else ext
            if ext not in VECTOR_EXTENSIONS:
                raise InputError(_unknown_format(name))
            path = tmpdir / f"upload{ext}"
            path.write_bytes(data)
        else:
            path = Path(src)
            name = filename or path.name
            if not path.is_file():
                raise InputError(f"{name}: file not found ({path}); check the path")
            size = path.stat().st_size
            if size > limits.max_bytes:
                raise LimitError(
                    f"{name}: {size:,} bytes is over the {limits.max_bytes:,}-byte limit; "
                    "simplify or split the file"
                )
            ext = _suffix(name)
            if ext == ".shp":
                raise InputError(
                    f"{name}: a Shapefile is several files; zip the .shp, .shx, .dbf and "
                    ".prj together and give the .zip"
                )
            if ext not in VECTOR_EXTENSIONS:
                raise InputError(_unknown_format(name))
        if ext in (".zip", ".kmz"):
            inner = _extract_zip(path, name, tmpdir / "unzipped", limits)
            return _read_file(inner, f"{name}!{inner.name}", limits)
        return _read_file(path, name, limits)


def _unknown_format(name: str) -> str:
    return (
        f"{name}: unknown vector format; use GeoJSON (.geojson), GeoPackage (.gpkg), "
        "a zipped Shapefile (.zip) or KML (.kml/.kmz)"
    )


# ---- zip safety ------------------------------------------------------------------------
def _unsafe_member(member: str) -> bool:
    if member.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", member):
        return True
    parts = PurePosixPath(member.replace("\\", "/")).parts
    return ".." in parts


def check_zip(zf: zipfile.ZipFile, name: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse an archive from its directory alone, before anything is extracted."""
    infos = zf.infolist()
    if len(infos) > limits.max_zip_members:
        raise LimitError(
            f"{name}: the zip has {len(infos):,} members, over the limit of "
            f"{limits.max_zip_members:,}; zip only the files needed"
        )
    for info in infos:
        if _unsafe_member(info.filename):
            raise LimitError(
                f"{name}: zip member {info.filename!r} points outside the archive folder "
                "(absolute path or '..'); refused. Re-create the zip from the data folder"
            )
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise LimitError(
                f"{name}: zip member {info.filename!r} is a symbolic link; refused. "
                "Zip the real files"
            )
        if info.flag_bits & 0x1:
            raise InputError(
                f"{name}: zip member {info.filename!r} is encrypted; give an unencrypted zip"
            )
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if total > limits.max_unzipped_bytes:
        raise LimitError(
            f"{name}: the zip would unpack to {total:,} bytes, over the "
            f"{limits.max_unzipped_bytes:,}-byte limit; give a smaller file"
        )
    ratio = total / max(packed, 1)
    if total > _CHUNK and ratio > limits.max_zip_ratio:
        raise LimitError(
            f"{name}: the zip expands {ratio:,.0f} times (limit {limits.max_zip_ratio:,.0f}), "
            "which looks like a zip bomb; refused"
        )


def _extract_zip(path: Path, name: str, dest: Path, limits: Limits) -> Path:
    """Check, extract (counting real bytes) and return the one data file inside."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name}: not a readable zip file ({exc})") from None
    with zf:
        check_zip(zf, name, limits)
        dest.mkdir(parents=True, exist_ok=True)
        written = 0
        for info in zf.infolist():
            if info.is_dir() or info.filename.startswith("__MACOSX/"):
                continue
            target = dest.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
            if not target.resolve().is_relative_to(dest.resolve()):  # belt and braces
                raise LimitError(f"{name}: zip member {info.filename!r} escapes; refused")
            target.parent.mkdir(parents=True, exist_ok=True)
            member_bytes = 0
            try:
                with zf.open(info) as fin, open(target, "wb") as fout:
                    while chunk := fin.read(_CHUNK):
                        member_bytes += len(chunk)
                        written += len(chunk)
                        if member_bytes > info.file_size or written > limits.max_unzipped_bytes:
                            raise LimitError(
                                f"{name}: zip member {info.filename!r} unpacks to more than "
                                "its header says; refused"
                            )
                        fout.write(chunk)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError) as exc:
                raise InputError(
                    f"{name}: zip member {info.filename!r} cannot be unpacked ({exc})"
                ) from None
    files = [p for p in dest.rglob("*") if p.is_file()]
    for ext in _INNER_EXTENSIONS:
        found = sorted(p for p in files if p.suffix.lower() == ext)
        if not found:
            continue
        if len(found) > 1:
            listed = ", ".join(p.name for p in found[:5])
            raise InputError(
                f"{name}: the zip holds {len(found)} {ext} files ({listed}); "
                "give one data set per zip"
            )
        data_file = found[0]
        if ext == ".shp":
            _check_shapefile_parts(data_file, name)
        return data_file
    shown = ", ".join(p.name for p in files[:8]) or "nothing"
    raise InputError(
        f"{name}: the zip holds no vector data ({shown}); it needs a Shapefile "
        "(.shp, .shx, .dbf, .prj), a .gpkg, a .geojson or a .kml"
    )


def _check_shapefile_parts(shp: Path, name: str) -> None:
    siblings = {p.suffix.lower(): p for p in shp.parent.iterdir() if p.stem == shp.stem}
    for ext in (".dbf", ".shx"):
        if ext not in siblings:
            raise InputError(
                f"{name}: the zip has no {ext}; a Shapefile needs .shp, .shx and .dbf "
                "together (and .prj for its CRS)"
            )


# ---- reading ---------------------------------------------------------------------------
def _read_file(path: Path, name: str, limits: Limits) -> gpd.GeoDataFrame:
    ext = path.suffix.lower()
    allowed = _INNER_DRIVERS[ext]
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if ext == ".shp":
        if head[:4] != b"\x00\x00\x27\x0a":
            raise InputError(f"{name}: not a Shapefile (.shp header missing)")
    elif _sniff(head) != (".geojson" if ext == ".json" else ext):
        raise InputError(
            f"{name}: the content is not {ext} data; " + _unknown_format(name).split("; ", 1)[1]
        )
    if ext == ".kml" and _ENTITY.search(head):
        raise InputError(
            f"{name}: the KML declares a DOCTYPE/ENTITY, which is refused for safety; "
            "export it again without one"
        )
    if ext == ".kml" and _NETWORK_LINK.search(path.read_bytes()):
        raise InputError(
            f"{name}: the KML has a NetworkLink (content fetched from elsewhere), which is "
            "refused; export the features themselves"
        )
    try:
        layers = pyogrio.list_layers(path)
    except _GDAL_ERRORS as exc:
        raise InputError(
            f"{name}: cannot be opened as vector data ({_short(exc, path, name)})"
        ) from None
    names = [str(row[0]) for row in layers if row[1] is not None] or [str(row[0]) for row in layers]
    if not names:
        raise InputError(f"{name}: the file holds no layers")
    frames: list[gpd.GeoDataFrame] = []
    rows = 0
    deadline = time.monotonic() + limits.read_seconds
    for layer in names:
        try:
            info = pyogrio.read_info(path, layer=layer)
        except _GDAL_ERRORS as exc:
            raise InputError(
                f"{name}: layer {layer!r} cannot be read ({_short(exc, path, name)})"
            ) from None
        if info.get("driver") not in allowed:
            raise InputError(
                f"{name}: opened as {info.get('driver')} data, expected {' or '.join(allowed)}; "
                "refused"
            )
        rows += max(int(info.get("features") or 0), 0)
        if rows > limits.max_rows:
            raise LimitError(
                f"{name}: more than {limits.max_rows:,} features; split or filter the file"
            )
        try:
            frame = _within_deadline(
                lambda layer=layer: pyogrio.read_dataframe(path, layer=layer),
                deadline,
                name,
                limits.read_seconds,
            )
        except _GDAL_ERRORS as exc:
            raise InputError(
                f"{name}: layer {layer!r} cannot be read ({_short(exc, path, name)})"
            ) from None
        if not isinstance(frame, gpd.GeoDataFrame):
            continue  # a table without geometry (e.g. a GeoPackage attribute table)
        frame.attrs["layer"] = layer
        frames.append(frame)
    if not frames:
        raise InputError(f"{name}: no layer with geometry; give points or polygons")
    if len(frames) == 1:
        out = frames[0]
    else:
        crss = {str(f.crs) for f in frames}
        if len(crss) > 1:
            raise InputError(
                f"{name}: its layers use different CRSs ({', '.join(sorted(crss))}); "
                "give one layer per file"
            )
        for frame in frames:
            frame["source_layer"] = frame.attrs["layer"]
        out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    out.attrs["source_name"] = name
    return out


_T = TypeVar("_T")


def _within_deadline(read: Callable[[], _T], deadline: float, name: str, budget: float) -> _T:
    """Run one GDAL read in a worker thread and give up waiting at ``deadline``.

    A GDAL read cannot be interrupted; the page gets a LimitError on time and the
    abandoned read (already bounded by the size and feature limits) ends by itself.
    """
    message = (
        f"{name}: reading took longer than {budget:g} s (the limit); split the file or "
        "simplify its geometry"
    )
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise LimitError(message)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atlas-read")
    try:
        return pool.submit(read).result(timeout=remaining)
    except FutureTimeout:
        raise LimitError(message) from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _short(exc: BaseException, path: Path | None = None, name: str = "") -> str:
    """GDAL's reason in a reader's words: the file's own name where GDAL printed the
    temporary copy's path (a server folder the reader never sees), without the SQL GDAL
    ran on a GeoPackage, each repeated clause once."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if path is not None:
        text = text.replace(str(path), name).replace(str(path.parent), "")
    text = re.sub(r"sqlite3_\w+\(.*?\) failed: ", "", text)
    text = "; ".join(dict.fromkeys(p.strip() for p in text.split(";") if p.strip()))
    return text[:200]


__all__ = ["VECTOR_EXTENSIONS", "check_zip", "read_vector"]
