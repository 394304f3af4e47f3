"""Animated exports (GIF, MP4): one frame per time step of the spec's period.

The page (title, legend, basemap, regions, coca, labels, furniture) is drawn once with
:func:`layers.printmap.build_page` for the whole period; the marks of the time-bound
layers (:data:`FRAME_LAYERS`: incidents, clusters, heat, reference events) are taken off
it, and each frame redraws only those layers, for the frame's dates, in a transparent
axes laid exactly over the map, then redraws the map's labels and furniture above them
(print order: labels over dots). A reference event appears from its own date on.

GIF frames share one fixed palette that holds every colour of the base page exactly
(land, sea, coca greens, text), so the basemap never shifts colour (the old adaptive
palette turned the land pink); the remaining entries go to the colours the incident
layer adds. MP4 is encoded by the ffmpeg binary the ``imageio-ffmpeg`` wheel ships.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from PIL import Image

from atlas.errors import InputError
from atlas.frame import frame_of
from atlas.i18n import fmt_date
from atlas.query import date_mask
from layers import printmap
from layers.registry import layers_for

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt
    from pathlib import Path

    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.query import FilterSummary
    from atlas.spec import MapSpec

#: Animations never have more frames than this; longer ranges merge buckets per frame.
MAX_FRAMES = 60
FRAME_MS = 700
#: The last frame is held this many frame times.
HOLD_LAST = 4
#: Layers whose marks change with the frame's dates (they read the incidents, or show a
#: dated reference event); everything else is the base.
FRAME_LAYERS: tuple[str, ...] = ("choropleth", "heat", "clusters", "points", "reference")
#: MP4 frame rate: each animation frame is repeated FRAME_MS / 100 times at 10 fps, a
#: rate every player handles (x264 stores the repeats almost for free).
MP4_FPS = 10
#: Base-page colours covering at least this share of the page get an exact GIF palette
#: entry (at most GIF_BASE_COLOURS of them); the rest of the 256 go to the incidents.
GIF_MIN_SHARE = 0.0002
GIF_BASE_COLOURS = 176


def animation_ranges(
    spec: MapSpec, summary: FilterSummary, max_frames: int = MAX_FRAMES
) -> list[tuple[dt.date, dt.date]]:
    """The date range of every animation frame (cumulative or window, by spec.bucket).

    Buckets come from :func:`atlas.query.steps`; with more than ``max_frames`` buckets,
    consecutive buckets are merged so each frame covers a few, and none is skipped.
    """
    from atlas.query import steps

    lo = spec.date_from or summary.date_min
    hi = spec.date_to or summary.date_max
    if lo is None or hi is None:
        raise InputError(
            "animation: no incidents match the filters, so there is no time range to step "
            "through; widen the filters or set --from and --to"
        )
    buckets = steps(lo, hi, spec.bucket)
    per = max(1, math.ceil(len(buckets) / max_frames))
    groups = [buckets[i : i + per] for i in range(0, len(buckets), per)]
    if spec.step_mode == "cumulative":
        return [(buckets[0][0], g[-1][1]) for g in groups]
    return [(g[0][0], g[-1][1]) for g in groups]


@dataclass
class Frames:
    """What an animation is made of: the base page once, then one image per frame.

    ``base`` is the page with the time-bound layers taken off (RGB, uint8), ``images``
    one RGB array per frame, ``ranges`` each frame's dates, ``map_box`` the map's
    pixel box (left, top, right, bottom) in the images and ``key_colours`` the legend's
    colours, which the GIF palette keeps exactly.
    """

    base: np.ndarray
    images: list[np.ndarray]
    ranges: list[tuple[dt.date, dt.date]]
    map_box: tuple[int, int, int, int]
    key_colours: list[tuple[int, int, int]] = dataclasses.field(default_factory=list)


def render_frames(spec: MapSpec, data: AtlasData, summary: FilterSummary | None = None) -> Frames:
    """Draw the base page once and the incident layer of every frame over it."""
    with matplotlib.rc_context(printmap.RC):
        return _render(spec, data, summary)


def write_animation(
    spec: MapSpec, data: AtlasData, out: Path, summary: FilterSummary, fmt: str
) -> int:
    """Write the GIF or MP4 of ``spec`` to ``out``; returns the number of frames."""
    if fmt not in (".gif", ".mp4"):
        raise InputError(f"{out.name}: animations are .gif or .mp4, not {fmt}")
    if fmt == ".mp4":
        _ffmpeg()  # before drawing: a missing encoder is said at once
    frames = render_frames(spec, data, summary)
    if fmt == ".gif":
        write_gif(frames, out)
    else:
        write_mp4(frames, out)
    return len(frames.images)


def gif_palette(frames: Frames) -> np.ndarray:
    """One palette (256 x RGB) for every frame: the legend's colours and the base page's
    main colours exactly, then a median cut over the base's rarer colours and the pixels
    where frames differ from the base."""
    packed = _pack(frames.base.reshape(-1, 3))
    values, counts = np.unique(packed, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    frequent = values[order[counts[order] >= GIF_MIN_SHARE * len(packed)]].tolist()
    keys = [(r << 16) | (g << 8) | b for r, g, b in frames.key_colours]
    reserved = list(dict.fromkeys([*keys, *frequent]))[:GIF_BASE_COLOURS]
    rare = frames.base.reshape(-1, 3)[~np.isin(packed, reserved)]
    x0, y0, x1, y1 = frames.map_box  # frames differ from the base only on the map
    inside = frames.base[y0:y1, x0:x1]
    changed = [img[y0:y1, x0:x1][np.any(img[y0:y1, x0:x1] != inside, axis=2)]
               for img in frames.images]  # fmt: skip
    pixels = np.concatenate([rare, *changed])
    room = 256 - len(reserved)
    extra: list[int] = []
    if len(pixels) and room > 0:
        step = max(1, len(pixels) // 200_000)  # a sample is enough for the median cut
        strip = Image.fromarray(np.ascontiguousarray(pixels[::step]).reshape(1, -1, 3))
        quant = strip.quantize(colors=room, method=Image.Quantize.MEDIANCUT)
        pal = np.array(quant.getpalette()[: 3 * room], dtype=np.int64).reshape(-1, 3)
        used = np.unique(np.asarray(quant))
        extra = _pack(pal[used[used < len(pal)]]).tolist()
    colours = list(dict.fromkeys([*reserved, *extra]))[:256]
    colours += [colours[-1]] * (256 - len(colours))  # pad with a used colour
    c = np.array(colours, dtype=np.int64)
    return np.stack([(c >> 16) & 255, (c >> 8) & 255, c & 255], axis=1).astype(np.uint8)


def gif_indices(frames: Frames, palette: np.ndarray) -> list[np.ndarray]:
    """Each frame as palette indices: a colour in the palette gets its own entry exactly,
    any other the nearest (Pillow's own palette lookup rounds colours, which moved the
    basemap's shades). The base is looked up once; per frame only the changed pixels,
    through a table of every colour already seen."""
    lookup = _Lookup(palette)
    base_idx = lookup(frames.base.reshape(-1, 3)).reshape(frames.base.shape[:2])
    x0, y0, x1, y1 = frames.map_box
    out = []
    for img in frames.images:
        idx = base_idx.copy()
        box = img[y0:y1, x0:x1]
        changed = np.any(box != frames.base[y0:y1, x0:x1], axis=2)
        sub = idx[y0:y1, x0:x1]
        sub[changed] = lookup(box[changed])
        out.append(idx)
    return out


def _pack(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.int64)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


class _Lookup:
    """Nearest palette index (squared RGB distance) of any colour, remembered in a
    24-bit table so each distinct colour is searched once per animation."""

    def __init__(self, palette: np.ndarray) -> None:
        self.pal = palette.astype(np.float32)
        self.pal_sq = (self.pal**2).sum(axis=1)
        self.table = np.full(1 << 24, -1, dtype=np.int16)
        # the palette's own colours map to themselves (first entry of a duplicate)
        packed = _pack(palette)
        for i in range(len(packed) - 1, -1, -1):
            self.table[packed[i]] = i

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        packed = _pack(pixels)
        found = self.table[packed]
        missing = np.unique(packed[found < 0])
        for start in range(0, len(missing), 8192):  # bounded memory
            chunk = missing[start : start + 8192]
            rgb = np.stack([(chunk >> 16) & 255, (chunk >> 8) & 255, chunk & 255], axis=1)
            rgb = rgb.astype(np.float32)
            dist = self.pal_sq[None, :] - 2.0 * rgb @ self.pal.T
            self.table[chunk] = np.argmin(dist, axis=1)
        if len(missing):
            found = self.table[packed]
        return found.astype(np.uint8)


def write_gif(frames: Frames, out: Path) -> None:
    """The frames as a looping GIF with one fixed palette (no dithering, no flicker)."""
    palette = gif_palette(frames)
    flat = palette.reshape(-1).tolist()
    pil = []
    for idx in gif_indices(frames, palette):
        im = Image.frombytes("P", (idx.shape[1], idx.shape[0]), idx.tobytes())
        im.putpalette(flat)
        pil.append(im)
    durations = [FRAME_MS] * len(pil)
    durations[-1] = FRAME_MS * HOLD_LAST
    pil[0].save(
        out,
        save_all=True,
        append_images=pil[1:],
        duration=durations,
        loop=0,
        optimize=False,
        disposal=1,
    )


def write_mp4(frames: Frames, out: Path) -> None:
    """The frames as H.264 MP4 (yuv420p, even sides), through imageio-ffmpeg's binary."""
    import imageio_ffmpeg

    h, w = frames.images[0].shape[:2]
    ph, pw = h + h % 2, w + w % 2  # yuv420p needs even sides: pad with white
    repeat = max(1, round(FRAME_MS * MP4_FPS / 1000))
    writer = imageio_ffmpeg.write_frames(
        str(out),
        (pw, ph),
        fps=MP4_FPS,
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        macro_block_size=1,
        output_params=["-movflags", "+faststart"],
        ffmpeg_log_level="error",
    )
    writer.send(None)  # start the encoder
    try:
        for i, img in enumerate(frames.images):
            if (ph, pw) != (h, w):
                img = np.pad(img, ((0, ph - h), (0, pw - w), (0, 0)), constant_values=255)
            frame = np.ascontiguousarray(img).tobytes()
            times = repeat * (HOLD_LAST if i == len(frames.images) - 1 else 1)
            for _ in range(times):
                writer.send(frame)
    finally:
        writer.close()


# ---- private stages -------------------------------------------------------------------------
def _ffmpeg() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise InputError(
            "MP4 export needs the 'imageio-ffmpeg' package (a dependency of conflict-atlas: "
            "reinstall with `pip install -e .`); export a .gif instead"
        ) from None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as exc:
        raise InputError(
            f"MP4 export: imageio-ffmpeg has no ffmpeg binary for this machine ({exc}); "
            "export a .gif instead"
        ) from None


def _render(spec: MapSpec, data: AtlasData, summary: FilterSummary | None) -> Frames:
    if summary is None:
        summary = printmap.compute_summary(spec, data)
    ranges = animation_ranges(spec, summary)
    # The base is the whole animation's page; every frame shows the same area.
    # Frames draw points (each frame its own incidents; hexagon classes would change from
    # frame to frame), so the base's legend is the points' whatever spec.density says.
    whole_spec = spec.replace(date_from=ranges[0][0], date_to=ranges[-1][1], density="points")
    whole, whole_summary = printmap.filter_view(whole_spec, data)
    bounds = frame_of(spec, whole)
    fig = printmap.build_page(whole_spec, data, summary=whole_summary, bounds=bounds)
    map_ax = next(a for a in fig.axes if a.get_gid() == "map")
    names = tuple(n for n in spec.layers if n in FRAME_LAYERS)
    top = _take_off(map_ax, names, whole, whole_spec)
    # A reference event's label (and its leader line) shows from the event's date, like
    # its star: taken off the base, drawn over the frames from that date on.
    dated_labels = _dated_reference_labels(map_ax, whole.reference_events)
    for label, _day in dated_labels:
        label.set_visible(False)

    fig.set_dpi(spec.dpi * spec.scale)
    canvas = fig.canvas
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    base = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    # Labels and furniture drawn above the layer in print stay above it: drawn once, alone,
    # on a transparent canvas, then laid over every frame.
    above = [
        a
        for a in map_ax.get_children()
        if a.get_visible() and a.get_zorder() > top and a is not map_ax.patch
    ]
    renderer = canvas.get_renderer()
    renderer.clear()  # transparent
    for artist in above:
        artist.draw(renderer)
    top_layer = _sparse(np.asarray(canvas.buffer_rgba()))
    overlay = fig.add_axes(map_ax.get_position(), gid="frame-layer", label="frame-layer")
    overlay.set_axis_off()
    overlay.patch.set_visible(False)
    fs = printmap.FontSizes.for_page(spec.width / spec.dpi, spec.height / spec.dpi)
    k = min(fs.scale, 1.0)
    images = []
    for lo, hi in ranges:
        frame_spec = spec.replace(date_from=lo, date_to=hi)
        for artist in [*overlay.collections, *overlay.lines, *overlay.texts, *overlay.patches]:
            artist.remove()
        _fit(overlay, map_ax)
        view = _frame_view(whole, lo, hi)
        for layer in layers_for(names):
            layer.to_matplotlib(overlay, view, frame_spec)
        _fit(overlay, map_ax)
        printmap.print_scale(overlay, k, min_font=fs.small)
        canvas.restore_region(background)
        overlay.draw(renderer)
        for label, day in dated_labels:
            if day is None or day <= hi:
                label.set_visible(True)
                label.draw(renderer)
                label.set_visible(False)
        image = _over(np.asarray(canvas.buffer_rgba())[..., :3], top_layer)
        images.append(_stamp(image, canvas, renderer, overlay, lo, hi, frame_spec, fs))
    bb = map_ax.get_window_extent(renderer)
    height = base.shape[0]
    box = (int(bb.x0), int(height - bb.y1), int(math.ceil(bb.x1)), int(math.ceil(height - bb.y0)))
    return Frames(base, images, ranges, box, _legend_colours(whole_spec, whole))


def _dated_reference_labels(ax: Axes, ref: Any) -> list[tuple[Any, dt.date | None]]:
    """The map's reference-event labels with their event's date (matched by the point
    each label's leader line points at)."""
    labels = [t for t in ax.texts if t.get_gid() == "reference-label"]
    if not labels or ref is None or not len(ref):
        return [(label, None) for label in labels]
    days = pd.to_datetime(ref["date"], errors="coerce") if "date" in ref else None
    out = []
    for label in labels:
        x, y = getattr(label, "xy", (math.nan, math.nan))
        dist = (ref.geometry.x - x) ** 2 + (ref.geometry.y - y) ** 2
        i = int(np.argmin(dist.to_numpy()))
        day = days.iloc[i] if days is not None else pd.NaT
        out.append((label, None if pd.isna(day) else day.date()))
    return out


def _legend_colours(spec: MapSpec, view: AtlasData) -> list[tuple[int, int, int]]:
    from matplotlib.colors import to_rgb

    from layers.compose import legend_entries

    out = []
    for entry in legend_entries(spec, view):
        for colour in (entry.color, entry.edgecolor):
            if colour:
                out.append(tuple(round(255 * c) for c in to_rgb(colour)))
    return list(dict.fromkeys(out))


def _fit(overlay: Axes, map_ax: Axes) -> None:
    overlay.set_position(map_ax.get_position())
    overlay.set_xlim(map_ax.get_xlim())
    overlay.set_ylim(map_ax.get_ylim())


def _frame_view(whole: AtlasData, lo: dt.date, hi: dt.date) -> AtlasData:
    """The frame's incidents (dates overlapping [lo, hi]) and the reference events that
    have happened by ``hi``."""
    inc = whole.incidents
    if inc is not None and len(inc):
        inc = inc[date_mask(inc, lo, hi).to_numpy()]
    ref = whole.reference_events
    if ref is not None and len(ref) and "date" in ref:
        when = pd.to_datetime(ref["date"], errors="coerce")
        ref = ref[(when <= pd.Timestamp(hi)).to_numpy()]
    return dataclasses.replace(whole, incidents=inc, reference_events=ref)


def _take_off(ax: Axes, names: tuple[str, ...], view: AtlasData, spec: MapSpec) -> float:
    """Remove from the page's map what the layers ``names`` drew there; return the highest
    zorder they drew at (what lies above is redrawn over every frame).

    The layers draw once more on a scratch axes; the map's artists with the same kind,
    zorder and content (points, vertices or text) are theirs. The page's own scaling
    changes sizes and widths, never those, so the match survives it.
    """
    scratch = Figure().add_subplot()
    scratch.set_xlim(ax.get_xlim())
    scratch.set_ylim(ax.get_ylim())
    fresh = set(scratch.get_children())
    for layer in layers_for(names):
        layer.to_matplotlib(scratch, view, spec)
    drawn = [a for a in scratch.get_children() if a not in fresh]
    if not drawn:
        return -math.inf
    wanted: dict[tuple, int] = {}
    for artist in drawn:
        key = _signature(artist)
        wanted[key] = wanted.get(key, 0) + 1
    for artist in list(ax.get_children()):
        key = _signature(artist)
        if wanted.get(key, 0) > 0:
            wanted[key] -= 1
            artist.remove()
    return max(float(a.get_zorder()) for a in drawn)


def _signature(artist: Any) -> tuple:
    z = round(float(artist.get_zorder()), 6)
    if isinstance(artist, Collection):
        offsets = np.asarray(artist.get_offsets(), dtype=float)
        paths = artist.get_paths()
        verts = [np.asarray(p.vertices, dtype=float) for p in paths[:2000]]
        return ("collection", type(artist).__name__, z, _digest(offsets), len(paths),
                _digest(*verts))  # fmt: skip
    if isinstance(artist, Line2D):
        return ("line", z, _digest(np.asarray(artist.get_xydata(), dtype=float)))
    if isinstance(artist, Text):
        return ("text", z, artist.get_text())
    if isinstance(artist, Patch):
        return ("patch", type(artist).__name__, z, _digest(artist.get_path().vertices))
    return ("other", id(artist))


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.blake2b(digest_size=12)
    for a in arrays:
        a = np.round(np.asarray(a, dtype=float), 9)
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _over(image: np.ndarray, layer: np.ndarray | tuple) -> np.ndarray:
    """``layer`` (RGBA, straight alpha, or :func:`_sparse` of it) over ``image`` (RGB);
    exact where the layer's alpha is 0 or 255."""
    idx, a, pre = _sparse(layer) if isinstance(layer, np.ndarray) else layer
    out = image.copy()
    flat = out.reshape(-1, 3)
    if len(idx):
        flat[idx] = np.rint(pre + flat[idx].astype(np.float32) * (1.0 - a)).astype(np.uint8)
    return out


def _sparse(layer: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixels of an RGBA layer that show: flat indices, alpha (0..1) and colour x alpha."""
    alpha = layer[..., 3].reshape(-1)
    idx = np.flatnonzero(alpha)
    a = (alpha[idx].astype(np.float32) / 255.0)[:, None]
    pre = layer[..., :3].reshape(-1, 3)[idx].astype(np.float32) * a
    return idx, a, pre


def _stamp(
    image: np.ndarray,
    canvas: Any,
    renderer: Any,
    overlay: Axes,
    lo: dt.date,
    hi: dt.date,
    spec: MapSpec,
    fs: printmap.FontSizes,
) -> np.ndarray:
    """Burn the frame's date range in large type on the map (top centre), over all."""
    label = f"{fmt_date(lo, spec.lang)} – {fmt_date(hi, spec.lang)}"
    text = overlay.text(
        0.5,
        0.98,
        label,
        transform=overlay.transAxes,
        ha="center",
        va="top",
        fontsize=fs.dek * 1.3,
        fontweight="bold",
        color="#111111",
        zorder=70,
        gid="frame-date",
        fontfamily="DejaVu Sans",
        bbox={
            "facecolor": "white",
            "alpha": 0.85,
            "edgecolor": "#666666",
            "linewidth": 0.5,
            "pad": 3,
        },
    )
    renderer.clear()
    text.draw(renderer)
    layer = np.asarray(canvas.buffer_rgba())
    text.remove()
    return _over(image, layer)


__all__ = [
    "FRAME_LAYERS",
    "FRAME_MS",
    "MAX_FRAMES",
    "Frames",
    "animation_ranges",
    "gif_indices",
    "gif_palette",
    "render_frames",
    "write_animation",
    "write_gif",
    "write_mp4",
]
