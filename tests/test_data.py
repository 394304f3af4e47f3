"""AtlasData: the shipped bundle, and the bundle with districts, cache and user files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from atlas.data import (
    CAVEAT_ACLED,
    CAVEAT_EMPTY,
    CAVEAT_SAMPLE,
    load_bundle,
    load_shipped,
)
from atlas.definitions import load_definitions
from atlas.errors import InputError
from atlas.fetch import filter_ged_zip
from atlas.regions import REGION_COLUMNS, RegionDefinition, build_region, read_regions
from atlas.schema import INCIDENT_COLUMNS

SMENE = shapely.Point(-74.027090, -12.186019)


@pytest.fixture(autouse=True)
def _empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the fetch cache at an empty folder so the user's cache never leaks in."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CONFLICT_ATLAS_CACHE", str(cache))
    return cache


def _vraem_squares(path: Path, drop: int = 0) -> Path:
    """SYNTHETIC districts: one 0.1° square per VRAEM code (a 6x4 grid), minus ``drop``."""
    codes = load_definitions()["vraem-devida"].codes
    rows = []
    for k, code in enumerate(codes[drop:], start=drop):
        x0, y0 = -74.6 + 0.1 * (k % 6), -12.6 + 0.1 * (k // 6)
        rows.append(
            {
                "ubigeo": code,
                "nombre": f"synthetic {code}",
                "geometry": shapely.box(x0, y0, x0 + 0.1, y0 + 0.1),
            }
        )
    rows.append(
        {
            "ubigeo": "150101",
            "nombre": "synthetic other",
            "geometry": shapely.box(-77, -12, -76.9, -11.9),
        }
    )
    gpd.GeoDataFrame(rows, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def test_load_shipped_is_sample_with_the_exact_vraem() -> None:
    data = load_shipped()
    assert list(data.incidents.columns) == list(INCIDENT_COLUMNS)
    assert data.incidents.crs.to_epsg() == 4326
    assert 1500 <= len(data.incidents) <= 3000
    assert data.incidents["synthetic"].all()
    assert (data.incidents["dataset"] == "sample (synthetic)").all()
    assert data.reports[0].rows_read == data.reports[0].rows_kept == len(data.incidents)
    assert data.is_sample and not data.approximate
    assert data.boundary_vintage == "2023"
    assert len(data.districts) == 1890 and set(data.districts["layer"]) == {"district"}
    assert data.districts.set_index("region_id").loc["120609"].geometry.contains(SMENE)
    assert list(data.regions.columns[: len(REGION_COLUMNS)]) == list(REGION_COLUMNS)
    vraem = data.regions.set_index("region_id").loc["vraem-devida"]
    assert not bool(vraem["approximate"]) and vraem.geometry.contains(SMENE)
    assert "DEVIDA coca-monitoring zone, 24 districts" in vraem["name"]
    assert len(data.departments) == 25 and len(data.provinces) == 196
    assert {"Apurímac", "Ene", "Tambo", "Ucayali"} <= set(data.rivers["name"])
    assert data.towns["rank"].min() == 1
    assert data.basemap.crs.to_epsg() == 4326 and "604" in set(data.basemap["iso_n3"])
    assert {"zone", "year", "hectares", "source_publisher", "source_url"} <= set(data.coca.columns)
    ref = data.reference_events.iloc[0]
    assert ref["event_id"] == "SMENE-2021-05-23" and ref.geometry.equals(SMENE)
    caveats = [c for s in data.sources for c in s.caveats]
    assert CAVEAT_SAMPLE in caveats and CAVEAT_EMPTY in caveats
    assert not any("APPROXIMATE" in c for c in caveats)
    assert any("Mantaro, Perené and Urubamba themselves are not drawn" in c for c in caveats)
    assert any(s.sample for s in data.sources)


def test_definition_built_from_fixture_districts_equals_their_dissolve(fixtures_dir: Path) -> None:
    districts, report = read_regions(fixtures_dir / "fetch" / "tiny_districts.geojson")
    assert report.rows_kept == 4
    definition = RegionDefinition(
        "test", "Test zone", ("990001", "990002", "990003"), source="fixture"
    )
    built, build = build_region(definition, districts, vintage="2099")
    expected = districts[districts["region_id"].isin(definition.codes)].dissolve().geometry.iloc[0]
    assert built.geometry.iloc[0].equals(expected)
    assert built.geometry.iloc[0].area == pytest.approx(3.0)
    assert build.codes_missing == ()


def test_a_district_file_adds_a_layer_and_the_shipped_vraem_stays(tmp_path: Path) -> None:
    shipped = load_shipped().regions.set_index("region_id").loc["vraem-devida"].geometry
    path = _vraem_squares(tmp_path / "districts.geojson")
    data = load_bundle(districts=path, districts_vintage="2099", use_cache=False)
    vraem = data.regions.set_index("region_id").loc["vraem-devida"]
    assert not bool(vraem["approximate"]) and vraem["vintage"] == "2023"
    assert vraem.geometry.equals(shipped)
    assert not data.approximate and data.is_sample
    added = data.districts[data.districts["layer"] == "district-2099"]
    assert len(added) == 25 and (data.districts["layer"] == "district").sum() == 1890
    assert data.build_reports[0].codes_missing == ()
    subzones = data.regions[data.regions["layer"] == "vraem-subzone"]
    assert sorted(subzones["region_id"]) == [
        "vraem-devida-centro",
        "vraem-devida-norte",
        "vraem-devida-sur",
    ]


def test_a_district_file_lacking_codes_is_reported(tmp_path: Path) -> None:
    path = _vraem_squares(tmp_path / "districts.geojson", drop=4)
    data = load_bundle(districts=path, districts_vintage="2007", use_cache=False)
    build = data.build_reports[0]
    codes = load_definitions()["vraem-devida"].codes
    assert build.codes_missing == tuple(codes[:4])
    assert not data.approximate  # the shipped zone stays
    note = next(s for s in data.sources if s.name == "District boundaries (districts.geojson)")
    assert any(all(c in text for c in codes[:4]) for text in note.caveats)


def tmp_path_factory_dir(cache: Path) -> Path:
    folder = cache.parent / "scratch"
    folder.mkdir(exist_ok=True)
    return folder


def test_load_bundle_adds_cached_2007_districts(_empty_cache: Path) -> None:
    folder = _empty_cache / "pe-districts-2007"
    folder.mkdir(parents=True)
    squares = _vraem_squares(tmp_path_factory_dir(_empty_cache) / "d.geojson")
    frame = gpd.read_file(squares).rename(columns={"ubigeo": "IDDIST"})
    frame.to_file(folder / "peru_distrital_simple.geojson", driver="GeoJSON")
    data = load_bundle()
    assert "district-2007" in set(data.districts["layer"])
    assert "district-2007" not in set(load_bundle(use_cache=False).districts["layer"])


def test_load_bundle_user_incidents_replace_the_sample(tmp_path: Path) -> None:
    csv = tmp_path / "my_acled_export.csv"
    csv.write_text(
        "event_id_cnty,event_date,event_type,sub_event_type,actor1,actor2,fatalities,"
        "country,admin1,location,latitude,longitude,source,notes\n"
        "TEST1,2021-05-23,Violence against civilians,Attack,A (test),B (test),1,Peru,Junin,"
        "test place,-12.19,-74.03,test fixture,synthetic test row\n"
        "TEST2,2022-01-02,Battles,Armed clash,A (test),B (test),0,Peru,Cusco,test place,,,"
        "test fixture,row without coordinates\n",
        encoding="utf-8",
    )
    data = load_bundle(incidents=[csv], use_cache=False)
    assert data.incidents["event_id"].tolist() == ["TEST1"]
    assert not data.is_sample
    assert data.reports[0].rows_read == 2 and data.reports[0].rows_rejected == 1
    assert not any(s.sample for s in data.sources)
    src = next(s for s in data.sources if s.name == "my_acled_export.csv")
    assert CAVEAT_ACLED in src.caveats and CAVEAT_EMPTY in src.caveats


def test_load_bundle_missing_districts_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope.geojson: district file not found"):
        load_bundle(districts=tmp_path / "nope.geojson")


def test_load_bundle_reads_the_ucdp_extract_fetch_writes(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    zpath = tmp_path / "ged.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(fixtures_dir / "fetch" / "ged_fixture.csv", "GEDEvent_v25_1.csv")
    out = tmp_path / "ged_country_135.parquet"
    assert filter_ged_zip(zpath, out) == 3
    data = load_bundle(incidents=[out], use_cache=False)
    assert sorted(data.incidents["event_id"]) == ["900001", "900002", "900004"]
    assert set(data.incidents["dataset"]) == {"ucdp"}
    assert data.reports[0].rows_read == 3 and data.reports[0].rows_kept == 3
    assert not data.is_sample
    src = next(s for s in data.sources if s.name == "ged_country_135.csv")
    assert any("25 battle-related deaths" in c for c in src.caveats)


_FREED_SCRIPT = """
import gc
import pandas as pd
from atlas.data import return_freed_memory

def rss_mb():
    with open("/proc/self/status") as f:
        return int(next(x for x in f if x.startswith("VmRSS")).split()[1]) // 1024

# a load's temporaries: Arrow-backed strings (pyarrow's allocator) and many C-heap blocks
# (glibc), freed while a few survivors stay scattered among them, as after a file read
notes = [pd.Series([f"note {i} " * 3 for i in range(300_000)], dtype="string[pyarrow]")
         for _ in range(3)]
blocks = [bytearray(2000) for _ in range(100_000)]
survivors = blocks[::1000]
del notes, blocks
gc.collect()
before = rss_mb()
return_freed_memory()
print(before, rss_mb(), len(survivors))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_return_freed_memory_hands_freed_pages_back(tmp_path: Path) -> None:
    """After a big load the server keeps what the allocators hold unless they are told to
    return it (1M rows: 1,202 MB resident, 642 MB after); ~270 MB of freed temporaries here."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", _FREED_SCRIPT], cwd=root, check=True,
                         capture_output=True, text=True, timeout=300).stdout.split()  # fmt: skip
    before, after, kept = (int(v) for v in out)
    assert kept == 100  # the survivors are still alive: nothing live was freed
    assert before - after >= 120, f"RSS {before} MB -> {after} MB"


def test_collect_now_and_then_collects_at_most_once_per_interval() -> None:
    """The end-of-run collection (atlas.data.collect_now_and_then): at most one full
    collection per interval for the whole process, and it does collect a cycle."""
    import gc
    import weakref

    from atlas.data import collect_now_and_then

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only a collection frees it
    gone = weakref.ref(a)
    del a, b
    gc.disable()  # no automatic collection may free it meanwhile
    try:
        assert collect_now_and_then(every=0.0)
        assert gone() is None
        assert not collect_now_and_then(every=3600.0)  # too soon after the last one
    finally:
        gc.enable()
        gc.unfreeze()


def test_what_outlived_a_sweep_is_walked_again_at_the_next() -> None:
    """Each sweep sets the survivors aside (frozen): collections in between walk only what
    was made since, and garbage among the set-aside objects goes at the next sweep."""
    import gc
    import weakref

    from atlas.data import collect_now_and_then

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    gc.disable()
    try:
        assert collect_now_and_then(every=0.0, sweep=0.0)  # a sweep: a and b survive it
        assert gc.get_freeze_count() > 0
        walked = {id(o) for o in gc.get_objects()}
        assert id(gone()) not in walked  # set aside: no collection walks it now
        del a, b  # now garbage, among the set-aside objects
        young = Node()
        young.me = young  # garbage made after the sweep
        young_ref = weakref.ref(young)
        del young
        assert collect_now_and_then(every=0.0, sweep=3600.0)  # between sweeps
        assert young_ref() is None  # what was made since is collected
        assert gone() is not None  # the set-aside cycle waits for the sweep
        assert collect_now_and_then(every=0.0, sweep=0.0)
        assert gone() is None
    finally:
        gc.enable()
        gc.unfreeze()


def test_a_quick_run_leaves_the_sweep_to_a_heavy_run_in_progress() -> None:
    """With a heavy page run in progress (atlas.giveway) a quick run's collection does not
    sweep the set-aside objects (with 1M points held, 0.17-0.4 s of the lock); the heavy
    run sweeps at its end, and with no heavy run a quick one sweeps as before."""
    import gc
    import threading
    import weakref

    from atlas import giveway
    from atlas.data import collect_now_and_then

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    heavy_in, finish, swept_by_heavy = threading.Event(), threading.Event(), []

    def heavy() -> None:
        with giveway.page_run():
            giveway.mark_heavy()
            heavy_in.set()
            finish.wait(10)
            swept_by_heavy.append(collect_now_and_then(every=0.0, sweep=0.0))

    gc.disable()
    try:
        assert collect_now_and_then(every=0.0, sweep=0.0)  # a sweep: the cycle set aside
        del a, b  # garbage among the set-aside objects
        worker = threading.Thread(target=heavy)
        worker.start()
        assert heavy_in.wait(10)
        with giveway.page_run():  # a quick run, while the heavy one is in progress
            assert collect_now_and_then(every=0.0, sweep=0.0)
        assert gone() is not None  # not swept: left to the heavy run
        finish.set()
        worker.join(10)
        assert swept_by_heavy == [True] and gone() is None  # the heavy run swept
        c, d = Node(), Node()
        c.other, d.other = d, c
        later = weakref.ref(c)
        assert collect_now_and_then(every=0.0, sweep=0.0)  # sets the new cycle aside
        del c, d
        with giveway.page_run():  # no heavy run now: the quick run sweeps
            assert collect_now_and_then(every=0.0, sweep=0.0)
        assert later() is None
    finally:
        gc.enable()
        gc.unfreeze()
    assert giveway.heavy_runs() == 0 and giveway.light_runs() == 0
