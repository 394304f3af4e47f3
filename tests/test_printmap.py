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
    assert len(drawn) == 2
    total = sum(r.get_width() for r in drawn)
    assert total == pytest.approx(bar.lon1 - bar.lon0)
    labels = [a.get_text() for a in bar.artists if a.get_gid() == "scale-bar-label"]
    assert labels == ["0", "100 km"]


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


def test_inset_draws_the_view_box():
    basemap = gpd.GeoDataFrame(
        {"name": ["Peru", "Brazil"]},
        geometry=[box(-81, -18, -69, 0), box(-70, -30, -35, 5)],
        crs="EPSG:4326",
    )
    fig = Figure(figsize=(4, 4), dpi=100)
    ax = furniture.inset_locator(fig, (0.1, 0.1, 0.8, 0.8), basemap, (-75.5, -13.5, -73, -11))
    boxes = [p for p in ax.patches if p.get_gid() == "inset-box"]
    assert len(boxes) == 1
    x, y = boxes[0].get_xy()
    # The view box (2.5 x 2.5 deg) is centred on the view.
    assert x + boxes[0].get_width() / 2 == pytest.approx(-74.25)
    assert y + boxes[0].get_height() / 2 == pytest.approx(-12.25)
    assert len(ax.collections) == 2  # Peru shaded, the others plain


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
