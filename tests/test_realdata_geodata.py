"""Checks against the real development data in ../shared/data (pytest --real-data DIR)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from atlas.catalog import CATALOG
from atlas.data import load_bundle
from atlas.definitions import load_definitions
from atlas.fetch import fetch

pytestmark = pytest.mark.realdata

SMENE = shapely.Point(-74.027090, -12.186019)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFLICT_ATLAS_CACHE", str(tmp_path / "cache"))


def test_vraem_from_2023_districts_is_exact_and_contains_san_miguel(real_data: Path) -> None:
    path = real_data / "boundaries" / "inei2023_light_distritos_vraem_provinces.geojson"
    data = load_bundle(districts=path, districts_vintage="2023", use_cache=False)
    assert data.build_reports[0].codes_missing == ()
    vraem = data.regions.set_index("region_id").loc["vraem-devida"]
    assert not bool(vraem["approximate"]) and vraem["vintage"] == "2023"
    geom = vraem.geometry
    assert geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon")
    assert geom.contains(SMENE)
    assert not data.approximate and data.boundary_vintage == "2023"


def test_vraem_from_2007_districts_lists_missing_codes(real_data: Path) -> None:
    path = real_data / "boundaries" / "juaneladio_peru_distrital_simple.geojson"
    data = load_bundle(districts=path, districts_vintage="2007", use_cache=False)
    build = data.build_reports[0]
    assert set(build.codes_missing) == {
        "050409", "050509", "050510", "050512", "050513", "080912",
        "080913", "080916", "080917", "080918", "120609",
    }  # fmt: skip
    assert "120609" in build.summary()
    vraem = data.regions.set_index("region_id").loc["vraem-devida"]
    assert bool(vraem["approximate"]) and "120609" in vraem["source"]
    # on 2007 boundaries the San Miguel del Ene point is in Pangoa (120606)
    pangoa = data.districts.set_index("region_id").loc["120606"].geometry
    assert pangoa.contains(SMENE)


def test_2007_file_matches_the_catalogue_sha256(real_data: Path) -> None:
    path = real_data / "boundaries" / "juaneladio_peru_distrital_simple.geojson"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == CATALOG["pe-districts-2007"].sha256


def test_fetch_2007_districts_through_a_local_mirror(real_data: Path, tmp_path: Path) -> None:
    """Serve the real file under the mirror layout and fetch it with the pinned sha256."""
    entry = CATALOG["pe-districts-2007"]
    mirror = tmp_path / "mirror" / entry.id
    mirror.mkdir(parents=True)
    src = real_data / "boundaries" / "juaneladio_peru_distrital_simple.geojson"
    (mirror / entry.filename).symlink_to(src)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "mirror"))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        got = fetch(
            [entry.id],
            cache_dir=tmp_path / "c",
            mirror=f"http://127.0.0.1:{httpd.server_address[1]}",
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert got[entry.id].read_bytes() == src.read_bytes()


def test_approximate_outline_error_is_as_documented(real_data: Path) -> None:
    """The hand-drawn outline vs the real 24 districts: IoU 0.72 as stated in the README."""
    approx = (
        gpd.read_file(ROOT / "geodata" / "vraem_approximate.geojson").to_crs(32718).geometry.iloc[0]
    )
    d = gpd.read_file(real_data / "boundaries" / "inei2023_light_distritos_vraem_provinces.geojson")
    codes = load_definitions()["vraem-devida"].codes
    exact = d[d["ubigeo"].isin(codes)].to_crs(32718).union_all()
    iou = exact.intersection(approx).area / exact.union(approx).area
    assert iou == pytest.approx(0.72, abs=0.01)
    assert exact.hausdorff_distance(approx) / 1000 == pytest.approx(65, abs=2)


def test_definition_matches_the_devida_list(real_data: Path) -> None:
    shared = pd.read_csv(real_data / "vraem" / "devida_zona_vraem_24_distritos.csv", dtype=str)
    ours = load_definitions()["vraem-devida"]
    assert set(ours.codes) == set(shared["ubigeo_inei"])
    assert ours.subzones == dict(zip(shared["ubigeo_inei"], shared["subzona"], strict=True))


def test_coca_table_matches_the_sourced_tables(real_data: Path) -> None:
    ours = pd.read_csv(ROOT / "geodata" / "coca_hectares.csv", dtype={"ubigeo_dep": str})
    dep = pd.read_csv(
        real_data / "coca" / "coca_hectares_by_department_2018_2022.csv", dtype={"ubigeo_dep": str}
    )
    merged = ours[ours["zone_kind"] == "department"].merge(dep, on=["ubigeo_dep", "year"])
    assert len(merged) == 65 and (merged["hectares_x"] == merged["hectares_y"]).all()
    zone = pd.read_csv(real_data / "coca" / "coca_hectares_by_zone_year.csv")
    mine = ours[ours["zone_kind"] != "department"].reset_index(drop=True)
    assert (mine["year"] == zone["year"]).all()
    assert (
        mine["hectares"]
        .fillna(-1)
        .equals(zone["hectares"].fillna(-1).astype(mine["hectares"].dtype))
    )
