"""Symbols that survive density: the covered-centre measure, the density export style
(auto | points | hexagons) and the print page's hexagons (the app's binning and classes).

The hand-worked case (drawing order = list order, later on top), in points:

    A (0, 0) r 5    B (3, 0) r 2    C (20, 0) r 4    D (21, 0) r 1.5
    E (30, 0) r 2   F (32, 0) r 2

B's centre is 3 from A's (< 5): inside A, but A is drawn under B. A's centre is 3 from
B's (> 2): free. D's centre is 1 from C's (< 4): inside C, drawn under D; C's centre is
1 from D's (< 1.5): inside D, drawn over C. E and F are exactly one radius apart (2):
touching is not covering. Any other marker: B, C, D covered, 3 of 6 = 0.5. Drawn over
it only: C, 1 of 6.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from atlas.aggregate import HexBins, in_box
from atlas.data import load_shipped
from atlas.spec import MapSpec
from layers import density, hexbins, printmap
from layers.export import export
from layers.style import ramp_for
from tests.test_printmap import tiny_data

HAND = (
    np.array([0.0, 3.0, 20.0, 21.0, 30.0, 32.0]),
    np.zeros(6),
    np.array([5.0, 2.0, 4.0, 1.5, 2.0, 2.0]),
)


def test_covered_share_on_the_hand_worked_case() -> None:
    assert density.covered_share(*HAND, above_only=False) == pytest.approx(3 / 6)
    assert density.covered_share(*HAND) == pytest.approx(1 / 6)
    # the drawing order matters: reversed, A is drawn over B, D under C
    x, y, r = (a[::-1] for a in HAND)
    assert density.covered_share(x, y, r) == pytest.approx(2 / 6)  # B and D
    assert density.covered_share(x, y, r, above_only=False) == pytest.approx(3 / 6)
    assert density.covered_share(np.zeros(1), np.zeros(1), np.ones(1)) == 0.0
    with pytest.raises(ValueError, match="radii"):
        density.covered_share(np.zeros(2), np.zeros(2), np.ones(3))


def test_covered_share_beyond_the_tested_sample_stays_close() -> None:
    """Above MAX_TESTED markers an even sample is tested against all of them."""
    rng = np.random.default_rng(7)
    n = density.MAX_TESTED * 2
    x, y = rng.uniform(0, 400, n), rng.uniform(0, 300, n)
    r = np.full(n, 1.5)
    # a Poisson field: P(no other centre within r) = exp(-density * pi r^2)
    expected = 1 - np.exp(-(n - 1) / (400 * 300) * np.pi * 1.5**2)
    assert density.covered_share(x, y, r, above_only=False) == pytest.approx(expected, abs=0.02)


@pytest.fixture(scope="module")
def shipped():
    return load_shipped()


def _map_ax(fig):
    return next(a for a in fig.axes if a.get_gid() == "map")


def test_the_measure_before_drawing_is_the_measure_of_the_drawn_page(shipped) -> None:
    fig = printmap.build_page(MapSpec(density="points").with_size("column1"), shipped)
    choice = fig.atlas_density
    ax = _map_ax(fig)
    x, _, _ = density.drawn_markers(ax)
    assert choice.mode == "points" and choice.markers == len(x) > 500
    assert choice.covered == pytest.approx(density.drawn_share(ax, above_only=False), abs=0.005)


def test_auto_follows_the_measure_dense_sample_hexagons_sparse_points(shipped) -> None:
    col = printmap.build_page(MapSpec().with_size("column1"), shipped).atlas_density
    assert col.asked == "auto"
    assert col.mode == ("hexagons" if col.covered > density.AUTO_MAX else "points")
    assert col.mode == "hexagons"  # 54% of the sample's centres covered at 90 mm
    web = printmap.build_page(MapSpec().with_size("web"), shipped).atlas_density
    assert web.covered < col.covered  # the same frame on a bigger page: less crowded
    assert web.mode == ("hexagons" if web.covered > density.AUTO_MAX else "points")
    sparse = printmap.build_page(MapSpec().with_size("column1"), tiny_data()).atlas_density
    assert sparse.mode == "points" and sparse.covered <= density.AUTO_MAX
    forced = printmap.build_page(MapSpec(density="points").with_size("column1"), shipped)
    assert forced.atlas_density.mode == "points"
    assert not [c for c in _map_ax(forced).collections if c.get_gid() == "incidents-hexagons"]
    asked = printmap.build_page(MapSpec(density="hexagons"), tiny_data()).atlas_density
    assert asked.mode == "hexagons"


@pytest.mark.parametrize("preset", ["web", "column1"])
def test_hexagons_count_every_incident_in_the_frame(shipped, preset) -> None:
    spec = MapSpec(density="hexagons").with_size(preset)
    parts = printmap.build_base(spec, shipped)
    printmap.draw_incidents(parts.ax, spec, parts.view)
    [coll] = [c for c in parts.ax.collections if c.get_gid() == "incidents-hexagons"]
    assert not [c for c in parts.ax.collections if c.get_gid() in ("incidents-o", "incidents-s")]
    inc = printmap.filter_view(spec, shipped)[0].incidents
    x0, x1 = parts.ax.get_xlim()
    y0, y1 = parts.ax.get_ylim()
    inside = in_box(inc.geometry.x.to_numpy(), inc.geometry.y.to_numpy(), (x0, y0, x1, y1))
    assert coll.atlas_counts.sum() == inside.sum() > 0
    assert len(coll.get_paths()) == len(coll.atlas_counts)
    # each hexagon's colour is its class's, in the map's ramp
    bins = hexbins.aggregated(parts.view)
    edges = hexbins.hex_edges(bins)
    ramp = ramp_for(len(edges) - 1)
    from matplotlib.colors import to_hex

    got = [to_hex(c, keep_alpha=False) for c in coll.get_facecolors()]
    assert got == [ramp[k] for k in hexbins.hex_classes(bins, edges)]
    # the legend's classes are hex_edges' of the hexagons drawn
    rows = [r for r in parts.layout.rows if r.gid == "legend-hexagons"]
    assert rows[0].kind == "text" and rows[0].label == hexbins.legend_head(bins, "en")
    assert [r.label for r in rows[1:]] == hexbins.class_labels(bins, "en", edges)
    assert [r.color for r in rows[1:]] == list(ramp)
    assert all(r.marker == "h" for r in rows[1:])
    # the face says so
    note = " ".join(parts.layout.texts["note"].lines)
    assert "hexagon" in note and f"{parts.fig.atlas_density.km:g}" in note


def test_class_labels_are_the_whole_counts_of_each_class() -> None:
    counts = np.array([1, 2, 3, 5, 7, 12, 40])
    bins = HexBins(np.zeros(7), np.zeros(7), counts, np.zeros(7), 0.1, -12.0)
    assert hexbins.hex_edges(bins) == [1, 2, 5, 10, 20, 40]
    assert hexbins.class_labels(bins, "en") == ["1", "2–4", "5–9", "10–19", "20–40"]
    assert list(hexbins.hex_classes(bins)) == [0, 1, 1, 2, 2, 3, 4]
    same = HexBins(np.zeros(2), np.zeros(2), np.array([3, 3]), np.zeros(2), 0.1, -12.0)
    assert hexbins.class_labels(same, "es") == ["3"]


def test_sidecar_and_face_say_when_hexagons_replace_points(shipped, tmp_path) -> None:
    out = export(MapSpec().with_size("column1"), shipped, tmp_path / "c1.png")
    side = out.sources_path.read_text(encoding="utf-8")
    assert "Drawing: hexagons about 15 km across instead of points (density: auto)" in side
    assert "Too many events overlap to show one by one" in side  # the face's note
    out = export(MapSpec(density="points").with_size("web"), shipped, tmp_path / "w.png")
    side = out.sources_path.read_text(encoding="utf-8")
    assert "Drawing: one marker per event;" in side and "hexágono" not in side


def test_spanish_page_and_sidecar(shipped, tmp_path) -> None:
    spec = MapSpec(density="hexagons", lang="es").with_size("web")
    fig = printmap.build_page(spec, shipped)
    rows = [r.label for r in fig.atlas_layout.rows if r.gid == "legend-hexagons"]
    assert rows[0].startswith("Incidentes por hexágono (~15\u00a0km)")
    note = " ".join(fig.atlas_layout.texts["note"].lines)
    assert "Cada hexágono (de unos 15\u00a0km) cuenta los eventos" in note
    side = export(spec, shipped, tmp_path / "es.png").sources_path.read_text(encoding="utf-8")
    assert "Dibujo: hexágonos de unos 15 km en lugar de puntos, como pide la vista" in side


def test_the_app_map_shows_hexagons_when_the_spec_asks(shipped) -> None:
    data = tiny_data()
    spec = MapSpec(density="hexagons")
    shown = hexbins.incident_view(spec, data, None)
    bins = hexbins.aggregated(shown)
    assert bins is not None and bins.total == shown.shown.in_view == len(data.incidents)
    assert "as the view asks" in hexbins.aggregate_banner(shown, "en")
    assert "como pide la vista" in hexbins.aggregate_banner(shown, "es")
    # auto and points keep the map's own threshold: a few incidents are points
    for name in ("auto", "points"):
        assert hexbins.aggregated(hexbins.incident_view(MapSpec(density=name), data, None)) is None


def test_drawn_markers_leave_out_what_the_map_clips() -> None:
    """A marker outside the map's frame is not on the page and is not measured."""
    data = tiny_data()
    inc = data.incidents
    far = gpd.GeoDataFrame(inc.iloc[:1].copy(), geometry=[shapely.Point(-60.0, -5.0)],
                           crs=inc.crs)  # fmt: skip
    data.incidents = gpd.GeoDataFrame(pd.concat([inc, far], ignore_index=True), crs=inc.crs)
    spec = MapSpec(density="points", bbox=(-74.4, -12.7, -73.4, -11.8))
    fig = printmap.build_page(spec, data)
    x, _, _ = density.drawn_markers(_map_ax(fig))
    assert len(x) == fig.atlas_density.markers == 6  # 8 + 1, less 2 imprecise, less far


def test_small_multiples_draw_points_and_the_sidecar_says_so(tmp_path) -> None:
    spec = MapSpec(density="hexagons", small_multiples="quarter")
    result = export(spec, tiny_data(), tmp_path / "panels.png")
    side = result.sources_path.read_text(encoding="utf-8")
    assert "small multiples and animations draw points whatever the density" in side
    plain = export(MapSpec(density="points"), tiny_data(), tmp_path / "plain.png")
    assert "Drawing:" in plain.sources_path.read_text(encoding="utf-8")
