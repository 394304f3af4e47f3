"""Print page and furniture, tested on the matplotlib artists (then a few baseline PNGs).

Expected scale-bar lengths come from pyproj.Geod on the WGS84 ellipsoid, independently
of the drawing code: 1 degree of longitude on the equator is 111.3195 km (a * pi / 180
with a = 6378.137 km).
"""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import geopandas as gpd
import pytest
from matplotlib.figure import Figure
from pyproj import Geod
from shapely.geometry import box

from atlas.query import FilterSummary
from atlas.spec import MapSpec
from layers import furniture
from layers.printmap import build_page

GEOD = Geod(ellps="WGS84")


def _axes(extent: tuple[float, float, float, float], size=(8.0, 6.0)):
    fig = Figure(figsize=size, dpi=100)
    ax = fig.add_axes((0.05, 0.05, 0.9, 0.9))
    x0, y0, x1, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(furniture.aspect_for((y0 + y1) / 2), adjustable="box")
    return fig, ax


@pytest.mark.parametrize(
    ("max_km", "expected"),
    [(0.7, 0.5), (1.0, 1.0), (3.3, 2.0), (7.9, 5.0), (49.9, 20.0), (50.0, 50.0), (180, 100)],
)
def test_nice_length_rounds_down_to_1_2_5(max_km, expected):
    assert furniture.nice_length(max_km) == pytest.approx(expected)


def test_nice_length_rejects_nonsense():
    with pytest.raises(ValueError, match="scale bar"):
        furniture.nice_length(0)


def test_scale_bar_on_equator_matches_the_ellipsoid_degree():
    fig, ax = _axes((0.0, -1.0, 4.0, 1.0))
    bar = furniture.scale_bar(ax, fraction=0.25)
    # 4 degrees wide at the equator = 445.3 km; a quarter is 111 km -> rounds to 100 km.
    assert bar.length_km == 100
    # Drawn length in data units (degrees) vs 100 km / 111.3195 km per degree.
    assert bar.lon1 - bar.lon0 == pytest.approx(100 / 111.3195, rel=1e-3)
    drawn = [a for a in bar.artists if a.get_gid() == "scale-bar"]
    assert len(drawn) == 1  # one bar, one label right of it: labels cannot overlap
    total = sum(r.get_width() for r in drawn)
    assert total == pytest.approx(bar.lon1 - bar.lon0)
    labels = [a for a in bar.artists if a.get_gid() == "scale-bar-label"]
    assert [t.get_text() for t in labels] == ["100 km"]
    # The label starts right of the bar's east end, so it never overlaps the bar.
    assert labels[0].get_position()[0] > bar.lon1 and labels[0].get_ha() == "left"


def test_scale_bar_in_the_vraem_measures_its_label_with_geod():
    fig, ax = _axes((-75.5, -13.5, -73.0, -11.0))
    bar = furniture.scale_bar(ax)
    lat = bar.lat
    _, _, one_degree_m = GEOD.inv(0.0, lat, 1.0, lat)  # along the parallel, at bar's lat
    assert bar.lon1 - bar.lon0 == pytest.approx(bar.length_km * 1000 / one_degree_m, rel=1e-4)
    assert bar.measured_km() == pytest.approx(bar.length_km, rel=1e-4)
    # At ~13 deg S a degree of longitude is shorter than on the equator.
    assert bar.lon1 - bar.lon0 > bar.length_km / 111.3195


def test_aspect_makes_km_square():
    assert furniture.aspect_for(0) == pytest.approx(1.0)
    assert furniture.aspect_for(60) == pytest.approx(2.0)


def test_north_arrow_is_drawn():
    fig, ax = _axes((-75, -13, -73, -11))
    artists = furniture.north_arrow(ax)
    gids = {a.get_gid() for a in artists}
    assert gids == {"north-arrow", "north-arrow-label"}
    assert artists[1].get_text() == "N"


def _marks(ax):
    return {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}


def test_sample_mark_present_with_sample_data_and_absent_without():
    fig, ax = _axes((-75, -13, -73, -11))
    furniture.add_data_marks(fig, ax, is_sample=True, approximate=False)
    marks = _marks(ax)
    assert marks["sample-mark"] == "SAMPLE DATA — synthetic incidents, not real events"
    assert "approximate-mark" not in marks

    fig, ax = _axes((-75, -13, -73, -11))
    furniture.add_data_marks(fig, ax, is_sample=False, approximate=False)
    assert "sample-mark" not in _marks(ax)


def test_approximate_mark():
    fig, ax = _axes((-75, -13, -73, -11))
    furniture.add_data_marks(fig, ax, is_sample=False, approximate=True, lang="es")
    assert _marks(ax)["approximate-mark"] == "límite aproximado"


def test_inset_is_peru_with_the_frame_the_focus_region_and_lima():
    data = tiny_data()
    fig = Figure(figsize=(3, 4), dpi=100)
    extent = (-75.5, -13.5, -73, -11)
    ax = furniture.inset_peru(fig, (0.1, 0.1, 0.8, 0.8), data, extent, MapSpec(), 7.0)
    (frame,) = [p for p in ax.patches if p.get_gid() == "inset-box"]
    assert frame.get_xy() == (-75.5, -13.5)
    assert (frame.get_width(), frame.get_height()) == (2.5, 2.5)
    # Peru's box, not South America's
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert -82 < x0 < -81 and -69 < x1 < -68 and -19 < y0 < -18 and 0 <= y1 < 1
    assert [t.get_text() for t in ax.texts if t.get_gid() == "inset-lima-label"] == ["Lima"]
    assert any(c.get_gid() == "inset-lima" for c in ax.collections)
    # neighbours, Peru, and the focus region shaded
    assert len([c for c in ax.collections if c.get_gid() is None]) == 3


def _summary(**kw):
    base = dict(
        total=120,
        incidents=100,
        drawn=90,
        hidden_by_precision=10,
        hidden_precisions={"admin1": 7, "country": 3},
        deaths=44,
        date_min=dt.date(2021, 1, 3),
        date_max=dt.date(2022, 12, 30),
    )
    base.update(kw)
    return FilterSummary(**base)


def test_filters_text_names_every_active_filter():
    spec = MapSpec(
        date_from=dt.date(2021, 1, 1),
        date_to=dt.date(2021, 12, 31),
        event_types=("armed_clash",),
        actor="Sendero",
        min_fatalities=2,
        datasets=("acled",),
    )
    text = furniture.filters_text(spec)
    assert "2021-01-01 – 2021-12-31" in text
    assert "Armed clash" in text
    assert "“Sendero”" in text
    assert "At least 2 deaths" in text
    assert "acled" in text


def test_filters_text_uses_data_dates_when_open():
    text = furniture.filters_text(MapSpec(), _summary())
    assert "2021-01-03 – 2022-12-30" in text
    assert "Types: all" in text


def test_method_text_has_sources_counts_precision_and_marks():
    source = SimpleNamespace(
        name="ACLED",
        version="",
        access_date="2024-05-01",
        licence="ACLED terms of use",
        url="https://acleddata.com",
        sample=False,
    )
    data = SimpleNamespace(
        sources=[source],
        coca=None,
        approximate=True,
        boundary_vintage="",
        is_sample=True,
    )
    text = furniture.method_text(MapSpec(), data, _summary())
    assert "ACLED, accessed 2024-05-01, ACLED terms of use" in text
    assert "Shown: 90 incidents (44 deaths, best estimates) of 120 loaded" in text
    assert "20 left out by the filters" in text
    assert "Events known only to department/country level are not drawn: 10" in text
    assert "Approximate boundary" in text
    assert "SAMPLE DATA" in text


def test_method_text_boundary_vintage_and_tiles():
    data = SimpleNamespace(
        sources=[], coca=None, approximate=False, boundary_vintage="2023", is_sample=False
    )
    text = furniture.method_text(MapSpec(), data, _summary(), tile_attribution="(C) OSM")
    assert "Boundaries: 2023 vintage" in text
    assert "Tiles: (C) OSM" in text
    assert "SAMPLE" not in text


def test_wrap_to_width_keeps_lines_short():
    text = furniture.wrap_to_width("word " * 100, width_pt=200, fontsize=10)
    assert max(len(line) for line in text.split("\n")) <= math.ceil(200 / 5.5)


# ---- whole pages on a tiny synthetic bundle -------------------------------------------------
def tiny_data(*, sample: bool = True, approximate: bool = True, n: int = 8):
    """A hand-made AtlasData: ``n`` synthetic incidents around 12.3 S 74 W (n-2 drawn,
    one known only to department level, one to country level), one square region, two
    box "countries". Every name says it is a test fixture."""
    import pandas as pd
    from shapely.geometry import Point

    from atlas.data import AtlasData, DatasetInfo
    from atlas.schema import INCIDENT_COLUMNS

    lons = [-74.0 + 0.05 * i for i in range(n)]
    lats = [-12.3 + 0.03 * i for i in range(n)]
    dates = pd.date_range("2021-01-15", periods=n, freq="31D")
    types = ["armed_clash", "violence_against_civilians", "explosion_remote", "protest"]
    precision = ["exact"] * (n - 2) + ["admin1", "country"]
    inc = pd.DataFrame(
        {
            "event_id": [f"T{i}" for i in range(n)],
            "dataset": "test",
            "date_start": dates,
            "date_end": dates,
            "date_precision": "day",
            "event_type": [types[i % len(types)] for i in range(n)],
            "source_event_type": "",
            "sub_event_type": "",
            "actor1": "Actor A",
            "actor2": "",
            "fatalities": pd.array([float(i % 3) for i in range(n)], dtype="Float64"),
            "fatalities_low": pd.array([pd.NA] * n, dtype="Float64"),
            "fatalities_high": pd.array([pd.NA] * n, dtype="Float64"),
            "civilian_targeting": pd.array([pd.NA] * n, dtype="boolean"),
            "location": "Test place",
            "admin1": "Test department",
            "admin2": ["La Mar" if i < n // 2 + 1 else "Satipo" for i in range(n)],
            "admin3": "",
            "country": "Peru",
            "geo_precision": precision,
            "source": "test fixture",
            "notes": "",
            "synthetic": sample,
        }
    )
    for col in ("event_id", "dataset", "event_type", "admin2", "geo_precision"):
        inc[col] = inc[col].astype("string")
    incidents = gpd.GeoDataFrame(
        inc, geometry=[Point(x, y) for x, y in zip(lons, lats, strict=True)], crs="EPSG:4326"
    )[list(INCIDENT_COLUMNS)]
    regions = gpd.GeoDataFrame(
        {
            "region_id": ["vraem-devida"],
            "name": ["Test zone (synthetic fixture)"],
            "layer": ["vraem"],
            "approximate": [approximate],
            "vintage": ["" if approximate else "2023"],
            "source": ["test fixture"],
        },
        geometry=[box(-74.3, -12.6, -73.5, -11.9)],
        crs="EPSG:4326",
    )
    basemap = gpd.GeoDataFrame(
        {"name": ["Peru", "Brazil"]},
        geometry=[box(-81, -18, -69, 0), box(-69, -30, -35, 5)],
        crs="EPSG:4326",
    )
    coca = pd.DataFrame(columns=["zone", "year", "hectares", "source_publisher", "source_url"])
    reference = gpd.GeoDataFrame({"name": []}, geometry=[], crs="EPSG:4326")
    source = DatasetInfo(
        name="Test incidents (synthetic fixture)",
        version="v1",
        access_date="2024-05-01",
        licence="test only",
        caveats=(),
        url="",
        sample=sample,
    )
    return AtlasData(
        incidents=incidents,
        reports=[],
        regions=regions,
        districts=None,
        basemap=basemap,
        coca=coca,
        reference_events=reference,
        sources=[source],
    )


def _texts(fig):
    out = {}
    for artist in fig.findobj(lambda a: hasattr(a, "get_text") and a.get_gid()):
        out.setdefault(artist.get_gid(), []).append(artist.get_text())
    return out


def _legend_texts(fig):
    lax = next(a for a in fig.axes if a.get_gid() == "legend")
    return [t.get_text().replace("\n", " ") for t in lax.texts]


def test_page_has_editorial_text_legend_and_furniture():
    from layers.printmap import build_page

    spec = MapSpec(
        title="Test title",
        dek="Test dek",
        notes="First note. Second note. Third note.",
        source_line="Source: test desk",
        byline="Test desk",
    )
    fig = build_page(spec, tiny_data())
    w, h = fig.get_size_inches() * fig.dpi
    assert (round(w), round(h)) == (1200, 675)
    texts = _texts(fig)
    assert texts["title"] == ["Test title"]
    assert texts["dek"] == ["Test dek"]
    # One source line: the reader's text first, then the credits of what is drawn.
    assert texts["source-line"] == ["Source: test desk; synthetic SAMPLE incidents."]
    assert texts["byline"] == ["Map: Test desk"]
    # At most two sentences of note: the reader's own come first.
    assert texts["note"] == ["Note: First note. Second note."]
    assert texts["sample"] == ["SAMPLE DATA — synthetic incidents, not real events"]
    assert "method" not in texts and "filters" not in texts  # provenance is off the face
    # Tests' region is approximate: the legend says so (the only legend row about it).
    legend = _legend_texts(fig)
    assert "Test zone (synthetic fixture) (approximate boundary)" in legend
    assert {"Armed clash", "Violence against civilians", "Explosion / remote violence"} <= set(
        legend
    )
    assert "Protest" in legend and "People killed per event" in legend
    assert [t.replace("\n", " ") for t in texts["approximate-mark"]] == [
        "Test zone (synthetic fixture) (approximate boundary)"
    ]
    assert "north-arrow-label" not in texts  # north-up map: no arrow unless asked
    assert any(ax.get_gid() == "inset" for ax in fig.axes)
    assert fig.atlas_layout.dropped == []


def test_north_arrow_only_when_asked():
    from layers.printmap import build_page

    texts = _texts(build_page(MapSpec(north_arrow=True), tiny_data()))
    assert texts["north-arrow-label"] == ["N"]


def test_note_says_what_the_filters_left_out_after_the_readers_note():
    from layers.printmap import build_page

    spec = MapSpec(date_from=dt.date(2021, 3, 1), notes="Reader's note.")
    texts = _texts(build_page(spec, tiny_data()))
    # 8 loaded: 2 before March 2021; of the other 6, 2 are placed only to a department
    # or the country (tiny_data's last two rows).
    # Two sentences at most: the reader's, then the first thing the filters left out.
    assert texts["note"][0].replace("\n", " ") == (
        "Note: Reader's note. 2 events outside the chosen dates, types or other filters "
        "are not shown."
    )
    texts = _texts(build_page(MapSpec(date_from=dt.date(2021, 3, 1)), tiny_data()))
    note = texts["note"][0].replace("\n", " ")
    assert note == (
        "Note: 2 events outside the chosen dates, types or other filters are not shown. "
        "2 events located only to a department or the country are not shown."
    )


def test_page_without_sample_or_approximate_data_has_no_marks():
    from layers.printmap import build_page

    fig = build_page(MapSpec(), tiny_data(sample=False, approximate=False))
    texts = _texts(fig)
    assert "sample" not in texts
    assert "approximate-mark" not in texts
    assert "SAMPLE" not in texts["source-line"][0]
    assert "Test incidents (synthetic fixture)" in texts["source-line"][0]


def test_no_spec_setting_hides_the_sample_mark():
    from layers.printmap import build_page

    # Even a filter that leaves no synthetic incident on the map keeps the mark while the
    # incident layer is on: the loaded bundle is sample data.
    spec = MapSpec(date_from=dt.date(2030, 1, 1), layers=("basemap", "points"), title="x")
    texts = _texts(build_page(spec, tiny_data()))
    assert texts["sample"] == ["SAMPLE DATA — synthetic incidents, not real events"]
    # With no incident layer, no synthetic row is drawn: no mark, and none in the source.
    texts = _texts(build_page(MapSpec(layers=("basemap", "regions")), tiny_data()))
    assert "sample" not in texts


def test_page_scale_bar_matches_geod_on_the_page():
    from layers.printmap import build_page

    fig = build_page(MapSpec(), tiny_data())
    ax = next(a for a in fig.axes if a.get_gid() == "map")
    rects = [p for p in ax.patches if p.get_gid() == "scale-bar"]
    (label,) = [t.get_text() for t in ax.texts if t.get_gid() == "scale-bar-label"]
    km = float(label.split()[0])
    lon0 = min(r.get_x() for r in rects)
    lon1 = max(r.get_x() + r.get_width() for r in rects)
    lat = rects[0].get_y()
    _, _, metres = GEOD.inv(lon0, lat, lon1, lat)
    assert metres / 1000 == pytest.approx(km, rel=1e-3)
    # The map's aspect is 1/cos(lat) so the bar is as long in km as it looks.
    y0, y1 = ax.get_ylim()
    assert ax.get_aspect() == pytest.approx(furniture.aspect_for((y0 + y1) / 2))


@pytest.mark.parametrize("preset", ["web", "square", "portrait", "column1", "column2", "a4"])
def test_every_preset_has_exact_size_and_text_inside_the_page(preset):
    from layers.printmap import PRINT_MIN_PT, build_page

    spec = MapSpec(title="A title", dek="A subtitle", source_line="Desk", byline="By").with_size(
        preset
    )
    fig = build_page(spec, tiny_data())
    w, h = fig.get_size_inches() * fig.dpi
    assert (round(w), round(h)) == (spec.width, spec.height)
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    for text in fig.texts:
        bb = text.get_window_extent(renderer)
        assert bb.x0 >= page.x0 - 1 and bb.x1 <= page.x1 + 1, text.get_gid()
        assert bb.y0 >= page.y0 - 1 and bb.y1 <= page.y1 + 1, text.get_gid()
    lax = next(a for a in fig.axes if a.get_gid() == "legend")
    lb = lax.get_window_extent(renderer)
    assert lb.x1 <= page.x1 + 1 and lb.y0 >= page.y0 - 1
    minimum = PRINT_MIN_PT if spec.dpi >= 200 else 12 * 72 / spec.dpi
    assert (
        min(
            t.get_fontsize()
            for t in fig.findobj(lambda a: hasattr(a, "get_fontsize"))
            if t.get_visible() and getattr(t, "get_text", lambda: "")()
        )
        >= minimum - 1e-6
    )
    assert fig.atlas_layout.map_share >= 0.6


def test_legend_rows_group_types_by_colour_and_show_fatality_classes():
    from layers.printmap import filter_view, legend_rows
    from layers.style import EVENT_COLORS

    data = tiny_data()
    for et, n in (("riot", 4), ("strategic", 5)):
        data.incidents.loc[data.incidents.index[n], "event_type"] = et
    spec = MapSpec()
    view, _ = filter_view(spec, data)
    rows = legend_rows(spec, view, data)
    kinds = [(r.kind, r.label) for r in rows]
    assert ("marker", "Explosion / remote violence") in kinds
    # Riot and protest share a colour: one row, a shape each.
    pair = next(r for r in rows if r.kind == "pair" and "Riot" in r.label)
    assert [m for m, _ in pair.items] == ["s", "^"]
    assert EVENT_COLORS["riot"] == EVENT_COLORS["protest"] == pair.color
    grey = next(r for r in rows if r.label == "Strategic development")
    assert (grey.kind, grey.color, grey.marker) == ("marker", EVENT_COLORS["strategic"], "D")
    sizes = next(r for r in rows if r.kind == "sizes")
    assert [label for _, label in sizes.items] == ["0", "1–4", "5–19", "20+"]


def test_view_extent_fits_the_box_shape():
    from layers.printmap import view_extent

    x0, y0, x1, y1 = view_extent(MapSpec(), tiny_data(), 8.0, 4.0)
    aspect = furniture.aspect_for((y0 + y1) / 2)
    assert (y1 - y0) * aspect / (x1 - x0) == pytest.approx(4.0 / 8.0)
    # the region (-74.3..-73.5, -12.6..-11.9) is inside the view
    assert x0 < -74.3 and x1 > -73.5 and y0 < -12.6 and y1 > -11.9


def test_tile_basemap_offline_is_a_clear_fetch_error(tmp_path, monkeypatch):
    """No network here: asking for OSM tiles fails with FetchError naming the fix."""
    pytest.importorskip("contextily")
    from atlas.errors import FetchError
    from layers.printmap import build_page

    # a proxy that refuses connections, so the test is offline even on a networked machine
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(FetchError, match="basemap 'osm'.*outlines"):
        build_page(MapSpec(basemap="osm"), tiny_data())


@pytest.fixture()
def tile_server():
    """A real local HTTP tile server: every /z/x/y.png is the same light-grey 256 px tile."""
    import io
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 210, 220)).save(buf, format="PNG")
    tile = buf.getvalue()
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_tile_basemap_draws_tiles_and_prints_the_provider(tile_server, monkeypatch):
    """contextily fetches real PNG tiles over HTTP (from a local server standing in for
    the provider, as there is no internet here) and the page credits the provider."""
    pytest.importorskip("contextily")
    import xyzservices

    from layers import printmap

    base, hits = tile_server
    provider = xyzservices.TileProvider(
        name="LocalTest.Tiles",
        url=base + "/{z}/{x}/{y}.png",
        attribution="(C) Local test tiles",
    )
    monkeypatch.setattr(printmap, "_tile_provider", lambda basemap: provider)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    fig = printmap.build_page(MapSpec(basemap="osm"), tiny_data())
    ax = next(a for a in fig.axes if a.get_gid() == "map")
    assert hits, "no tile was requested"
    assert ax.images, "no tile image on the map"
    texts = _texts(fig)
    assert texts["tile-attribution"] == ["(C) Local test tiles"]
    assert "(C) Local test tiles" in texts["source-line"][0]


def _visible_labels(fig):
    from layers.labels import LabelLayout

    ax = next(a for a in fig.axes if a.get_gid() == "map")
    renderer = fig.canvas.get_renderer()
    layout = next(a for a in ax.get_children() if isinstance(a, LabelLayout))
    texts = [
        t
        for t in ax.texts
        if t.get_visible()
        and str(t.get_gid()).split(":")[0]
        in ("town-label", "river-label", "zone-label", "zone-caption", "country-label")
    ]
    return ax, layout, [(t.get_text(), t.get_window_extent(renderer)) for t in texts]


@pytest.mark.parametrize(
    "bounds",
    [None, (-81.4, -18.4, -68.6, 0.0), (-74.2, -12.8, -73.6, -12.2)],
    ids=["vraem", "peru", "valley"],
)
def test_reference_map_labels_never_collide_and_stay_inside(bounds) -> None:
    """The shipped reference map on the VRAEM (the default focus), all of Peru and a
    small valley window: every shown label is inside the map and overlaps no other."""
    from atlas.data import load_shipped

    data = load_shipped()
    spec = MapSpec(title="Labels").with_size("web")
    if bounds is None:
        bounds = data.regions.set_index("region_id").loc["vraem-devida"].geometry.bounds
    fig = build_page(spec, data, bounds=bounds)
    fig.canvas.draw()
    ax, layout, shown = _visible_labels(fig)
    frame = ax.get_window_extent(fig.canvas.get_renderer())
    assert shown
    for i, (text, bb) in enumerate(shown):
        assert frame.x0 <= bb.x0 and bb.x1 <= frame.x1 and frame.y0 <= bb.y0
        assert bb.y1 <= frame.y1, text
        for other, bb2 in shown[i + 1 :]:
            assert not bb.overlaps(bb2), f"{text!r} overlaps {other!r}"
    placed = set(layout.placed)
    if bounds[2] - bounds[0] < 6:  # VRAEM scale
        towns = {p for p in placed if p.startswith("town:")}
        # the whole zone shows at least 8 named towns; a 0.6° valley window (drawn as given,
        # not padded) holds six of them
        assert len(towns) >= (8 if bounds[2] - bounds[0] > 1.5 else 5), towns
        assert {"river:Apurímac", "river:Ene", "river:Tambo"} <= placed or bounds[0] > -74.5
    else:
        assert "town:Lima" in placed


def test_vraem_page_shows_the_named_zone_rivers_and_towns() -> None:
    from atlas.data import load_shipped

    data = load_shipped()
    zone = data.regions.set_index("region_id").loc["vraem-devida"].geometry.bounds
    fig = build_page(MapSpec().with_size("web"), data, bounds=zone)
    fig.canvas.draw()
    _ax, layout, _shown = _visible_labels(fig)
    placed = set(layout.placed)
    assert {"zone", "zone-caption", "river:Apurímac", "river:Ene", "river:Tambo"} <= placed
    assert len({p for p in placed if p.startswith("town:")}) >= 8
    gids = {c.get_gid() for c in _ax.collections}
    assert {"department-lines", "province-lines", "rivers"} <= gids


def test_reference_event_is_labelled_from_its_own_data_with_a_leader_line():
    from atlas.data import load_shipped
    from layers.printmap import build_page

    data = load_shipped()
    for lang, want in (
        ("en", "San Miguel del Ene, 23 May 2021: 16 killed"),
        ("es", "San Miguel del Ene, 23 de mayo de 2021: 16 muertos"),
    ):
        fig = build_page(MapSpec(lang=lang), data)
        ax = next(a for a in fig.axes if a.get_gid() == "map")
        (label,) = [t for t in ax.texts if t.get_gid() == "reference-label"]
        assert label.get_text().replace("\n", " ") == want
        assert label.arrow_patch is not None  # the leader line
        ref = data.reference_events.iloc[0]
        assert label.xy == (ref.geometry.x, ref.geometry.y)
        # It stays off the legend and the inset.
        renderer = fig.canvas.get_renderer()
        bb = label.get_window_extent(renderer)
        for gid in ("legend", "inset"):
            other = next(a for a in fig.axes if a.get_gid() == gid).get_window_extent(renderer)
            assert not bb.overlaps(other), gid
        inset = next(a for a in fig.axes if a.get_gid() == "inset")
        assert [t.get_text() for t in inset.texts if t.get_gid() == "inset-lima-label"] == ["Lima"]
        assert inset.get_xlim()[0] > -82 and inset.get_ylim()[0] > -19  # Peru, not the continent


# ---- colour vision ---------------------------------------------------------------------------
#: Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of
#: color vision deficiency", severity 1.0 matrices, applied to linear RGB.
CVD = {
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                   (0.004733, 0.691367, 0.303900)),
}  # fmt: skip
#: Minimum CIELAB distance (CIE76) between two legend colours under every simulation.
#: About 6.5x the classic just-noticeable difference of 2.3: Stone, Szafir & Setlur (2014,
#: "An engineering model for color difference as a function of size") found marks a few
#: points across need several times the difference of large patches to be told apart.
MIN_DELTA_E = 15.0


def _linear(hex_color: str):
    import numpy as np

    c = np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear):
    import numpy as np

    xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    ) @ np.clip(linear, 0, 1)
    f = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(f > 0.008856, np.cbrt(f), 7.787 * f + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _seen(hex_color: str, vision: str):
    import numpy as np

    lin = _linear(hex_color)
    if vision == "normal":
        return _lab(lin)
    if vision == "greyscale":
        y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
        return _lab(np.array([y, y, y]))
    return _lab(np.array(CVD[vision]) @ lin)


def test_simulation_is_not_vacuous():
    """Red and green collapse under deuteranopia, in this simulation too."""
    import numpy as np

    red, green = "#d62728", "#2ca02c"
    assert np.linalg.norm(_seen(red, "normal") - _seen(green, "normal")) > 60
    assert np.linalg.norm(_seen(red, "deuteranopia") - _seen(green, "deuteranopia")) < 15


@pytest.mark.parametrize(
    "vision", ["normal", "deuteranopia", "protanopia", "tritanopia", "greyscale"]
)
def test_event_colours_stay_apart_under_colour_vision_deficiency(vision):
    """At most five colours; every two legend entries differ by colour (ΔE ≥ 15 under the
    simulation) or, in greyscale where only lightness is left, by shape or lightness."""
    import itertools

    import numpy as np

    from layers.style import EVENT_COLORS, EVENT_MARKERS

    assert len(set(EVENT_COLORS.values())) <= 5
    entries = sorted({(EVENT_COLORS[t], EVENT_MARKERS[t]) for t in EVENT_COLORS})
    for (ca, ma), (cb, mb) in itertools.combinations(entries, 2):
        if ca == cb:
            assert ma != mb, f"{ca}: same colour needs another shape"
            continue
        d = float(np.linalg.norm(_seen(ca, vision) - _seen(cb, vision)))
        if vision == "greyscale" and ma != mb:
            continue  # the shape tells them apart
        assert d >= MIN_DELTA_E, f"{vision}: {ca} {ma} vs {cb} {mb}: ΔE {d:.1f}"


def test_fatality_classes_differ_between_0_and_1_and_step_visibly():
    from layers.style import FATALITY_CLASSES, fatality_diameter_pt

    d = fatality_diameter_pt([0, 1, 4, 5, 19, 20, 200])
    assert list(d) == [3.0, 5.0, 5.0, 7.5, 7.5, 11.0, 11.0]
    diam = [c[2] for c in FATALITY_CLASSES]
    assert all((b / a) ** 2 >= 2.0 for a, b in zip(diam, diam[1:], strict=False))


def test_callouts_are_drawn_on_the_print_page_with_leaders():
    from atlas.spec import Callout
    from layers.printmap import build_page

    spec = MapSpec(
        callouts=(
            Callout(text="Checkpoint <b>{{x}}</b>", lon=-73.9, lat=-12.2),
            Callout(text="The test zone", region_id="vraem-devida", leader=False),
        )
    )
    fig = build_page(spec, tiny_data())
    ax = next(a for a in fig.axes if a.get_gid() == "map")
    callouts = [t for t in ax.texts if t.get_gid() == "callout"]
    assert [t.get_text().replace("\n", " ") for t in callouts] == [
        "Checkpoint <b>{{x}}</b>",
        "The test zone",
    ]
    assert callouts[0].xy == (-73.9, -12.2) and callouts[0].arrow_patch is not None
    # leader=False: the text sits on the region's representative point, no line.
    point = tiny_data().regions.geometry.iloc[0].representative_point()
    assert callouts[1].get_position() == pytest.approx((point.x, point.y))
    assert all(t.get_fontsize() >= 12 * 72 / 100 - 1e-6 for t in callouts)


def test_the_base_is_drawn_once_and_the_incidents_into_it():
    from layers.printmap import INCIDENT_LAYERS, build_base, draw_incidents

    assert "choropleth" in INCIDENT_LAYERS and "points" in INCIDENT_LAYERS
    spec = MapSpec(layers=("basemap", "regions", "points"))
    parts = build_base(spec, tiny_data())
    before = len(parts.ax.collections)
    draw_incidents(parts.ax, spec, parts.view)
    # the base has no incident dots; the incident step adds one collection per shape
    assert len(parts.ax.collections) > before
    gids = {c.get_gid() for c in parts.ax.collections[before:]}
    assert gids == {"incidents-o", "incidents-^"}  # circles; protests are triangles
    # An animation clears one frame's incidents and draws the next on the same base.
    from layers.printmap import clear_incidents

    clear_incidents(parts.ax)
    assert len(parts.ax.collections) == before
    draw_incidents(parts.ax, spec.replace(event_types=("protest",)), parts.view)
    assert len(parts.ax.collections) == before + 2  # the view still has every type
