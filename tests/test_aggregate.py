"""atlas.aggregate: hexagon binning (every point in its nearest hexagon, counts conserved),
the view's scale, the covered box, and the choice of points or hexagons for a view."""

from __future__ import annotations

import math

import numpy as np
import pytest

from atlas.aggregate import (
    POINTS_MAX,
    choose,
    cover_box,
    hex_bins,
    hex_centres,
    hex_index,
    hex_polygons,
    hex_size_for_zoom,
    in_box,
    zoom_for,
)
from atlas.errors import InputError


def _points(n: int, box=(-75.0, -13.0, -73.0, -11.0), seed: int = 7):
    rng = np.random.default_rng(seed)
    return rng.uniform(box[0], box[2], n), rng.uniform(box[1], box[3], n)


def test_every_point_goes_to_its_nearest_hexagon_centre() -> None:
    x, y = _points(3000)
    size, lat0 = 0.05, -12.0
    col2, row = hex_index(x, y, size, lat0)
    cx, cy = hex_centres(col2, row, size, lat0)
    k = 1 / math.cos(math.radians(lat0))
    # brute force over the centres of a lattice around the points
    cols = np.arange(col2.min() - 2, col2.max() + 3)
    rows = np.arange(row.min() - 2, row.max() + 3)
    cc, rr = np.meshgrid(cols, rows)
    ok = (cc + rr) % 2 == 0  # half-width columns: even rows even columns, odd rows odd
    ax, ay = hex_centres(cc[ok], rr[ok], size, lat0)
    d = np.hypot(x[:, None] - ax[None], (y[:, None] - ay[None]) * k)
    best = d.min(axis=1)
    mine = np.hypot(x - cx, (y - cy) * k)
    assert np.allclose(mine, best)
    assert mine.max() <= size + 1e-12  # inside the hexagon's circumcircle


def test_counts_and_fatalities_are_conserved() -> None:
    x, y = _points(10_000)
    fat = np.where(np.arange(10_000) % 10 == 0, np.nan, np.arange(10_000) % 3)
    bins = hex_bins(x, y, 0.03, fatalities=fat)
    assert bins.total == 10_000
    assert (bins.count > 0).all()  # only non-empty hexagons
    assert bins.fatalities.sum() == pytest.approx(np.nansum(fat))  # unknown counted as 0
    # centres are unique
    assert len({(round(a, 9), round(b, 9)) for a, b in zip(bins.x, bins.y, strict=True)}) == len(
        bins
    )


def test_sparse_wide_points_take_the_sparse_path_and_still_conserve() -> None:
    x = np.array([-80.0, 10.0, 120.0, -80.0])
    y = np.array([-10.0, 40.0, 5.0, -10.0])
    bins = hex_bins(x, y, 1e-4, lat0=0.0)
    assert bins.total == 4 and len(bins) == 3


def test_hexagon_polygons_are_regular_on_the_aspect_corrected_grid() -> None:
    poly = hex_polygons(np.array([-74.0]), np.array([-12.0]), 0.1, -12.0)[0]
    k = 1 / math.cos(math.radians(-12.0))
    d = np.hypot(poly[:, 0] + 74.0, (poly[:, 1] + 12.0) * k)
    assert np.allclose(d, 0.1)
    assert poly[:, 1].argmax() == 1  # pointy top: vertex at 90 degrees


def test_bad_input_is_refused_with_the_reason() -> None:
    with pytest.raises(InputError, match="positive"):
        hex_bins(np.zeros(2), np.zeros(2), 0.0)
    with pytest.raises(InputError, match="not finite"):
        hex_bins(np.array([np.nan]), np.array([1.0]), 0.1)
    with pytest.raises(InputError, match="x values"):
        hex_bins(np.zeros(2), np.zeros(3), 0.1)
    assert hex_bins(np.zeros(0), np.zeros(0), 0.1).total == 0


def test_hexagons_are_a_fixed_number_of_pixels_at_every_zoom() -> None:
    for zoom in (5, 9, 14):
        width_deg = math.sqrt(3) * hex_size_for_zoom(zoom)
        assert width_deg / (360 / (256 * 2**zoom)) == pytest.approx(26)
    # floor(log2(360 * 1000 px / (256 * span))): Peru (12.8 degrees) 6, 0.2 degrees 12
    assert zoom_for((-81.4, -18.4, -68.6, 0.0)) == 6
    assert zoom_for((-74.2, -12.2, -74.0, -12.0)) == 12


def test_cover_box_holds_the_view_and_small_pans_keep_it() -> None:
    view = (-74.6, -12.9, -73.4, -12.1)
    box = cover_box(view)
    assert box[0] < view[0] and box[1] < view[1] and box[2] > view[2] and box[3] > view[3]
    assert cover_box((-74.58, -12.88, -73.38, -12.08)) == box  # a small pan
    assert (box[2] - box[0]) <= 3.5 * (view[2] - view[0]) + 1e-9


def test_few_incidents_are_points_whatever_the_view() -> None:
    x, y = _points(500)
    choice = choose(x, y, (-74.1, -12.1, -74.0, -12.0), 12, threshold=500)
    assert choice.mode == "points" and choice.box is None and choice.positions is None
    assert choice.key == ""


def test_many_incidents_in_view_become_hexagons_with_counts_conserved() -> None:
    x, y = _points(20_000)
    view = (-75.0, -13.0, -73.0, -11.0)
    choice = choose(x, y, view, zoom_for(view), threshold=1_000)
    assert choice.mode == "hexagons"
    inside = int(in_box(x, y, choice.box).sum())
    assert choice.in_view == inside == 20_000
    assert choice.bins.total == inside  # the sum of hexagon counts = the incidents shown
    assert "hexagons" in choice.key


def test_a_zoomed_in_view_with_few_incidents_gets_exact_points_of_its_box() -> None:
    x, y = _points(20_000)
    view = (-74.05, -12.05, -74.0, -12.0)
    choice = choose(x, y, view, zoom_for(view), threshold=1_000)
    assert choice.mode == "points" and choice.bins is None
    assert choice.in_view <= 1_000
    assert np.array_equal(choice.positions, np.flatnonzero(in_box(x, y, choice.box)))
    assert choice.key.startswith("points")


def test_default_threshold_is_stated() -> None:
    assert POINTS_MAX == 50_000
