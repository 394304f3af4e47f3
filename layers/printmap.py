"""Static publication page: the map drawn by the same layers as the interactive map, plus
title, dek, legend, scale bar, north arrow, inset locator, filters and the method block.

The map is drawn in EPSG:4326 with the axes aspect ``1/cos(lat)`` (see
:mod:`layers.furniture`); the scale bar is measured with pyproj.Geod at the map's
central latitude. Font sizes scale with the page's physical size so text stays legible
from a 90 mm print column to an A4 page. No browser and no network are needed, except
for the optional web-tile basemaps (``spec.basemap`` = ``osm`` / ``carto``), which fail
with a :class:`~atlas.errors.FetchError` when the tile server cannot be reached.
"""

from __future__ import annotations

import dataclasses
import math
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from atlas.errors import FetchError, InputError
from atlas.frame import frame_of
from layers import furniture
from layers.base import LegendEntry

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.query import FilterSummary
    from atlas.spec import MapSpec

#: Peru's lon/lat box, the fallback view when nothing else defines one.
#: Fonts are fixed so baselines and layouts are reproducible: DejaVu ships with matplotlib.
RC = {
    "font.family": "DejaVu Sans",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "axes.unicode_minus": False,
}
TILE_PROVIDERS = {"osm": "OpenStreetMap.Mapnik", "carto": "CartoDB.Positron"}


@dataclass(frozen=True)
class FontSizes:
    """Point sizes for one page: ``scale`` = page diagonal / the web preset's diagonal."""

    title: float
    dek: float
    body: float
    small: float
    scale: float = 1.0

    @classmethod
    def for_page(cls, width_in: float, height_in: float) -> FontSizes:
        k = page_scale(width_in, height_in)
        return cls(
            title=max(20.0 * k, 8.0),
            dek=max(12.5 * k, 6.0),
            body=max(9.5 * k, 5.5),
            small=max(7.5 * k, 4.5),
            scale=k,
        )


#: Pages smaller than this (square inches) use the compact layout (e.g. a 90 mm column).
SMALL_PAGE_IN2 = 20.0


def page_scale(width_in: float, height_in: float) -> float:
    """Linear size of the page relative to the web preset (12 x 6.75 in)."""
    return math.sqrt(width_in * height_in / (12.0 * 6.75))


def build_page(
    spec: MapSpec,
    data: AtlasData,
    *,
    summary: FilterSummary | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> Figure:
    """Draw the whole page for ``spec`` and return the Figure (width x height px at dpi).

    ``summary`` is the FilterSummary of the view; computed here when not given.
    ``bounds`` (lon_min, lat_min, lon_max, lat_max) fixes the area shown, e.g. so every
    animation frame shows the same area; by default the focus region and the incidents.
    PNG export multiplies the dpi by ``spec.scale``; the Figure itself is the 1x page.
    """
    with matplotlib.rc_context(RC):
        return _build(spec, data, summary, bounds)


def view_extent(
    spec: MapSpec,
    data: AtlasData,
    box_w_in: float,
    box_h_in: float,
    *,
    bounds: tuple[float, float, float, float] | None = None,
) -> tuple[float, float, float, float]:
    """(lon_min, lat_min, lon_max, lat_max) of the view, fitted to the map box's shape.

    The frame is ``bounds`` when given, else the spec's frame
    (:func:`atlas.frame.frame_bounds`: its bbox, else the padded focus region); it is
    widened in one direction to the box's aspect around the same centre, never cropped.
    """
    box = bounds if bounds is not None else frame_of(spec, data)
    x0, y0, x1, y1 = (float(v) for v in box)
    lat_mid = (y0 + y1) / 2
    aspect = furniture.aspect_for(lat_mid)
    dx, dy = x1 - x0, y1 - y0
    # On the page: height/width = aspect * dy / dx must equal box_h / box_w.
    want_dy = dx * box_h_in / (box_w_in * aspect)
    if want_dy >= dy:
        y0, y1 = lat_mid - want_dy / 2, lat_mid + want_dy / 2
    else:
        want_dx = dy * box_w_in * aspect / box_h_in
        cx = (x0 + x1) / 2
        x0, x1 = cx - want_dx / 2, cx + want_dx / 2
    return (x0, y0, x1, y1)


def legend_handles(
    entries: list[LegendEntry], *, scale: float = 1.0
) -> tuple[list[Any], list[str]]:
    """matplotlib legend handles and labels for the layers' LegendEntry list.

    ``scale`` shrinks marker sizes and line widths like :func:`print_scale` does the map.
    """
    handles: list[Any] = []
    labels: list[str] = []
    for e in entries:
        edge = e.edgecolor or e.color
        if e.kind in ("point", "star"):
            h = Line2D(
                [],
                [],
                marker="*" if e.kind == "star" else "o",
                linestyle="",
                markerfacecolor=e.color,
                markeredgecolor=edge,
                markersize=max(math.sqrt(e.size) * 2.2 * scale, 2.0),
                markeredgewidth=max(scale, 0.4),
            )
        elif e.kind == "line":
            h = Line2D(
                [], [], color=e.color, linewidth=1.8 * scale, linestyle="--" if e.dashed else "-"
            )
        else:
            h = Patch(
                facecolor=e.color,
                edgecolor=edge,
                linestyle="--" if e.dashed else "-",
                linewidth=0.8,
            )
        handles.append(h)
        labels.append(e.label)
    return handles, labels


_NUMBERED = re.compile(r"^([\d.,]+)\s+(.+)$")


def merge_size_entries(handles: list[Any], labels: list[str]) -> tuple[list[Any], list[str]]:
    """Fold a run of 3+ size-legend rows ("0 fatalities", "1 fatality", "10 fatalities")
    into one row of markers labelled "0 · 1 · 10 fatalities", to save height on small
    pages. Other rows are kept as they are."""
    out_h: list[Any] = []
    out_l: list[str] = []
    i = 0
    while i < len(labels):
        j = i
        while j < len(labels) and _NUMBERED.match(labels[j]) and isinstance(handles[j], Line2D):
            j += 1
        if j - i >= 3:
            numbers = [_NUMBERED.match(text).group(1) for text in labels[i:j]]
            unit = _NUMBERED.match(labels[j - 1]).group(2)
            out_h.append(tuple(handles[i:j]))
            out_l.append(" · ".join(numbers) + " " + unit)
            i = j
        else:
            out_h.append(handles[i])
            out_l.append(labels[i])
            i += 1
    return out_h, out_l


def tile_attribution(basemap: str) -> str:
    """Plain-text attribution of the web-tile provider for ``basemap`` ("" for outlines)."""
    provider = _tile_provider(basemap)
    return "" if provider is None else str(provider.get("attribution", provider.name))


# ---- private stages -------------------------------------------------------------------------
def _build(
    spec: MapSpec,
    data: AtlasData,
    summary: FilterSummary | None,
    bounds: tuple[float, float, float, float] | None,
) -> Figure:
    view, computed = filter_view(spec, data)
    summary = summary or computed
    width_in, height_in = spec.width / spec.dpi, spec.height / spec.dpi
    fig = Figure(figsize=(width_in, height_in), dpi=spec.dpi, facecolor="white")
    FigureCanvasAgg(fig)
    fs = FontSizes.for_page(width_in, height_in)
    landscape = width_in / height_in >= 1.2
    small = width_in * height_in < SMALL_PAGE_IN2
    pt = 1.0 / 72.0  # inches per point
    mx = max(14 * fs.body / 9.5, 6) * pt / width_in  # margins in figure fraction
    my = max(14 * fs.body / 9.5, 6) * pt / height_in

    # Header, top-down: title, dek, filters line.
    top = 1.0 - my
    text_width = 1.0 - 2 * mx
    top = _header(fig, spec, summary, fs, mx, top, text_width, filters=not small)

    # Footer: source line (left) and byline (right).
    bottom = my + _footer(fig, spec, fs, mx, my)

    gap_x = max(10 * pt / width_in, mx)
    gap_y = max(8 * pt / height_in, my * 0.8)
    method_placed = False
    if small and landscape:
        # A small page has no room for the method block in the side panel: it runs
        # full width under the map, as one compact paragraph.
        raw = _method_raw(spec, data, summary, tile_attribution(spec.basemap), compact=True)
        block = fig.text(
            mx,
            bottom,
            raw,
            ha="left",
            va="bottom",
            fontsize=4.0,
            color="#333333",
            gid="method",
            fontfamily=furniture.FONT,
            linespacing=1.25,
        )
        furniture.fit_text_block(fig, block, raw, (mx, bottom, 1 - 2 * mx, 0.45), min_size=4.0)
        bottom += _height(fig, block) + gap_y * 0.6
        method_placed = True
    if landscape:
        share = 0.56 if small else 0.64
        map_rect = (mx, bottom, (1 - 2 * mx) * share, top - bottom - gap_y * 0.5)
        panel = (map_rect[0] + map_rect[2] + gap_x, bottom, 0, top - bottom - gap_y * 0.5)
        panel = (panel[0], panel[1], 1 - mx - panel[0], panel[3])
    else:
        avail = top - bottom - gap_y * 0.5
        map_h = avail * (0.62 if height_in / width_in > 1.1 else 0.58)
        map_rect = (mx, top - gap_y * 0.5 - map_h, 1 - 2 * mx, map_h)
        panel = (mx, bottom, 1 - 2 * mx, map_rect[1] - gap_y - bottom)

    ax = fig.add_axes(map_rect, gid="map")
    extent = view_extent(spec, view, map_rect[2] * width_in, map_rect[3] * height_in, bounds=bounds)
    attribution = _draw_map(ax, spec, view, extent)
    # Layers draw in fixed points (made for the web page); shrink them with small pages.
    print_scale(ax, min(fs.scale, 1.0), min_font=fs.small)
    # Marks come from the whole loaded bundle, so no filter can hide them.
    _map_furniture(fig, ax, spec, data, fs, attribution)
    _panel(
        fig,
        spec,
        view,
        data,
        summary,
        fs,
        panel,
        extent,
        landscape,
        small,
        attribution,
        method_placed,
    )
    return fig


def print_scale(ax: Axes, k: float, *, min_font: float = 4.5) -> None:
    """Scale what the layers drew (marker areas, line widths, label fonts) by ``k``.

    Layers draw in fixed points sized for the 12-inch web page; on a 90 mm print column
    the same points would cover the map, so the page scales them with its size.
    """
    if abs(k - 1.0) < 1e-6:
        return
    for coll in ax.collections:
        sizes = coll.get_sizes() if hasattr(coll, "get_sizes") else []
        if len(sizes):
            coll.set_sizes(sizes * k * k)
        widths = coll.get_linewidths()
        if len(widths):
            coll.set_linewidths([w * k for w in widths])
    for line in ax.lines:
        line.set_linewidth(line.get_linewidth() * k)
        line.set_markersize(line.get_markersize() * k)
    for patch in ax.patches:
        patch.set_linewidth(patch.get_linewidth() * k)
    for text in ax.texts:
        text.set_fontsize(max(text.get_fontsize() * k, min_font))
        text.set_clip_on(True)  # a label never runs over the legend beside the map


def filter_view(spec: MapSpec, data: AtlasData) -> tuple[AtlasData, FilterSummary]:
    """The bundle with only the incidents to draw, and the FilterSummary of the view.

    Layers draw what they are given (compose's contract: the caller filters), so the
    page filters once here with :func:`atlas.query.filter_incidents`. The count is made
    against ``spec.region`` when that region is loaded, else without a region.
    """
    from atlas.query import filter_incidents

    try:
        drawn, summary = filter_incidents(data.incidents, spec, data.regions,
                                          districts=data.districts)  # fmt: skip
    except InputError:  # region not among the loaded regions: count without it
        drawn, summary = filter_incidents(data.incidents, spec, districts=data.districts)
    return dataclasses.replace(data, incidents=drawn), summary


def compute_summary(spec: MapSpec, data: AtlasData) -> FilterSummary:
    """FilterSummary for the view (see :func:`filter_view`)."""
    return filter_view(spec, data)[1]


def _header(
    fig: Figure,
    spec: MapSpec,
    summary: FilterSummary,
    fs: FontSizes,
    mx: float,
    top: float,
    width: float,
    *,
    filters: bool = True,
) -> float:
    fig_w_pt = fig.get_figwidth() * 72.0
    items = [
        (spec.title, fs.title, "bold", "title", "#111111"),
        (spec.dek, fs.dek, "normal", "dek", "#333333"),
    ]
    if filters:
        filters_line = furniture.filters_text(spec, summary)
        items.append((filters_line, fs.small, "normal", "filters", furniture.MUTED))
    for raw, size, weight, gid, color in items:
        if not raw.strip():
            continue
        text = fig.text(
            mx,
            top,
            furniture.wrap_to_width(raw, width * fig_w_pt, size),
            ha="left",
            va="top",
            fontsize=size,
            fontweight=weight,
            color=color,
            gid=gid,
            fontfamily=furniture.FONT,
        )
        if gid != "title":  # titles are short; others shrink to two lines at most
            furniture.fit_text_block(
                fig, text, raw, (mx, 0, width, 2.6 * size / 72 / fig.get_figheight())
            )
        top -= _height(fig, text) + 0.35 * size / 72.0 / fig.get_figheight()
    return top


def _footer(fig: Figure, spec: MapSpec, fs: FontSizes, mx: float, my: float) -> float:
    height = 0.0
    for raw, x, ha, gid in (
        (spec.source_line, mx, "left", "source-line"),
        (spec.byline, 1 - mx, "right", "byline"),
    ):
        if not raw.strip():
            continue
        text = fig.text(
            x,
            my,
            raw,
            ha=ha,
            va="bottom",
            fontsize=fs.small,
            color="#333333",
            gid=gid,
            fontfamily=furniture.FONT,
        )
        if spec.source_line.strip() and spec.byline.strip():
            # Side by side: each may take just under half the width.
            furniture.fit_text_block(fig, text, raw, (mx, my, 0.48 - mx, 0.2), min_size=4.0)
        else:
            furniture.fit_text_block(fig, text, raw, (mx, my, 1 - 2 * mx, 0.2), min_size=4.0)
        height = max(height, _height(fig, text) + 0.4 * fs.small / 72 / fig.get_figheight())
    return height


def _draw_map(
    ax: Axes, spec: MapSpec, data: AtlasData, extent: tuple[float, float, float, float]
) -> str:
    from layers.registry import layers_for

    x0, y0, x1, y1 = extent
    ax.set_facecolor("#dde9f2" if spec.basemap == "outlines" else "white")
    for layer in layers_for(spec.layers):
        layer.to_matplotlib(ax, data, spec)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(furniture.aspect_for((y0 + y1) / 2), adjustable="box", anchor="C")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#666666")
        spine.set_linewidth(0.6)
    attribution = ""
    if spec.basemap != "outlines":
        attribution = _add_tiles(ax, spec.basemap)
    return attribution


def _tile_provider(basemap: str) -> Any:
    if basemap not in TILE_PROVIDERS:
        return None
    import xyzservices.providers as xyz

    return xyz.query_name(TILE_PROVIDERS[basemap])


def _add_tiles(ax: Axes, basemap: str) -> str:
    """Web tiles under the layers (contextily); FetchError when they cannot be fetched."""
    provider = _tile_provider(basemap)
    try:
        import contextily
        import requests
    except ImportError:
        raise FetchError(
            f"basemap {basemap!r}: web tiles need the 'contextily' package; install it "
            "or use basemap 'outlines'"
        ) from None
    try:
        contextily.add_basemap(
            ax, crs="EPSG:4326", source=provider, attribution=False, zorder=-1, reset_extent=True
        )
    except (requests.RequestException, OSError) as exc:
        raise FetchError(
            f"basemap {basemap!r}: tiles from {provider.name} could not be downloaded "
            f"({type(exc).__name__}); check the network or use basemap 'outlines'"
        ) from None
    return str(provider.get("attribution", provider.name))


def _map_furniture(
    fig: Figure, ax: Axes, spec: MapSpec, data: AtlasData, fs: FontSizes, attribution: str
) -> None:
    furniture.scale_bar(ax, fontsize=fs.small, lang=spec.lang)
    furniture.north_arrow(ax, fontsize=fs.body)
    furniture.add_data_marks(
        fig,
        ax,
        is_sample=bool(data.is_sample),
        approximate=bool(data.approximate),
        lang=spec.lang,
        fontsize=fs.dek,
    )
    if attribution:
        ax.text(
            0.995,
            0.005,
            attribution,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=fs.small * 0.85,
            color="#333333",
            zorder=52,
            gid="tile-attribution",
            fontfamily=furniture.FONT,
            bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 1},
        )


def _panel(
    fig: Figure,
    spec: MapSpec,
    view: AtlasData,
    data: AtlasData,
    summary: FilterSummary,
    fs: FontSizes,
    panel: tuple[float, float, float, float],
    extent: tuple[float, float, float, float],
    landscape: bool,
    small: bool,
    attribution: str,
    method_placed: bool,
) -> None:
    px, py, pw, ph = panel
    fig_h_in = fig.get_figheight()
    gap = 0.5 * fs.body / 72.0 / fig_h_in
    top = py + ph

    # Inset and legend: stacked in a side panel, side by side under a portrait map.
    handles, labels = legend_handles(_legend_entries(spec, view), scale=min(fs.scale, 1.0))
    if landscape and small:
        # No room beside the legend: the inset goes in the map's lower right corner.
        ax = next(a for a in fig.axes if a.get_gid() == "map")
        pos = ax.get_position()
        inset_w = pos.width * 0.26
        inset_h = pos.height * 0.42
        furniture.inset_locator(
            fig,
            (pos.x1 - inset_w - pos.width * 0.01, pos.y0 + pos.height * 0.01, inset_w, inset_h),
            data.basemap,
            extent,
        )
        inset_h = 0.0
        legend_box = (px, top, pw, ph)
        ncol = 1
    elif landscape:
        inset_w = pw * 0.34
        inset_h = min(ph * 0.3, inset_w * fig.get_figwidth() / fig_h_in * 1.25)
        furniture.inset_locator(
            fig, (px + pw - inset_w, top - inset_h, inset_w, inset_h), data.basemap, extent
        )
        legend_box = (px, top, pw - inset_w - gap, ph * 0.62)
        ncol = 1
    else:
        inset_w = pw * 0.26
        inset_h = min(ph * 0.55, inset_w * fig.get_figwidth() / fig_h_in * 1.2)
        furniture.inset_locator(
            fig, (px + pw - inset_w, top - inset_h, inset_w, inset_h), data.basemap, extent
        )
        legend_box = (px, top, pw - inset_w - gap * 2, inset_h)
        ncol = 2
    legend_bottom = top - inset_h
    if handles and small:
        handles, labels = merge_size_entries(handles, labels)
    if handles:
        ncols = (1, 2) if landscape else (ncol, ncol + 1)
        legend = _place_legend(
            fig, handles, labels, legend_box, ncols, fs.small, fit_height=landscape
        )
        legend_bottom = min(legend_bottom, top - _height(fig, legend))
    if method_placed:
        return
    # Method block below, filling what is left.
    raw = _method_raw(spec, data, summary, attribution, compact=small)
    block_top = legend_bottom - gap * 1.5
    block = fig.text(
        px,
        block_top,
        raw,
        ha="left",
        va="top",
        fontsize=fs.small,
        color="#333333",
        gid="method",
        fontfamily=furniture.FONT,
        linespacing=1.3,
    )
    furniture.fit_text_block(fig, block, raw, (px, py, pw, block_top - py), min_size=4.0)


def _method_raw(
    spec: MapSpec, data: AtlasData, summary: FilterSummary, attribution: str, *, compact: bool
) -> str:
    raw = furniture.method_text(
        spec, data, summary, tile_attribution=attribution, compact=compact, with_filters=compact
    )
    if compact:
        raw = raw.replace("\n", " ")
    if spec.notes.strip():
        raw = spec.notes.strip() + "\n" + raw
    return raw


def _legend_entries(spec: MapSpec, data: AtlasData) -> list[LegendEntry]:
    from layers.compose import legend_entries

    return list(legend_entries(spec, data))


def _place_legend(
    fig: Figure,
    handles: list[Any],
    labels: list[str],
    box: tuple[float, float, float, float],
    ncols: tuple[int, ...],
    size: float,
    *,
    fit_height: bool,
) -> Any:
    """One legend in ``box`` (left, top, width, height): the first column count and font
    size (shrinking to 4 pt) whose wrapped labels fit the box; else the smallest try."""
    renderer = fig.canvas.get_renderer()
    inv = fig.transFigure.inverted()
    legend = None
    for ncol in ncols:
        pt = size
        while True:
            if legend is not None:
                legend.remove()
            col_pt = box[2] / ncol * fig.get_figwidth() * 72.0
            chars = max(int(col_pt / (pt * 0.56)) - 5, 12)
            wrapped = [textwrap.fill(label, chars) for label in labels]
            legend = fig.legend(
                handles,
                wrapped,
                loc="upper left",
                bbox_to_anchor=(box[0], box[1]),
                bbox_transform=fig.transFigure,
                ncol=ncol,
                frameon=False,
                fontsize=pt,
                borderaxespad=0.0,
                borderpad=0.0,
                handletextpad=0.5,
                columnspacing=0.8,
                labelspacing=0.35,
                handler_map={tuple: HandlerTuple(ndivide=None, pad=0.2)},
            )
            legend.set_gid("legend")
            bb = legend.get_window_extent(renderer).transformed(inv)
            if bb.width <= box[2] * 1.01 and (bb.height <= box[3] or not fit_height):
                return legend
            if pt <= 4.0:
                break
            pt = max(pt * 0.9, 4.0)
    return legend


def _height(fig: Figure, artist: Any) -> float:
    bb = artist.get_window_extent(fig.canvas.get_renderer())
    return bb.height / (fig.get_figheight() * fig.dpi)


__all__ = [
    "RC",
    "FontSizes",
    "build_page",
    "compute_summary",
    "filter_view",
    "legend_handles",
    "merge_size_entries",
    "page_scale",
    "print_scale",
    "tile_attribution",
    "view_extent",
]
