"""scripts/build_geodata.py: pinned sources, refusals, atomic swap, reproducible bytes.

The default suite runs the build on the tiny SYNTHETIC source set in
tests/fixtures/geodata_sources/data (see tests/fixtures/README.md); with ``--real-data`` the same
checks run on ../shared/data and the shipped geodata/peru is compared byte for byte.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_SOURCES = Path(__file__).resolve().parent / "fixtures" / "geodata_sources" / "data"


def _script():
    name = "build_geodata"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bg = _script()


def _pins(folder: Path) -> dict:
    """The script's source list, pinned to the files in ``folder`` (the fixture set)."""
    return {
        key: bg.Source(src.path, hashlib.sha256((folder / src.path).read_bytes()).hexdigest())
        for key, src in bg.SOURCES.items()
    }


FIXTURE_PINS = _pins(FIXTURE_SOURCES)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip


def test_every_source_is_pinned_by_sha256() -> None:
    assert set(bg.SOURCES) == {
        "districts", "provinces", "departments", "vraem", "rivers", "lakes", "places", "ccpp"
    }  # fmt: skip
    for src in bg.SOURCES.values():
        assert len(src.sha256) == 64 and not Path(src.path).is_absolute()


def test_missing_source_is_refused_with_name_and_hash(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(FIXTURE_SOURCES, src)
    (src / "basemap" / "rivers_peru_naturalearth.geojson").unlink()
    with pytest.raises(bg.BuildError) as err:
        bg.build(src, tmp_path / "geodata", sources=FIXTURE_PINS)
    text = str(err.value)
    assert "basemap/rivers_peru_naturalearth.geojson: missing" in text
    assert FIXTURE_PINS["rivers"].sha256 in text
    assert not (tmp_path / "geodata" / "peru").exists()


def test_altered_source_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(FIXTURE_SOURCES, src)
    path = src / "vraem" / "devida_zona_vraem_24_distritos.csv"
    path.write_bytes(path.read_bytes().replace(b"norte", b"sur", 1))
    geodata = tmp_path / "geodata"
    (geodata / "peru").mkdir(parents=True)
    (geodata / "peru" / "old.txt").write_text("previous build")
    with pytest.raises(bg.BuildError) as err:
        bg.build(src, geodata, sources=FIXTURE_PINS)
    text = str(err.value)
    assert "vraem/devida_zona_vraem_24_distritos.csv: altered" in text
    assert FIXTURE_PINS["vraem"].sha256 in text
    assert _tree(geodata) == {"peru/old.txt": b"previous build"}


def test_a_failed_build_leaves_the_previous_geodata(tmp_path: Path) -> None:
    geodata = tmp_path / "geodata"
    (geodata / "peru").mkdir(parents=True)
    (geodata / "peru" / "old.txt").write_text("previous build")

    def half_then_fail(folder: Path, paths: dict) -> dict:
        (folder / "districts_2023.geojson").write_text("{}")
        raise bg.BuildError("step failed on purpose")

    with pytest.raises(bg.BuildError, match="on purpose"):
        bg.build(FIXTURE_SOURCES, geodata, sources=FIXTURE_PINS, steps=half_then_fail)
    assert _tree(geodata) == {"peru/old.txt": b"previous build"}
    assert [p.name for p in geodata.iterdir()] == ["peru"]  # no temporary folder left


def test_synthetic_build_is_complete_repaired_and_reproducible(tmp_path: Path) -> None:
    report = bg.build(FIXTURE_SOURCES, tmp_path / "a", sources=FIXTURE_PINS)
    bg.build(FIXTURE_SOURCES, tmp_path / "b", sources=FIXTURE_PINS)
    first, second = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert first == second  # byte for byte
    assert set(first) == {
        f"peru/{n}"
        for n in (
            "build_report.json", "departments_2023.geojson", "districts_2023.geojson",
            "districts_2023_z7.geojson", "lakes.geojson", "provinces_2023.geojson",
            "rivers.geojson", "towns.geojson", "vraem_devida_2023.geojson",
        )
    }  # fmt: skip
    # a rebuild over an existing folder swaps it whole
    bg.build(FIXTURE_SOURCES, tmp_path / "a", sources=FIXTURE_PINS)
    assert _tree(tmp_path / "a") == first
    assert report["districts_invalid_repaired"] == ["150101"]  # the bow-tie
    assert report["overlap_pairs"] == 1
    zone = report["vraem"]["vraem-devida"]
    assert zone["holes_filled"] == 1 and zone["holes_kept_km2"] == []
    out = tmp_path / "a" / "peru"
    districts = gpd.read_file(out / "districts_2023.geojson")
    assert districts.is_valid.all()
    geoms = list(districts.geometry)
    overlaps = [a.intersection(b).area for i, a in enumerate(geoms) for b in geoms[i + 1 :]]
    assert max(overlaps) < 1e-9  # the overlap was trimmed
    vraem = gpd.read_file(out / "vraem_devida_2023.geojson").set_index("region_id")
    assert list(vraem.index) == [
        "vraem-devida", "vraem-devida-centro", "vraem-devida-norte", "vraem-devida-sur"
    ]  # fmt: skip
    assert vraem.loc["vraem-devida"].geometry.geom_type == "Polygon"
    assert len(vraem.loc["vraem-devida"].geometry.interiors) == 0  # the gap was filled
    rivers = gpd.read_file(out / "rivers.geojson")
    assert {"Apurímac", "Ene", "Tambo", "Ucayali", "Huallaga"} == set(rivers["name"])
    apurimac = rivers.set_index("name").loc["Apurímac"].geometry
    assert apurimac.coords[0] == (-74.0, -13.0)  # upstream first
    towns = gpd.read_file(out / "towns.geojson", dtype={"town_id": str}).set_index("town_id")
    assert towns.loc["ne:Lima", "rank"] == 1
    assert towns.loc["0501010001", "rank"] == 2  # Ayacucho: the INEI point replaces NE's
    assert "ne:Ayacucho" not in towns.index and "ne:Chosica" not in towns.index
    assert len(towns) == 17
    assert json.loads((out / "build_report.json").read_text())["towns"]["features"] == 17


@pytest.mark.realdata
def test_real_build_reproduces_the_shipped_geodata(real_data: Path, tmp_path: Path) -> None:
    bg.build(real_data, tmp_path)
    shipped = _tree(ROOT / "geodata" / "peru")
    assert _tree(tmp_path / "peru") == shipped


@pytest.mark.realdata
def test_real_sources_match_their_pins(real_data: Path) -> None:
    paths = bg.check_sources(real_data)
    assert set(paths) == set(bg.SOURCES)


def test_shipped_vraem_is_one_polygon_without_small_holes() -> None:
    vraem = gpd.read_file(ROOT / "geodata" / "peru" / "vraem_devida_2023.geojson")
    zone = vraem.set_index("region_id").loc["vraem-devida"].geometry
    assert zone.is_valid and zone.geom_type == "Polygon" and not list(zone.interiors)
    assert shapely.Point(-74.027090, -12.186019).within(zone)  # San Miguel del Ene


@pytest.mark.realdata
def test_real_sources_missing_or_altered_are_refused(real_data: Path, tmp_path: Path) -> None:
    """The real pins: a copy of ../shared/data with one file changed and one missing."""
    src = tmp_path / "src"
    for key, source in bg.SOURCES.items():
        target = src / source.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if key == "rivers":
            continue  # missing
        data = (real_data / source.path).read_bytes()
        target.write_bytes(data + b" " if key == "districts" else data)
    geodata = tmp_path / "geodata"
    with pytest.raises(bg.BuildError) as err:
        bg.build(src, geodata)
    text = str(err.value)
    assert "boundaries/inei2023_light_distritos.geojson: altered" in text
    assert bg.SOURCES["districts"].sha256 in text
    assert "basemap/rivers_peru_naturalearth.geojson: missing" in text
    assert not geodata.exists() or not any(geodata.iterdir())
