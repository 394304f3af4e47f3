"""Animated exports (GIF, MP4): one frame per time step of the spec's period.

Moved out of :mod:`layers.export`; it draws each frame with :mod:`layers.printmap`'s
public functions.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from PIL import Image

from atlas.errors import InputError
from atlas.frame import frame_of
from atlas.i18n import fmt_date
from layers import printmap

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt
    from pathlib import Path

    from matplotlib.figure import Figure

    from atlas.data import AtlasData
    from atlas.query import FilterSummary
    from atlas.spec import MapSpec

#: Animations never have more frames than this; longer ranges merge buckets per frame.
MAX_FRAMES = 60
FRAME_MS = 700


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


def _frames(spec: MapSpec, data: AtlasData, summary: FilterSummary) -> list[np.ndarray]:
    images = []
    ranges = animation_ranges(spec, summary)
    # Every frame shows the same area: the whole animation's view.
    whole, _ = printmap.filter_view(
        spec.replace(date_from=ranges[0][0], date_to=ranges[-1][1]), data
    )
    bounds = frame_of(spec, whole)
    for lo, hi in ranges:
        frame_spec = spec.replace(date_from=lo, date_to=hi)
        fig = printmap.build_page(frame_spec, data, bounds=bounds)
        _stamp_date(fig, lo, hi, frame_spec)
        fig.set_dpi(spec.dpi * spec.scale)
        fig.canvas.draw()
        images.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    return images


def _stamp_date(fig: Figure, lo: dt.date, hi: dt.date, spec: MapSpec) -> None:
    """Burn the frame's date range in large type on the map (top centre)."""
    ax = next(a for a in fig.axes if a.get_gid() == "map")
    size = printmap.FontSizes.for_page(fig.get_figwidth(), fig.get_figheight()).dek * 1.3
    label = f"{fmt_date(lo, spec.lang)} – {fmt_date(hi, spec.lang)}"
    text = ax.text(
        0.5,
        0.98,
        label,
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=size,
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
    _ = text


def write_animation(
    spec: MapSpec, data: AtlasData, out: Path, summary: FilterSummary, fmt: str
) -> int:
    ffmpeg = shutil.which("ffmpeg") if fmt == ".mp4" else None
    if fmt == ".mp4" and ffmpeg is None:
        raise InputError(
            f"{out.name}: MP4 export needs ffmpeg, which is not installed; export a .gif instead"
        )
    with matplotlib.rc_context(printmap.RC):
        images = _frames(spec, data, summary)
    if fmt == ".gif":
        # One palette for every frame (no flicker), from the fullest frame; MAXCOVERAGE
        # keeps small, distinct legend colours closer than median cut does.
        fullest = max(range(len(images)), key=lambda i: len(np.unique(images[i][::4, ::4, 0])))
        palette = Image.fromarray(images[fullest]).quantize(
            colors=256, method=Image.Quantize.MAXCOVERAGE
        )
        pil = [
            Image.fromarray(a).quantize(palette=palette, dither=Image.Dither.NONE) for a in images
        ]
        durations = [FRAME_MS] * len(pil)
        durations[-1] = FRAME_MS * 4  # hold the last frame
        pil[0].save(
            out,
            save_all=True,
            append_images=pil[1:],
            duration=durations,
            loop=0,
            optimize=False,
            disposal=1,
        )
    else:  # pragma: no cover  (ffmpeg is not installed on the development machines)
        h, w = images[0].shape[:2]
        cmd = [
            ffmpeg,
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{w}x{h}",
            "-r",
            str(1000 / FRAME_MS),
            "-i",
            "-",
            "-vf",
            "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            "-pix_fmt",
            "yuv420p",
            str(out),
        ]
        buf = io.BytesIO()
        for a in images:
            buf.write(a.tobytes())
        subprocess.run(cmd, input=buf.getvalue(), check=True)
    return len(images)


__all__ = ["FRAME_MS", "MAX_FRAMES", "animation_ranges", "write_animation"]
