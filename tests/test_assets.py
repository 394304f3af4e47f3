"""layers.assets: sha512 integrity, safe extraction, install from a real local HTTP server."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from atlas.errors import AtlasError, FetchError
from layers import assets
from layers.assets import NpmPackage


def make_tgz(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    """A gzip tarball shaped like npm's (members under package/)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return buf.getvalue()


def integrity_of(blob: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode()


GOOD = {"package/LICENSE": b"MIT", "package/dist/x.js": b"var x = 1;", "package/README": b"r"}


def test_integrity_accepts_the_right_hash_and_rejects_a_tampered_tarball() -> None:
    blob = make_tgz(GOOD)
    assets.verify_integrity(blob, integrity_of(blob), "x@1.0.0")
    tampered = bytearray(blob)
    tampered[len(tampered) // 2] ^= 0xFF
    with pytest.raises(FetchError, match="x@1.0.0: sha512 mismatch"):
        assets.verify_integrity(bytes(tampered), integrity_of(blob), "x@1.0.0")
    with pytest.raises(FetchError, match="not a sha512"):
        assets.verify_integrity(blob, "sha1-abc", "x@1.0.0")


def test_extract_keeps_only_wanted_files(tmp_path: Path) -> None:
    written = assets.extract_files(make_tgz(GOOD), ("LICENSE", "dist/x.js"), tmp_path, "x")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == ["LICENSE", "dist/x.js"]
    assert (tmp_path / "dist/x.js").read_bytes() == b"var x = 1;"
    assert not (tmp_path / "README").exists()


@pytest.mark.parametrize(
    "evil",
    ["package/../../escaped.js", "/tmp/absolute.js", "../outside.js", "package/a/../../../x"],
)
def test_extract_refuses_paths_escaping_the_folder(tmp_path: Path, evil: str) -> None:
    dest = tmp_path / "vendor" / "x@1"
    blob = make_tgz({**GOOD, evil: b"pwned"})
    with pytest.raises(FetchError, match="escapes the package folder"):
        assets.extract_files(blob, ("dist/x.js",), dest, "x@1")
    assert not dest.exists()  # nothing extracted from a suspicious tarball
    assert not list(tmp_path.rglob("*.js"))


def test_extract_refuses_links_and_reports_missing_files(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="is a link"):
        assets.extract_files(
            make_tgz(GOOD, symlink="package/dist/link"), ("LICENSE",), tmp_path, "x"
        )
    with pytest.raises(FetchError, match="lacks package/dist/missing.js"):
        assets.extract_files(make_tgz(GOOD), ("dist/missing.js",), tmp_path, "x")
    with pytest.raises(FetchError, match="not a readable .tgz"):
        assets.extract_files(b"not a tarball", ("LICENSE",), tmp_path, "x")


@pytest.fixture()
def registry(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on localhost serving tmp_path/registry like the npm registry."""
    root = tmp_path / "registry"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def _publish(root: Path, name: str, version: str, blob: bytes) -> None:
    folder = root / name / "-"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name.rsplit('/', 1)[-1]}-{version}.tgz").write_bytes(blob)


def test_install_from_registry_is_idempotent(registry: tuple[str, Path], tmp_path: Path) -> None:
    url, root = registry
    blob = make_tgz(GOOD)
    _publish(root, "demo-pkg", "1.2.3", blob)
    pkg = NpmPackage("demo-pkg", "1.2.3", integrity_of(blob), ("LICENSE", "dist/x.js"))
    vendor = tmp_path / "vendor"
    assert assets.install_package(pkg, vendor, registry=url) is True
    assert (vendor / "demo-pkg@1.2.3/dist/x.js").read_bytes() == b"var x = 1;"
    assert assets.install_package(pkg, vendor, registry=url) is False  # already complete
    assert assets.install_package(pkg, vendor, registry=url, force=True) is True


def test_install_refuses_a_tampered_download(registry: tuple[str, Path], tmp_path: Path) -> None:
    url, root = registry
    blob = make_tgz(GOOD)
    _publish(root, "demo-pkg", "1.2.3", make_tgz({**GOOD, "package/dist/x.js": b"evil()"}))
    pkg = NpmPackage("demo-pkg", "1.2.3", integrity_of(blob), ("dist/x.js",))
    vendor = tmp_path / "vendor"
    with pytest.raises(FetchError, match="demo-pkg@1.2.3: sha512 mismatch"):
        assets.install_package(pkg, vendor, registry=url)
    assert not (vendor / "demo-pkg@1.2.3").exists()


def test_install_reports_an_unreachable_registry(tmp_path: Path, registry) -> None:
    url, _root = registry  # nothing published: 404
    pkg = NpmPackage("absent", "0.0.1", integrity_of(b""), ("LICENSE",))
    with pytest.raises(FetchError, match="absent@0.0.1: download from .* failed"):
        assets.install_package(pkg, tmp_path, registry=url)


def test_scoped_package_url_uses_basename() -> None:
    pkg = NpmPackage("@fortawesome/fontawesome-free", "6.2.0", "sha512-x", ())
    assert pkg.url.endswith("/@fortawesome/fontawesome-free/-/fontawesome-free-6.2.0.tgz")


def test_check_assets_lists_missing_files_and_cli_fails(tmp_path: Path, capsys) -> None:
    missing = assets.check_assets(tmp_path)
    assert missing == assets.expected_files()
    assert "leaflet@1.9.3/dist/leaflet.js" in missing
    assert assets.main(["--check", "--dest", str(tmp_path)]) == 1
    assert "missing in" in capsys.readouterr().err


def test_every_mapped_url_points_at_an_expected_file() -> None:
    expected = set(assets.expected_files())
    assert set(assets.URL_MAP.values()) <= expected
    with pytest.raises(AtlasError, match="no self-served copy"):
        assets.vendor_path("https://example.org/unknown.js")


def test_pinned_packages_match_folium_pins() -> None:
    pins = {p.folder for p in assets.PACKAGES}
    assert {"leaflet@1.9.3", "leaflet.markercluster@1.1.0", "jquery@3.7.1"} <= pins
    assert all(
        p.integrity.startswith("sha512-") and len(p.integrity) == 95 for p in assets.PACKAGES
    )


def test_bundle_joins_self_served_scripts_in_order(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a@1").mkdir()
    (tmp_path / "b@2").mkdir()
    (tmp_path / "a@1/a.js").write_text("var a = 1", encoding="utf-8")  # no final semicolon
    (tmp_path / "b@2/b.js").write_text("(function(){ window.b = a + 1 })()", encoding="utf-8")
    monkeypatch.setattr(assets, "VENDOR_DIR", tmp_path)
    urls = ["/app/static/vendor/a@1/a.js", "/app/static/vendor/b@2/b.js"]
    (one,) = assets.bundle_js(urls)
    assert one.startswith("/app/static/vendor/bundles/") and one.endswith(".js")
    body = (tmp_path / one.removeprefix("/app/static/vendor/")).read_bytes()
    assert body == b"var a = 1\n;\n(function(){ window.b = a + 1 })()\n"
    assert one.removesuffix(".js").endswith(hashlib.sha256(body).hexdigest()[:32])
    assert assets.bundle_js(urls) == [one]  # the same name for the same scripts
    assert assets.bundle_js(urls[::-1]) != [one]  # order matters: another bundle
    # a CDN script, a missing file or a single script: the list as given
    cdn = [urls[0], "https://cdn.example.org/x.js"]
    assert assets.bundle_js(cdn) == cdn
    missing = [urls[0], "/app/static/vendor/c@3/c.js"]
    assert assets.bundle_js(missing) == missing
    assert assets.bundle_js(urls[:1]) == urls[:1]
    escape = [urls[0], "/app/static/vendor/../../etc/passwd"]
    assert assets.bundle_js(escape) == escape  # never reads outside the vendor folder
