"""Self-served Leaflet assets: pinned npm tarballs, verified, extracted into static/vendor.

folium loads Leaflet and its plugins from CDNs; readers (and this machine) may not reach
them. ``python -m layers.assets`` downloads the pinned tarballs straight from the npm
registry with urllib (no node needed), checks each tarball's sha512 ``dist.integrity``
(pinned below, looked up once with ``npm view <pkg>@<ver> dist.integrity``), and
extracts only the files the maps use, plus licences, into ``static/vendor/<pkg>@<ver>/``.
The Leaflet.heat script ships inside the folium package and is copied from there.

Streamlit serves ``./static`` at ``/app/static`` when ``server.enableStaticServing`` is
on, so the map pages load ``/app/static/vendor/...``; the HTML export inlines the same
files (:func:`layers.compose.inline_html`).
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import io
import os
import posixpath
import shutil
import sys
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import folium

from atlas.errors import AtlasError, FetchError

#: Project's served folder; override with CONFLICT_ATLAS_STATIC (e.g. an installed copy).
STATIC_DIR = Path(
    os.environ.get("CONFLICT_ATLAS_STATIC", Path(__file__).resolve().parents[1] / "static")
)
VENDOR_DIR = STATIC_DIR / "vendor"
#: The npm registry (CONFLICT_ATLAS_NPM_REGISTRY points at a mirror).
NPM_REGISTRY = os.environ.get("CONFLICT_ATLAS_NPM_REGISTRY", "https://registry.npmjs.org")
_MAX_TARBALL = 20 * 1024 * 1024


@dataclass(frozen=True)
class NpmPackage:
    """One pinned npm tarball and the files (paths inside ``package/``) we keep."""

    name: str
    version: str
    integrity: str  # "sha512-<base64>", from `npm view name@version dist.integrity`
    files: tuple[str, ...]

    @property
    def folder(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def url(self) -> str:
        basename = self.name.rsplit("/", 1)[-1]
        return f"{NPM_REGISTRY}/{self.name}/-/{basename}-{self.version}.tgz"


PACKAGES: tuple[NpmPackage, ...] = (
    NpmPackage(
        "leaflet",
        "1.9.3",
        "sha512-iB2cR9vAkDOu5l3HAay2obcUHZ7xwUBBjph8+PGtmW/2lYhbLizWtG7nTeYht36WfOslixQF9D/uSIzhZgGMfQ==",
        (
            "LICENSE",
            "dist/leaflet.js",
            "dist/leaflet.css",
            "dist/images/layers.png",
            "dist/images/layers-2x.png",
            "dist/images/marker-icon.png",
            "dist/images/marker-icon-2x.png",
            "dist/images/marker-shadow.png",
        ),
    ),
    NpmPackage(
        "leaflet.markercluster",
        "1.1.0",
        "sha512-eI+XkCiLiHwCC3uZ4/n4+Vq3rXcqEHN2lhHRVG1WVziy/3Q0TTipWkzEa1zO0dKZI2AnI5ppFDWrOjnQ7MJLKQ==",
        (
            "MIT-LICENCE.txt",
            "dist/leaflet.markercluster.js",
            "dist/MarkerCluster.css",
            "dist/MarkerCluster.Default.css",
        ),
    ),
    NpmPackage(
        "jquery",
        "3.7.1",  # folium's Popup builds its content with $(...)
        "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        ("LICENSE.txt", "dist/jquery.min.js"),
    ),
    NpmPackage(
        "leaflet.sync",
        "0.2.4",  # folium's DualMap (two synced maps: periods side by side)
        "sha512-e59CcQNMFFZJWCAGzyFxcsVldWd0cU7G71q2Zh5a5Pbe7ua4G7CNQcKz51IALf0NzOyRF7ws6gjnndiVWkYN+w==",
        ("LICENSE", "L.Map.Sync.js"),
    ),
)

_FOLIUM_DIR = Path(folium.__file__).resolve().parent
_FOLIUM_FOLDER = f"folium@{folium.__version__}"
#: Files copied from the installed folium package: vendor path -> source file.
FOLIUM_FILES: dict[str, Path] = {
    f"{_FOLIUM_FOLDER}/leaflet_heat.min.js": _FOLIUM_DIR / "templates" / "leaflet_heat.min.js",
}
_folium_licence = sorted(
    _FOLIUM_DIR.parent.glob(f"folium-{folium.__version__}.dist-info/**/LICENSE*")
)
if _folium_licence:
    FOLIUM_FILES[f"{_FOLIUM_FOLDER}/LICENSE.txt"] = _folium_licence[0]

#: folium's CDN URLs the maps use -> file under VENDOR_DIR.
URL_MAP: dict[str, str] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet@1.9.3/dist/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet@1.9.3/dist/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery@3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster@1.1.0/dist/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster@1.1.0/dist/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster@1.1.0/dist/MarkerCluster.Default.css"
    ),
    # DualMap asks for the repository's head; the pinned npm release stands in for it
    "https://cdn.jsdelivr.net/gh/jieter/Leaflet.Sync/L.Map.Sync.min.js": (
        "leaflet.sync@0.2.4/L.Map.Sync.js"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": (
        f"{_FOLIUM_FOLDER}/leaflet_heat.min.js"
    ),
}


def expected_files() -> list[str]:
    """Every vendor path (relative to VENDOR_DIR) an installed asset folder must hold."""
    out = [f"{p.folder}/{f}" for p in PACKAGES for f in p.files]
    return out + list(FOLIUM_FILES)


def check_assets(vendor_dir: Path | None = None) -> list[str]:
    """Vendor paths that are missing (empty list: the maps can run offline)."""
    root = Path(vendor_dir or VENDOR_DIR)
    return [rel for rel in expected_files() if not (root / rel).is_file()]


def vendor_path(url: str) -> str:
    """The vendor path for one of folium's CDN URLs; AtlasError names an unknown one."""
    try:
        return URL_MAP[url]
    except KeyError:
        raise AtlasError(
            f"{url}: no self-served copy of this asset; add its npm package to "
            "layers.assets.PACKAGES and URL_MAP, then run `python -m layers.assets`"
        ) from None


def verify_integrity(blob: bytes, integrity: str, label: str) -> None:
    """Raise FetchError unless ``blob`` matches the npm ``sha512-<base64>`` integrity."""
    algo, _, expected = integrity.partition("-")
    if algo != "sha512" or not expected:
        raise FetchError(f"{label}: integrity {integrity!r} is not a sha512 npm integrity")
    actual = base64.b64encode(hashlib.sha512(blob).digest()).decode("ascii")
    if actual != expected:
        raise FetchError(
            f"{label}: sha512 mismatch (expected {expected[:16]}…, got {actual[:16]}…); "
            "the download is corrupt or was tampered with; nothing was installed"
        )


def extract_files(blob: bytes, files: tuple[str, ...], dest: Path, label: str) -> list[Path]:
    """Extract ``files`` (paths under ``package/``) from an npm tarball into ``dest``.

    Refuses the whole tarball when any member is a link or a path that would escape
    ``package/`` (``..``, absolute), and when a wanted file is missing.
    """
    dest = Path(dest).resolve()
    wanted = {f"package/{f}": f for f in files}
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            for member in tar.getmembers():
                name = member.name
                norm = posixpath.normpath(name)
                if (
                    name.startswith("/")
                    or norm.startswith("..")
                    or "/../" in f"/{name}/"
                    or member.issym()
                    or member.islnk()
                ):
                    raise FetchError(
                        f"{label}: tarball member {name!r} is a link or escapes the package "
                        "folder; refusing to extract anything from it"
                    )
                if member.isfile() and norm in wanted:
                    handle = tar.extractfile(member)
                    if handle is not None:
                        found[norm] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise FetchError(
            f"{label}: not a readable .tgz ({exc}); delete it and fetch again"
        ) from None
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise FetchError(f"{label}: tarball lacks {', '.join(missing)}; check the pinned version")
    written = []
    for member_name, rel in wanted.items():
        target = (dest / rel).resolve()
        if not target.is_relative_to(dest):
            raise FetchError(f"{label}: {rel!r} would be written outside {dest}; refusing")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".part")
        tmp.write_bytes(found[member_name])
        tmp.replace(target)
        written.append(target)
    return written


def download(url: str, label: str, timeout: float = 60.0) -> bytes:
    """GET ``url`` (bounded size); FetchError names the URL and what to do."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            blob = resp.read(_MAX_TARBALL + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchError(
            f"{label}: download from {url} failed ({exc}); check the network or set "
            "CONFLICT_ATLAS_NPM_REGISTRY to a reachable npm mirror"
        ) from None
    if len(blob) > _MAX_TARBALL:
        raise FetchError(f"{label}: {url} is larger than {_MAX_TARBALL // 2**20} MB; refusing")
    return blob


def install_package(
    pkg: NpmPackage, vendor_dir: Path, *, registry: str | None = None, force: bool = False
) -> bool:
    """Fetch, verify and extract one package; False when it was already complete."""
    folder = Path(vendor_dir) / pkg.folder
    if not force and all((folder / f).is_file() for f in pkg.files):
        return False
    url = pkg.url if registry is None else pkg.url.replace(NPM_REGISTRY, registry.rstrip("/"), 1)
    blob = download(url, pkg.folder)
    verify_integrity(blob, pkg.integrity, pkg.folder)
    extract_files(blob, pkg.files, folder, pkg.folder)
    return True


#: Self-served scripts are served as one file named by its content (see bundle_js).
BUNDLE_FOLDER = "bundles"


def bundle_js(urls: list[str], base_url: str = "/app/static/vendor") -> list[str]:
    """The map's self-served scripts as one script, in their order.

    streamlit-folium loads a map's scripts one after another, each waiting for the last
    (Leaflet, jQuery, the cluster and heat plugins: four round trips before the map's own
    script can run). One file, ``<base_url>/bundles/<sha256 of its bytes>.js``, holds them
    joined by ``;`` and line ends (each file is a complete script: a UMD module or a
    minified one), written once beside the vendor folders. The list is returned unchanged
    when any script is not self-served, a file is missing or the folder cannot be
    written (an installed, read-only copy)."""
    prefix = base_url.rstrip("/") + "/"
    if len(urls) < 2 or not all(u.startswith(prefix) for u in urls):
        return list(urls)
    try:
        return [prefix + _bundle(tuple(u[len(prefix) :] for u in urls), VENDOR_DIR)]
    except OSError:
        return list(urls)


@functools.lru_cache(maxsize=16)
def _bundle(rels: tuple[str, ...], root: Path) -> str:
    """Write (once) the bundle of ``rels`` under ``root``; its path relative to ``root``."""
    paths = [(root / rel).resolve() for rel in rels]
    if not all(p.is_relative_to(root.resolve()) and p.is_file() for p in paths):
        raise FileNotFoundError(f"a bundled script is missing: {rels}")
    blob = b"\n;\n".join(p.read_bytes() for p in paths) + b"\n"
    rel = f"{BUNDLE_FOLDER}/{hashlib.sha256(blob).hexdigest()[:32]}.js"
    target = root / rel
    if not target.is_file() or target.read_bytes() != blob:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, target)  # another process may write the same bytes at once
    return rel


def install_assets(
    vendor_dir: Path | None = None, *, registry: str | None = None, force: bool = False
) -> list[str]:
    """Install every asset (idempotent); returns the vendor folders that were (re)written."""
    root = Path(vendor_dir or VENDOR_DIR)
    done = []
    for pkg in PACKAGES:
        if install_package(pkg, root, registry=registry, force=force):
            done.append(pkg.folder)
    copied = False
    for rel, src in FOLIUM_FILES.items():
        target = root / rel
        if force or not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            copied = True
    if copied:
        done.append(_FOLIUM_FOLDER)
    return done


def main(argv: list[str] | None = None) -> int:
    """`python -m layers.assets [--check] [--force] [--dest DIR] [--registry URL]`."""
    parser = argparse.ArgumentParser(
        prog="python -m layers.assets", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="only report missing files")
    parser.add_argument("--force", action="store_true", help="download again even if present")
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR, help="vendor folder")
    parser.add_argument("--registry", default=None, help="npm registry or mirror URL")
    args = parser.parse_args(argv)
    if not args.check:
        try:
            done = install_assets(args.dest, registry=args.registry, force=args.force)
        except FetchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"installed: {', '.join(done) if done else 'nothing (all present)'}")
    missing = check_assets(args.dest)
    if missing:
        print(f"missing in {args.dest}: " + ", ".join(missing), file=sys.stderr)
        return 1
    print(f"all {len(expected_files())} asset files present in {args.dest}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
