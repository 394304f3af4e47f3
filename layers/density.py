"""How crowded the print page's incident markers are: the share whose centre is covered.

A marker whose centre lies under another marker drawn over it can no longer be told
apart: its colour, shape and size are lost, and two events read as one. The print page
measures this share (:func:`covered_share`) on the markers as they are, or would be,
drawn: positions in the page's display units (points) and the drawn radii, after the
page's symbol scaling. The ``density = auto`` export style draws hexagons instead of
points above :data:`AUTO_MAX` (see :mod:`layers.printmap`).

Markers are taken as discs of half their drawn width (a square or a diamond is
``0.8`` x the circle's width on this page, :mod:`layers.incidents`): a corner of a
diamond reaching a little further is not counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: ``density = auto`` draws hexagons when more than this share of the markers would have
#: their centre covered by another marker: then most markers on the page cannot be seen
#: for what they are (type, size), and a reader counting dots undercounts, so a count per
#: area says more than the dots do. At or below it, most markers still read one by one.
#: The shipped sample in the VRAEM frame is over it at every preset (see the README).
AUTO_MAX = 0.5
#: At most this many markers are tested (evenly spread through the drawing order) against
#: all of them: the share is exact up to this many and an estimate within about 1
#: percentage point (binomial, 95%) above it, at a bounded cost for 100k markers.
MAX_TESTED = 10_000


def covered_share(x: np.ndarray, y: np.ndarray, r: np.ndarray, *, above_only: bool = True) -> float:
    """Share of markers whose centre lies strictly inside another marker's disc.

    ``x``, ``y`` (centres) and ``r`` (radii) in one display unit, markers in drawing
    order (later ones on top). ``above_only``: only a marker drawn after (over) one covers
    it, as on the page; False counts any other marker. 0.0 for no markers.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    r = np.asarray(r, dtype="float64")
    n = len(x)
    if not (len(y) == n and len(r) == n):
        raise ValueError(f"covered_share: {n} x, {len(y)} y and {len(r)} radii")
    if n < 2:
        return 0.0
    keep = np.isfinite(x) & np.isfinite(y) & np.isfinite(r)
    order = np.flatnonzero(keep)
    x, y, r = x[keep], y[keep], r[keep]
    n = len(x)
    if n < 2:
        return 0.0
    tested = np.arange(n) if n <= MAX_TESTED else np.linspace(0, n - 1, MAX_TESTED).astype(int)
    tree = shapely.STRtree(shapely.points(x, y))
    # every (tested centre, marker) pair closer than the largest radius, then each
    # marker's own radius decides
    src, hit = tree.query(shapely.points(x[tested], y[tested]), predicate="dwithin",
                          distance=float(r.max()))  # fmt: skip
    i = tested[src]
    d2 = (x[i] - x[hit]) ** 2 + (y[i] - y[hit]) ** 2
    ok = (hit != i) & (d2 < r[hit] ** 2)
    if above_only:
        ok &= order[hit] > order[i]
    covered = np.zeros(n, dtype=bool)
    covered[i[ok]] = True
    return float(covered[tested].mean())


def drawn_markers(ax: Axes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres and radii (points, from the figure's bottom left) of the incident markers
    drawn inside ``ax`` (its collections with a gid ``incidents-<marker>``), in drawing
    order."""
    xs, ys, rs = [], [], []
    ax.apply_aspect()  # the axes box as drawn (it shrinks to the map's aspect at draw time)
    to_pt = 72.0 / ax.figure.dpi
    box = ax.get_window_extent()
    for coll in ax.collections:
        gid = str(coll.get_gid() or "")
        if not gid.startswith("incidents-") or gid == "incidents-hexagons":
            continue
        offsets = np.asarray(coll.get_offsets(), dtype="float64")
        if not len(offsets):
            continue
        disp = coll.get_offset_transform().transform(offsets)
        sizes = np.broadcast_to(np.asarray(coll.get_sizes(), dtype="float64"), (len(offsets),))
        inside = (
            (disp[:, 0] >= box.x0)
            & (disp[:, 0] <= box.x1)
            & (disp[:, 1] >= box.y0)
            & (disp[:, 1] <= box.y1)
        )  # the rest is clipped
        xs.append(disp[inside, 0] * to_pt)
        ys.append(disp[inside, 1] * to_pt)
        rs.append(np.sqrt(sizes[inside]) / 2.0)  # scatter size: marker width squared (pt²)
    if not xs:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(rs)


def drawn_share(ax: Axes, *, above_only: bool = True) -> float:
    """:func:`covered_share` of the incident markers drawn on ``ax``."""
    return covered_share(*drawn_markers(ax), above_only=above_only)


__all__ = ["AUTO_MAX", "MAX_TESTED", "covered_share", "drawn_markers", "drawn_share"]
