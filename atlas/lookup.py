"""A raster lookup for point-in-region: most points answered by one array read.

The regions' bounding box is cut into a grid of about ``cells`` cells. A cell whose
closed box touches no region boundary lies wholly inside or wholly outside each region,
so every point in it belongs to the same regions. A cell that touches a boundary is cut
into ``k x k`` sub-cells (``SUBDIVIDE``, 4); each sub-cell lists its candidate regions,
and only those whose boundary touches the sub-cell get the exact test (prepared
``shapely.intersects_xy``, or ``contains_xy`` for ``within``). A point exactly on an
edge or a vertex is always in a touched sub-cell, so the boundary rule of
:mod:`atlas.spatial` (a point on a boundary belongs to every region whose closed polygon
contains it) is decided by the exact test, never by the grid.

Why each step is exact:

- A point is put in sub-cell ``j`` by comparisons with the same float edges the
  sub-cells are built from, so ``edge[j] <= x < edge[j + 1]`` holds exactly: the point
  is in the sub-cell's closed box. Sub-cell edges keep the cell edges bit for bit, so
  sub-cells nest and the point's cell is ``j // k``.
- Every boundary segment is cut into pieces no longer than half a sub-cell; each piece's
  bounding box, padded by ``_PAD`` degrees (far above float rounding of the cut points),
  marks every sub-cell whose closed box it touches, with the polygon it belongs to. A
  sub-cell not marked for a polygon touches no boundary of that polygon.
- Unmarked cells of one grid row that follow each other form a run: moving along it
  crosses no boundary, so one exact test at the first cell's centre (strictly inside or
  outside every region) answers the whole run. Likewise, inside a boundary cell, the
  sub-cells of one row that a candidate's boundary does not touch and that follow each
  other are answered for that candidate by one test at the first one's centre, at build
  time.
- The exact tests are run grouped by polygon (:func:`test_grouped`) and their answers
  put back in order: the same answers, faster because one polygon's prepared index stays
  in the CPU cache.

Cost, Peru's 1,826 districts, 1M points clustered near their borders: 64 % of the points
fall in a boundary sub-cell; ``k = 4`` leaves 435k exact tests (``k = 2``: 819k, ~0.04 s
CPU more per join) for a build of ~1.2 s CPU and 51 MB kept, ~250 MB of temporaries at
its peak (``k = 2``: ~0.8 s, 27 MB, ~115 MB).
The lookup is built once per set of polygons (content hash) and kept in a small cache,
like the STRtree geopandas keeps on a frame.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely

#: Cells in a lookup grid (about); 4M cells cost ~20 MB and mark ~5 % of Peru's
#: districts' cells as boundary cells.
DEFAULT_CELLS = 1 << 22
#: Padding of each boundary piece's box, in degrees (~0.1 mm): covers rounding of cut points.
_PAD = 1e-9
#: Each boundary cell is cut into SUBDIVIDE x SUBDIVIDE sub-cells with their own entries;
#: 4 halves the exact tests of points near borders against 2 (1M near Peru's district
#: borders: 435k tests instead of 819k) for about twice the build (see the docstring).
SUBDIVIDE = 4
_CACHE: OrderedDict[str, GridLookup] = OrderedDict()
_CACHE_SIZE = 4
#: Fewer points than this and no lookup built yet: the exact test alone is quicker than
#: building the grid (~1.2 s CPU for Peru's districts; the exact test does ~1M points/s).
MIN_POINTS = 200_000


@dataclass(frozen=True)
class GridLookup:
    """Grid edges, one entry per cell, and each entry's regions (CSR).

    An entry is a run of boundary-free cells (its regions hold every point of it) or a
    boundary cell (its regions are the candidates: those whose closed polygon meets the
    cell; ``exact`` says which of them need the point-in-polygon test because their
    boundary touches the cell, the others hold the whole cell in their interior).
    """

    xs: np.ndarray
    ys: np.ndarray
    entry: np.ndarray  # int32 per cell, row-major (y then x)
    start: np.ndarray  # int64 CSR offsets into regions/exact, len(entries) + 1
    regions: np.ndarray  # int32 region positions, sorted within each entry
    exact: np.ndarray  # bool per item: True when the region's boundary touches the cell
    boundary_cells: int
    runs: int  # entries below this are runs; the rest are sub-cells of boundary cells
    k: int  # sub-cells per side of a boundary cell

    @cached_property
    def fine_xs(self) -> np.ndarray:
        return _refine(self.xs, self.k)

    @cached_property
    def fine_ys(self) -> np.ndarray:
        return _refine(self.ys, self.k)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.ys) - 1, len(self.xs) - 1

    def nbytes(self) -> int:
        """Bytes held by the lookup's arrays."""
        return sum(a.nbytes for a in (self.xs, self.ys, self.entry, self.start, self.regions,
                                      self.exact))  # fmt: skip

    def boundary_share(self) -> float:
        """Fraction of grid cells that touch a boundary (their points get an exact test)."""
        return self.boundary_cells / max(self.entry.size, 1)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The entry of each point's cell; -1 outside the grid (or without coordinates).

        The grid covers the regions' closed bounding box, so a point outside it is in no
        region.
        """
        nx, k = self.shape[1], self.k
        # the sub-cell on the refined edges, which keep the coarse ones bit for bit: its
        # coarse cell is fx // k, fy // k
        fx, fy = _cell_index(self.fine_xs, x), _cell_index(self.fine_ys, y)
        inside = np.flatnonzero((fx >= 0) & (fy >= 0))
        out = np.full(len(x), -1, dtype=np.int64)
        fx, fy = fx[inside], fy[inside]
        first = self.entry[(fy // k) * nx + fx // k].astype(np.int64)
        sub = first >= self.runs  # a boundary cell: its sub-cell's entry
        first[sub] += (fy[sub] % k) * k + fx[sub] % k
        out[inside] = first
        return out


def _cell_index(edges: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Index i with ``edges[i] <= v < edges[i + 1]`` exactly; -1 outside (or NaN).

    Arithmetic first guess, then corrections against the real float edges until none
    is needed (one step in practice): the same answer as
    ``searchsorted(edges, v, "right") - 1`` (tested), several times faster.
    """
    n = len(edges) - 1
    lo, hi = edges[0], edges[-1]
    ok = (v >= lo) & (v < hi)  # False for NaN
    scale = n / (hi - lo)
    # outside (and NaN) start at 0 and are never moved: i stays in [0, n - 1]
    i = np.minimum(np.where(ok, (v - lo) * scale, 0.0).astype(np.int64), n - 1)
    while True:
        low = (v < edges[i]) & ok
        high = (v >= edges[i + 1]) & ok
        if not (low.any() or high.any()):
            break
        i -= low
        i += high
    return np.where(ok, i, -1)


def _edges(lo: float, hi: float, n: int) -> np.ndarray:
    """n + 1 increasing edges from lo to just above hi, so hi itself is in the last cell."""
    edges = np.linspace(lo, hi, n + 1)
    edges[-1] = np.nextafter(hi, np.inf)
    return edges


def _segments(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every boundary segment of every polygon ring, (n, 4) x0, y0, x1, y1, and its polygon."""
    present = np.flatnonzero(~(shapely.is_missing(polys) | shapely.is_empty(polys)))
    lines, line_poly = shapely.get_parts(shapely.boundary(polys[present]), return_index=True)
    coords, line_idx = shapely.get_coordinates(lines, return_index=True)
    same = line_idx[1:] == line_idx[:-1]
    segs = np.column_stack([coords[:-1][same], coords[1:][same]])
    return segs, present[line_poly[line_idx[:-1][same]]]


#: Boundary pieces marked per batch: bounds the build's temporary arrays (~60 MB a batch).
_BATCH_PIECES = 1 << 18


def _mark_boundary(
    segs: np.ndarray, seg_poly: np.ndarray, xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Unique (cell, polygon) pairs where a polygon's boundary touches a cell's closed box."""
    npoly = int(seg_poly.max(initial=0)) + 1
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    length = np.maximum(np.abs(segs[:, 2] - segs[:, 0]) / dx, np.abs(segs[:, 3] - segs[:, 1]) / dy)
    pieces = np.maximum(np.ceil(length * 2.0).astype(np.int64), 1)
    # segments in batches of about _BATCH_PIECES pieces, each batch's keys made unique
    ends = np.searchsorted(np.cumsum(pieces), np.arange(1, 1 + len(segs)) * _BATCH_PIECES)
    bounds = np.unique(np.concatenate([[0], np.minimum(ends, len(segs)), [len(segs)]]))
    keys = [
        _mark_pieces(segs[lo:hi], seg_poly[lo:hi], pieces[lo:hi], xs, ys, npoly)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    both = _sorted_unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)
    return both // npoly, both % npoly


def _mark_pieces(
    segs: np.ndarray,
    seg_poly: np.ndarray,
    pieces: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    npoly: int,
) -> np.ndarray:
    """Sorted unique keys ``cell * npoly + polygon`` of one batch of segments, each cut
    into ``pieces`` pieces."""
    nx, ny = len(xs) - 1, len(ys) - 1
    keys = []
    seg = np.repeat(np.arange(len(segs)), pieces)
    first = np.repeat(np.cumsum(pieces) - pieces, pieces)
    k = np.arange(len(seg)) - first
    n = pieces[seg]
    t0, t1 = k / n, (k + 1) / n
    s = segs[seg]
    ax, ay = s[:, 0] + (s[:, 2] - s[:, 0]) * t0, s[:, 1] + (s[:, 3] - s[:, 1]) * t0
    bx, by = s[:, 0] + (s[:, 2] - s[:, 0]) * t1, s[:, 1] + (s[:, 3] - s[:, 1]) * t1
    # the exact end points: t = 1 can round away from the vertex
    last = k == n - 1
    bx[last], by[last] = s[last, 2], s[last, 3]
    lox, hix = np.minimum(ax, bx) - _PAD, np.maximum(ax, bx) + _PAD
    loy, hiy = np.minimum(ay, by) - _PAD, np.maximum(ay, by) + _PAD
    # closed cell i spans [xs[i], xs[i+1]]: it meets [lo, hi] when xs[i] <= hi, xs[i+1] >= lo
    i0 = np.clip(np.searchsorted(xs, lox, side="left") - 1, 0, nx - 1)
    i1 = np.clip(np.searchsorted(xs, hix, side="right") - 1, 0, nx - 1)
    j0 = np.clip(np.searchsorted(ys, loy, side="left") - 1, 0, ny - 1)
    j1 = np.clip(np.searchsorted(ys, hiy, side="right") - 1, 0, ny - 1)
    span = max(int((i1 - i0).max(initial=0)), int((j1 - j0).max(initial=0)))
    for di in range(span + 1):
        for dj in range(span + 1):
            ok = (i0 + di <= i1) & (j0 + dj <= j1)
            cell = (j0[ok] + dj) * nx + (i0[ok] + di)
            key = cell * npoly + seg_poly[seg[ok]]
            # consecutive pieces of a segment mostly mark the same cell: drop repeats
            # before the sort
            if len(key):
                key = key[np.concatenate([[True], key[1:] != key[:-1]])]
            keys.append(key)
    return _sorted_unique(np.concatenate(keys)) if keys else np.zeros(0, np.int64)


def _member(a: np.ndarray, sorted_b: np.ndarray) -> np.ndarray:
    """``np.isin(a, sorted_b)`` for a sorted ``sorted_b``, by binary search."""
    if not len(sorted_b):
        return np.zeros(len(a), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_b, a), len(sorted_b) - 1)
    return sorted_b[at] == a


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """np.unique by one sort (numpy's hash-based unique was ~10x slower on these keys)."""
    a = np.sort(a)
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if len(a) else a


def _refine(edges: np.ndarray, k: int) -> np.ndarray:
    """Edges with each interval cut in ``k``; the coarse edges are kept bit for bit."""
    frac = np.arange(k) / k
    fine = (edges[:-1, None] + (edges[1:] - edges[:-1])[:, None] * frac[None, :]).ravel()
    return np.concatenate([fine, edges[-1:]])


def test_grouped(check, polys: np.ndarray, reg: np.ndarray, x: np.ndarray, y: np.ndarray):
    """``check(polys[reg], x, y)`` with the tests run grouped by polygon.

    The same answers in the same order; one polygon's prepared index stays in the CPU
    cache for all its points (1M points near Peru's district borders: 435k tests in
    ~0.1 s instead of ~0.2 s). The order is a stable radix sort on 16-bit positions.
    """
    key = reg.astype(np.int16 if len(polys) <= np.iinfo(np.int16).max else np.int64)
    order = np.argsort(key, kind="stable")
    out = np.empty(len(reg), dtype=bool)
    out[order] = check(polys[reg[order]], x[order], y[order])
    return out


def _csr(key: np.ndarray, is_exact: np.ndarray, npoly: int, n_entries: int) -> tuple:
    """Entry offsets, region positions and exact flags from keys ``entry * npoly + region``."""
    order = np.argsort(key, kind="stable")
    key, is_exact = key[order], is_exact[order]
    counts = np.bincount(key // npoly, minlength=n_entries)
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return start, (key % npoly).astype(np.int32), is_exact


def build(polys: np.ndarray, cells: int = DEFAULT_CELLS, k: int = SUBDIVIDE) -> GridLookup:
    """The grid lookup of ``polys`` (shapely polygons, EPSG:4326 degrees or any units)."""
    from atlas.spatial import exact_pairs

    present = ~(shapely.is_missing(polys) | shapely.is_empty(polys))
    if not present.any():
        edges = np.array([0.0, 1.0])
        none = np.zeros(0, np.int32)
        return GridLookup(edges, edges, np.zeros(1, np.int32), np.zeros(2, np.int64), none,
                          np.zeros(0, bool), 0, 1, 1)  # fmt: skip
    minx, miny, maxx, maxy = shapely.total_bounds(polys[present])
    w, h = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
    nx = int(np.clip(round(np.sqrt(cells * w / h)), 1, cells))
    ny = int(np.clip(round(cells / nx), 1, cells))
    xs, ys = _edges(minx, maxx, nx), _edges(miny, maxy, ny)
    fxs, fys = _refine(xs, k), _refine(ys, k)
    npoly = len(polys)
    segs, seg_poly = _segments(polys)
    # boundary touches at the fine level; a coarse cell is marked when one of its fine
    # cells is touched (fine cells nest exactly in coarse ones: the edges are shared)
    fine_cell, fine_poly = _mark_boundary(segs, seg_poly, fxs, fys)
    fx, fy = fine_cell % (nx * k), fine_cell // (nx * k)
    del fine_cell
    coarse = (fy // k) * nx + fx // k
    local = (fy % k) * k + fx % k
    del fx, fy
    flat = np.zeros(nx * ny, dtype=bool)
    flat[coarse] = True

    # entries: runs of unmarked cells along each row, then k * k per marked cell
    free = ~flat
    starts = free.copy()
    starts[1:] &= flat[:-1]
    starts[::nx] = free[::nx]  # a free cell at the start of a row starts a run
    runs = np.flatnonzero(starts)
    marked = np.flatnonzero(flat)
    entry = np.empty(flat.size, dtype=np.int32)
    entry[free] = (np.cumsum(starts) - 1)[free]
    rank = np.full(flat.size, -1, dtype=np.int32)
    rank[marked] = np.arange(len(marked))
    entry[marked] = len(runs) + rank[marked] * k * k
    # (marked rank, region) of each touched fine cell; int64: rank * npoly can pass 2**31
    fine_item = rank[coarse].astype(np.int64) * npoly + fine_poly
    del rank, coarse, fine_poly
    kk = k * k
    n_entries = len(runs) + len(marked) * kk

    # a run: one exact test at its first cell's centre (strictly inside or outside)
    cx = (xs[runs % nx] + xs[runs % nx + 1]) / 2.0
    cy = (ys[runs // nx] + ys[runs // nx + 1]) / 2.0
    run_pos, run_reg = exact_pairs(polys, cx, cy)
    keys = [run_pos * npoly + run_reg]
    flags = [np.zeros(len(run_pos), bool)]

    # a marked cell's regions: touched ones (boundary in the cell) and held ones (the
    # whole cell in their interior, found at its centre)
    mx, my = marked % nx, marked // nx
    m_pos, m_reg = exact_pairs(polys, (xs[mx] + xs[mx + 1]) / 2.0, (ys[my] + ys[my + 1]) / 2.0)
    touched = _sorted_unique(fine_item)  # (marked rank, region)
    held = m_pos * npoly + m_reg
    held = held[~_member(held, touched)]
    # held: every fine cell of the marked cell, no test
    h_rank, h_reg = held // npoly, held % npoly
    sub = np.arange(kk)
    keys.append(((len(runs) + h_rank * kk)[:, None] + sub).ravel() * npoly + np.repeat(h_reg, kk))
    flags.append(np.zeros(len(held) * kk, bool))
    # touched: per fine cell, exact when that fine cell is touched, else its centre
    # decides; fine cell i of touched item j sits at j * kk + i
    t_rank, t_reg = touched // npoly, touched % npoly
    is_touch = np.zeros(len(touched) * kk, dtype=bool)
    is_touch[np.searchsorted(touched, fine_item) * kk + local] = True
    del fine_item, local
    # untouched fine cells that follow each other along a row of one item cross no
    # boundary of its region: one test at the first one's centre answers the run
    free_f = ~is_touch
    first_f = free_f.copy()
    first_f[1:] &= is_touch[:-1]
    first_f[::k] = free_f[::k]  # a row of an item starts a run
    probe = np.flatnonzero(first_f)
    p_item, p_local = probe // kk, probe % kk
    p_fx = mx[t_rank[p_item]] * k + p_local % k
    p_fy = my[t_rank[p_item]] * k + p_local // k
    shapely.prepare(polys)
    inside = test_grouped(
        shapely.intersects_xy,
        polys,
        t_reg[p_item],
        (fxs[p_fx] + fxs[p_fx + 1]) / 2.0,
        (fys[p_fy] + fys[p_fy + 1]) / 2.0,
    )
    keep = is_touch.copy()
    keep[free_f] = inside[np.cumsum(first_f, dtype=np.int32)[free_f] - 1]
    del free_f, first_f
    kept = np.flatnonzero(keep)
    item = kept // kk
    keys.append((len(runs) + t_rank[item] * kk + kept % kk) * npoly + t_reg[item])
    flags.append(is_touch[kept])
    del keep, kept, item, is_touch
    start, regions, is_exact = _csr(np.concatenate(keys), np.concatenate(flags), npoly, n_entries)
    return GridLookup(xs, ys, entry, start, regions, is_exact, int(len(marked)), len(runs), k)


def cached(
    polys: np.ndarray, cells: int = DEFAULT_CELLS, *, build_if_missing: bool = True
) -> GridLookup | None:
    """:func:`build` once per distinct set of polygons (content hash), kept in a small LRU.

    With ``build_if_missing=False``, None when these polygons have no lookup yet.
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(str((len(polys), cells, SUBDIVIDE)).encode())
    for wkb in shapely.to_wkb(polys, hex=False, include_srid=False):
        digest.update(b"\x00" if wkb is None else wkb)  # a missing geometry hashes as 0
    key = digest.hexdigest()
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    if not build_if_missing:
        return None
    lookup = build(polys, cells, SUBDIVIDE)
    _CACHE[key] = lookup
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return lookup


def pairs(
    lookup: GridLookup,
    polys: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    interior_only: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(point position, region position) pairs, sorted by point then region.

    Each point's cell entry lists its regions; only those flagged ``exact`` (their
    boundary touches the cell) get a point-in-polygon test: ``intersects_xy`` on the
    closed polygon, or ``contains_xy`` for ``interior_only``.
    """
    e = lookup.locate(x, y)
    has = np.flatnonzero(e >= 0)
    e = e[has]
    counts = lookup.start[e + 1] - lookup.start[e]
    inc = np.repeat(has, counts)
    item = np.arange(len(inc)) + np.repeat(lookup.start[e] - (np.cumsum(counts) - counts), counts)
    reg = lookup.regions[item]
    test = np.flatnonzero(lookup.exact[item])
    keep = np.ones(len(inc), dtype=bool)
    if len(test):
        shapely.prepare(polys)
        check = shapely.contains_xy if interior_only else shapely.intersects_xy
        keep[test] = test_grouped(check, polys, reg[test], x[inc[test]], y[inc[test]])
    return inc[keep], reg[keep].astype(np.int64)


__all__ = ["DEFAULT_CELLS", "MIN_POINTS", "GridLookup", "build", "cached", "pairs"]
