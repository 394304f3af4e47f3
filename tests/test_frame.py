"""The frame (atlas.frame) and the print page's extent around it (layers.printmap)."""

from __future__ import annotations

import pytest

from atlas.frame import FOCUS_PAD, PERU_BOX, frame_bounds, pad
from atlas.spec import MapSpec
from tests.test_layers import make_data


def test_bbox_is_the_frame_as_given() -> None:
    data = make_data(10)
    spec = MapSpec(bbox=(-74.5, -12.6, -73.9, -12.0))
    assert frame_bounds(spec, data.regions, data.incidents) == (-74.5, -12.6, -73.9, -12.0)


def test_focus_region_is_padded() -> None:
    data = make_data(10)
    # make_data's VRAEM is box(-74.9, -13.6, -73.2, -11.4): 1.7° wide, 2.2° tall
    west, south, east, north = frame_bounds(MapSpec(), data.regions, data.incidents)
    assert west == pytest.approx(-74.9 - 1.7 * FOCUS_PAD)
    assert east == pytest.approx(-73.2 + 1.7 * FOCUS_PAD)
    assert south == pytest.approx(-13.6 - 2.2 * FOCUS_PAD)
    assert north == pytest.approx(-11.4 + 2.2 * FOCUS_PAD)


def test_unknown_focus_falls_back_to_incidents_then_peru() -> None:
    data = make_data(10)
    spec = MapSpec(focus="no-such-region")
    box = frame_bounds(spec, data.regions, data.incidents)
    assert box == pad(tuple(data.incidents.total_bounds))
    assert frame_bounds(spec, data.regions, make_data(0).incidents) == PERU_BOX
    assert frame_bounds(MapSpec(focus=""), None, None) == PERU_BOX


def test_print_extent_keeps_the_frame_centre_and_fits_the_box_aspect() -> None:
    from layers import furniture
    from layers.printmap import view_extent

    data = make_data(10)
    spec = MapSpec(bbox=(-74.5, -12.6, -73.9, -12.0))
    for w_in, h_in in ((12.0, 6.75), (4.0, 8.0)):
        x0, y0, x1, y1 = view_extent(spec, data, w_in, h_in)
        assert (x0 + x1) / 2 == pytest.approx(-74.2) and (y0 + y1) / 2 == pytest.approx(-12.3)
        # the frame is inside the extent (widened one way, never cropped)
        assert x0 <= -74.5 + 1e-9 and x1 >= -73.9 - 1e-9 and y0 <= -12.6 + 1e-9
        aspect = furniture.aspect_for((y0 + y1) / 2)
        assert (y1 - y0) * aspect / (x1 - x0) == pytest.approx(h_in / w_in, rel=1e-6)
