"""The frame: which part of the world a view shows, decided in one place.

A spec's frame is its ``bbox`` (what a reader had on screen, or what a CLI user typed),
else its ``focus`` region's bounds padded so the region's edge is not on the frame's
edge, else the incidents, else Peru. The interactive map fits it on first load, the print
page fits it to the preset's aspect around the same centre, and server-side aggregation
reads it. All frames are (west, south, east, north) in degrees, EPSG:4326.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd

from atlas.spec import MapSpec

Box = tuple[float, float, float, float]

#: Peru's bounding box (west, south, east, north): the last fallback.
PERU_BOX: Box = (-81.4, -18.4, -68.6, -0.0)
#: Padding around a focus region, as a share of its width/height (at least FOCUS_PAD_MIN°).
FOCUS_PAD = 0.08
FOCUS_PAD_MIN = 0.05


@dataclass(frozen=True)
class MapView:
    """Where an interactive map is: the bounds on screen, and the centre and zoom that
    reproduce them exactly when the map is drawn again (after a filter change)."""

    bbox: Box
    center: tuple[float, float]  # (lat, lon)
    zoom: int


def frame_bounds(
    spec: MapSpec,
    regions: gpd.GeoDataFrame | None,
    incidents: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
) -> Box:
    """The spec's frame: bbox, else the padded focus region (looked up in ``regions``,
    then ``districts``), else the incidents, else Peru."""
    if spec.bbox is not None:
        return tuple(float(v) for v in spec.bbox)  # type: ignore[return-value]
    box = focus_box(spec.focus, regions, districts)
    if box is not None:
        return pad(box)
    box = _finite_box(incidents)
    if box is not None:
        return pad(box)
    return PERU_BOX


def frame_of(spec: MapSpec, data: object) -> Box:
    """:func:`frame_bounds` for an ``AtlasData`` bundle (regions, districts, incidents)."""
    return frame_bounds(spec, getattr(data, "regions", None), getattr(data, "incidents", None),
                        getattr(data, "districts", None))  # fmt: skip


def focus_box(focus: str, *frames: gpd.GeoDataFrame | None) -> Box | None:
    """Bounds of the region whose id is ``focus`` in the first frame that has it."""
    if not focus:
        return None
    for frame in frames:
        if frame is None or not len(frame) or "region_id" not in frame:
            continue
        box = _finite_box(frame[frame["region_id"].astype(str) == focus])
        if box is not None:
            return box
    return None


def pad(box: Box, share: float = FOCUS_PAD, minimum: float = FOCUS_PAD_MIN) -> Box:
    """``box`` grown on every side by ``share`` of its size (at least ``minimum`` degrees)."""
    west, south, east, north = box
    px = max((east - west) * share, minimum)
    py = max((north - south) * share, minimum)
    return (max(-180.0, west - px), max(-90.0, south - py), min(180.0, east + px),
            min(90.0, north + py))  # fmt: skip


def _finite_box(frame: gpd.GeoDataFrame | None) -> Box | None:
    if frame is None or not len(frame):
        return None
    box = tuple(float(v) for v in frame.total_bounds)
    if not all(math.isfinite(v) for v in box):
        return None
    return box  # type: ignore[return-value]


__all__ = [
    "FOCUS_PAD",
    "PERU_BOX",
    "Box",
    "MapView",
    "focus_box",
    "frame_bounds",
    "frame_of",
    "pad",
]
