"""Real boundaries and gazetteer points (run with ``pytest --real-data ../shared/data``).

Facts checked here are stated in ../shared/data/PROVENANCE.md: the 2007 district file
(juaneladio/peru-geojson, INEI-2007) has 1,834 features of which 8 have null geometry;
the 2023 subset (lincolneulogio/peru-geojson light variant, 55 districts of Huanta,
La Mar, La Convención and Satipo) holds all 24 DEVIDA VRAEM districts; the San Miguel del
Ene point falls in 120609 on 2023 boundaries and in 120606 (Pangoa) on 2007 ones.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from atlas.crs import METRIC_CRS
from atlas.regions import RegionDefinition, build_region, read_regions
from atlas.spatial import assign_region, join_incidents

pytestmark = pytest.mark.realdata

#: DEVIDA "Zona VRAEM" coca-monitoring zone, 24 districts (DEVIDA Reporte N° 7, 2022).
DEVIDA_VRAEM = RegionDefinition(
    region_id="vraem-devida",
    name="VRAEM (DEVIDA coca-monitoring zone)",
    codes=tuple(
        "120602 120603 120604 120606 120608 120609 050503 050409 080907 080916 080917 "
        "050408 080910 080918 050509 050513 050507 050407 050510 050502 050512 050505 "
        "080913 080912".split()
    ),
    source="DEVIDA, Reporte N° 7 (2022)",
)
#: Created after 2007, so absent from the 2007 boundaries (geodata/definitions/index.toml).
POST_2007 = {
    "050409", "050509", "050510", "050512", "050513",
    "080912", "080913", "080916", "080917", "080918", "120609",
}  # fmt: skip
SAN_MIGUEL_DEL_ENE = Point(-74.027090, -12.186019)


@pytest.fixture(scope="module")
def districts_2007(real_data: Path) -> tuple[gpd.GeoDataFrame, object]:
    return read_regions(
        real_data / "boundaries" / "juaneladio_peru_distrital_simple.geojson", vintage="2007"
    )


@pytest.fixture(scope="module")
def districts_2023(real_data: Path) -> gpd.GeoDataFrame:
    path = real_data / "boundaries" / "inei2023_light_distritos_vraem_provinces.geojson"
    regions, report = read_regions(path, vintage="2023")
    assert report.rows_read == 55 and report.rows_kept == 55
    return regions


@pytest.fixture(scope="module")
def capitals(real_data: Path) -> gpd.GeoDataFrame:
    table = pd.read_csv(real_data / "gazetteer" / "castagnetto_ubigeo_distrito.csv", dtype=str)
    lat = pd.to_numeric(table["latitude"], errors="coerce")
    lon = pd.to_numeric(table["longitude"], errors="coerce")
    ok = lat.notna() & lon.notna()
    return gpd.GeoDataFrame(
        table.loc[ok, ["inei", "distrito"]],
        geometry=gpd.points_from_xy(lon[ok], lat[ok]),
        crs="EPSG:4326",
    ).reset_index(drop=True)


def _smde() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"event_id": ["smde"]}, geometry=[SAN_MIGUEL_DEL_ENE], crs=4326)


def test_2007_districts_load(districts_2007) -> None:
    regions, report = districts_2007
    report.check()
    assert report.rows_read == 1834
    assert report.by_reason() == {"empty_geometry": 8}
    assert len(regions) == 1826 and regions["region_id"].is_unique
    assert regions["region_id"].str.fullmatch(r"\d{6}").all()
    assert regions.geometry.is_valid.all()
    assert {"210103", "010204"}.isdisjoint(regions["region_id"])  # null ones (PROVENANCE)


def _misses(capitals: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.DataFrame:
    """Capitals whose own district polygon does not cover them, with the distance to it."""
    points = capitals[capitals["inei"].isin(set(districts["region_id"]))]
    joined = join_incidents(points, districts)
    hit = set(joined.loc[joined["region_id"] == joined["inei"], "inei"])
    miss = points[~points["inei"].isin(hit)].reset_index(drop=True)
    own = districts.set_index("region_id").geometry.loc[miss["inei"]].reset_index(drop=True)
    km = miss.geometry.to_crs(METRIC_CRS).distance(own.to_crs(METRIC_CRS)) / 1000
    return pd.DataFrame({"inei": miss["inei"], "km": km, "n": len(points)})


def test_capitals_land_in_their_2007_district(capitals, districts_2007) -> None:
    # Measured: 1,724 of the 1,824 capitals with a code in the 2007 file (94.5 %) fall in
    # their own district. The 100 others lie on simplified borders (Ayna's capital San
    # Francisco falls across the river in Kimbiri; coastal capitals fall in the sea):
    # every one is within 5 km of its own district (93 % within 2 km). Districts created
    # after 2007 are not in the file and are left out of the share.
    regions, _ = districts_2007
    misses = _misses(capitals, regions)
    share = 1 - len(misses) / misses["n"].iloc[0]
    assert share >= 0.94
    assert (misses["km"] < 5).all()
    assert "050503" in set(misses["inei"])  # Ayna -> Kimbiri (PROVENANCE.md)


def test_capitals_land_in_their_2023_district(capitals, districts_2023) -> None:
    # 45 of the 46 capitals with coordinates land in their own 2023 polygon; Ayna's
    # capital sits about 7 m across the Apurímac border, in Kimbiri (080907).
    misses = _misses(capitals, districts_2023)
    assert misses["n"].iloc[0] == 46
    assert list(misses["inei"]) == ["050503"]
    assert misses["km"].iloc[0] < 0.05


def test_san_miguel_del_ene_district_by_vintage(districts_2007, districts_2023) -> None:
    assert assign_region(_smde(), districts_2023).iloc[0] == "120609"
    assert assign_region(_smde(), districts_2007[0]).iloc[0] == "120606"


def test_devida_vraem_on_2023(districts_2023) -> None:
    vraem, report = build_region(DEVIDA_VRAEM, districts_2023, vintage="2023")
    assert report.codes_missing == () and report.districts_used == 24
    geom = vraem.geometry.iloc[0]
    assert geom.is_valid and geom.geom_type in ("Polygon", "MultiPolygon")
    assert geom.covers(SAN_MIGUEL_DEL_ENE)
    assert vraem["vintage"].iloc[0] == "2023" and not vraem["approximate"].iloc[0]
    # The union equals its 24 districts (their overlaps counted once).
    chosen = districts_2023[districts_2023["region_id"].isin(DEVIDA_VRAEM.codes)]
    assert geom.symmetric_difference(chosen.union_all()).area < 1e-9
    subzones, _ = build_region(
        RegionDefinition(
            "vraem-devida",
            "VRAEM",
            DEVIDA_VRAEM.codes,
            subzones={c: ("norte" if c.startswith("12") else "other") for c in DEVIDA_VRAEM.codes},
        ),
        districts_2023,
        by_subzone=True,
    )
    assert list(subzones["region_id"]) == ["vraem-devida-norte", "vraem-devida-other"]
    assert list(subzones["districts"]) == [6, 18]


def test_devida_vraem_on_2007_reports_missing(districts_2007) -> None:
    vraem, report = build_region(DEVIDA_VRAEM, districts_2007[0], vintage="2007")
    assert set(report.codes_missing) == POST_2007
    assert report.districts_used == 13
    assert "vintage" in report.summary()
    geom = vraem.geometry.iloc[0]
    assert geom.is_valid and geom.covers(SAN_MIGUEL_DEL_ENE)  # it is in Pangoa (120606)
