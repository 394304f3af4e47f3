"""Safe locations (atlas.generalise) at the one choke point, atlas.query.filter_incidents.

The hand-made ACLED file tests/fixtures/diff/acled_v1.csv (SYNTHETIC, VRAEM places with
invented names) goes through the real reader and load_bundle; the leak search looks for
each original coordinate (3 decimals, latitude and longitude together) and each original
place name in every text output: the drawn frame, CSV and GeoJSON (conflict-atlas join),
HTML, SVG, the sources sidecar, the alt text and the share URL.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import shapely

from atlas.data import load_bundle, load_shipped
from atlas.generalise import (
    _TO_DISPLAY,
    _TO_METRIC,
    GRID_CRS,
    district_of,
    generalise_incidents,
    note,
    snap_callouts,
    suppress_counts,
)
from atlas.query import filter_incidents, region_mask
from atlas.readers import read_incidents
from atlas.spec import Callout, MapSpec
from cli import main

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "tests" / "fixtures" / "diff" / "acled_v1.csv"
NAMES = ("Testigo Alto", "Caserio Uno", "Caserio Dos", "Caserio Tres", "Caserio Cuatro",
         "Caserio Cinco", "Lima Centro", "witness lives")  # fmt: skip
SETTINGS = ("district", "grid:10", "grid:1")


@pytest.fixture(scope="module")
def shipped():
    return load_shipped()


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(incidents=[V1])


@pytest.fixture(scope="module")
def originals():
    frame, _ = read_incidents(V1)
    return list(zip(frame.geometry.y, frame.geometry.x, strict=True))


_NUMBER = re.compile(r"-?\d+\.\d+")


def _assert_no_leak(text: str, originals, what: str) -> None:
    """No original place name; no original (lat, lon) to 3 decimals as two numbers next
    to each other (either order, at most one number between them)."""
    for name in NAMES:
        assert name not in text, f"{what}: {name!r} leaked"
    numbers = [round(float(m), 3) for m in _NUMBER.findall(text)]
    pairs = set()
    for k in range(len(numbers) - 1):
        for gap in (1, 2):
            if k + gap < len(numbers):
                pairs.add((numbers[k], numbers[k + gap]))
    for lat, lon in originals:
        la, lo = round(lat, 3), round(lon, 3)
        assert (la, lo) not in pairs and (lo, la) not in pairs, f"{what}: ({lat}, {lon}) leaked"


def test_the_leak_search_finds_exact_places(bundle, originals) -> None:
    drawn, _ = filter_incidents(bundle.incidents, MapSpec(), bundle.regions)
    with pytest.raises(AssertionError):
        _assert_no_leak(drawn.to_json(default=str), originals, "ungeneralised GeoJSON")


@pytest.mark.parametrize("setting", SETTINGS)
def test_drawn_frame_is_generalised(bundle, originals, setting) -> None:
    spec = MapSpec(generalise=setting)
    drawn, summary = filter_incidents(bundle.incidents, spec, bundle.regions,
                                      districts=bundle.districts)  # fmt: skip
    plain, plain_summary = filter_incidents(bundle.incidents, MapSpec(), bundle.regions)
    assert summary == plain_summary  # counts come from the original points
    assert len(drawn) == len(plain)
    moved = shapely.distance(drawn.geometry.to_numpy(), plain.geometry.to_numpy())
    assert (moved > 0).all()
    for col in ("location", "admin3", "notes"):
        for name in NAMES:
            assert not drawn[col].str.contains(name, regex=False).any()
    assert drawn["notes"].iloc[0] == "Armed clash; Armed clash; 5 killed"
    _assert_no_leak(drawn.to_json(default=str), originals, f"frame ({setting})")


def test_district_mode_uses_representative_points(bundle) -> None:
    drawn, _ = filter_incidents(bundle.incidents, MapSpec(generalise="district"),
                                districts=bundle.districts)  # fmt: skip
    ids = district_of(bundle.incidents, bundle.districts)
    d = bundle.districts.set_index("region_id")
    for i, (point, did) in enumerate(zip(drawn.geometry, ids, strict=True)):
        assert point.equals(shapely.point_on_surface(d.loc[did].geometry)), i
        assert drawn["location"].iloc[i] == d.loc[did, "name"] == drawn["admin3"].iloc[i]


def test_grid_points_are_cell_centres_or_inside_the_district(shipped) -> None:
    drawn, _ = filter_incidents(shipped.incidents, MapSpec(generalise="grid:10"),
                                districts=shipped.districts)  # fmt: skip
    x, y = _TO_METRIC.transform(drawn.geometry.x.to_numpy(), drawn.geometry.y.to_numpy())
    centre = np.isclose(np.mod(x, 10_000), 5_000, atol=0.01) & np.isclose(
        np.mod(y, 10_000), 5_000, atol=0.01)  # fmt: skip
    assert GRID_CRS == "EPSG:32718"
    assert centre.mean() > 0.5  # most centres lie in the event's own district (73 %)
    # the others were kept inside the event's district: same district as the original
    plain, _ = filter_incidents(shipped.incidents, MapSpec())
    before = district_of(plain, shipped.districts)
    after = district_of(drawn, shipped.districts)
    assert (before.fillna("-") == after.fillna("-")).all()
    assert drawn["location"].eq("10 km cell").all() and drawn["admin3"].eq("").all()
    lon, lat = _TO_DISPLAY.transform(5_000.0, 5_000.0)
    assert np.isfinite([lon, lat]).all()


@pytest.mark.parametrize("setting", ("district", "grid:5", "grid:25"))
def test_counts_per_region_unchanged(shipped, setting) -> None:
    """Per district (the choropleth's rule: a sliver within 1 km takes the nearest
    district) nothing changes; a region without that rule (the VRAEM zones) can gain only
    an event that lay in such a sliver at its edge."""
    from atlas.spatial import aggregate, assign_region

    plain, _ = filter_incidents(shipped.incidents, MapSpec())
    drawn, _ = filter_incidents(shipped.incidents, MapSpec(generalise=setting),
                                districts=shipped.districts)  # fmt: skip
    by_district = district_of(plain, shipped.districts).value_counts()
    assert district_of(drawn, shipped.districts).value_counts().equals(by_district)
    before = aggregate(plain, shipped.districts, snap_km=1).set_index("region_id")["incidents"]
    after = aggregate(drawn, shipped.districts, snap_km=1).set_index("region_id")["incidents"]
    assert after.equals(before)
    slivers = int(assign_region(plain, shipped.districts).isna().sum())
    assert slivers < 0.05 * len(plain)  # outside Peru or in a sliver (31 of 2,000 here)
    for region_id in shipped.regions["region_id"]:
        n0 = region_mask(plain, shipped.regions, region_id).sum()
        n1 = region_mask(drawn, shipped.regions, region_id).sum()
        assert abs(int(n1) - int(n0)) <= slivers, region_id
    assert region_mask(drawn, shipped.regions, "vraem-devida").sum() == region_mask(
        plain, shipped.regions, "vraem-devida").sum()  # fmt: skip


def test_event_outside_every_district_falls_back_to_a_grid_cell(shipped) -> None:
    import geopandas as gpd

    far = shipped.incidents.iloc[:1].copy()
    far = far.set_geometry(gpd.points_from_xy([-60.123456], [-20.654321]), crs="EPSG:4326")
    out = generalise_incidents(far, "district", shipped.districts)
    assert out.attrs["generalise"].no_district == 1
    assert out["location"].iloc[0] == "20 km cell" and out["admin3"].iloc[0] == ""
    assert out.geometry.iloc[0].distance(far.geometry.iloc[0]) > 0.001


def test_callouts_snapped_and_not_in_the_link(bundle, originals) -> None:
    lat, lon = originals[0]
    spec = MapSpec(generalise="district", callouts=(
        Callout("Here", lon=lon, lat=lat), Callout("Zone", region_id="vraem-devida")))  # fmt: skip
    snapped = snap_callouts(spec.callouts, spec.generalise, bundle.districts)
    assert snapped[1] == spec.callouts[1]
    assert (snapped[0].lon, snapped[0].lat) != (lon, lat)
    drawn, _ = filter_incidents(bundle.incidents, spec, districts=bundle.districts)
    first = drawn.geometry.iloc[0]
    assert (snapped[0].lon, snapped[0].lat) == (round(first.x, 5), round(first.y, 5))
    from atlas.generalise import generalise_spec

    _assert_no_leak(str(generalise_spec(spec, bundle.districts).to_query()), originals, "link")


def test_exports_leak_nothing(bundle, originals, tmp_path: Path) -> None:
    from layers.export import export

    lat, lon = originals[0]
    spec = MapSpec(generalise="district", layers=("points", "heat", "choropleth"),
                   callouts=(Callout("Here", lon=lon, lat=lat),))  # fmt: skip
    for fmt in ("html", "svg"):
        result = export(spec, bundle, tmp_path / f"map.{fmt}")
        for path in (result.path, result.alt_text_path, tmp_path / "map.sources.md"):
            text = path.read_text(encoding="utf-8")
            _assert_no_leak(text, originals, path.name)
        sidecar = (tmp_path / "map.sources.md").read_text(encoding="utf-8")
        assert note("district", "en") in sidecar
        assert "Locations generalised to districts" in sidecar


@pytest.mark.parametrize("suffix", (".csv", ".geojson"))
def test_cli_join_generalises_the_output(originals, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"joined{suffix}"
    regions = ROOT / "geodata" / "peru" / "vraem_devida_2023.geojson"
    code = main(["join", "--incidents", str(V1), "--regions", str(regions), "--out", str(out),
                 "--generalise", "grid:5"])  # fmt: skip
    assert code == 0
    text = out.read_text(encoding="utf-8")
    _assert_no_leak(text, originals, out.name)
    assert "vraem-devida" in text  # region ids come from the original points


def test_cli_export_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "map.html"
    assert main(["export", "--incidents", str(V1), "--out", str(out), "--generalise",
                 "grid:10"]) == 0  # fmt: skip
    assert "Locations generalised to a 10 km grid (EPSG:32718)" in (
        tmp_path / "map.sources.md").read_text(encoding="utf-8")  # fmt: skip
    assert main(["export", "--out", str(out), "--generalise", "village"]) == 2
    assert "generalise" in capsys.readouterr().err


def test_note_in_both_languages() -> None:
    assert note("none", "en") == ""
    assert note("grid:2.5", "es").startswith("Ubicaciones generalizadas a una cuadrícula de 2.5 km")


def test_small_count_suppression() -> None:
    import pandas as pd

    shown = suppress_counts(pd.Series([0, 1, 4, 5, 1200]), 5)
    assert shown.tolist() == ["0", "< 5", "< 5", "5", "1,200"]
    assert suppress_counts(pd.Series([1, 2]), 1).tolist() == ["1", "2"]


def test_suppress_below_in_the_spec_the_summary_and_the_choropleth(shipped) -> None:
    import json

    import folium

    from atlas.errors import InputError
    from atlas.ui_state import region_summary
    from layers.choropleth import ChoroplethLayer

    with pytest.raises(InputError, match="suppress_below"):
        MapSpec(suppress_below=1)
    spec = MapSpec(suppress_below=5, region_layer="district", generalise="district")
    assert MapSpec.from_query(spec.to_query()) == spec
    assert MapSpec.from_toml(spec.to_toml()) == spec
    drawn, _ = filter_incidents(shipped.incidents, spec, districts=shipped.districts)
    plain_table = region_summary(drawn, shipped.regions, shipped.districts, MapSpec(
        region_layer="district"))  # fmt: skip
    table = region_summary(drawn, shipped.regions, shipped.districts, spec)
    small = plain_table["incidents"].between(1, 4)
    assert small.any()
    assert table.loc[small, "incidents"].eq("< 5").all()
    assert table.loc[small, "fatalities"].eq("").all()
    assert table.loc[~small, "incidents"].astype(int).equals(plain_table.loc[~small, "incidents"]
                                                             .astype(int))  # fmt: skip
    group = folium.FeatureGroup()
    view = shipped.__class__(**{**shipped.__dict__, "incidents": drawn})
    ChoroplethLayer().to_folium(group, view, spec)
    geojson = next(c for c in group._children.values() if isinstance(c, folium.GeoJson))
    values = [f["properties"]["value"] for f in json.loads(json.dumps(geojson.data))["features"]]
    assert "< 5" in values
    assert not any(v in ("1", "2", "3", "4") for v in values)


@pytest.mark.parametrize("setting", SETTINGS)
def test_facts_leak_nothing(bundle, originals, setting) -> None:
    """The numbers for the article (Markdown and JSON) carry no original place name or
    coordinate, whatever the setting (they name districts at most)."""
    from layers.facts import article_facts

    facts = article_facts(MapSpec(generalise=setting), bundle, inputs=[(V1.name, "0" * 64)])
    _assert_no_leak(facts.markdown(), originals, f"facts markdown ({setting})")
    _assert_no_leak(facts.to_json(), originals, f"facts json ({setting})")
