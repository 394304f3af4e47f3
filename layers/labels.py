"""Map labels for print that never collide: a greedy placement made when the figure draws.

Layers draw before the page fixes the map's extent, so labels are not placed when a layer
adds them: each layer hands its label candidates to :func:`labeller` for its axes, and a
:class:`LabelLayout` artist (drawn first, zorder -100) decides at draw time, for the
extent and font sizes the page ended with, which labels show. Candidates go in priority
order (lower first: Lima, department capitals, the focus zone's name, rivers, smaller
towns, countries); each tries its positions in turn and takes the first whose box (with
a small margin for the halo) lies inside the axes and overlaps no box placed before it.
A label that finds no position is hidden, with its town dot. Point symbols of shown towns
are obstacles too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from matplotlib.artist import Artist
from matplotlib.transforms import Bbox
from shapely.ops import polylabel

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.text import Text

#: Extra pixels around every label box (the white halo and a little air).
PAD_PX = 2.0


@dataclass
class Candidate:
    """One label: its text artist, priority, and how to place it for a given view.

    ``positions(view_box, ax)`` returns a list of (x, y, ha, va, rotation) tries in data
    coordinates for the current view (lon0, lat0, lon1, lat1); an empty list hides it.
    ``anchor`` is a point symbol (a Line2D marker) shown and hidden with the label.
    """

    text: Text
    priority: float
    positions: Callable[[tuple[float, float, float, float], Axes], list[tuple]]
    anchor: Any = None
    gid: str = ""


class LabelLayout(Artist):
    """Deferred greedy placement of the candidates of one axes (see module docstring)."""

    def __init__(self, ax: Axes) -> None:
        super().__init__()
        self.ax = ax
        self.candidates: list[Candidate] = []
        self.placed: list[str] = []  # gids of the labels shown at the last draw
        self.narrow_only: list[tuple[Artist, float]] = []
        self.renderer: Any = None  # the renderer of the draw in progress
        #: Artists no label may cover (the print page's legend, inset, callouts): measured
        #: at draw time, so they hold at any output dpi.
        self.obstacles: list[Artist] = []
        self.set_zorder(-100)

    def add(self, candidate: Candidate) -> None:
        self.candidates.append(candidate)

    def show_when_narrower(self, artist: Artist, max_width_deg: float) -> None:
        """Show ``artist`` only in views narrower than ``max_width_deg`` of longitude."""
        self.narrow_only.append((artist, max_width_deg))

    def draw(self, renderer: Any) -> None:
        self.renderer = renderer
        ax = self.ax
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        view = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        for artist, width in self.narrow_only:
            artist.set_visible(view[2] - view[0] < width)
        frame = ax.get_window_extent(renderer)
        boxes: list[Bbox] = [
            o.get_window_extent(renderer) for o in self.obstacles if o.get_visible()
        ]
        self.placed = []
        ordered = sorted(self.candidates, key=lambda c: c.priority)
        for cand in ordered:
            cand.text.set_visible(False)
            if cand.anchor is not None:
                cand.anchor.set_visible(False)
        for cand in ordered:
            anchor_box = None
            if cand.anchor is not None:
                ax_, ay_ = cand.anchor.get_xydata()[0]
                if not (view[0] <= ax_ <= view[2] and view[1] <= ay_ <= view[3]):
                    continue
                px, py = ax.transData.transform((ax_, ay_))
                r = max(cand.anchor.get_markersize(), 2.0) * renderer.points_to_pixels(1) / 2
                anchor_box = Bbox.from_extents(px - r, py - r, px + r, py + r)
                if any(anchor_box.overlaps(b) for b in boxes):
                    continue
            for x, y, ha, va, rot in cand.positions(view, ax):
                cand.text.set_position((x, y))
                cand.text.set_horizontalalignment(ha)
                cand.text.set_verticalalignment(va)
                cand.text.set_rotation(rot)
                cand.text.set_visible(True)  # an invisible Text measures as a unit box
                box = cand.text.get_window_extent(renderer).padded(PAD_PX)
                cand.text.set_visible(False)
                inside = (
                    box.x0 >= frame.x0
                    and box.x1 <= frame.x1
                    and box.y0 >= frame.y0
                    and box.y1 <= frame.y1
                )
                if not inside or any(box.overlaps(b) for b in boxes):
                    continue
                if anchor_box is not None and box.overlaps(anchor_box):
                    continue
                cand.text.set_visible(True)
                boxes.append(box)
                if anchor_box is not None:
                    cand.anchor.set_visible(True)
                    boxes.append(anchor_box)
                self.placed.append(cand.gid or cand.text.get_text())
                break


def labeller(ax: Axes) -> LabelLayout:
    """The axes' one LabelLayout (created and added on first use)."""
    for artist in ax.get_children():
        if isinstance(artist, LabelLayout):
            return artist
    layout = LabelLayout(ax)
    ax.add_artist(layout)
    return layout


def point_offsets(x: float, y: float, ax: Axes, gap_pt: float = 4.0) -> list[tuple]:
    """Positions around a point symbol: right, left, above, below (data coordinates)."""
    fig = ax.figure
    px, py = ax.transData.transform((x, y))
    gap = gap_pt * fig.dpi / 72.0
    inv = ax.transData.inverted()
    out = []
    for dx, dy, ha, va in (
        (gap, 0, "left", "center"),
        (-gap, 0, "right", "center"),
        (0, gap, "center", "bottom"),
        (0, -gap, "center", "top"),
    ):
        qx, qy = inv.transform((px + dx, py + dy))
        out.append((qx, qy, ha, va, 0.0))
    return out


def area_positions(geom: shapely.Geometry, view: Sequence[float]) -> list[tuple]:
    """Centred positions inside the visible part of a polygon, best first."""
    visible = shapely.intersection(geom, shapely.box(*view))
    if visible.is_empty or visible.area <= 0:
        return []
    parts = sorted(shapely.get_parts(visible), key=lambda p: -p.area)
    main = parts[0]
    pts = [polylabel(main, tolerance=max(main.area**0.5 / 50, 1e-4))]
    pts.append(main.representative_point())
    cx, cy = main.centroid.x, main.centroid.y
    if main.contains(shapely.Point(cx, cy)):
        pts.append(shapely.Point(cx, cy))
    minx, miny, maxx, maxy = main.bounds
    for fy in (0.3, 0.7):
        row = shapely.intersection(main, shapely.box(minx, miny + (maxy - miny) * fy - 1e-9,
                                                     maxx, miny + (maxy - miny) * fy + 1e-9))  # fmt: skip
        if not row.is_empty:
            pts.append(row.centroid)
    return [(p.x, p.y, "center", "center", 0.0) for p in pts]


def line_positions(
    line: shapely.Geometry, view: Sequence[float], ax: Axes, fractions=(0.5, 0.35, 0.65, 0.2, 0.8)
) -> list[tuple]:
    """Positions along the longest visible piece of a line, rotated to follow it."""
    visible = shapely.intersection(line, shapely.box(*view))
    if visible.is_empty:
        return []
    pieces = [p for p in shapely.get_parts(shapely.line_merge(visible)) if p.length > 0]
    if not pieces:
        return []
    piece = max(pieces, key=lambda p: p.length)
    xy = ax.transData.transform(np.asarray(piece.coords))
    seg = np.hypot(*np.diff(xy, axis=0).T)
    total = float(seg.sum())
    if total <= 0:
        return []
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    out = []
    half = 40.0  # px either side used for the local direction
    for f in fractions:
        d = total * f
        a, b = np.interp([max(d - half, 0), min(d + half, total)], cum, np.arange(len(cum)))
        pa = _along(xy, a)
        pb = _along(xy, b)
        angle = math.degrees(math.atan2(pb[1] - pa[1], pb[0] - pa[0]))
        if angle > 90:
            angle -= 180
        elif angle < -90:
            angle += 180
        mid = _along(xy, float(np.interp(d, cum, np.arange(len(cum)))))
        x, y = ax.transData.inverted().transform(mid)
        out.append((x, y, "center", "bottom", angle))
    return out


def _along(xy: np.ndarray, t: float) -> np.ndarray:
    i = min(int(math.floor(t)), len(xy) - 2)
    frac = t - i
    return xy[i] + (xy[i + 1] - xy[i]) * frac


def spaced(text: str) -> str:
    """'PERÚ' -> 'P E R Ú' with thin spaces: country names in spaced capitals."""
    return "\u2009".join(text.upper())


__all__ = [
    "Candidate",
    "LabelLayout",
    "area_positions",
    "labeller",
    "line_positions",
    "point_offsets",
    "spaced",
]
