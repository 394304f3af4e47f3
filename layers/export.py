"""Publication files from one MapSpec: PNG, SVG, PDF, HTML, GIF (and MP4 with ffmpeg).

Static formats come from :func:`layers.printmap.build_page`; HTML is the interactive
folium map with every asset inlined (opens offline); GIF steps through the spec's time
buckets. Every file gets an ``<name>.alt.txt`` beside it: one paragraph of alt text.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from PIL import Image

from atlas.errors import InputError
from atlas.frame import frame_of
from atlas.generalise import generalise_spec
from atlas.i18n import fmt_date
from layers import multiples, printmap

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt

    from matplotlib.figure import Figure

    from atlas.data import AtlasData
    from atlas.query import FilterSummary
    from atlas.spec import MapSpec

FORMATS: tuple[str, ...] = (".png", ".svg", ".pdf", ".html", ".gif", ".mp4")
#: Animations never have more frames than this; longer ranges merge buckets per frame.
MAX_FRAMES = 60
#: Collections with more points than this are rasterized in SVG/PDF (file size, speed).
RASTERIZE_ABOVE = 2000
FRAME_MS = 700


@dataclass(frozen=True)
class ExportResult:
    """What was written: the file, its alt-text file, format, pixel size and frames."""

    path: Path
    alt_text_path: Path
    format: str
    width_px: int
    height_px: int
    frames: int = 1
    alt_text: str = ""


def export(
    spec: MapSpec, data: AtlasData, path: str | Path, *, summary: FilterSummary | None = None
) -> ExportResult:
    """Write ``spec``'s map to ``path``; the format comes from the extension."""
    out = Path(path)
    fmt = out.suffix.lower()
    if fmt not in FORMATS:
        raise InputError(
            f"{out.name}: cannot export to {fmt or 'a file without extension'}; "
            f"use one of {', '.join(FORMATS)}"
        )
    if not out.parent.is_dir():
        raise InputError(f"{out}: folder {out.parent} does not exist; create it first")
    # callouts placed by coordinates move with the events (the incidents themselves are
    # generalised where every renderer gets them: atlas.query.filter_incidents)
    spec = generalise_spec(spec, data.districts)
    if multiples.is_multiples(spec):
        return _export_panels(spec, data, out, fmt)
    if summary is None:
        summary = printmap.compute_summary(spec, data)
    width, height = spec.width, spec.height
    frames = 1
    if fmt == ".png":
        fig = printmap.build_page(spec, data, summary=summary)
        _save(fig, out, "png", spec.dpi * spec.scale, spec)
        width, height = spec.pixel_size
    elif fmt in (".svg", ".pdf"):
        fig = printmap.build_page(spec, data, summary=summary)
        _rasterize_dense(fig)
        _save(fig, out, fmt[1:], spec.dpi, spec)
    elif fmt == ".html":
        _write_html(spec, data, out)
    else:
        frames = _write_animation(spec, data, out, summary, fmt)
        width, height = spec.pixel_size
    text = alt_text(spec, data, summary)
    alt_path = alt_text_path(out)
    alt_path.write_text(text + "\n", encoding="utf-8")
    sources_text_path(out).write_text(sources_text(spec, data, summary), encoding="utf-8")
    return ExportResult(out, alt_path, fmt[1:], width, height, frames, text)


def _export_panels(spec: MapSpec, data: AtlasData, out: Path, fmt: str) -> ExportResult:
    """Small multiples (PNG/SVG/PDF, :mod:`layers.multiples`), or the two periods as two
    synced maps in one self-contained HTML page (:mod:`layers.dualmap`)."""
    if fmt == ".html":
        if spec.small_multiples != "none":
            raise InputError(
                f"{out.name}: small multiples by {spec.small_multiples} export to PNG, SVG "
                "or PDF; an HTML page shows two periods side by side (give periods)"
            )
        return _write_dual_html(spec, data, out)
    if fmt not in (".png", ".svg", ".pdf"):
        raise InputError(
            f"{out.name}: small multiples and periods side by side export to PNG, SVG, PDF "
            "(or, for two periods, HTML), not as an animation; drop small_multiples and "
            "periods to animate"
        )
    page = multiples.build_multiples(spec, data)
    if fmt == ".png":
        _save(page.figure, out, "png", spec.dpi * spec.scale, spec)
        width, height = spec.pixel_size
    else:
        _rasterize_dense(page.figure)
        _save(page.figure, out, fmt[1:], spec.dpi, spec)
        width, height = spec.width, spec.height
    text = alt_text(page.span_spec, data, page.summary) + " " + _panels_sentence(page, spec.lang)
    return _sidecars(spec, data, out, fmt, width, height, text, page.summary)


def _panels_sentence(page: multiples.Multiples, lang: str) -> str:
    """``Panels: 2021: 275 incidents, 79 deaths; 2022: ...`` plus the page's note."""
    head = "Paneles" if lang == "es" else "Panels"
    return f"{head}: {'; '.join(page.titles())}. {page.note}"


def _write_dual_html(spec: MapSpec, data: AtlasData, out: Path) -> ExportResult:
    from atlas.periods import filter_periods
    from layers.dualmap import build_dual_map, period_heading

    periods = filter_periods(spec, data, [tuple(p) for p in spec.periods])
    dual = build_dual_map(spec, data, periods, assets="inline")
    out.write_text(dual.get_root().render(), encoding="utf-8")
    span = spec.replace(date_from=periods[0].start, date_to=periods[-1].end)
    summary = printmap.compute_summary(span, data)
    head = "Periodos" if spec.lang == "es" else "Periods"
    text = (alt_text(span, data, summary) + f" {head}: "
            + "; ".join(period_heading(p, spec.lang) for p in periods) + ".")  # fmt: skip
    return _sidecars(spec, data, out, ".html", spec.width, spec.height, text, summary)


def _sidecars(spec: MapSpec, data: AtlasData, out: Path, fmt: str, width: int, height: int,
              text: str, summary: FilterSummary) -> ExportResult:  # fmt: skip
    alt_path = alt_text_path(out)
    alt_path.write_text(text + "\n", encoding="utf-8")
    sources_text_path(out).write_text(sources_text(spec, data, summary), encoding="utf-8")
    return ExportResult(out, alt_path, fmt[1:], width, height, 1, text)


def sources_text_path(path: str | Path) -> Path:
    """``maps/vraem.png`` -> ``maps/vraem.sources.txt``."""
    p = Path(path)
    return p.with_name(p.stem + ".sources.txt")


def sources_text(spec: MapSpec, data: AtlasData, summary: FilterSummary) -> str:
    """The sources sidecar: every dataset with version, licence and address, the filters
    and counts, each source's caveats, and the view itself (its MapSpec), so every number
    on the image can be traced and the map made again."""
    from layers import furniture

    es = spec.lang == "es"
    parts = [
        (spec.title or ("Mapa de Conflict Atlas" if es else "Conflict Atlas map")),
        "",
        furniture.method_text(spec, data, summary, compact=False, with_filters=True),
        "",
        "Advertencias:" if es else "Caveats:",
    ]
    for src in getattr(data, "sources", []) or []:
        parts += [f"- {src.name}: {caveat}" for caveat in src.caveats]
    parts += ["", "Vista (MapSpec):" if es else "View (MapSpec):", spec.to_json()]
    return "\n".join(parts) + "\n"


def alt_text_path(path: str | Path) -> Path:
    """``maps/vraem.png`` -> ``maps/vraem.alt.txt``."""
    p = Path(path)
    return p.with_name(p.stem + ".alt.txt")


def alt_text(spec: MapSpec, data: AtlasData, summary: FilterSummary | None = None) -> str:
    """One paragraph describing the image: area, period, counts, where, caveats."""
    from atlas.query import filter_incidents

    try:
        drawn, computed = filter_incidents(data.incidents, spec, data.regions,
                                           districts=data.districts)  # fmt: skip
    except InputError:
        drawn, computed = filter_incidents(data.incidents, spec, districts=data.districts)
    summary = summary or computed
    es = spec.lang == "es"
    area = _region_name(spec, data) or ("Perú" if es else "Peru")
    lo = spec.date_from or summary.date_min
    hi = spec.date_to or summary.date_max
    lang = "es" if es else "en"
    if lo is not None and hi is not None:
        period = (
            f"entre {fmt_date(lo, lang)} y {fmt_date(hi, lang)}"
            if es
            else f"from {fmt_date(lo, lang)} to {fmt_date(hi, lang)}"
        )
    elif lo is not None:
        period = f"desde {fmt_date(lo, lang)}" if es else f"from {fmt_date(lo, lang)} on"
    elif hi is not None:
        period = f"hasta {fmt_date(hi, lang)}" if es else f"up to {fmt_date(hi, lang)}"
    else:
        period = "sin fechas" if es else "with no dates"
    types = (
        ", ".join(_type_label(t, spec.lang) for t in spec.event_types)
        if spec.event_types
        else ("todos los tipos" if es else "all types")
    )
    if es:
        parts = [
            f"Mapa de {area} con {summary.drawn:,} incidentes violentos ({types}) "
            f"{period}, que suman {summary.deaths:,} muertes (mejor estimación)."
        ]
    else:
        parts = [
            f"Map of {area} showing {summary.drawn:,} violent incidents ({types}) "
            f"{period}, with {summary.deaths:,} deaths (best estimates)."
        ]
    if summary.inside_region is not None and summary.drawn:
        parts.append(
            f"{summary.inside_region:,} de ellos están dentro de {area}."
            if es
            else f"{summary.inside_region:,} of them lie inside {area}."
        )
    where = _concentration(drawn, spec.lang)
    if where:
        parts.append(where)
    if summary.hidden_by_precision:
        parts.append(
            f"{summary.hidden_by_precision:,} eventos ubicados solo a nivel de departamento "
            "o país no se dibujan."
            if es
            else f"{summary.hidden_by_precision:,} events known only to department or "
            "country level are not drawn."
        )
    if getattr(data, "is_sample", False):
        parts.append(
            "DATOS DE MUESTRA: los incidentes son sintéticos, no hechos reales."
            if es
            else "SAMPLE DATA: the incidents are synthetic, not real events."
        )
    if getattr(data, "approximate", False):
        parts.append(
            "El límite de la región es aproximado." if es else "The region boundary is approximate."
        )
    return " ".join(parts)


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


# ---- private stages -------------------------------------------------------------------------
def map_extent(fig: Figure) -> tuple[float, float, float, float]:
    """(west, south, east, north) the page's map (or every small-multiples panel) shows."""
    ax = next(a for a in fig.axes if a.get_gid() in ("map", "panel-0"))  # panels share it
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return (x0, y0, x1, y1)


def file_metadata(fig: Figure, fmt: str, spec: MapSpec) -> dict[str, str]:
    """What the file itself says it shows: the spec that made it and the map's extent.

    PNG takes any text keys; SVG and PDF only their standard ones.
    """
    extent = ",".join(f"{v:.5f}" for v in map_extent(fig))
    about = f"Conflict Atlas map; extent (W,S,E,N) {extent}"
    if fmt == "png":
        return {
            "Software": "Conflict Atlas",
            "Description": about,
            "conflict-atlas:extent": extent,
            "conflict-atlas:spec": json.dumps(spec.to_dict(), ensure_ascii=False),
        }
    title = fig.texts[0].get_text() if fig.texts else ""
    if fmt == "pdf":
        return {"Title": title, "Subject": about, "Creator": "Conflict Atlas"}
    return {"Title": title, "Description": about}


def _save(fig: Figure, out: Path, fmt: str, dpi: float, spec: MapSpec) -> None:
    with matplotlib.rc_context(printmap.RC):
        metadata = file_metadata(fig, fmt, spec)
        fig.savefig(out, format=fmt, dpi=dpi, facecolor="white", metadata=metadata)


def _rasterize_dense(fig: Figure) -> None:
    for ax in fig.axes:
        for coll in ax.collections:
            n = max(len(coll.get_offsets()), len(coll.get_paths()))
            if n > RASTERIZE_ABOVE:
                coll.set_rasterized(True)


def _write_html(spec: MapSpec, data: AtlasData, out: Path) -> None:
    from layers.compose import build_folium_map, inline_html

    view, _ = printmap.filter_view(spec, data)
    html = inline_html(build_folium_map(spec, view, assets="inline"))
    out.write_text(html, encoding="utf-8")


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


def _write_animation(
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


def _region_name(spec: MapSpec, data: AtlasData) -> str:
    regions = data.regions
    if regions is None or not len(regions) or "region_id" not in regions:
        return ""
    rows = regions[regions["region_id"].astype(str) == spec.region]
    return str(rows["name"].iloc[0]) if len(rows) and "name" in rows else ""


def _type_label(event_type: str, lang: str) -> str:
    from atlas.schema import EVENT_TYPE_LABELS

    return EVENT_TYPE_LABELS.get(event_type, {}).get(lang, event_type).lower()


def _concentration(drawn, lang: str) -> str:
    """ "Most are in La Convención (41%), Satipo (22%) and Huanta (12%)." from admin2."""
    if drawn is None or not len(drawn):
        return ""
    for column in ("admin2", "admin1", "location"):
        if column not in drawn:
            continue
        names = drawn[column].astype("string").fillna("").str.strip()
        names = names[names != ""]
        if len(names) < max(1, len(drawn) // 2):
            continue
        top = names.value_counts().head(3)
        bits = [f"{name} ({100 * n / len(drawn):.0f}%)" for name, n in top.items()]
        joined = ", ".join(bits[:-1]) + (
            f" {'y' if lang == 'es' else 'and'} " + bits[-1] if len(bits) > 1 else bits[-1]
        )
        if len(bits) == 1:
            joined = bits[0]
        return f"La mayoría se concentra en {joined}." if lang == "es" else f"Most are in {joined}."
    return ""


__all__ = [
    "FORMATS",
    "MAX_FRAMES",
    "ExportResult",
    "alt_text",
    "alt_text_path",
    "sources_text",
    "sources_text_path",
    "animation_ranges",
    "export",
]
