"""The app's session-state keys, declared once, and the UI logic that needs no Streamlit.

app.py holds only widgets; what can be tested without a browser lives here: the URL to
MapSpec round trip with its fallback, quick date ranges, reading an upload with a size
check, and the load-report table a user sees before uploaded data is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import geopandas as gpd
import pandas as pd

from atlas.errors import InputError, LimitError
from atlas.frame import MapView
from atlas.schema import LoadReport
from atlas.spatial import RowDepartments
from atlas.spec import MapSpec, check_bbox


class K:
    """Session-state keys. Widget keys double as the widget's ``key=`` argument."""

    INIT = "atlas_initialised"  # True once the URL has been read into the widgets
    URL_ERROR = "atlas_url_error"  # message of a bad URL value, shown once as a warning
    LANG = "w_lang"
    DATES = "w_dates"
    DATE_BOUNDS = "atlas_date_bounds"  # (first, last day) of the data the dates were kept for
    QUICK = "w_quick"
    BUCKET = "w_bucket"
    TYPES = "w_types"
    ACTOR = "w_actor"
    MIN_FAT = "w_min_fatalities"
    DATASETS = "w_datasets"
    PRECISIONS = "w_precisions"
    LAYERS = "w_layers"
    METRIC = "w_metric"
    BASEMAP = "w_basemap"
    COCA_YEAR = "w_coca_year"
    STEP_ON = "w_step_on"
    STEP = "w_step"
    STEP_STEPS = "atlas_step_steps"  # the steps K.STEP counts in (a filter may change them)
    STEP_SEEN = "atlas_step_seen"  # token of the last step the map's player reported
    STEP_MODE = "w_step_mode"
    GENERALISE = "w_generalise"  # safe locations: none | district | grid:<km>
    CHANGES_FILE = "w_changes_file"  # the uploader of a second version of the incidents
    CHANGES = "atlas_changes"  # Upload of the second version (atlas.diff compares them)
    CHANGES_MEMO = "atlas_changes_memo"  # (key, diff, changes points): one diff per state
    PLAYING = "w_playing"  # play: advance one step per rerun until the last
    FRAME = "atlas_frame"  # (bbox, focus) the link opened with
    LINK_DATASETS = "atlas_link_datasets"  # datasets the link filtered on (maybe not loaded)
    CARRIED = "atlas_carried"  # spec values from the link that no widget sets (callouts...)
    VIEW = "atlas_view"  # MapView the reader panned/zoomed to (None until they move the map)
    MAP_CACHE = "atlas_map_cache"  # front.map_component.MapRenderer: the rendered map parts
    MAP_RUNS = "atlas_map_runs"  # runs of the map fragment (pans, zooms and page runs)
    PAGE_RUNS = "atlas_page_runs"  # full-page runs
    SIDEBAR_CHANGED = "atlas_sidebar_changed"  # a sidebar widget changed in this run
    WIDGET_LANG = "atlas_widget_lang"  # the language the sidebar widgets were last drawn in
    UPLOAD_KIND = "w_upload_kind"
    UPLOAD_FILE = "w_upload_file"
    UPLOAD_ACTIVE = "atlas_upload_active"  # {"incidents": sha, "regions": [sha, ...]}
    UPLOAD_MAPPING = "atlas_upload_mapping"  # file sha -> columns the reader picked
    UPLOAD_DIGEST = "atlas_upload_digest"  # (file_id, size, sha256) of the uploader's file
    UPLOADS = "atlas_uploads"  # sha -> Upload (read once, kept for the session)
    DISTRICTS = "atlas_districts"  # path of fetched exact district boundaries
    REGION_LAYER = "w_region_layer"
    REGION = "w_region"
    PENDING_LAYER = "atlas_pending_layer"  # region layer to select on the next run
    FLASH = "atlas_flash"  # a success message to show once after an action and rerun
    EXPORT = "atlas_export"  # (file name, bytes, mime, sources sidecar text, dropped)
    # folded panels made only while open (app._lazy_panel): their open/closed state
    SHARE_OPEN = "atlas_share_open"
    COCA_OPEN = "atlas_coca_open"
    SOURCES_OPEN = "atlas_sources_open"
    DOWNLOADS_OPEN = "atlas_downloads_open"
    EXPORT_OPEN = "atlas_export_open"
    FETCH_OPEN = "atlas_fetch_open"
    ACCESSED = "w_accessed"  # the day the reader downloaded their ACLED file (export credit)
    CALLOUT_MODE = "w_callout_mode"  # clicks on the map place a callout
    CALLOUT_AT = "atlas_callout_at"  # (lon, lat) of the last click, waiting for its text
    CALLOUT_SEEN = "atlas_callout_seen"  # the map's last click already handled
    CALLOUT_TEXT = "w_callout_text"
    MAP = "map"
    COMPARE = "w_compare"  # periods side by side (the spec's ``periods``) on or off
    PERIOD_A = "w_period_a"  # (start, end) of the first period
    PERIOD_B = "w_period_b"  # (start, end) of the second period
    COMPARE_CACHE = "atlas_compare_cache"  # (key, DualMap): the same maps for the same key
    COMPARE_MAP = "compare_map"


#: Extra URL parameter (not part of MapSpec): the step index when stepping through time.
STEP_PARAM = "step"
STEP_ON_PARAM = "stepping"
#: Key of the step the map's time player reports through the component's value
#: (``{"index": i, "key": steps_key, "token": ...}``, see layers/timeplayer.py).
STEP_REPORT = "atlas_step"


@dataclass
class Upload:
    """One uploaded file after reading: the frame, its LoadReport and what it holds."""

    name: str
    sha256: str
    kind: str  # "incidents" or "regions"
    frame: gpd.GeoDataFrame
    report: LoadReport
    #: incidents read in the worker process: each row's department, worked out there
    departments: RowDepartments | None = None


def spec_from_params(params: dict[str, str | list[str]]) -> tuple[MapSpec, str | None]:
    """MapSpec from URL parameters; on a bad value the default spec and the error text."""
    try:
        return MapSpec.from_query(dict(params)), None
    except InputError as exc:
        return MapSpec(), str(exc)


def add_callout(carried: dict, text: str, at: tuple[float, float]) -> dict:
    """``carried`` with one more callout (``text`` at ``at`` = (lon, lat)); InputError
    when the text is empty or too long, or the spec already has the most callouts."""
    from atlas.spec import Callout

    lon, lat = at
    new = Callout(text.strip(), lon=round(float(lon), 5), lat=round(float(lat), 5))
    callouts = (*carried.get("callouts", ()), new)
    MapSpec(callouts=callouts)  # the spec's own limits (count) say no here
    return {**carried, "callouts": callouts}


def clicked_point(out: object) -> tuple[float, float] | None:
    """(lon, lat) of st_folium's ``last_clicked``, or None."""
    if not isinstance(out, dict):
        return None
    click = out.get("last_clicked")
    if not isinstance(click, dict) or "lat" not in click or "lng" not in click:
        return None
    try:
        lon, lat = float(click["lng"]), float(click["lat"])
    except (TypeError, ValueError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def widget_key(name: str, lang: str) -> str:
    """The key a language-following widget is drawn under (``w_types@es``); its value
    lives in ``name`` (see app.py, "widgets that follow the language")."""
    return f"{name}@{lang}"


def view_from_map(out: object) -> MapView | None:
    """The view st_folium reports after the reader moved the map, else None.

    Before any move st_folium returns its Python-side defaults, which have no ``center``
    and whose bounds are those of every layer (South America): those are not a view.
    """
    if not isinstance(out, dict):
        return None
    center, bounds, zoom = out.get("center"), out.get("bounds"), out.get("zoom")
    if not (
        isinstance(center, dict) and isinstance(bounds, dict) and isinstance(zoom, int | float)
    ):
        return None
    try:
        sw, ne = bounds["_southWest"], bounds["_northEast"]
        south, west = float(sw["lat"]), float(sw["lng"])
        north, east = float(ne["lat"]), float(ne["lng"])
        lat, lon = float(center["lat"]), float(center["lng"])
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (south, west, north, east, lat, lon)):
        return None
    # a world view wraps past ±180: clamp to what a bbox can say
    west, east = max(-180.0, west), min(180.0, east)
    south, north = max(-90.0, south), min(90.0, north)
    lon = ((lon + 180.0) % 360.0) - 180.0
    bbox = (round(west, 5), round(south, 5), round(east, 5), round(north, 5))
    try:
        check_bbox(bbox)
    except InputError:
        return None
    return MapView(
        bbox=bbox, center=(round(lat, 6), round(lon, 6)), zoom=int(max(0, min(19, zoom)))
    )


def step_from_params(params: dict[str, str | list[str]]) -> int | None:
    """The step index carried in the URL, or None (absent or not a small whole number)."""
    raw = params.get(STEP_PARAM)
    if isinstance(raw, list):
        raw = raw[-1] if raw else None
    if raw is None or not str(raw).isdigit() or len(str(raw)) > 5:
        return None
    return int(raw)


def reported_step(out: object, steps_key: str) -> tuple[int, str] | None:
    """(index, token) of the step the map's time player reported where the reader stopped,
    or None: nothing reported, or reported for other steps than ``steps_key`` names (a
    report from a map drawn before a filter changed the steps), or malformed."""
    if not isinstance(out, dict):
        return None
    report = out.get(STEP_REPORT)
    if not isinstance(report, dict) or report.get("key") != steps_key:
        return None
    index, token = report.get("index"), report.get("token")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        return None
    if not isinstance(token, str) or not 0 < len(token) <= 64:
        return None
    return index, token


def carry_step(
    old_steps: list[tuple[dt.date, dt.date]] | None,
    index: object,
    steps: list[tuple[dt.date, dt.date]],
) -> int:
    """The step of ``steps`` to show, given the reader was on ``old_steps[index]``.

    Same steps: the same index (0 when out of range). Other steps (the dates, quick range
    or time step changed): the new step holding the old step's first day, so the same
    period stays on screen; 0 when the new range does not hold it. ``old_steps`` None
    (the first run: the index came from the link, counted in the link's own steps): the
    index as it is, if in range."""
    if not steps or isinstance(index, bool) or not isinstance(index, int):
        return 0
    if old_steps is None or list(old_steps) == list(steps):
        return index if 0 <= index < len(steps) else 0
    if not 0 <= index < len(old_steps):
        return 0
    day = old_steps[index][0]
    for i, (start, end) in enumerate(steps):
        if start <= day <= end:
            return i
    return 0


def quick_ranges(date_min: dt.date, date_max: dt.date) -> dict[str, tuple[dt.date, dt.date] | None]:
    """Named date ranges over the data: "all", "last12" (12 months up to the last event)
    and one per calendar year ("y2021"), newest first. "custom" maps to None."""
    out: dict[str, tuple[dt.date, dt.date] | None] = {"custom": None}
    out["all"] = (date_min, date_max)
    start12 = (pd.Timestamp(date_max) - pd.DateOffset(months=12) + pd.Timedelta(days=1)).date()
    out["last12"] = (max(start12, date_min), date_max)
    for year in range(date_max.year, date_min.year - 1, -1):
        out[f"y{year}"] = (max(dt.date(year, 1, 1), date_min), min(dt.date(year, 12, 31), date_max))
    return out


def quick_range_for(
    date_from: dt.date | None, date_to: dt.date | None, date_min: dt.date, date_max: dt.date
) -> str:
    """The quick-range name whose dates these are ("all", "last12", "y2021"), else "custom";
    so a shared "Year 2021" link comes back as "Year 2021"."""
    wanted = (date_from or date_min, date_to or date_max)
    for name, span in quick_ranges(date_min, date_max).items():
        if span == wanted:
            return name
    return "custom"


#: Filters a reader sets, and the value that switches each off (see :func:`hiding_filters`).
FILTER_DEFAULTS: dict[str, object] = {
    "dates": None,
    "event_types": (),
    "actor": "",
    "min_fatalities": 0,
    "datasets": (),
    "precisions": None,
}


def hiding_filters(incidents: gpd.GeoDataFrame, spec: MapSpec) -> list[str]:
    """When the filters leave nothing on the map, the filters that each, switched off
    alone, would bring incidents back (in FILTER_DEFAULTS order); [] if none alone does."""
    from atlas import query
    from atlas.schema import GEO_PRECISIONS

    if incidents is None or incidents.empty:
        return []
    relaxed = {
        "dates": spec.replace(date_from=None, date_to=None),
        "event_types": spec.replace(event_types=()),
        "actor": spec.replace(actor=""),
        "min_fatalities": spec.replace(min_fatalities=0),
        "datasets": spec.replace(datasets=()),
        "precisions": spec.replace(precisions=GEO_PRECISIONS),
    }
    out = []
    for name, other in relaxed.items():
        if other == spec:
            continue
        _, summary = query.filter_incidents(incidents, other)
        if summary.incidents - summary.hidden_by_precision > 0:
            out.append(name)
    return out


def check_upload_size(name: str, size: int, max_bytes: int) -> None:
    """Raise LimitError naming the file when it is over ``max_bytes``."""
    if size > max_bytes:
        raise LimitError(
            f"{name}: the file is {size / 2**20:,.1f} MB, over the {max_bytes / 2**20:,.0f} MB "
            "limit; filter it (fewer rows or columns) before uploading"
        )


def read_in_worker(kind: str, size: int) -> bool:
    """Whether :func:`read_upload` reads an upload of ``kind`` and ``size`` bytes in the
    worker process (incident files from ``atlas.upload_worker.ISOLATE_BYTES``)."""
    from atlas.upload_worker import ISOLATE_BYTES

    return kind == "incidents" and size >= ISOLATE_BYTES


def read_upload(
    name: str,
    data: bytes,
    kind: str,
    max_bytes: int,
    mapping: dict[str, str] | None = None,
    *,
    isolate: bool | None = None,
    sha256: str | None = None,
) -> Upload:
    """Read an uploaded file as incidents or regions (with the readers' LoadReport).

    ``mapping`` (canonical -> the file's column) is what a reader chose in the column
    picker. Raises the readers' InputError/LimitError for a file that cannot be used at
    all (an InputError with ``columns`` when the coordinate columns were not recognised);
    row-level problems land in the report instead. Incident files from
    ``atlas.upload_worker.ISOLATE_BYTES`` (4 MB) are read in a separate process, so the
    other readers' pages are not held up (``isolate`` forces either way); the frame and
    report are the same. ``sha256`` is the bytes' digest when the caller has it already.
    """
    check_upload_size(name, len(data), max_bytes)
    sha = sha256 or hashlib.sha256(data).hexdigest()
    departments = None
    if kind == "incidents":
        from atlas.readers import read_incidents
        from atlas.upload_worker import read_incidents_isolated

        if isolate if isolate is not None else read_in_worker(kind, len(data)):
            frame, report, departments = read_incidents_isolated(
                data, filename=name, mapping=mapping or None
            )
        else:
            frame, report = read_incidents(data, filename=name, mapping=mapping or None)
    elif kind == "regions":
        from atlas.regions import read_regions

        frame, report = read_regions(data, filename=name)
    else:
        raise InputError(f"{name}: upload kind {kind!r}; choose incidents or regions")
    return Upload(name=name, sha256=sha, kind=kind, frame=frame, report=report,
                  departments=departments)  # fmt: skip


def report_sentence(report: LoadReport, lang: str) -> str:
    """The LoadReport as one sentence in the reader's language (``LoadReport.summary`` is
    the English one the CLI prints)."""
    from atlas.i18n import fmt_int, t

    counts = dict(name=report.source, read=fmt_int(report.rows_read, lang),
                  kept=fmt_int(report.rows_kept, lang))  # fmt: skip
    if not report.rejected:
        head = t("report_none_left_out", lang, **counts)
    else:
        head = t("report_counts", lang, rejected=fmt_int(report.rows_rejected, lang), **counts)
        parts = []
        for reason, n in report.by_reason().items():
            rows = report.rows_for(reason)
            more = ", …" if n > len(rows) else ""
            parts.append(t("report_reason_rows", lang, n=fmt_int(n, lang),
                           reason=t(f"reason_{reason}", lang),
                           rows=", ".join(str(r) for r in rows) + more))  # fmt: skip
        head += " " + t("report_left_out", lang, n=fmt_int(report.rows_rejected, lang),
                        reasons="; ".join(parts))  # fmt: skip
    return " ".join([head, *report.warnings])


def report_table(report: LoadReport, lang: str = "en") -> pd.DataFrame:
    """Rejected rows by reason: reason text, count, up to five example spreadsheet rows."""
    from atlas.i18n import t

    counts = report.by_reason()
    return pd.DataFrame(
        {
            "reason": [t(f"reason_{r}", lang) for r in counts],
            "rows": list(counts.values()),
            "examples": [
                ", ".join(str(n) for n in report.rows_for(r))
                + (", …" if counts[r] > len(report.rows_for(r)) else "")
                for r in counts
            ],
        }
    )


def rejected_details(report: LoadReport, limit: int = 20, lang: str = "en") -> pd.DataFrame:
    """The first ``limit`` rejected rows with their row number, reason and detail."""
    from atlas.i18n import t

    rows = report.rejected[:limit]
    return pd.DataFrame(
        {
            "row": [r.row for r in rows],
            "reason": [t(f"reason_{r.reason}", lang) for r in rows],
            "detail": [r.detail for r in rows],
        }
    )


def region_layers(regions: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None) -> list[str]:
    """Region layers a reader can pick, in first-seen order (regions, then districts)."""
    names = list(dict.fromkeys(regions["layer"].astype(str)))
    if districts is not None and "layer" in districts.columns:
        names += [n for n in dict.fromkeys(districts["layer"].astype(str)) if n not in names]
    return names


def region_summary(
    incidents: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None,
    spec: MapSpec,
) -> pd.DataFrame:
    """Per-region counts for the regions of ``spec.region_layer`` plus ``spec.region``
    (atlas.spatial.aggregate), without geometry, ready for a CSV download."""
    from atlas.spatial import aggregate

    parts = [
        regions[(regions["layer"] == spec.region_layer) | (regions["region_id"] == spec.region)]
    ]
    if districts is not None and "layer" in districts.columns:
        cols = [c for c in regions.columns if c in districts.columns]
        parts.append(districts.loc[districts["layer"] == spec.region_layer, cols])
    chosen = pd.concat(parts, ignore_index=True).drop_duplicates("region_id")
    chosen = gpd.GeoDataFrame(chosen, geometry="geometry", crs=regions.crs)
    table = pd.DataFrame(aggregate(incidents, chosen).drop(columns="geometry", errors="ignore"))
    if spec.suppress_below > 1:
        from atlas.generalise import suppress_table

        table = suppress_table(table, spec.suppress_below, spec.lang)
    return table


def share_url(base: str, params: dict[str, str]) -> str:
    """The page address with the view's query string (commas kept readable)."""
    query = urlencode(params, safe=",")
    return f"{base}?{query}" if query else (base or "?")


def short_region_name(name: str) -> str:
    """The name before any parenthesis or comma, for running text: "VRAEM (DEVIDA ...),
    approximate outline" -> "VRAEM" (the approximate note is shown separately)."""
    short = name.split(" (")[0].split(",")[0].strip()
    return short or name


def files_fingerprint(paths: list[Path]) -> str:
    """Cache key for shipped files: names, sizes and modification times."""
    h = hashlib.sha256()
    for p in sorted(paths):
        if p.is_file():
            st = p.stat()
            h.update(f"{p}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


__all__ = [
    "STEP_ON_PARAM",
    "STEP_PARAM",
    "STEP_REPORT",
    "K",
    "Upload",
    "carry_step",
    "check_upload_size",
    "files_fingerprint",
    "quick_ranges",
    "read_upload",
    "region_layers",
    "region_summary",
    "rejected_details",
    "report_table",
    "reported_step",
    "share_url",
    "short_region_name",
    "spec_from_params",
    "step_from_params",
]
