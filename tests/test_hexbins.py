"""layers.hexbins: the map's incident layers show hexagons above the threshold of incidents
in the recorded view (with the notice in the legend), exact points below it; counts are
conserved; the payload of a 1M-incident map stays bounded whatever the view."""

from __future__ import annotations

import dataclasses
import json
import re

import folium
import numpy as np
import pytest
import shapely
from test_layers import make_data

from atlas.aggregate import in_box
from atlas.frame import MapView
from atlas.i18n import t
from atlas.spec import MapSpec
from layers.compose import build_base, build_folium_map, build_groups
from layers.hexbins import incident_view, view_key

HEX_DATA = re.compile(r"var data = (\[\[.*?\]\]);\s*var C = ", re.S)


def _render(groups: list[folium.FeatureGroup]) -> str:
    fmap = folium.Map(tiles=None)
    for g in groups:
        g.add_to(fmap)
    return fmap.get_root().render()


def _hexagons(html: str) -> list[list[float]]:
    found = HEX_DATA.findall(html)
    assert len(found) == 1, f"{len(found)} hexagon arrays"
    return json.loads(found[0])


def _in_box(data, box) -> int:
    g = data.incidents.geometry.values
    return int(in_box(shapely.get_x(g), shapely.get_y(g), box).sum())


def test_above_the_threshold_the_map_shows_hexagons_and_says_so() -> None:
    data = make_data(400)
    spec = MapSpec(layers=("basemap", "points"))
    shown = incident_view(spec, data, None, threshold=100)
    assert shown.shown.mode == "hexagons"
    html = _render(build_groups(spec, shown, assets="cdn"))
    rows = _hexagons(html)
    # counts conserved: the hexagons hold every filtered incident of the covered box
    assert sum(r[2] for r in rows) == _in_box(data, shown.shown.box) == shown.shown.in_view
    assert "_CompactPoints" not in html and "L.circleMarker" not in html.split("var C =")[-1]
    notice = t("map_aggregate_banner", "en", n=f"{shown.shown.in_view:,}", km="X",
               limit="100").split("X")[0]  # fmt: skip
    assert notice in html
    assert t("map_hex_count", "en", km="X").split("(")[0] in html  # the legend's classes


def test_the_notice_and_legend_follow_the_language() -> None:
    data = make_data(400)
    spec = MapSpec(layers=("basemap", "points"), lang="es")
    html = _render(build_groups(spec, incident_view(spec, data, None, threshold=100),
                                assets="cdn"))  # fmt: skip
    assert "AGREGADO" in html and "hexágonos" in html
    assert "AGGREGATED" not in html


def test_below_the_threshold_every_incident_is_a_point_and_no_notice() -> None:
    data = make_data(400)
    spec = MapSpec(layers=("basemap", "points"))
    shown = incident_view(spec, data, None, threshold=1000)
    assert shown is data and view_key(shown) == ""
    html = _render(build_groups(spec, shown, assets="cdn"))
    assert "AGGREGATED" not in html
    assert not HEX_DATA.search(html)


def test_zoomed_in_view_with_few_incidents_sends_exact_points_of_its_box() -> None:
    data = make_data(400)
    x = shapely.get_x(data.incidents.geometry.values)
    y = shapely.get_y(data.incidents.geometry.values)
    cx, cy = float(np.median(x)), float(np.median(y))
    view = MapView(bbox=(cx - 0.02, cy - 0.02, cx + 0.02, cy + 0.02), center=(cy, cx), zoom=14)
    spec = MapSpec(layers=("basemap", "points"))
    shown = incident_view(spec, data, view, threshold=100)
    choice = shown.shown
    assert choice.mode == "points" and choice.in_view <= 100
    assert choice.in_view == _in_box(data, choice.box) > 0
    html = _render(build_groups(spec, shown, assets="cdn"))
    assert "AGGREGATED" not in html and not HEX_DATA.search(html)
    groups = build_groups(spec, shown, assets="cdn")
    dom = [el for g in groups for el in g._children.values() if type(el).__name__ == "_DomPoints"]
    assert len(dom) == 1
    rows = json.loads(dom[0].payload)["rows"]
    assert len(rows) == choice.in_view < len(data.incidents)  # the box's points, exact


def test_clusters_alone_draw_the_hexagons_and_heat_gets_weighted_cells() -> None:
    data = make_data(400)
    spec = MapSpec(layers=("basemap", "clusters", "heat"))
    shown = incident_view(spec, data, None, threshold=100)
    html = _render(build_groups(spec, shown, assets="cdn"))
    assert sum(r[2] for r in _hexagons(html)) == shown.shown.in_view
    heat = re.search(r"L\.heatLayer\(\s*(\[\[.*?\]\])", html, re.S)
    assert heat and 0 < len(json.loads(heat.group(1))) <= shown.shown.in_view
    assert "_CompactPoints" not in html and "markerClusterGroup" not in html


def test_view_key_changes_only_with_what_is_drawn() -> None:
    data = make_data(400)
    spec = MapSpec(layers=("basemap", "points"))
    a = MapView(bbox=(-74.9, -13.3, -72.9, -11.3), center=(-12.3, -73.9), zoom=9)
    b = MapView(bbox=(-74.88, -13.28, -72.88, -11.28), center=(-12.28, -73.88), zoom=9)
    c = dataclasses.replace(a, zoom=10)
    ka = view_key(incident_view(spec, data, a, threshold=100))
    assert ka == view_key(incident_view(spec, data, b, threshold=100))  # a small pan
    assert ka != view_key(incident_view(spec, data, c, threshold=100))  # a zoom


@pytest.mark.slow
def test_payload_of_1m_incidents_is_bounded_in_every_view() -> None:
    """Issue 15: incident layers of any 1M view <= 3 MB, the basemap <= 1 MB."""
    from bench.data import synthetic_incidents

    data = dataclasses.replace(make_data(10), incidents=synthetic_incidents(1_000_000))
    spec = MapSpec(layers=("basemap", "points", "heat"))
    views = [None]  # the first view: the spec's frame
    for zoom, (lon, lat) in [(5, (-75, -9)), (6, (-75, -9)), (8, (-74, -12.5)),
                             (10, (-74, -12.5)), (12, (-74, -12.5)), (15, (-73.5, -12.1)),
                             (18, (-73.5, -12.1))]:  # fmt: skip
        half = 500 * 360 / (256 * 2**zoom)
        views.append(MapView(bbox=(lon - half, lat - 0.62 * half, lon + half,
                                   lat + 0.62 * half), center=(lat, lon), zoom=zoom))  # fmt: skip
    for view in views:
        shown = incident_view(spec, data, view)
        groups = _render(build_groups(spec, shown, assets="local"))
        base = build_base(spec, data, view=view).get_root().render()
        empty = _render(build_groups(MapSpec(layers=("basemap",)), shown, assets="local"))
        incident_bytes = len(groups.encode()) - len(empty.encode())
        assert incident_bytes <= 3_000_000, (view, shown.shown.mode, incident_bytes)
        assert len(base.encode()) <= 1_000_000 + len(empty.encode()), view
    # and the whole-map helper (the HTML export path) on the 1M frame: bounded too
    html = build_folium_map(spec, incident_view(spec, data, None)).get_root().render()
    assert len(html.encode()) <= 4_000_000


@pytest.mark.slow
def test_app_shows_hexagons_and_the_notice_for_a_large_operator_file(tmp_path, monkeypatch):
    """The app's map fragment: 60,000 incidents around the VRAEM (above POINTS_MAX in the
    first view) reach the map as hexagons with the notice; the filter to few of them
    (Minimum deaths 8) brings back exact points."""
    from streamlit.testing.v1 import AppTest

    from atlas.ui_state import K, widget_key
    from bench.data import acled_frame
    from tests.conftest import ROOT

    n = 60_000
    table = acled_frame(n)
    rng = np.random.default_rng(3)
    table["latitude"] = rng.uniform(-13.3, -11.5, n).round(4)
    table["longitude"] = rng.uniform(-74.8, -73.3, n).round(4)
    path = tmp_path / "acled_60k.csv"
    table.to_csv(path, index=False)
    monkeypatch.setenv("CONFLICT_ATLAS_INCIDENTS", str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    script = _component_text(at)
    rows = _hexagons(script)
    assert "AGGREGATED" in script and len(rows) > 10
    assert sum(r[2] for r in rows) <= n
    at.number_input(key=widget_key(K.MIN_FAT, "en")).set_value(3).run()  # ~2 % of them
    assert not at.exception, [e.value for e in at.exception]
    script = _component_text(at)
    assert "AGGREGATED" not in script and not HEX_DATA.search(script)


def _component_text(at) -> str:
    """Every string in the map component's arguments, joined (the scripts, unescaped)."""
    out: list[str] = []

    def walk(v) -> None:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(json.loads(at.get("component_instance")[0].proto.json_args))
    return "\n".join(out)
