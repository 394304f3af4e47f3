"""Every shipped file in geodata/ loads, has a CRS and the promised properties."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from atlas.definitions import definition_index, load_definitions

ROOT = Path(__file__).resolve().parents[1]
GEODATA = ROOT / "geodata"
SMENE = Point(-74.027090, -12.186019)  # INEI centro poblado San Miguel del Ene


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _readme_sections() -> dict[str, str]:
    """geodata/README.md split at its '## ' headings: heading -> section text."""
    readme = (GEODATA / "README.md").read_text(encoding="utf-8")
    parts = readme.split("\n## ")[1:]
    return {p.split("\n", 1)[0]: p for p in parts}


def test_readme_lists_every_shipped_file_with_its_licence() -> None:
    sections = _readme_sections()
    files = [p for p in GEODATA.rglob("*") if p.is_file() and p.name != "README.md"]
    assert files
    for path in files:
        rel = str(path.relative_to(GEODATA))
        found = [text for head, text in sections.items() if rel in head]
        assert found, f"{rel}: no '## ' heading names it in geodata/README.md"
        assert "- Licence:" in found[0], f"{rel}: its README section states no licence"
    total = sum(p.stat().st_size for p in files)
    assert total < 8_000_000  # the issue 12 budget


def test_basemap_south_america() -> None:
    gdf = gpd.read_file(GEODATA / "basemap_south_america.geojson")
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf.columns) == ["name", "iso_n3", "geometry"]
    iso = set(gdf["iso_n3"].astype(str))
    # Peru and all its neighbours, plus the rest of the continent
    assert {"604", "218", "170", "076", "068", "152"} <= iso
    assert {"032", "600", "858", "862", "328", "740"} <= iso
    assert gdf.is_valid.all()
    assert gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    minx, miny, maxx, maxy = gdf.total_bounds
    assert -93.0 <= minx and maxx <= -25.0 and -60.0 <= miny and maxy <= 13.5
    peru = gdf.loc[gdf["iso_n3"] == "604"].geometry.iloc[0]
    assert peru.contains(SMENE)
    assert peru.contains(Point(-77.04, -12.05))  # Lima
    # coordinates rounded to 4 decimals
    xy = shapely.get_coordinates(gdf.geometry.values)
    assert (abs(xy * 10_000 - (xy * 10_000).round()) < 1e-6).all()


def test_topojson_decoder_on_a_hand_made_topology() -> None:
    mb = _load_script("make_basemap")
    # two squares sharing an edge; quantised + delta-encoded arcs, then scale/translate
    topology = {
        "type": "Topology",
        "transform": {"scale": [0.5, 0.5], "translate": [-75.0, -13.0]},
        "arcs": [
            [[2, 0], [0, 2]],  # shared edge (1,0)->(1,1) in lon/lat: (-74,-13)->(-74,-12)
            [[2, 2], [-2, 0], [0, -2], [2, 0]],  # left square's other three sides
            [[2, 0], [2, 0], [0, 2], [-2, 0]],  # right square's other three sides
        ],
        "objects": {
            "countries": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "arcs": [[1, 0]], "id": "001", "properties": {"name": "L"}},
                    {
                        "type": "Polygon",
                        "arcs": [[2, -1]],
                        "id": "002",
                        "properties": {"name": "R"},
                    },
                ],
            }
        },
    }
    arcs = mb.decode_arcs(topology)
    assert arcs[0].tolist() == [[-74.0, -13.0], [-74.0, -12.0]]
    left = mb.decode_geometry(topology["objects"]["countries"]["geometries"][0], arcs)
    right = mb.decode_geometry(topology["objects"]["countries"]["geometries"][1], arcs)
    assert left.is_valid and right.is_valid
    assert left.equals(shapely.box(-75, -13, -74, -12))
    assert right.equals(shapely.box(-74, -13, -73, -12))
    crossing = shapely.Polygon([(179, 0), (-179, 0), (-179, 1), (179, 1)])
    assert mb.crosses_antimeridian(crossing)
    assert not mb.crosses_antimeridian(left)


def test_shipped_vraem_is_exact_and_labelled() -> None:
    gdf = gpd.read_file(GEODATA / "peru" / "vraem_devida_2023.geojson")
    assert gdf.crs.to_epsg() == 4326
    zones = gdf.set_index("region_id")
    assert list(zones.index) == [
        "vraem-devida", "vraem-devida-centro", "vraem-devida-norte", "vraem-devida-sur"
    ]  # fmt: skip
    row = zones.loc["vraem-devida"]
    assert row["layer"] == "vraem" and row["districts"] == 24
    assert set(row["codes"].split()) == set(load_definitions()["vraem-devida"].codes)
    geom = row.geometry
    assert geom.is_valid and geom.geom_type == "Polygon" and not list(geom.interiors)
    assert geom.contains(SMENE)
    assert geom.contains(Point(-73.829029, -12.519574))  # Pichari
    assert not geom.contains(Point(-77.04, -12.05))  # Lima
    area = gpd.GeoSeries([geom], crs=4326).to_crs("ESRI:102033").area.iloc[0] / 1e6
    assert area == pytest.approx(23_440, rel=0.001)
    subzones = zones[zones["layer"] == "vraem-subzone"]
    assert subzones["districts"].to_dict() == {
        "vraem-devida-centro": 12, "vraem-devida-norte": 6, "vraem-devida-sur": 6
    }  # fmt: skip
    assert (GEODATA / "vraem_approximate.geojson").exists() is False  # the outline left


def test_shipped_boundaries_nest_by_code() -> None:
    peru = GEODATA / "peru"
    d = gpd.read_file(peru / "districts_2023.geojson")
    p = gpd.read_file(peru / "provinces_2023.geojson")
    dep = gpd.read_file(peru / "departments_2023.geojson")
    assert (len(d), len(p), len(dep)) == (1890, 196, 25)
    assert d["ubigeo"].str.fullmatch(r"\d{6}").all() and d["ubigeo"].is_unique
    assert set(d["ubigeo"].str[:4]) == set(p["ubigeo"])
    assert set(d["ubigeo"].str[:2]) == set(dep["ubigeo"])
    assert (d["province"] == d["ubigeo"].str[:4]).all()
    for frame in (d, p, dep):
        assert frame.is_valid.all() and frame.crs.to_epsg() == 4326
    vizcatan = d.set_index("ubigeo").loc["120609"]
    assert vizcatan["name"] == "Vizcatan del Ene" and vizcatan.geometry.contains(SMENE)
    low = gpd.read_file(peru / "districts_2023_z7.geojson")
    assert list(low["ubigeo"]) == list(d["ubigeo"]) and low.is_valid.all()


def test_rivers_are_split_and_named() -> None:
    everything = gpd.read_file(GEODATA / "peru" / "rivers.geojson")
    # the coastal Río Tambo (Arequipa) keeps its own Natural Earth feature
    rivers = everything[everything["source_name"] == "Ucayali"].set_index("name")
    assert list(rivers.index) == ["Apurímac", "Ene", "Tambo", "Ucayali"]
    # each stretch meets the next one: the course is cut, not gapped
    for up, down in (("Apurímac", "Ene"), ("Ene", "Tambo"), ("Tambo", "Ucayali")):
        end = Point(rivers.loc[up].geometry.coords[-1])
        assert end.distance(Point(rivers.loc[down].geometry.coords[0])) < 1e-3
    # the Ene runs past San Miguel del Ene (Natural Earth is a few km off the channel)
    assert rivers.loc["Ene"].geometry.distance(SMENE) < 0.05
    # absent from Natural Earth 10m (geodata/README.md says so)
    assert "Mantaro" not in set(everything["name"])


def test_towns_are_ranked_with_display_names() -> None:
    from atlas.data import load_towns

    towns = load_towns().set_index("town_id")
    assert towns.loc["ne:Lima", "rank"] == 1
    assert (towns["rank"] == 2).sum() == 25  # department capitals (+ Callao, Huaura)
    vraem = [
        "0809100001", "0809070001", "0504080001", "0504070001", "0505070001", "0505030001",
        "0505090001", "1206060019", "1206040001", "1206010001", "1206080001", "1206090001",
        "0504090001", "0504010001", "0501010001",
    ]  # fmt: skip
    assert set(vraem) <= set(towns.index)
    assert towns.loc["1206060019", "label"] == "San Ramón de Pangoa"
    assert towns.loc["0809070001", "label"] == "Kimbiri"
    assert towns.loc["ne:Cusco", "label"] == "Cusco"
    names = pd.read_csv(GEODATA / "town_names.csv", dtype=str)
    assert names["source"].str.len().min() > 20  # every spelling cites its source
    assert set(names["town_id"]) <= set(towns.index)


def test_definitions_index_and_vraem_codes() -> None:
    defs = load_definitions()
    assert set(defs) == {"vraem-devida"}
    vraem = defs["vraem-devida"]
    assert len(vraem.codes) == 24 and len(set(vraem.codes)) == 24
    assert all(isinstance(c, str) and len(c) == 6 for c in vraem.codes)
    assert "050503" in vraem.codes and "120609" in vraem.codes  # leading zero kept
    counts = pd.Series(vraem.subzones).value_counts().to_dict()
    assert counts == {"centro": 12, "norte": 6, "sur": 6}
    assert "Reporte N° 7" in vraem.source and "3478761" in vraem.source
    index = {i.id: i for i in definition_index()}
    policy = index["vraem-ds-040-2016-pcm"]
    assert policy.available is False and "040-2016-PCM" in policy.source
    for zone in ("alto-huallaga", "la-convencion-lares"):
        assert index[zone].available is False
        assert index[zone].file == ""  # no codes: absent, not guessed
    table = pd.read_csv(GEODATA / "definitions" / "vraem_devida_2021.csv", dtype=str)
    assert list(table.columns) == [
        "ubigeo_inei",
        "departamento",
        "provincia",
        "distrito",
        "subzona",
    ]


def test_coca_table_has_sources_and_the_key_facts() -> None:
    df = pd.read_csv(GEODATA / "coca_hectares.csv", dtype={"ubigeo_dep": str})
    assert df["source_publisher"].notna().all() and df["source_url"].str.startswith("http").all()
    assert df["source_quote_or_note"].notna().all()
    vraem = df[df["zone"] == "VRAEM"].set_index("year")["hectares"]
    assert vraem[2017] == 20304 and vraem[2020] == 27994 and vraem[2022] == 35709
    assert pd.isna(vraem[2024])  # only the change is known
    national = df[df["zone_kind"] == "national"].set_index("year")["hectares"]
    assert national[2019] == 54655 and national[2022] == 95008
    dep = df[df["zone_kind"] == "department"]
    assert len(dep) == 65 and dep["ubigeo_dep"].str.fullmatch(r"\d{2}").all()
    # 2019 department rows sum to the national total (checked in PROVENANCE)
    assert dep.loc[dep["year"] == 2019, "hectares"].sum() == 54655
    assert set(df["series"]) == {"UNODC", "DEVIDA"}


def test_reference_event() -> None:
    df = pd.read_csv(GEODATA / "reference_events.csv", dtype=str)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["event_id"] == "SMENE-2021-05-23" and row["date"] == "2021-05-23"
    assert row["fatalities"] == "16"
    assert (
        "14" in row["fatalities_reported_variants"] and "18" in row["fatalities_reported_variants"]
    )
    assert row["ubigeo_district_2023"] == "120609" and row["ubigeo_district_2007"] == "120606"
    assert (float(row["latitude"]), float(row["longitude"])) == (-12.186019, -74.02709)
    assert "NOT the exact site" in row["coord_note"]
    assert "ojo-publico.com" in row["sources"]


def test_sample_file_rows_are_all_synthetic() -> None:
    df = pd.read_csv(GEODATA / "sample_incidents.csv", dtype=str, keep_default_na=False)
    assert 1500 <= len(df) <= 3000
    assert (df["synthetic"] == "true").all()
    assert (df["dataset"] == "sample (synthetic)").all()
    assert df["notes"].str.startswith("SYNTHETIC SAMPLE - not a real event").all()
    assert df["event_id_cnty"].is_unique
    years = df["event_date"].str[:4].astype(int)
    assert years.min() == 2018 and years.max() == 2024
    assert df["event_type"].nunique() >= 5
    assert set(df["geo_precision"]) == {"1", "2", "3"}  # includes coarse (admin2) rows
    assert (df["fatalities"].astype(int) > 0).any() and (df["fatalities"] == "0").any()
    pts = gpd.points_from_xy(df["longitude"].astype(float), df["latitude"].astype(float))
    vraem = gpd.read_file(GEODATA / "peru" / "vraem_devida_2023.geojson").geometry.iloc[0]
    near = shapely.contains_xy(vraem.buffer(0.3), pts.x, pts.y).mean()
    assert near > 0.3  # concentrated in and near the VRAEM
    assert pts.y.min() < -15 and pts.y.max() > -6  # and spread over Peru


def test_sample_generator_is_deterministic(tmp_path: Path) -> None:
    ms = _load_script("make_sample")
    a = ms.write_sample(tmp_path / "a.csv")
    b = ms.write_sample(tmp_path / "b.csv")
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() == (GEODATA / "sample_incidents.csv").read_bytes()
    c = ms.write_sample(tmp_path / "c.csv", seed=7, n=100)
    assert c.read_bytes() != a.read_bytes()


@pytest.mark.parametrize(
    "name", ["basemap_south_america.geojson", "peru/vraem_devida_2023.geojson"]
)
def test_geojson_files_are_wgs84_lonlat(name: str) -> None:
    gdf = gpd.read_file(GEODATA / name)
    minx, miny, maxx, maxy = gdf.total_bounds
    assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
