"""Incidents aggregated for maps: hexagons at a view's scale, and counts per region.

One module for every drawing that bins incidents: the interactive map's aggregate view
(:mod:`layers.hexbins`, above :data:`POINTS_MAX` incidents in the recorded view), the
print page's hexagon density (``layers.heat`` on paper) and the choropleth's per-region
counts (:func:`region_counts`, a name for :func:`atlas.spatial.aggregate`). No drawing here.

Hexagons are pointy-topped on a grid in (longitude, latitude / cos(lat0)) so they look
regular on a Web-Mercator (or aspect-corrected) map around ``lat0``; every point goes to
exactly one hexagon (the nearest centre), so the counts sum to the points binned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from atlas.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

Box = tuple[float, float, float, float]

#: Above this many filtered incidents in the covered area (the view, padded) the
#: interactive map shows hexagons; at or below it, every incident as a point. The compact
#: point array costs ~40 bytes an incident, so 50,000 points stay under 2 MB of payload.
POINTS_MAX = 50_000
#: Hexagon width on screen, in CSS pixels (point to point across the flats).
HEX_PX = 26
#: The view is padded by this share of its width/height on each side, then snapped
#: outward to a grid of half the view's size rounded up to a power of two degrees: pans
#: within the padded box need no new layer, and the box is at most ~3.5 views wide.
COVER_PAD = 0.25
#: Map width in pixels assumed for a frame that no map has reported yet.
DEFAULT_MAP_PX = (1000, 620)


@dataclass(frozen=True)
class HexBins:
    """Hexagons with at least one incident: centre, count, fatalities (known sum);
    ``size`` is the centre-to-vertex radius in degrees of
    longitude, ``lat0`` the latitude the grid is regular at."""

    x: np.ndarray
    y: np.ndarray
    count: np.ndarray
    fatalities: np.ndarray
    size: float
    lat0: float

    @property
    def total(self) -> int:
        return int(self.count.sum()) if len(self.count) else 0

    def __len__(self) -> int:
        return len(self.count)

    def polygons(self) -> np.ndarray:
        """(n, 6, 2) hexagon vertices (lon, lat), pointy-topped."""
        return hex_polygons(self.x, self.y, self.size, self.lat0)


def _check(x: np.ndarray, y: np.ndarray, size: float) -> None:
    if not (math.isfinite(size) and size > 0):
        raise InputError(f"hexagon size {size!r}: give a positive number of degrees")
    if len(x) != len(y):
        raise InputError(f"hexagons: {len(x)} x values but {len(y)} y values")


def hex_index(x: np.ndarray, y: np.ndarray, size: float, lat0: float) -> tuple[np.ndarray, ...]:
    """(column, row) of the hexagon of each point; rows alternate offset by half a hexagon.

    Pointy-topped hexagons of radius ``size``: centres are sqrt(3)*size apart along a row
    and rows are 1.5*size apart (in latitude scaled by 1/cos(lat0)). Each point takes the
    nearest centre of the two rectangular lattices (even rows, odd rows).
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    _check(x, y, size)
    k = 1.0 / math.cos(math.radians(lat0))
    w = math.sqrt(3.0) * size  # distance between centres along a row
    h = 3.0 * size  # the even-row lattice repeats every two rows
    v = y * k
    # lattice A: even rows at (i*w, j*h); lattice B: odd rows at ((i+.5)*w, (j+.5)*h)
    ia = np.round(x / w)
    ja = np.round(v / h)
    ib = np.floor(x / w)
    jb = np.floor(v / h)
    da = (x - ia * w) ** 2 + (v - ja * h) ** 2
    db = (x - (ib + 0.5) * w) ** 2 + (v - (jb + 0.5) * h) ** 2
    a = da <= db
    col2 = np.where(a, 2 * ia, 2 * ib + 1).astype("int64")  # column in half-widths
    row = np.where(a, 2 * ja, 2 * jb + 1).astype("int64")  # row in 1.5*size steps
    return col2, row


def hex_centres(
    col2: np.ndarray, row: np.ndarray, size: float, lat0: float
) -> tuple[np.ndarray, np.ndarray]:
    """Centres (lon, lat) of hexagons by (column in half-widths, row)."""
    k = 1.0 / math.cos(math.radians(lat0))
    w = math.sqrt(3.0) * size
    return col2 * (w / 2.0), row * (1.5 * size) / k


def hex_polygons(x: np.ndarray, y: np.ndarray, size: float, lat0: float) -> np.ndarray:
    """(n, 6, 2) vertices (lon, lat) of pointy-topped hexagons centred at (x, y)."""
    k = 1.0 / math.cos(math.radians(lat0))
    angles = np.radians(np.arange(6) * 60.0 + 30.0)
    dx = size * np.cos(angles)
    dy = size * np.sin(angles) / k
    x = np.asarray(x, dtype="float64")[:, None]
    y = np.asarray(y, dtype="float64")[:, None]
    return np.stack([x + dx, y + dy], axis=-1)


def hex_bins(
    x: np.ndarray,
    y: np.ndarray,
    size: float,
    *,
    lat0: float | None = None,
    fatalities: np.ndarray | None = None,
) -> HexBins:
    """Count points per hexagon of radius ``size`` degrees (only non-empty hexagons).

    ``fatalities`` (per point, NaN = unknown, summed as 0) is optional. ``lat0`` defaults to the points' middle latitude. Non-finite points are refused.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    _check(x, y, size)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("hexagons: some coordinates are not finite; re-run the reader")
    if lat0 is None:
        lat0 = float((np.min(y) + np.max(y)) / 2) if len(y) else 0.0
    lat0 = float(np.clip(lat0, -80.0, 80.0))
    empty = np.zeros(0)
    if not len(x):
        return HexBins(empty, empty, np.zeros(0, "int64"), empty, size, lat0)
    col2, row = hex_index(x, y, size, lat0)
    c0, r0 = int(col2.min()), int(row.min())
    nrows = int(row.max()) - r0 + 1
    key = (col2 - c0) * nrows + (row - r0)
    span = (int(col2.max()) - c0 + 1) * nrows
    if span <= max(4 * len(key), 1 << 20):  # a dense table of every hexagon in the box
        count = np.bincount(key, minlength=span)
        ukey = np.flatnonzero(count)
        codes = None
        count = count[ukey]
    else:  # a sparse, wide spread of points
        ukey, codes, count = np.unique(key, return_inverse=True, return_counts=True)
    if fatalities is None:
        fat = np.zeros(len(ukey))
    else:
        f = np.nan_to_num(np.asarray(fatalities, dtype="float64"), nan=0.0).clip(min=0.0)
        fat = (np.bincount(key, weights=f, minlength=span)[ukey] if codes is None
               else np.bincount(codes, weights=f, minlength=len(ukey)))  # fmt: skip
    ucol = ukey // nrows + c0
    urow = ukey % nrows + r0
    cx, cy = hex_centres(ucol, urow, size, lat0)
    return HexBins(cx, cy, count.astype("int64"), fat, size, lat0)


# ---- the view's scale ------------------------------------------------------------------
def degrees_per_px(zoom: float) -> float:
    """Degrees of longitude per CSS pixel on a Web-Mercator map at ``zoom``."""
    return 360.0 / (256.0 * 2.0**zoom)


def zoom_for(box: Box, width_px: int = DEFAULT_MAP_PX[0]) -> int:
    """The zoom at which ``box`` spans about ``width_px`` pixels across (0..18)."""
    west, _south, east, _north = box
    span = max(east - west, 1e-6)
    return int(np.clip(math.floor(math.log2(360.0 * width_px / (256.0 * span))), 0, 18))


def hex_size_for_zoom(zoom: float, hex_px: float = HEX_PX) -> float:
    """Hexagon radius (degrees of longitude) that is ``hex_px`` pixels wide at ``zoom``."""
    return hex_px * degrees_per_px(zoom) / math.sqrt(3.0)


def cover_box(view: Box, pad: float = COVER_PAD) -> Box:
    """The view padded by ``pad`` of its size on each side, snapped outward to a grid
    whose step is half the view's size rounded up to a power of two degrees: small pans
    map to the same box (the same layer, no rebuild)."""
    west, south, east, north = view
    w, h = max(east - west, 1e-6), max(north - south, 1e-6)
    sx = 2.0 ** math.ceil(math.log2(w)) / 2
    sy = 2.0 ** math.ceil(math.log2(h)) / 2
    out = (
        math.floor((west - pad * w) / sx) * sx,
        math.floor((south - pad * h) / sy) * sy,
        math.ceil((east + pad * w) / sx) * sx,
        math.ceil((north + pad * h) / sy) * sy,
    )
    return (max(out[0], -180.0), max(out[1], -90.0), min(out[2], 180.0), min(out[3], 90.0))


def in_box(x: np.ndarray, y: np.ndarray, box: Box) -> np.ndarray:
    """Points inside ``box`` (edges included)."""
    west, south, east, north = box
    return (x >= west) & (x <= east) & (y >= south) & (y <= north)


@dataclass(frozen=True, eq=False)
class ViewChoice:
    """What the map's incident layers show for one view: ``mode`` "points" (every
    incident in ``box``, or all of them when ``box`` is None) or "hexagons" (``bins`` at
    ``zoom``); ``in_view`` incidents were counted in ``box``; ``key`` changes only when
    what is drawn changes (empty when nothing depends on the view); ``positions`` are
    the row positions of the incidents in ``box`` (None: all of them)."""

    mode: str
    box: Box | None
    zoom: int
    in_view: int
    total: int
    bins: HexBins | None = None
    threshold: int = POINTS_MAX
    positions: np.ndarray | None = None

    @property
    def key(self) -> str:
        if self.box is None:
            return ""
        box = ",".join(f"{v:.6g}" for v in self.box)
        return f"{self.mode}|{self.zoom if self.mode == 'hexagons' else ''}|{box}"


def choose(
    x: np.ndarray,
    y: np.ndarray,
    view: Box,
    zoom: int,
    *,
    threshold: int = POINTS_MAX,
    fatalities: np.ndarray | None = None,
) -> ViewChoice:
    """Points or hexagons for the incidents at (x, y) seen in ``view`` at ``zoom``.

    All of them fit (at most ``threshold``): points, whatever the view (``box`` None,
    so pans rebuild nothing). Else the incidents in the padded, snapped view
    (:func:`cover_box`): points when at most ``threshold``, else hexagons of
    :data:`HEX_PX` pixels at ``zoom``.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    n = len(x)
    if n <= threshold:
        return ViewChoice("points", None, zoom, n, n, threshold=threshold)
    box = cover_box(view)
    mask = in_box(x, y, box)
    inside = int(mask.sum())
    positions = np.flatnonzero(mask)
    if inside <= threshold:
        return ViewChoice("points", box, zoom, inside, n, threshold=threshold,
                          positions=positions)  # fmt: skip
    bins = hex_bins(
        x[mask],
        y[mask],
        hex_size_for_zoom(zoom),
        lat0=(view[1] + view[3]) / 2,
        fatalities=None if fatalities is None else np.asarray(fatalities)[mask],
    )
    return ViewChoice("hexagons", box, zoom, inside, n, bins=bins, threshold=threshold,
                      positions=positions)  # fmt: skip


def shown_incidents(data: object) -> gpd.GeoDataFrame:
    """The incidents a map layer draws: ``data.incidents``, cut to the recorded view's
    covered box when ``data.shown`` (a :class:`ViewChoice`) says so."""
    inc = data.incidents  # type: ignore[attr-defined]
    choice = getattr(data, "shown", None)
    if choice is None or choice.positions is None or inc is None:
        return inc
    return inc.iloc[choice.positions]


def region_counts(incidents: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, **kwargs: Any
                  ) -> pd.DataFrame:  # fmt: skip
    """Counts and fatalities per region: :func:`atlas.spatial.aggregate` (the choropleth's
    numbers, on screen and in print)."""
    from atlas.spatial import aggregate

    return aggregate(incidents, regions, **kwargs)


__all__ = [
    "HEX_PX",
    "POINTS_MAX",
    "HexBins",
    "ViewChoice",
    "choose",
    "cover_box",
    "hex_bins",
    "hex_centres",
    "hex_index",
    "hex_polygons",
    "hex_size_for_zoom",
    "region_counts",
    "shown_incidents",
    "zoom_for",
]
