"""Layer classes: legend entries, matplotlib artists, style helpers.

Fixture data is tiny and synthetic (built here): a box standing in for the VRAEM outline
(marked approximate), two box "districts", random sample incidents inside them, one
reference point and a coca table shaped like geodata's. Nothing here is a real fact
except the shape of the columns.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from shapely.geometry import Point, box

from atlas.data import AtlasData
from atlas.i18n import fmt_number
from atlas.schema import EVENT_TYPES, INCIDENT_COLUMNS
from atlas.spec import LAYER_NAMES, MapSpec
from layers.base import REGISTRY
from layers.registry import layers_for
from layers.style import (
    EVENT_COLORS,
    bin_colors,
    choropleth_bins,
    esc,
    radius_px,
)


def make_incidents(
    n: int, seed: int = 0, notes: str = "quiet day", synthetic: bool = True
) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-74.8, -73.3, n)
    lat = rng.uniform(-13.5, -11.5, n)
    day = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    na = pd.array([pd.NA] * n, dtype="Float64")
    df = pd.DataFrame(
        {
            "event_id": pd.Series([f"s{i}" for i in range(n)], dtype="string"),
            "dataset": "sample",
            "date_start": day,
            "date_end": day,
            "date_precision": "day",
            "event_type": rng.choice(np.array(EVENT_TYPES[:3]), n),
            "source_event_type": "Battles",
            "sub_event_type": "",
            "actor1": "Actor A",
            "actor2": "",
            "fatalities": pd.array(rng.integers(0, 20, n), dtype="Float64"),
            "fatalities_low": na,
            "fatalities_high": na.copy(),
            "civilian_targeting": pd.array([pd.NA] * n, dtype="boolean"),
            "location": "Placeville",
            "admin1": "Admin One",
            "admin2": "Admin Two",
            "admin3": "",
            "country": "Peru",
            "geo_precision": "exact",
            "source": "synthetic generator",
            "notes": notes,
            "synthetic": synthetic,
        }
    )
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return gdf[list(INCIDENT_COLUMNS)]


def make_data(
    n: int = 20, *, sample: bool = True, approximate: bool = True, **kwargs: object
) -> AtlasData:
    regions = gpd.GeoDataFrame(
        {
            "region_id": ["vraem-devida", "d1", "d2"],
            "name": ["VRAEM", "District One", "District Two"],
            "layer": ["vraem", "district", "district"],
            "approximate": [approximate, False, False],
            "vintage": ["", "2023", "2023"],
            "source": ["test outline", "test", "test"],
        },
        geometry=[
            box(-74.9, -13.6, -73.2, -11.4),
            box(-74.9, -13.6, -74.0, -12.5),
            box(-74.0, -12.5, -73.2, -11.4),
        ],
        crs="EPSG:4326",
    )
    basemap = gpd.GeoDataFrame(
        {"name": ["Testland"]}, geometry=[box(-81, -18, -68, 0)], crs="EPSG:4326"
    )
    coca = pd.DataFrame(
        {
            "zone": ["VRAEM", "VRAEM", "Zone without geometry", "Testdep", "Testdep"],
            "zone_kind": ["zone", "zone", "zone", "department", "department"],
            "ubigeo_dep": ["", "", "", "05", "05"],
            "year": [2020, 2022, 2022, 2021, 2022],
            "hectares": [30000.0, 35709.0, 5.0, 900.0, 12000.0],
            "source_publisher": ["DEVIDA (test)", "DEVIDA (test)", "Other", "DEVIDA t", "DEVIDA t"],
            "source_url": ["u", "u", "u", "https://example.org/t", "https://example.org/t"],
        }
    )
    departments = gpd.GeoDataFrame(
        {"ubigeo": ["05", "12"], "name": ["Testdep", "Otherdep"], "capital": ["A", "B"]},
        geometry=[box(-75.5, -14.0, -73.6, -12.0), box(-75.5, -12.0, -73.6, -10.5)],
        crs="EPSG:4326",
    )
    ref = gpd.GeoDataFrame(
        {
            "event_id": ["r1"],
            "date": [pd.Timestamp("2021-05-23")],
            "deaths_best": [16.0],
            "place": ["Reference place"],
            "sources": ["test source"],
        },
        geometry=[Point(-74.2, -12.1)],
        crs="EPSG:4326",
    )
    return AtlasData(
        incidents=make_incidents(n, synthetic=sample, **kwargs),
        reports=[],
        regions=regions,
        districts=None,
        basemap=basemap,
        coca=coca,
        reference_events=ref,
        sources=[],
        departments=departments,
    )


def test_registry_is_in_spec_draw_order() -> None:
    assert tuple(REGISTRY) == LAYER_NAMES
    names = [layer.name for layer in layers_for(("reference", "basemap", "points"))]
    assert names == ["basemap", "points", "reference"]


def test_every_event_type_has_a_distinct_colour_and_shape() -> None:
    """At most five colours (issue 13); types sharing one (riot/protest, strategic/other)
    differ by marker shape on the print page, except strategic and other: both "not
    violence", one grey diamond (the type filter keeps them apart)."""
    from layers.style import EVENT_MARKERS

    assert set(EVENT_COLORS) == set(EVENT_TYPES) == set(EVENT_MARKERS)
    assert len(set(EVENT_COLORS.values())) <= 5
    pairs = {(EVENT_COLORS[t], EVENT_MARKERS[t]) for t in EVENT_TYPES}
    assert len(pairs) == len(EVENT_TYPES) - 1  # strategic and other share the grey diamond
    assert EVENT_MARKERS["riot"] != EVENT_MARKERS["protest"]


def test_radius_grows_with_sqrt_fatalities_and_unknown_is_smallest() -> None:
    r = radius_px(pd.array([pd.NA, 0, 1, 4, 100000], dtype="Float64"))
    assert r[0] == r[1] == 3.0
    assert r[2] < r[3] < r[4]
    assert (r[3] - 3.0) == pytest.approx(2 * (r[2] - 3.0))  # sqrt(4) = 2 * sqrt(1)
    assert r[4] == 24.0  # capped


def test_choropleth_bins_cover_the_values_and_colour_each() -> None:
    values = pd.Series([0, 1, 2, 5, 9, 30, 120])
    edges = choropleth_bins(values)
    assert edges[0] == 0 and edges[-1] == 120
    assert edges == sorted(edges)
    colors = bin_colors(values, edges)
    assert colors[0] != colors[-1]
    assert choropleth_bins([]) == [0.0, 1.0]
    assert choropleth_bins([3, 3]) == [3.0, 4.0]


def test_esc_escapes_html_and_handles_missing() -> None:
    assert esc("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert esc(pd.NA) == "" and esc(None) == ""


def test_legend_entries_name_present_types_sizes_and_approximate_outline() -> None:
    data = make_data(30)
    spec = MapSpec(layers=("basemap", "regions", "coca", "points", "reference"))
    entries = [e for layer in layers_for(spec.layers) for e in layer.legend_entries(data, spec)]
    labels = [e.label for e in entries]
    present = set(data.incidents["event_type"])
    for et in EVENT_TYPES:
        shown = any(label.startswith(f"{et.replace('_', ' ')}") for label in labels)
        assert not shown or et in present
    assert "VRAEM (DEVIDA zone, approximate outline)" in labels
    assert any(e.dashed for e in entries if e.kind == "line")
    assert "Armed clash" in labels or "armed_clash" not in present
    # SAMPLE is said once, by the legend's banner, not on every line
    assert not any("SAMPLE" in label for label in labels)
    from layers.legend import legend_banners

    assert legend_banners(spec, data)[0] == "SAMPLE DATA — synthetic incidents"
    assert any(lbl.endswith("10 fatalities") for lbl in labels)
    assert any(e.kind == "star" for e in entries)


def test_legend_entries_spanish_and_not_sample() -> None:
    data = make_data(10, sample=False, approximate=False)
    spec = MapSpec(lang="es", layers=("regions", "points"))
    labels = [e.label for la in layers_for(spec.layers) for e in la.legend_entries(data, spec)]
    assert "VRAEM (zona DEVIDA)" in labels
    assert not any("MUESTRA" in lbl or "SAMPLE" in lbl for lbl in labels)
    assert "Enfrentamiento armado" in labels or "armed_clash" not in set(
        data.incidents["event_type"]
    )


def test_coca_choropleth_draws_the_year_and_keeps_no_data_apart_from_zero() -> None:
    from types import SimpleNamespace

    from layers.coca import CocaLayer, class_of, coca_frame, incidents_per_1000_ha

    data = make_data(10)
    frame = coca_frame(data, MapSpec()).set_index("ubigeo")
    assert frame.loc["05", "hectares"] == 12000 and frame.loc["05", "year"] == 2022
    assert pd.isna(frame.loc["12", "hectares"]) and frame.loc["12", "klass"] == -1
    assert class_of(0) == 0 and class_of(None) == -1 and class_of(999) == 1
    older = coca_frame(data, SimpleNamespace(coca_year=2021, lang="en", layers=("coca",)))
    assert older.set_index("ubigeo").loc["05", "hectares"] == 900
    labels = [e.label for e in CocaLayer().legend_entries(data, MapSpec())]
    assert labels[0].startswith("Coca 2022, hectares by department (DEVIDA)")
    assert "no data" in labels
    assert any("30,000 ha (2020, DEVIDA)" in la and "35,709 ha (2022" in la for la in labels)
    ratio = incidents_per_1000_ha(data).set_index("year")
    assert list(ratio["ubigeo"]) == ["05", "05"] and list(ratio.index) == [2021, 2022]
    assert ratio.loc[2022, "incidents_per_1000ha"] == ratio.loc[2022, "incidents"] / 12.0
    assert ratio.loc[2021, "incidents_per_1000ha"] == pytest.approx(
        ratio.loc[2021, "incidents"] / 0.9
    )
    dates = pd.to_datetime(data.incidents["date_start"]).dt.year
    inside = data.incidents.within(box(-75.5, -14.0, -73.6, -12.0))
    assert ratio.loc[2022, "incidents"] == int((inside & (dates == 2022)).sum())


def test_coca_map_outlines_are_made_once_and_each_view_brings_its_own_counts() -> None:
    """The departments' features (simplified outlines, hectares, sources) do not change
    with a filter: made once per departments layer, table, year and language. The popup's
    incidents per 1,000 ha are the view's own; other departments mean other features."""
    import dataclasses
    import json

    from layers import coca

    data = make_data(40)
    coca._FEATURES.clear()
    coca._CLASSES.clear()

    def popup(view) -> dict[str, str]:
        fmap = folium.Map(tiles=None)
        coca.CocaLayer().to_folium(fmap, view, MapSpec())
        (gj,) = [c for c in fmap._children.values() if isinstance(c, folium.GeoJson)]
        return {f["properties"]["name"]: f["properties"]["per_ha"] for f in gj.data["features"]}

    whole = popup(data)
    made = coca._FEATURES.answers()[0]
    fewer = dataclasses.replace(data, incidents=data.incidents.iloc[:5])
    some = popup(fewer)
    assert len(coca._FEATURES.answers()) == 1 and coca._FEATURES.answers()[0] is made
    frame = coca.coca_frame(data, MapSpec()).set_index("name")
    name = frame.index[frame["hectares"].notna().to_numpy()][0]
    want = coca.coca_frame(fewer, MapSpec()).set_index("name").loc[name, "incidents"]
    assert some[name] == fmt_number(want / frame.loc[name, "hectares"] * 1000, "en", 1)
    assert whole[name] != some[name]  # 40 incidents vs 5: the view's own counts
    assert "per_ha" not in json.dumps(made)  # the shared features never hold a view's
    moved = data.departments.copy()
    moved["geometry"] = moved.geometry.translate(0.5, 0.0)
    popup(dataclasses.replace(data, departments=moved))
    assert len(coca._FEATURES.answers()) == 2  # other outlines: features of their own


def _artists(ax: plt.Axes) -> int:
    return len(ax.collections) + len(ax.patches) + len(ax.lines) + len(ax.texts)


@pytest.mark.parametrize("name", [n for n in LAYER_NAMES if n != "choropleth"])
def test_each_layer_draws_artists_on_matplotlib(name: str) -> None:
    data = make_data(40)
    spec = MapSpec(layers=(name,))
    fig, ax = plt.subplots()
    try:
        (layer,) = layers_for((name,))
        layer.to_matplotlib(ax, data, spec)
        assert _artists(ax) > 0
        if name == "points":
            (coll,) = [c for c in ax.collections if isinstance(c, PathCollection)]
            assert len(coll.get_offsets()) == 40
            sizes = coll.get_sizes()
            assert sizes.max() > sizes.min()  # sized by fatalities
            face = {tuple(np.round(c, 3)) for c in coll.get_facecolors()[:, :3]}
            assert len(face) == data.incidents["event_type"].nunique()
        if name == "heat":
            assert any(isinstance(c, PolyCollection) for c in ax.collections)
        if name == "regions":
            dashed = [c for c in ax.collections if c.get_linestyle()[0][1] is not None]
            assert dashed, "the approximate outline is dashed"
        if name == "coca":  # two departments: one with a figure, one hatched "no data"
            hatched = [c for c in ax.collections if c.get_hatch()]
            assert len(ax.collections) == 2 and len(hatched) == 1
    finally:
        plt.close(fig)


def test_layers_draw_nothing_for_empty_incidents() -> None:
    data = make_data(0)
    spec = MapSpec(layers=("points", "heat", "clusters"))
    fig, ax = plt.subplots()
    try:
        for layer in layers_for(spec.layers):
            layer.to_matplotlib(ax, data, spec)
            assert layer.legend_entries(data, spec) == []
        assert _artists(ax) == 0
    finally:
        plt.close(fig)


def test_choropleth_layer_draws_bins_when_aggregate_exists() -> None:
    pytest.importorskip("atlas.spatial")
    data = make_data(50)
    spec = MapSpec(layers=("choropleth",), region_layer="district")
    (layer,) = layers_for(spec.layers)
    entries = layer.legend_entries(data, spec)
    assert entries and all(e.kind == "patch" for e in entries)
    fig, ax = plt.subplots()
    try:
        layer.to_matplotlib(ax, data, spec)
        assert len(ax.collections) >= 1
    finally:
        plt.close(fig)


def test_popup_and_tooltip_carry_every_field_escaped_and_the_sample_flag() -> None:
    from layers.incidents import popup_html, tooltip_text

    inc = make_incidents(2)
    inc["date_end"] = inc["date_start"] + pd.Timedelta(days=30)
    inc["date_precision"] = "month"
    inc["fatalities"] = pd.array([3, pd.NA], dtype="Float64")
    inc["fatalities_low"] = pd.array([2, pd.NA], dtype="Float64")
    inc["fatalities_high"] = pd.array([5, pd.NA], dtype="Float64")
    inc["actor2"] = ["B & <C>", ""]
    inc["geo_precision"] = "admin2"
    popup = popup_html(inc, "en", sample=True)
    first = popup.iloc[0]
    start = inc["date_start"].iloc[0].strftime("%Y-%m-%d")
    assert f"{start} – " in first and "(month)" in first
    assert "3 (2–5)" in first
    assert "Actor A – B &amp; &lt;C&gt;" in first
    assert "Placeville, Admin Two, Admin One (precision: province / district)" in first
    assert "(source: Battles)" in first and "synthetic generator" in first and "quiet day" in first
    assert "SAMPLE (synthetic)" in first
    assert "unknown" in popup.iloc[1]
    tips = tooltip_text(inc, "es")
    assert tips.iloc[0].startswith("MUESTRA (sintético) · ")
    assert "víctimas mortales" in tips.iloc[0]
    real = make_incidents(1, synthetic=False)
    assert "SAMPLE" not in popup_html(real, "en", sample=False).iloc[0]
    assert "SAMPLE" not in tooltip_text(real, "en").iloc[0]


def test_shipped_districts_make_an_offline_choropleth() -> None:
    """The 2023 districts ship: region_layer 'district' works with no download, drawing
    the VRAEM's districts (those with >= 5% of their area inside it)."""
    from atlas.data import load_shipped
    from layers.choropleth import choropleth_frame
    from layers.compose import build_folium_map

    data = load_shipped()
    spec = MapSpec(layers=("basemap", "choropleth"), region_layer="district")
    frame, edges = choropleth_frame(data, spec)
    assert 24 <= len(frame) <= 40 and {"120609", "080910"} <= set(frame["region_id"])
    assert frame["incidents"].sum() > 500 and len(edges) >= 3
    html = build_folium_map(spec, data).get_root().render()
    assert "Vizcatan del Ene" in html
    assert len(html) < 2_500_000  # only the districts in view of the focus, not all 1,890


def test_national_district_choropleth_uses_the_light_geometry() -> None:
    """Zoomed in, the live map shades every district with incidents, drawn from the 0.01°
    file (counted in the full-detail one); the page stays light."""
    import shapely

    from atlas.data import load_shipped
    from layers.choropleth import live_levels
    from layers.compose import build_folium_map

    data = load_shipped()
    spec = MapSpec(layers=("choropleth",), region_layer="district", region="none")
    _departments, districts = live_levels(data, spec)
    low = data.districts_low.set_index(data.districts_low["ubigeo"].astype(str)).geometry
    drawn = districts.frame.set_index("region_id").geometry
    assert len(drawn) > 300
    assert (shapely.get_num_coordinates(drawn.to_numpy())
            == shapely.get_num_coordinates(low.loc[drawn.index].to_numpy())).all()  # fmt: skip
    html = build_folium_map(spec, data).get_root().render()
    assert len(html) < 2_500_000


def test_popups_speak_the_readers_language_and_say_each_thing_once() -> None:
    from layers.incidents import popup_html, tooltip_text

    inc = make_incidents(3)
    inc["event_type"] = ["armed_clash", "violence_against_civilians", "armed_clash"]
    inc["source_event_type"] = ["Battles", "Violence against civilians", ""]
    inc["date_precision"] = ["day", "week", "month"]
    inc["geo_precision"] = ["exact", "near", "admin2"]
    inc["fatalities"] = [1, 2, float("nan")]
    es = popup_html(inc, "es", sample=False).tolist()
    assert "(en la fuente: Battles)" in es[0]
    assert "(día)" in es[0] and "(semana)" in es[1] and "(mes)" in es[2]
    assert "precisión: lugar exacto" in es[0] and "cerca de un lugar" in es[1]
    assert "exact)" not in es[0] and "(day)" not in es[0]
    en = popup_html(inc, "en", sample=False).tolist()
    # the source's term is not repeated when it is our label
    assert "Violence against civilians (" not in en[1].split("Type:</b> ")[1].split("<br>")[0]
    tips = tooltip_text(inc, "en").tolist()
    assert tips[0].endswith("1 fatality") and tips[1].endswith("2 fatalities")
    assert tooltip_text(inc, "es").tolist()[0].endswith("1 víctima mortal")


def test_point_payload_rebuilds_each_popup_and_sends_each_string_once() -> None:
    """The browser builds each popup from the payload exactly as popup_html writes it
    (the same steps as _DomPoints' script), and a value repeated on every row is sent once."""
    import json

    from atlas.data import load_shipped
    from layers.incidents import dom_payload, popup_html, tooltip_text

    inc = load_shipped().incidents.head(300)
    payload = json.loads(json.dumps(dom_payload(inc, "es", True), ensure_ascii=False))
    strings, labels = payload["strings"], payload["labels"]
    expected = popup_html(inc, "es", True).tolist()
    tips = tooltip_text(inc, "es").tolist()
    assert len(payload["rows"]) == len(inc)
    for r, want, tip in zip(payload["rows"], expected, tips, strict=True):
        html = "<div class='atlas-popup'>" + (payload["banner"] if r[6] else "")
        for k, label in enumerate(labels):
            html += "<b>" + label + ":</b> " + strings[r[8 + k]] + "<br>"
        assert html + "</div>" == want
        assert strings[r[7]] == tip
    # the sample's note is the same on every row: one copy
    note = inc["notes"].iloc[0]
    assert sum(note in s for s in strings) == 1
    assert len(json.dumps(payload)) < 0.5 * sum(len(p) for p in expected)


def test_screen_map_tells_riots_from_protests_by_ring_in_map_and_legend() -> None:
    """Riots and protests share one muted hue; on the screen (circles only) protests are
    rings, riots filled: the payload says so per symbol and the legend draws the same."""
    from atlas.data import load_shipped
    from layers.incidents import PointsLayer, dom_payload
    from layers.legend import _swatch
    from layers.style import EVENT_COLORS

    inc = load_shipped().incidents
    assert {"riot", "protest"} <= set(inc["event_type"].astype(str))
    payload = dom_payload(inc, "en", True)
    for row, kind in zip(payload["rows"], inc["event_type"].astype(str), strict=True):
        assert payload["colors"][row[3]] == EVENT_COLORS[kind]
        assert payload["rings"][row[3]] is (kind == "protest")
    entries = {e.label: e for e in PointsLayer().legend_entries(load_shipped(), MapSpec())}
    riot, protest = entries["Riot"], entries["Protest"]
    assert riot.color == protest.color and not riot.ring and protest.ring
    assert "fill='#ffffff'" in _swatch(protest) and f"stroke='{protest.color}'" in _swatch(protest)
    assert f"fill='{riot.color}'" in _swatch(riot)


def test_points_memo_answers_by_coordinates_and_reads_each_array_once() -> None:
    """layers.base.PointsMemo: one answer per coordinates and ``extra``; a second ask about
    the same geometry array reuses its coordinates' digest, a new array with the same
    points gets the same answer, other points (or another ``extra``) their own."""
    import geopandas as gpd
    import numpy as np

    from layers.base import PointsMemo

    memo, calls = PointsMemo(), []

    def answer(tag: str):
        return lambda: calls.append(tag) or tag

    a = gpd.GeoSeries(gpd.points_from_xy(np.arange(5.0), np.arange(5.0)))
    assert memo.get(a, "x", answer("a")) == "a"
    assert memo.get(a, "x", answer("again")) == "a"
    assert len(memo._coords) == 1
    same = gpd.GeoSeries(gpd.points_from_xy(np.arange(5.0), np.arange(5.0)))
    assert memo.get(same, "x", answer("same")) == "a"
    moved = gpd.GeoSeries(gpd.points_from_xy(np.arange(5.0) + 1e-9, np.arange(5.0)))
    assert memo.get(moved, "x", answer("moved")) == "moved"
    assert memo.get(a, "y", answer("other extra")) == "other extra"
    assert calls == ["a", "moved", "other extra"]
    del a, same, moved  # their ids may be reused: a digest is only taken for its own array
    fresh = gpd.GeoSeries(gpd.points_from_xy(np.arange(3.0), np.zeros(3)))
    assert memo.get(fresh, "x", answer("fresh")) == "fresh"


def test_region_layer_is_worked_out_once_per_frames_and_again_for_new_ones() -> None:
    """layer_regions keeps its answer for the very frames it was given (the shared data's)
    and the layer and focus asked; a new frame, even an equal copy, is worked out anew."""
    import dataclasses

    from atlas.data import load_shipped
    from layers.regions import layer_regions

    data = load_shipped()
    spec = MapSpec(region_layer="district", region="vraem-devida")
    first = layer_regions(data, spec)
    assert layer_regions(data, spec) is first  # the same frames: the kept answer
    assert 0 < len(first) < len(data.districts)  # the focus's districts, not Peru's
    copy = dataclasses.replace(data, districts=data.districts.copy())
    again = layer_regions(copy, spec)
    assert again is not first
    assert list(again["region_id"]) == list(first["region_id"])
    other = layer_regions(data, spec.replace(region_layer="vraem"))
    assert other is not first and set(other["layer"]) == {"vraem"}
