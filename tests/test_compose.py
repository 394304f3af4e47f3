"""build_folium_map: layers per spec, legend and banners, escaping, assets, payload size."""

from __future__ import annotations

import json
import re
import shutil

import folium
import geopandas as gpd
import pandas as pd
import pytest
from test_layers import make_data

from atlas.errors import AtlasError, InputError
from atlas.spec import LAYER_NAMES, MapSpec
from layers import assets
from layers.compose import build_folium_map, build_groups, inline_html, legend_entries
from layers.incidents import MAX_DOM_POINTS
from layers.legend import Legend
from layers.registry import layers_for
from tests.chromium import launch

EVIL = "<img src=x onerror=alert(1)>"
ALL = tuple(LAYER_NAMES)


def _tree(element: folium.Element) -> list[folium.Element]:
    out = [element]
    for child in element._children.values():
        out.extend(_tree(child))
    return out


def _kinds(fmap: folium.Map) -> set[str]:
    return {type(el).__name__ for el in _tree(fmap)}


def _loaded_urls(html: str) -> list[str]:
    """URLs the page would fetch: script src, stylesheet href, CSS url()."""
    urls = re.findall(r"<script[^>]+src=\"([^\"]+)\"", html)
    urls += re.findall(r"<link[^>]+href=\"([^\"]+)\"", html)
    urls += re.findall(r"url\((?:['\"])?(https?://[^)'\"]+)", html)
    return urls


def test_layers_present_follow_spec_layers() -> None:
    data = make_data(30)
    only = build_folium_map(MapSpec(layers=("basemap", "points")), data)
    kinds = _kinds(only)
    assert "_DomPoints" in kinds
    assert not {"_FastHeat", "_CompactPoints"} & kinds
    everything = build_folium_map(MapSpec(layers=ALL, region_layer="district"), data)
    kinds = _kinds(everything)
    assert {"_FastHeat", "_CompactPoints", "_DomPoints", "Legend", "LayerControl"} <= kinds
    assert sum(isinstance(el, folium.GeoJson) for el in _tree(everything)) >= 3  # base+chor+reg


def test_legend_entries_are_the_layers_entries_in_draw_order() -> None:
    data = make_data(25)
    spec = MapSpec(layers=("reference", "points", "regions"))
    expected = [e for la in layers_for(spec.layers) for e in la.legend_entries(data, spec)]
    assert legend_entries(spec, data) == expected
    assert expected[0].label.startswith("VRAEM")  # regions draw before points
    assert expected[-1].kind == "star"


def test_sample_banner_only_with_sample_data_and_approximate_label() -> None:
    sample = build_folium_map(MapSpec(), make_data(10)).get_root().render()
    assert "SAMPLE DATA — synthetic incidents" in sample
    assert "approximate boundary" in sample
    assert "VRAEM (DEVIDA zone, approximate outline)" in sample
    real = build_folium_map(MapSpec(), make_data(10, sample=False, approximate=False))
    html = real.get_root().render()
    assert "SAMPLE" not in html
    assert "approximate boundary" not in html
    assert "approximate outline" not in html


def test_spanish_legend() -> None:
    html = build_folium_map(MapSpec(lang="es"), make_data(10)).get_root().render()
    assert "DATOS DE MUESTRA — incidentes sintéticos" in html
    assert "límite aproximado" in html


def test_popups_escape_untrusted_text() -> None:
    data = make_data(5, notes=EVIL)
    data.incidents["actor1"] = "<b>bold</b> & co"
    html = build_folium_map(MapSpec(), data).get_root().render()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html


def test_reference_popup_names_source_and_caveat() -> None:
    html = build_folium_map(MapSpec(layers=("reference",)), make_data(1)).get_root().render()
    assert "test source" in html
    assert "INEI centro poblado point, not the exact site" in html


def test_above_threshold_points_switch_to_compact_payload_without_text() -> None:
    data = make_data(MAX_DOM_POINTS + 1, notes=EVIL)
    fmap = build_folium_map(MapSpec(layers=("points",)), data)
    assert "_CompactPoints" in _kinds(fmap) and "_DomPoints" not in _kinds(fmap)
    html = fmap.get_root().render()
    assert "onerror" not in html  # no free text is sent in the compact form
    assert "textContent" in html  # popups are built from text nodes


def test_100k_incidents_payload_is_a_few_megabytes() -> None:
    data = make_data(100_000)
    # the compact array itself (layer groups without aggregation): 100k rows, a few MB
    groups = build_groups(MapSpec(), data, assets="cdn")
    fmap = folium.Map(tiles=None)
    for g in groups:
        g.add_to(fmap)
    html = fmap.get_root().render()
    size = len(html.encode("utf-8"))
    assert size < 8_000_000, f"{size:,} bytes"
    payload = re.search(r"var data = (\[\[.*?\]\]);", html)
    assert payload and payload.group(1).count("],[") == 100_000 - 1
    # the map of the view: more than atlas.aggregate.POINTS_MAX in view, so hexagons
    html = build_folium_map(MapSpec(), data).get_root().render()
    assert "AGGREGATED" in html and "L.polygon(pts" in html
    assert len(html.encode("utf-8")) < 2_000_000


def test_local_assets_leave_no_cdn_url_and_do_not_touch_folium_defaults() -> None:
    before = (list(folium.Map.default_js), list(folium.Map.default_css))
    fmap = build_folium_map(MapSpec(layers=ALL, region_layer="district"), make_data(30))
    html = fmap.get_root().render()
    loaded = _loaded_urls(html)
    assert loaded and all(u.startswith("/app/static/vendor/") for u in loaded), loaded
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "code.jquery" not in html
    assert "/app/static/vendor/leaflet@1.9.3/dist/leaflet.js" in loaded
    assert not any("bootstrap" in u or "awesome" in u for u in loaded)
    assert (folium.Map.default_js, folium.Map.default_css) == before
    assert any("bootstrap" in u for _n, u in folium.Map.default_js)


def test_cdn_mode_keeps_folium_urls_and_bad_mode_is_an_input_error() -> None:
    html = build_folium_map(MapSpec(), make_data(3), assets="cdn").get_root().render()
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in html
    with pytest.raises(InputError, match="assets='web'"):
        build_folium_map(MapSpec(), make_data(3), assets="web")


def test_unknown_asset_is_an_error_not_a_silent_cdn_load() -> None:
    from folium.plugins import Fullscreen

    from layers.compose import apply_assets

    fmap = build_folium_map(MapSpec(), make_data(3))
    Fullscreen().add_to(fmap)
    with pytest.raises(AtlasError, match="no self-served copy"):
        apply_assets(fmap, "local")


def test_tiles_only_when_asked_with_attribution() -> None:
    plain = build_folium_map(MapSpec(), make_data(3)).get_root().render()
    assert "tile.openstreetmap.org" not in plain
    osm = build_folium_map(MapSpec(basemap="osm"), make_data(3)).get_root().render()
    assert "tile.openstreetmap.org" in osm
    assert "OpenStreetMap" in osm and "contributors" in osm


def test_map_fits_the_frame_unless_a_view_is_given() -> None:
    from atlas.frame import MapView, frame_bounds

    data = make_data(5)
    fit = build_folium_map(MapSpec(), data)
    assert "FitFrame" in _kinds(fit)
    west, south, east, north = frame_bounds(MapSpec(), data.regions, data.incidents)
    assert [[south, west], [north, east]] in [
        el.bounds for el in _tree(fit) if type(el).__name__ == "FitFrame"
    ]
    view = MapView(bbox=(-74.5, -12.5, -73.5, -11.5), center=(-12.0, -74.0), zoom=9)
    fixed = build_folium_map(MapSpec(bbox=view.bbox), data, view=view)
    assert "FitFrame" not in _kinds(fixed)  # the reader's exact centre and zoom
    assert fixed.location == [-12.0, -74.0] and fixed.options["zoom"] == 9
    assert fixed.options["maxZoom"] == 18  # tiles=None needs it for clusters


needs_assets = pytest.mark.skipif(
    bool(assets.check_assets()), reason="run `python -m layers.assets` (./dev test does)"
)


@needs_assets
def test_inline_html_embeds_everything_but_tiles() -> None:
    fmap = build_folium_map(MapSpec(layers=ALL, region_layer="district"), make_data(30))
    fmap.get_root().render()  # an earlier render must not leave links behind
    html = inline_html(fmap)
    assert _loaded_urls(html) == []
    assert "L.markerClusterGroup = " in html or "markerClusterGroup" in html
    assert "data:image/png;base64," in html  # leaflet.css images inlined
    tiles = inline_html(build_folium_map(MapSpec(basemap="osm"), make_data(3)))
    assert _loaded_urls(tiles) == []
    assert "tile.openstreetmap.org" in tiles


@needs_assets
@pytest.mark.browser
def test_inline_export_runs_in_chromium_without_network(tmp_path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed")
    page_file = tmp_path / "map.html"
    page_file.write_text(inline_html(build_folium_map(MapSpec(layers=ALL), make_data(50))))
    with sync_api.sync_playwright() as p:
        browser = launch(p, chromium)
        page = browser.new_page()
        errors: list[str] = []
        external: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: external.append(r.url) if r.url.startswith("http") else None)
        page.goto(page_file.as_uri())
        page.wait_for_selector(".atlas-legend", timeout=10_000)
        legend = page.locator(".atlas-legend").inner_text()
        clusters = page.locator(".marker-cluster").count()
        browser.close()
    assert errors == []
    assert external == []
    assert "SAMPLE DATA" in legend
    assert clusters > 0


def test_shipped_bundle_maps_the_reference_map_coca_and_reference_star() -> None:
    from atlas.data import load_shipped

    data = load_shipped()
    html = build_folium_map(MapSpec(), data).get_root().render()
    assert "Coca 2022, hectares by department (DEVIDA)" in html
    assert "35,709 ha (2022, DEVIDA)" in html  # the zone series beside it

    def js(text: str) -> str:  # how folium writes a DivIcon's html into the page
        out = json.dumps(text)[1:-1]
        return out.replace("<", "\\u003c").replace(">", "\\u003e").replace("'", "\\u0027")

    for river in ("Apurímac", "Ene", "Tambo"):
        assert js(f">{river}</div>") in html
    towns = ("Pichari", "Kimbiri", "Llochegua", "Sivia", "Santa Rosa", "San Francisco",
             "Palmapampa", "San Ramón de Pangoa", "Mazamari", "Satipo", "Puerto Ocopa",
             "San Miguel del Ene", "Canayre", "Huanta", "Ayacucho")  # fmt: skip
    assert all(js(f"</span>{town}</div>") in html for town in towns)
    assert js("<b>V\u2009R\u2009A\u2009E\u2009M</b>") in html  # the zone's name on it
    assert "atlasDecode" in html and "ca-label" in html  # encoded lines, zoom labels
    assert "SAMPLE DATA" in html
    assert isinstance(
        next(el for el in _tree(build_folium_map(MapSpec(), data)) if isinstance(el, Legend)),
        Legend,
    )


def test_template_syntax_in_data_is_shown_not_executed() -> None:
    """branca renders element scripts twice through Jinja: '{{ }}' in data must stay text."""
    data = make_data(3, notes="X{{ 7*7 }}Y")
    data.incidents["actor1"] = "{% if true %}Z{% endif %}"
    data.regions.loc[0, "name"] = "R{{ 8*8 }}"
    data.regions.loc[0, "region_id"] = "I{{ 9*9 }}"
    data.coca.loc[:, "zone"] = "R{{ 8*8 }}"
    data.reference_events.loc[0, "place"] = "P{{ 6*6 }}"
    spec = MapSpec(layers=ALL, region="I{{ 9*9 }}", region_layer="vraem")
    html = build_folium_map(spec, data).get_root().render()
    for evaluated in ("X49Y", "R64", "I81", "P36"):
        assert evaluated not in html
    assert "X&#123;&#123; 7*7 &#125;&#125;Y" in html
    assert "R&#123;&#123; 8*8 &#125;&#125;" in html
    big = make_data(MAX_DOM_POINTS + 1, notes="X{{ 7*7 }}Y")
    assert "X49Y" not in build_folium_map(MapSpec(), big).get_root().render()


def _districts(make_far: bool = True) -> gpd.GeoDataFrame:
    from shapely.geometry import box

    rows = {
        "region_id": ["d1", "d2", "far"],
        "name": ["District One", "District Two", "Far District"],
        "layer": "district",
        "approximate": False,
        "vintage": "2023",
        "source": "test",
    }
    geoms = [
        box(-74.9, -13.6, -74.0, -12.5),
        box(-74.0, -12.5, -73.2, -11.4),
        box(-70, -9, -69, -8),
    ]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def test_district_layer_comes_from_data_districts_limited_to_the_focus_region() -> None:
    from layers.choropleth import choropleth_frame

    data = make_data(40)
    data.regions = data.regions[data.regions["layer"] == "vraem"].reset_index(drop=True)
    data.districts = _districts()
    spec = MapSpec(layers=("choropleth", "regions"), region_layer="district")
    frame, edges = choropleth_frame(data, spec)
    assert sorted(frame["region_id"]) == ["d1", "d2"]
    expected = {
        rid: int(data.incidents.within(geom).sum())
        for rid, geom in zip(data.districts["region_id"], data.districts.geometry, strict=True)
    }
    assert dict(zip(frame["region_id"], frame["incidents"], strict=True)) == {
        "d1": expected["d1"],
        "d2": expected["d2"],
    }
    html = build_folium_map(spec, data).get_root().render()
    assert "District One" in html and "Far District" not in html


@pytest.mark.realdata
def test_real_districts_choropleth_draws_the_vraem_districts(real_data) -> None:
    from atlas.data import load_bundle
    from layers.choropleth import choropleth_frame

    districts = real_data / "boundaries" / "juaneladio_peru_distrital_simple.geojson"
    data = load_bundle(districts=districts, districts_vintage="2007", use_cache=False)
    (report,) = [r for r in data.build_reports if r.region_id == "vraem-devida"]
    spec = MapSpec(
        layers=("basemap", "choropleth", "regions", "points"), region_layer="district-2007"
    )
    frame, edges = choropleth_frame(data, spec)
    # the 2007 districts in the (2023) zone: the 13 codes it has, plus the 2007 districts
    # that held the newer ones (e.g. Pangoa 120606, which held Vizcatán del Ene)
    assert set(report.codes_found) <= set(frame["region_id"]) and "120606" in set(
        frame["region_id"]
    )
    assert len(edges) >= 2
    html = build_folium_map(spec, data).get_root().render()
    assert "Incidents per region" in html
    assert len(html.encode()) < 8_000_000


def test_live_choropleth_counts_per_department_and_district():
    """Zoomed out the live choropleth counts per department, zoomed in per district (only
    districts with incidents); each level's counts add up to the incidents it places, and
    the legend says what each level counts."""
    import dataclasses

    from atlas.data import load_shipped
    from layers.choropleth import live_levels
    from layers.compose import build_folium_map, legend_entries

    data = load_shipped()
    spec = MapSpec(layers=("regions", "choropleth", "points"))
    departments, districts = live_levels(data, spec)
    assert (departments.name, departments.zoom) == ("department", "out")
    assert (districts.name, districts.zoom) == ("district", "in")
    assert len(departments.frame) == 25
    # the department counts are those of an independent point-in-polygon assignment
    # (incidents off the simplified coast are in no department); each incident counts in
    # at most one district, and the districts' total is within 1% of the departments'
    from atlas.spatial import assign_region

    regions = gpd.GeoDataFrame({"region_id": data.departments["ubigeo"].astype(str)},
                               geometry=data.departments.geometry, crs=data.departments.crs)  # fmt: skip
    expected = assign_region(data.incidents, regions).value_counts()
    got = departments.frame.set_index("region_id")["incidents"]
    assert {k: int(v) for k, v in got[got > 0].items()} == {
        str(k): int(v) for k, v in expected.items()
    }
    assert districts.frame["incidents"].sum() <= len(data.incidents)
    assert districts.frame["incidents"].sum() == pytest.approx(
        departments.frame["incidents"].sum(), rel=0.01
    )
    assert (districts.frame["incidents"] > 0).all()
    unshaded = departments.frame["fill"].isna()
    assert (departments.frame.loc[unshaded, "incidents"] == 0).all()

    entries = legend_entries(spec, data, live=True)
    heads = [(e.label, e.zoom) for e in entries if e.kind == "heading"]
    assert heads == [("Incidents per department (zoom in for districts)", "out"),
                     ("Incidents per district", "in")]  # fmt: skip
    # the print legend is unchanged: the chosen region layer, no zoom rows
    assert all(e.zoom == "" for e in legend_entries(spec, data))

    html = build_folium_map(spec, data, assets="cdn").get_root().render()
    assert "atlas-zin" in html and "atlas-z-out" in html and "atlas-z-in" in html

    # an upload without the shipped boundaries keeps the single chosen layer
    bare = dataclasses.replace(data, departments=None)
    assert live_levels(bare, spec) is None
    assert all(e.zoom == "" for e in legend_entries(spec, bare, live=True))


def test_live_choropleth_per_area_says_so_in_spanish():
    from atlas.data import load_shipped
    from layers.compose import legend_entries

    data = load_shipped()
    spec = MapSpec(layers=("choropleth",), metric="per_area", lang="es")
    heads = [e.label for e in legend_entries(spec, data, live=True) if e.kind == "heading"]
    assert heads == ["Incidentes por 1000 km², por departamento (acerque para ver distritos)",
                     "Incidentes por 1000 km², por distrito"]  # fmt: skip


def test_live_choropleth_keeps_a_layer_the_reader_brought():
    """A region layer the reader uploaded (or a fetched vintage) is shaded as chosen, not
    replaced by the shipped departments and districts."""
    from atlas.data import SHIPPED_REGION_LAYERS, load_shipped
    from layers.choropleth import live_levels

    data = load_shipped()
    assert set(data.regions["layer"]) == set(SHIPPED_REGION_LAYERS)
    mine = data.regions[data.regions["layer"] == "vraem-subzone"].assign(layer="my-zones")
    data.regions = gpd.GeoDataFrame(pd.concat([data.regions, mine], ignore_index=True),
                                    crs=data.regions.crs)  # fmt: skip
    assert live_levels(data, MapSpec(layers=("choropleth",), region_layer="my-zones")) is None
    html = build_folium_map(MapSpec(layers=("choropleth",), region_layer="my-zones"), data)
    assert "Incidents per region" in html.get_root().render()
    assert live_levels(data, MapSpec(layers=("choropleth",))) is not None
