"""Publication files from one MapSpec: PNG, SVG, PDF, HTML, GIF (and MP4 with ffmpeg).

Static formats come from :func:`layers.printmap.build_page`; HTML is the interactive
folium map with every asset inlined (opens offline); GIF steps through the spec's time
buckets. Every file gets an ``<name>.alt.txt`` beside it (one paragraph of alt text) and
an ``<name>.sources.md`` (datasets, filters and counts, caveats, what the page left off for
lack of room, and the view's MapSpec); PNG text chunks, PDF info and SVG ``<metadata>``
carry the title, the source line, the byline, the alt text and the spec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd

from atlas.errors import InputError
from atlas.generalise import generalise_spec
from atlas.i18n import fmt_date, place_name
from layers import multiples, printmap
from layers.animation import MAX_FRAMES, animation_ranges, write_animation

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from atlas.data import AtlasData
    from atlas.query import FilterSummary
    from atlas.spec import MapSpec

FORMATS: tuple[str, ...] = (".png", ".svg", ".pdf", ".html", ".gif", ".mp4")
#: Collections with more points than this are rasterized in SVG/PDF (file size, speed).
RASTERIZE_ABOVE = 2000


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
    #: What the page gave way on for lack of room (in the spec's language), e.g. the dek.
    dropped: tuple[str, ...] = ()
    sources_path: Path | None = None


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
    dropped: tuple[str, ...] = ()
    density = None
    text = alt_text(spec, data, summary)
    if fmt in (".png", ".svg", ".pdf"):
        fig = printmap.build_page(spec, data, summary=summary)
        dropped = tuple(fig.atlas_layout.dropped)
        density = fig.atlas_density
        if fmt == ".png":
            _save(fig, out, "png", spec.dpi * spec.scale, spec, text)
            width, height = spec.pixel_size
        else:
            _rasterize_dense(fig)
            _save(fig, out, fmt[1:], spec.dpi, spec, text)
    elif fmt == ".html":
        _write_html(spec, data, out)
    else:
        frames = write_animation(spec, data, out, summary, fmt)
        density = printmap.DensityChoice("points", spec.density)  # frames draw points
        width, height = spec.pixel_size
    alt_path = alt_text_path(out)
    alt_path.write_text(text + "\n", encoding="utf-8")
    side = sources_text_path(out)
    side.write_text(sources_text(spec, data, summary, dropped=dropped, density=density),
                    encoding="utf-8")  # fmt: skip
    return ExportResult(out, alt_path, fmt[1:], width, height, frames, text, dropped, side)


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
    text = alt_text(page.span_spec, data, page.summary) + " " + _panels_sentence(page, spec.lang)
    if fmt == ".png":
        _save(page.figure, out, "png", spec.dpi * spec.scale, spec, text)
        width, height = spec.pixel_size
    else:
        _rasterize_dense(page.figure)
        _save(page.figure, out, fmt[1:], spec.dpi, spec, text)
        width, height = spec.width, spec.height
    dropped = tuple(getattr(page, "dropped", ()) or ())
    return _sidecars(spec, data, out, fmt, width, height, text, page.summary, dropped,
                     density=printmap.DensityChoice("points", spec.density))  # fmt: skip


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
              text: str, summary: FilterSummary, dropped: tuple[str, ...] = (), *,
              density: printmap.DensityChoice | None = None) -> ExportResult:  # fmt: skip
    alt_path = alt_text_path(out)
    alt_path.write_text(text + "\n", encoding="utf-8")
    side = sources_text_path(out)
    side.write_text(sources_text(spec, data, summary, dropped=dropped, density=density),
                    encoding="utf-8")  # fmt: skip
    return ExportResult(out, alt_path, fmt[1:], width, height, 1, text, dropped, side)


def sources_text_path(path: str | Path) -> Path:
    """``maps/vraem.png`` -> ``maps/vraem.sources.md``."""
    p = Path(path)
    return p.with_name(p.stem + ".sources.md")


def _md(text: str) -> str:
    """Reader text made inert in Markdown: no HTML, no links or emphasis from it."""
    from atlas.safety import escape_text

    out = escape_text(str(text))
    for ch in "\\`*_[]#|":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def sources_text(
    spec: MapSpec,
    data: AtlasData,
    summary: FilterSummary,
    *,
    dropped: tuple[str, ...] = (),
    density: printmap.DensityChoice | None = None,
) -> str:
    """The sources sidecar (Markdown): the words on the face, what the page left off for
    lack of room, every dataset with version, access date, licence and address, the
    filters and counts (and, for a page, how its incidents were drawn: ``density``, the
    page's :func:`layers.printmap.density_choice`), each source's caveats, and the view
    itself (its MapSpec), so every number on the image can be traced and the map made
    again."""
    from atlas.i18n import t
    from layers import furniture

    lang = spec.lang
    texts = printmap.page_texts(spec, data, summary, density=density)
    title = spec.title or ("Mapa de Conflict Atlas" if lang == "es" else "Conflict Atlas map")
    parts = [
        f"# {_md(title)}: {t('sources_md_title', lang)}",
        "",
        f"## {t('sources_md_face', lang)}",
        "",
    ]
    for line in (texts.dek, texts.sample, " ".join(texts.notes), texts.source, texts.byline):
        if line:
            parts.append(f"- {_md(line)}")
    parts += ["", f"## {t('sources_md_dropped', lang)}", ""]
    parts += [f"- {_md(d)}" for d in dropped] or [f"- {t('sources_md_nothing_dropped', lang)}"]
    parts += ["", f"## {t('sources_md_datasets', lang)}", ""]
    for src in getattr(data, "sources", []) or []:
        bits = [f"**{_md(src.name)}**"]
        if src.version:
            bits.append(f"{t('sources_md_version', lang)} {_md(src.version)}")
        if src.access_date:
            bits.append(f"{t('sources_md_accessed', lang)} {_md(src.access_date)}")
        if src.licence:
            bits.append(f"{t('sources_md_licence', lang)}: {_md(src.licence)}")
        if src.url:
            bits.append(f"{t('sources_md_address', lang)}: <{src.url}>")
        parts.append("- " + "; ".join(bits))
    parts += ["", f"## {t('sources_md_method', lang)}", ""]
    method = furniture.method_text(spec, data, summary, compact=False, with_filters=True)
    data_word = furniture.words(lang)["data"] + ":"
    parts += [
        f"- {_md(line)}"
        for line in method.split("\n")
        if line.strip() and not line.startswith(data_word)  # datasets are listed above
    ]
    drawing = density.method(lang) if density is not None else ""
    if drawing:
        parts.append(f"- {_md(drawing)}")
    parts += ["", f"## {t('sources_md_caveats', lang)}", ""]
    for src in getattr(data, "sources", []) or []:
        parts += [f"- {_md(src.name)}: {_md(caveat)}" for caveat in src.caveats]
    body = spec.to_json()
    fence = "`" * max(3, _longest_run(body, "`") + 1)
    parts += ["", f"## {t('sources_md_view', lang)}", "", f"{fence}json", body, fence]
    return "\n".join(parts) + "\n"


def _longest_run(text: str, ch: str) -> int:
    best = run = 0
    for c in text:
        run = run + 1 if c == ch else 0
        best = max(best, run)
    return best


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
    # Protests, riots and strategic developments are events, not violent incidents.
    violent = {"armed_clash", "violence_against_civilians", "explosion_remote"}
    drawn_types = (
        set(drawn["event_type"].astype(str)) if drawn is not None and len(drawn) else set()
    )
    only_violent = bool(drawn_types) and drawn_types <= violent
    if es:
        what = "incidentes violentos" if only_violent else "eventos"
        parts = [
            f"Mapa de {area} con {summary.drawn:,} {what} ({types}) "
            f"{period}, que suman {summary.deaths:,} muertes (mejor estimación)."
        ]
    else:
        what = "violent incidents" if only_violent else "events"
        parts = [
            f"Map of {area} showing {summary.drawn:,} {what} ({types}) "
            f"{period}, with {summary.deaths:,} deaths (best estimates)."
        ]
    if summary.inside_region is not None and summary.drawn:
        parts.append(
            f"{summary.inside_region:,} de ellos están dentro de {area}."
            if es
            else f"{summary.inside_region:,} of them lie inside {area}."
        )
    where = _concentration(drawn, spec.lang, _official_names(data))
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


# ---- private stages -------------------------------------------------------------------------
def map_extent(fig: Figure) -> tuple[float, float, float, float]:
    """(west, south, east, north) the page's map (or every small-multiples panel) shows."""
    ax = next(a for a in fig.axes if a.get_gid() in ("map", "panel-0"))  # panels share it
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return (x0, y0, x1, y1)


def file_metadata(fig: Figure, fmt: str, spec: MapSpec, alt: str = "") -> dict[str, Any]:
    """What the file itself says it shows: title, alt text, the source line, the byline,
    what gave way, the map's extent and (PNG) the spec that made it.

    PNG takes any text keys (text chunks); PDF its info keys; SVG the Dublin Core keys
    matplotlib writes into ``<metadata>``.
    """
    extent = ",".join(f"{v:.5f}" for v in map_extent(fig))
    layout = getattr(fig, "atlas_layout", None)
    texts = {k: " ".join(b.lines) for k, b in (layout.texts.items() if layout else [])}
    title = spec.title or texts.get("title", "")
    source = texts.get("source", "")
    byline = spec.byline
    about = " ".join(bit for bit in (alt, f"Extent (W,S,E,N) {extent}.") if bit)
    dropped = "; ".join(layout.dropped) if layout else ""
    if fmt == "png":
        out = {
            "Title": title,
            "Author": byline,
            "Description": about,
            "Source": source,
            "Software": "Conflict Atlas",
            "conflict-atlas:extent": extent,
            "conflict-atlas:spec": json.dumps(spec.to_dict(), ensure_ascii=False),
        }
        if dropped:
            out["conflict-atlas:dropped"] = dropped
        return {k: v for k, v in out.items() if v}
    if fmt == "pdf":
        return {"Title": title, "Author": byline, "Subject": about, "Keywords": source,
                "Creator": "Conflict Atlas"}  # fmt: skip
    out = {"Title": title, "Description": about, "Source": source, "Creator": "Conflict Atlas"}
    if byline:
        out["Contributor"] = [byline]
    return out


def _save(fig: Figure, out: Path, fmt: str, dpi: float, spec: MapSpec, alt: str = "") -> None:
    with matplotlib.rc_context(printmap.page_rc(spec)):
        metadata = file_metadata(fig, fmt, spec, alt)
        fig.savefig(out, format=fmt, dpi=dpi, facecolor="white", metadata=metadata)


def _rasterize_dense(fig: Figure) -> None:
    for ax in fig.axes:
        for coll in ax.collections:
            n = max(len(coll.get_offsets()), len(coll.get_paths()))
            if n > RASTERIZE_ABOVE:
                coll.set_rasterized(True)


def _write_html(spec: MapSpec, data: AtlasData, out: Path) -> None:
    from layers.htmlpage import html_document

    out.write_text(html_document(spec, data), encoding="utf-8")


def _region_name(spec: MapSpec, data: AtlasData) -> str:
    regions = data.regions
    if regions is None or not len(regions) or "region_id" not in regions:
        return ""
    rows = regions[regions["region_id"].astype(str) == spec.region]
    name = str(rows["name"].iloc[0]) if len(rows) and "name" in rows else ""
    if name.startswith("VRAEM (DEVIDA coca-monitoring zone"):  # the shipped zone, translated
        from atlas.i18n import t

        return f"VRAEM ({t('bm_zone_caption', spec.lang)})"
    return name


def _type_label(event_type: str, lang: str) -> str:
    from atlas.schema import EVENT_TYPE_LABELS

    return EVENT_TYPE_LABELS.get(event_type, {}).get(lang, event_type).lower()


def _fold(name: str) -> str:
    import unicodedata

    return "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    ).casefold()


def _official_names(data: AtlasData) -> dict[str, str]:
    """Unaccented lower-case name -> the INEI spelling ("junin" -> "Junín"): incident
    files often drop accents; what we write for readers keeps them."""
    out: dict[str, str] = {}
    for frame in (getattr(data, "provinces", None), getattr(data, "departments", None)):
        if frame is not None and len(frame) and "name" in frame:
            for name in frame["name"].dropna().astype(str):
                out[_fold(name)] = name
    return out


def _top_places(names: pd.Series, official: dict[str, str] | None, k: int = 3) -> pd.Series:
    """The ``k`` most frequent place names (official spelling, accents restored) with
    their counts, ties in order of first appearance. Each distinct name is looked up
    once: 100k incidents name a few hundred places."""
    codes, uniques = pd.factorize(names)
    shown = [place_name(official.get(_fold(u), u) if official else u) for u in uniques]
    shown_codes, shown_uniques = pd.factorize(pd.Index(shown, dtype=object))
    counts = np.bincount(shown_codes[codes], minlength=len(shown_uniques))
    return (
        pd.Series(counts, index=shown_uniques).sort_values(ascending=False, kind="stable").head(k)
    )


def _concentration(drawn, lang: str, official: dict[str, str] | None = None) -> str:
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
        top = _top_places(names, official)
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
