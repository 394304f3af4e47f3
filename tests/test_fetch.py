"""Download tests against a real local HTTP server (http.server in a thread)."""

from __future__ import annotations

import argparse
import hashlib
import http.server
import socket
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest

from atlas import fetch as fetch_mod
from atlas.catalog import CATALOG, CatalogEntry, get_entry
from atlas.errors import AtlasError, FetchError
from atlas.fetch import TrustOnFirstUseWarning, cached_path, fetch, source_url
from cli import fetch as cli_fetch


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    short: set[str] = set()  # paths answered with a Content-Length larger than the body

    def do_GET(self) -> None:
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        extra = 1000 if self.path in self.short else 0
        self.send_header("Content-Length", str(len(body) + extra))
        self.end_headers()
        self.wfile.write(body)
        if extra:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, bytes], set[str]]]:
    files: dict[str, bytes] = {}
    short: set[str] = set()
    handler = type("H", (_Handler,), {"files": files, "short": short})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/mirror", files, short
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def districts_bytes(fixtures_dir: Path) -> bytes:
    return (fixtures_dir / "fetch" / "tiny_districts.geojson").read_bytes()


def cli_main(argv: list[str]) -> int:
    """Run `conflict-atlas fetch` through its own parser, as cli.main does."""
    parser = argparse.ArgumentParser(prog="conflict-atlas")
    cli_fetch.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except AtlasError as exc:
        print(f"conflict-atlas fetch: {exc}", file=sys.stderr)
        return 2


def _register(monkeypatch: pytest.MonkeyPatch, sha256: str | None, **kw: str) -> CatalogEntry:
    entry = CatalogEntry(
        id=kw.get("id", "test-districts"),
        title="synthetic test districts",
        url=kw.get("url", "https://example.invalid/data/tiny_districts.geojson"),
        sha256=sha256,
        licence="test",
        attribution="synthetic fixture",
        vintage="2099",
        kind=kw.get("kind", "districts"),
        id_field="ubigeo",
    )
    monkeypatch.setitem(CATALOG, entry.id, entry)
    return entry


def test_catalog_lists_every_source_with_its_pin() -> None:
    assert set(CATALOG) == {
        "pe-districts-2007",
        "pe-provinces-2007",
        "pe-departments-2007",
        "pe-departments-2019",
        "pe-provinces-2019",
        "pe-districts-2023",
        "ucdp-ged-25.1",
        "ucdp-ged-26.1",
    }
    assert CATALOG["pe-districts-2007"].sha256 == (
        "1eba0da33464b0818f05bfcf066672e6c9cf979ddc0549c8c2e9ca4d0122ac73"
    )
    assert CATALOG["pe-districts-2023"].sha256 is None
    assert CATALOG["pe-districts-2023"].id_field == "ubigeo"
    assert CATALOG["ucdp-ged-25.1"].filename == "ged251-csv.zip"
    with pytest.raises(FetchError, match="not in the catalogue"):
        get_entry("nope")


def test_good_checksum_downloads_and_then_uses_cache(
    server, districts_bytes, tmp_path, monkeypatch
) -> None:
    base, files, _ = server
    entry = _register(monkeypatch, hashlib.sha256(districts_bytes).hexdigest())
    files[f"/mirror/{entry.id}/{entry.filename}"] = districts_bytes
    got = fetch([entry.id], cache_dir=tmp_path, mirror=base)
    path = got[entry.id]
    assert path == tmp_path / entry.id / entry.filename
    assert path.read_bytes() == districts_bytes
    assert cached_path(entry.id, tmp_path) == path
    # second run: served from the cache and verified, even with the server emptied
    files.clear()
    _, message = fetch_mod.fetch_one(entry.id, cache_dir=tmp_path, mirror=base)
    assert "verified in cache" in message


def test_bad_checksum_leaves_no_file(server, districts_bytes, tmp_path, monkeypatch) -> None:
    base, files, _ = server
    entry = _register(monkeypatch, "0" * 64)
    files[f"/mirror/{entry.id}/{entry.filename}"] = districts_bytes
    with pytest.raises(FetchError, match="does not match its sha256"):
        fetch([entry.id], cache_dir=tmp_path, mirror=base)
    folder = tmp_path / entry.id
    assert not folder.exists() or list(folder.iterdir()) == []


def test_server_down_raises_fetch_error(tmp_path, monkeypatch) -> None:
    entry = _register(monkeypatch, "0" * 64)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match="download from .* failed.*CONFLICT_ATLAS_MIRROR"):
        fetch([entry.id], cache_dir=tmp_path, mirror=f"http://127.0.0.1:{port}")
    folder = tmp_path / entry.id
    assert not folder.exists() or list(folder.iterdir()) == []


def test_http_404_raises_fetch_error(server, tmp_path, monkeypatch) -> None:
    base, _, _ = server
    entry = _register(monkeypatch, "0" * 64)
    with pytest.raises(FetchError, match="HTTPError"):
        fetch([entry.id], cache_dir=tmp_path, mirror=base)


def test_partial_download_leaves_no_file(server, districts_bytes, tmp_path, monkeypatch) -> None:
    base, files, short = server
    # no known hash, so only the truncation can stop it
    entry = _register(monkeypatch, None)
    path = f"/mirror/{entry.id}/{entry.filename}"
    files[path] = districts_bytes
    short.add(path)
    with pytest.raises(FetchError, match="failed"):
        fetch([entry.id], cache_dir=tmp_path, mirror=base)
    folder = tmp_path / entry.id
    assert not folder.exists() or list(folder.iterdir()) == []


def test_mirror_env_var_and_trust_on_first_use(
    server, districts_bytes, tmp_path, monkeypatch
) -> None:
    base, files, _ = server
    entry = _register(monkeypatch, None)
    files[f"/mirror/{entry.id}/{entry.filename}"] = districts_bytes
    monkeypatch.setenv("CONFLICT_ATLAS_MIRROR", base + "/")
    monkeypatch.setenv("CONFLICT_ATLAS_CACHE", str(tmp_path))
    assert source_url(entry) == f"{base}/{entry.id}/{entry.filename}"
    with pytest.warns(TrustOnFirstUseWarning, match="trusted on first download"):
        got = fetch([entry.id])
    digest = hashlib.sha256(districts_bytes).hexdigest()
    record = tmp_path / entry.id / (entry.filename + ".sha256")
    assert record.read_text().split()[0] == digest
    assert got[entry.id].read_bytes() == districts_bytes
    # the record now pins the file: a changed cached file is re-downloaded and checked
    got[entry.id].write_bytes(b"tampered")
    files[f"/mirror/{entry.id}/{entry.filename}"] = b"changed upstream"
    with pytest.raises(FetchError, match="does not match"):
        fetch([entry.id])


def _ged_zip(fixtures_dir: Path, dest: Path) -> bytes:
    zpath = dest / "ged.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(fixtures_dir / "fetch" / "ged_fixture.csv", "GEDEvent_v25_1.csv")
    return zpath.read_bytes()


def test_ucdp_zip_is_filtered_to_peru_geoparquet(
    server, fixtures_dir, tmp_path, monkeypatch
) -> None:
    base, files, _ = server
    entry = get_entry("ucdp-ged-25.1")
    files[f"/mirror/{entry.id}/{entry.filename}"] = _ged_zip(fixtures_dir, tmp_path)
    monkeypatch.setattr(fetch_mod, "CHUNK_ROWS", 2)  # several chunks over 6 rows
    cache = tmp_path / "cache"
    with pytest.warns(TrustOnFirstUseWarning):
        got = fetch([entry.id], cache_dir=cache, mirror=base)
    out = got[entry.id]
    assert out.suffix == ".parquet"
    gdf = gpd.read_parquet(out)
    assert gdf.crs.to_epsg() == 4326
    assert sorted(gdf["id"].tolist()) == [900001, 900002, 900004]
    assert set(gdf["country_id"]) == {135}
    assert len(gdf.columns) == 49 + 1  # the 49 GED columns + geometry
    row = gdf.set_index("id").loc[900002]
    assert (row.geometry.x, row.geometry.y) == (-74.03, -12.19)
    assert "comma, in text" in gdf.set_index("id").loc[900004, "source_article"]
    assert cached_path(entry.id, cache) == out


def test_ucdp_other_country(server, fixtures_dir, tmp_path, monkeypatch) -> None:
    base, files, _ = server
    entry = get_entry("ucdp-ged-26.1")
    files[f"/mirror/{entry.id}/{entry.filename}"] = _ged_zip(fixtures_dir, tmp_path)
    with pytest.warns(TrustOnFirstUseWarning):
        got = fetch([entry.id], cache_dir=tmp_path / "c", mirror=base, country_id=100)
    gdf = gpd.read_parquet(got[entry.id])
    assert gdf["id"].tolist() == [900003]


def test_cli_list_and_fetch(server, districts_bytes, tmp_path, monkeypatch, capsys) -> None:
    assert cli_main(["fetch", "--list"]) == 0
    out = capsys.readouterr().out
    assert "pe-districts-2023" in out and "ucdp-ged-25.1" in out and "MPL-2.0" in out
    base, files, _ = server
    entry = _register(monkeypatch, hashlib.sha256(districts_bytes).hexdigest())
    files[f"/mirror/{entry.id}/{entry.filename}"] = districts_bytes
    monkeypatch.setenv("CONFLICT_ATLAS_MIRROR", base)
    assert cli_main(["fetch", entry.id, "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "downloaded and verified" in out and str(tmp_path) in out
    assert cli_main(["fetch", "no-such-id", "--cache", str(tmp_path)]) == 2
    assert "not in the catalogue" in capsys.readouterr().err


def test_cache_root_order(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("CONFLICT_ATLAS_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fetch_mod.cache_root() == tmp_path / "xdg" / "conflict-atlas"
    monkeypatch.setenv("CONFLICT_ATLAS_CACHE", str(tmp_path / "env"))
    assert fetch_mod.cache_root() == tmp_path / "env"
    assert fetch_mod.cache_root(tmp_path / "arg") == tmp_path / "arg"


def test_not_a_ged_zip_is_reported(tmp_path) -> None:
    bad = tmp_path / "ged.zip"
    bad.write_bytes(b"<html>error page</html>")
    with pytest.raises(FetchError, match="ged.zip: not a zip file"):
        fetch_mod.filter_ged_zip(bad, tmp_path / "out.parquet")
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("readme.txt", "no csv here")
    with pytest.raises(FetchError, match="expected one CSV inside, found 0"):
        fetch_mod.filter_ged_zip(bad, tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()
