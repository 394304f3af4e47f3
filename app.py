"""Conflict Atlas: the Streamlit page. Widgets -> MapSpec -> map + panels + export.

UI only: filtering is atlas.query, drawing is layers.compose, files are layers.export.
Session-state keys are declared once in atlas.ui_state.K. The view is mirrored into the
URL (MapSpec.to_query) so a link restores it; a bad URL value shows a warning and falls
back to the default view. User-driven actions catch AtlasError and show its message.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit_folium import st_folium

from atlas import query
from atlas.catalog import CATALOG
from atlas.data import (
    AtlasData,
    collect_now_and_then,
    compact_incidents,
    is_acled_source,
    load_bundle,
    load_shipped,
    return_freed_memory,
    with_access_date,
    with_incidents,
)
from atlas.errors import AtlasError, FetchError
from atlas.frame import MapView, frame_of
from atlas.generalise import note as generalise_note
from atlas.giveway import give_way, heavy_if, page_run
from atlas.i18n import fmt_date, fmt_int, t
from atlas.periods import default_periods, filter_periods
from atlas.safety import DEFAULT_LIMITS, to_safe_csv
from atlas.schema import EVENT_TYPE_LABELS, EVENT_TYPES, GEO_PRECISIONS
from atlas.spatial import RowDepartments, row_departments
from atlas.spec import (
    BASEMAPS,
    BUCKETS,
    DENSITIES,
    LAYER_NAMES,
    SIZE_PRESETS,
    STEP_MODES,
    MapSpec,
    format_bbox,
)
from atlas.ui_state import (
    STEP_ON_PARAM,
    STEP_PARAM,
    K,
    Upload,
    add_callout,
    carry_step,
    clicked_point,
    files_fingerprint,
    hiding_filters,
    quick_range_for,
    quick_ranges,
    read_in_worker,
    read_upload,
    region_layers,
    region_summary,
    rejected_details,
    report_sentence,
    report_table,
    reported_step,
    share_url,
    short_region_name,
    spec_from_params,
    step_from_params,
    view_from_map,
    widget_key,
)
from front.map_component import MapRenderer
from layers.base import FrameMemo
from layers.timechart import time_chart_html
from layers.timeplayer import steps_key

ROOT = Path(__file__).resolve().parent
GEODATA = ROOT / "geodata"
#: Spec keys with no widget in the page: a link's values are kept and shared on as they are.
CARRIED_KEYS = ("callouts", "suppress_below", "periods", "small_multiples", "font", "title",
                "dek", "notes", "source_line", "byline", "density")  # fmt: skip
#: Safe-location choices in the sidebar (a link's other grid size is offered too).
GENERALISE_CHOICES = ("none", "district", "grid:1", "grid:5", "grid:10", "grid:25")
#: Layers the reader can toggle (the basemap is always drawn; its style is a selectbox).
TOGGLE_LAYERS = ("points", "clusters", "heat", "choropleth", "regions", "coca", "reference")
assert set(TOGGLE_LAYERS) == set(LAYER_NAMES) - {"basemap"}, "a layer has no toggle"
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "geojson", "json", "gpkg", "zip", "kml", "kmz"]
EXPORT_FORMATS = ("png", "svg", "pdf", "html", "gif", "mp4")
MIME = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "html": "text/html",
    "gif": "image/gif",
    "mp4": "video/mp4",
}
#: How long a thread may keep Python's lock while another waits for it (Python's default
#: is 5 ms). One reader's big page (a first 1M-row map) keeps the lock busy for seconds;
#: every other reader's run, which gives the lock up and waits for it again at each
#: message it sends and each lock it takes, waited up to this long each time. Set for
#: the whole server process on every run (the same value).
SWITCH_INTERVAL_S = 0.001
sys.setswitchinterval(SWITCH_INTERVAL_S)
DISTRICTS_ENTRY = "pe-districts-2023"
#: Incident files given at start-up (the app's own copy of the notebook's variable).
INCIDENTS_ENV = "CONFLICT_ATLAS_INCIDENTS"
#: From this many incidents a page run ends by handing its freed temporaries back to the
#: system (atlas.data.return_freed_memory, ~0.15 s at 1M rows, after the page is sent).
TRIM_ROWS = 200_000
#: Words in a FetchError that mean the network could not be reached at all.
_OFFLINE_HINTS = ("ConnectionError", "NameResolution", "Name or service", "timed out",
                  "Connection refused", "Network is unreachable")  # fmt: skip


# ---- cached loaders (hashable keys only) -------------------------------------------------
@st.cache_resource(show_spinner=False, max_entries=2)
def _shipped(fingerprint: str) -> AtlasData:
    """The shipped bundle; ``fingerprint`` (sizes + mtimes of geodata/) is the cache key.
    One copy shared by every session and run (cache_resource: never copied; read only)."""
    return load_shipped()


@st.cache_data(show_spinner=False, max_entries=8)
def _inside(_incidents: gpd.GeoDataFrame, _regions: gpd.GeoDataFrame, key: str, region: str):
    """Which incidents lie inside ``region``; ``key`` names the data version."""
    return query.region_mask(_incidents, _regions, region)


@st.cache_resource(show_spinner=False, max_entries=2)
def _bundle(paths: tuple[str, ...], districts: str | None, fingerprint: str) -> AtlasData:
    """The bundle on the operator's incident files (``CONFLICT_ATLAS_INCIDENTS``) and/or
    fetched exact district boundaries, keyed by their names, sizes and mtimes; read once
    and shared by every session (one copy: cache_resource never copies it; read only)."""
    data = load_bundle(
        incidents=[Path(p) for p in paths],
        districts=Path(districts) if districts else None,
        districts_vintage="2023" if districts else "",
        use_cache=False,
    )
    # repeated text as categoricals: a 1M-row file in a fraction of the memory
    data = dataclasses.replace(data, incidents=compact_incidents(data.incidents))
    return_freed_memory()  # the load's temporaries: ~0.5 GB held by allocators at 1M
    return data


def _base_data() -> tuple[AtlasData, str]:
    """The shipped (or exact-district) bundle and a key naming this data version.

    ``CONFLICT_ATLAS_INCIDENTS`` (files separated by the OS path separator) replaces the
    synthetic sample for every session, like the notebook's variable of the same name.
    """
    districts = st.session_state.get(K.DISTRICTS)
    if districts and not Path(districts).is_file():
        districts = None
    files = tuple(p for p in os.environ.get(INCIDENTS_ENV, "").split(os.pathsep) if p)
    if files or districts:
        paths = [Path(p) for p in files] + ([Path(districts)] if districts else [])
        fp = files_fingerprint(paths)
        return _bundle(files, districts, fp), f"files:{fp}"
    fp = files_fingerprint(list(GEODATA.rglob("*")))
    return _shipped(fp), f"shipped:{fp}"


def _apply_uploads(data: AtlasData, key: str) -> tuple[AtlasData, str, str]:
    """Swap in uploaded incidents and add uploaded region layers the reader chose to use.
    Returns the data, the key naming its version and the key naming everything but its
    incidents (what the base map depends on: app._map_keys)."""
    active = st.session_state[K.UPLOAD_ACTIVE]
    uploads: dict[str, Upload] = st.session_state[K.UPLOADS]
    inc_key = active.get("incidents")
    incidents = ""
    if inc_key and inc_key in uploads:
        up = uploads[inc_key]
        data = with_incidents(data, up.frame, up.report, up.departments)  # credited as theirs
        incidents = f"|{inc_key[:24]}"
    for reg_key in active.get("regions", []):
        if reg_key in uploads:
            up = uploads[reg_key]
            regions = pd.concat([data.regions, up.frame], ignore_index=True)
            data = dataclasses.replace(
                data,
                regions=gpd.GeoDataFrame(regions, geometry="geometry", crs=data.regions.crs),
                reports=[*data.reports, up.report],
            )
            key += f"|{reg_key[:24]}"
    return data, key + incidents, key


@st.cache_resource(show_spinner=False, max_entries=8)
def _row_departments(_data: AtlasData, key: str) -> RowDepartments:
    """Each incident row's department, placed once per data version (``key``) for every
    session (read only)."""
    return row_departments(_data.incidents, _data.departments)


def _with_departments(data: AtlasData, key: str) -> AtlasData:
    """``data`` with each incident row's department (``AtlasData.incident_departments``),
    so the coca layer and table read each view's rows' departments rather than place its
    points at each filter. An upload read in the worker process brought them along;
    otherwise they are placed here, once per data version."""
    if data.incident_departments is not None or data.departments is None:
        return data
    return dataclasses.replace(data, incident_departments=_row_departments(data, key))


# ---- state ----------------------------------------------------------------------------------
def _date_bounds(data: AtlasData) -> tuple[dt.date, dt.date]:
    """The incidents' first and last day (read a few times per page run: worked out once
    per incident frame, ~40 ms each time at 1M rows)."""
    inc = data.incidents
    if inc is None or inc.empty:
        today = dt.date.today()
        return today.replace(year=today.year - 1), today

    def bounds() -> tuple[dt.date, dt.date]:
        start = pd.to_datetime(inc["date_start"])
        end = pd.to_datetime(inc["date_end"]).fillna(start)
        return start.min().date(), end.max().date()

    return _BOUNDS.get((inc,), "", bounds)


_BOUNDS = FrameMemo(size=8)


def _init_state(data: AtlasData) -> None:
    """First run of a session: read the URL into the widgets (once)."""
    ss = st.session_state
    ss.setdefault(K.UPLOADS, {})
    ss.setdefault(K.UPLOAD_ACTIVE, {"incidents": None, "regions": []})
    ss.setdefault(K.EXPORT, None)
    ss.setdefault(K.DISTRICTS, None)
    if ss.get(K.INIT):
        return
    params = st.query_params.to_dict()
    spec, error = spec_from_params(params)
    ss[K.URL_ERROR] = error
    dmin, dmax = _date_bounds(data)
    ss[K.LANG] = spec.lang
    ss[K.DATES] = (spec.date_from or dmin, spec.date_to or dmax)
    ss[K.QUICK] = quick_range_for(spec.date_from, spec.date_to, dmin, dmax)
    ss[K.BUCKET] = spec.bucket
    ss[K.TYPES] = list(spec.event_types)
    ss[K.ACTOR] = spec.actor
    ss[K.MIN_FAT] = spec.min_fatalities
    ss[K.DATASETS] = list(spec.datasets)
    ss[K.PRECISIONS] = list(spec.precisions)
    for name in TOGGLE_LAYERS:
        ss[f"{K.LAYERS}_{name}"] = name in spec.layers
    ss[K.METRIC] = spec.metric
    ss[K.BASEMAP] = spec.basemap
    ss[K.COCA_YEAR] = spec.coca_year or 0  # 0: the latest year with figures
    ss[K.STEP_MODE] = spec.step_mode
    ss[K.GENERALISE] = spec.generalise
    step = step_from_params(params) if error is None else None
    ss[K.STEP_ON] = error is None and params.get(STEP_ON_PARAM) == "1"
    ss[K.STEP] = step if step is not None else 0
    ss[K.STEP_STEPS] = None  # the link's step counts in the link's own steps
    ss[K.REGION_LAYER] = spec.region_layer
    ss[K.REGION] = spec.region
    ss[K.FRAME] = (spec.bbox, spec.focus)  # the link's frame, until the reader moves the map
    # settings the sidebar has no widget for yet travel on from the link unchanged
    ss[K.CARRIED] = {name: getattr(spec, name) for name in CARRIED_KEYS}
    ss[K.LINK_DATASETS] = list(spec.datasets)  # a link never carries the data itself
    ss[K.VIEW] = None  # MapView once the reader has panned or zoomed
    _init_compare(spec, dmin, dmax)
    ss[K.INIT] = True


def _clamp_state(data: AtlasData) -> None:
    """Keep widget values valid for the data now loaded (an upload can change the range)."""
    ss = st.session_state
    dmin, dmax = _date_bounds(data)
    dates = ss.get(K.DATES) or (dmin, dmax)
    before, ss[K.DATE_BOUNDS] = ss.get(K.DATE_BOUNDS), (dmin, dmax)
    if before is not None and before != (dmin, dmax) and tuple(dates) == tuple(before):
        # the whole period of the old data stays the whole period of the new: an upload
        # reaching back to 2010 must not keep the sample's 2018 start and hide its years
        dates = (dmin, dmax)
    if len(dates) == 2:
        lo = min(max(dates[0], dmin), dmax)
        hi = min(max(dates[1], lo), dmax)
        ss[K.DATES] = (lo, hi)
    available = _datasets(data)
    ss[K.DATASETS] = [d for d in ss.get(K.DATASETS, []) if d in available]
    if ss.get(K.PENDING_LAYER):  # set by "use this data" for an uploaded region file
        ss[K.REGION_LAYER] = ss.pop(K.PENDING_LAYER)
    layers = region_layers(data.regions, data.districts)
    if ss.get(K.REGION_LAYER) not in layers:
        ss[K.REGION_LAYER] = "vraem" if "vraem" in layers else (layers[0] if layers else "vraem")
    ids = data.regions["region_id"].astype(str).unique().tolist()
    if ss.get(K.REGION) not in ids:
        ss[K.REGION] = "vraem-devida" if "vraem-devida" in ids else (ids[0] if ids else "")


def _coca_years(data: AtlasData) -> list[int]:
    """Years with department coca figures (the coca layer's year choice)."""
    from layers.coca import department_rows

    rows = department_rows(data.coca)
    return sorted({int(y) for y in pd.to_numeric(rows["year"], errors="coerce").dropna()})


@st.cache_data(show_spinner=False, max_entries=16)
def _coca_table(_view: AtlasData, key: str) -> pd.DataFrame:
    """The coca panel's table, once per filter state ``key`` (a 1M join otherwise)."""
    from layers.coca import incidents_per_1000_ha

    return incidents_per_1000_ha(_view)


def _lazy_panel(label: str, key: str) -> Any:
    """A folded panel whose content is made only while it is open (``on_change="rerun"``
    tracks its state; opening it reruns the page), else None. A first page then carries
    none of the panels' tables and forms, nor the scripts that draw them, which competed
    with the map for the browser's one main thread."""
    box = st.expander(label, key=key, on_change="rerun")
    return box if box.open else None


def _coca_panel(view: AtlasData, lang: str, key: str) -> None:
    """Incidents per 1,000 ha of coca by department and year, with its caveat."""
    box = _lazy_panel(t("coca_panel_title", lang), K.COCA_OPEN)
    if box is None:  # made only while open (the table is a join of every incident)
        return
    table = _coca_table(view, key)
    with box:
        if table.empty:
            st.caption(t("no_match", lang))
            return
        st.caption(t("coca_panel_caveat", lang))
        shown = table.rename(columns={
            "ubigeo": "ubigeo", "name": t("coca_col_department", lang),
            "year": t("coca_col_year", lang), "incidents": t("incidents", lang),
            "hectares": t("coca_col_hectares", lang),
            "incidents_per_1000ha": t("coca_col_per_1000ha", lang)})  # fmt: skip
        st.dataframe(shown, hide_index=True, width="stretch",
                     column_config={t("coca_col_per_1000ha", lang): st.column_config.NumberColumn(
                         format="%.2f")})  # fmt: skip


def _facts_inputs(data: AtlasData) -> list[tuple[str, str]]:
    """(file name, SHA-256) of the incident files shown: the reader's upload, else the
    operator's files; [] for the shipped sample (layers.facts hashes it)."""
    active = st.session_state[K.UPLOAD_ACTIVE].get("incidents")
    uploads: dict[str, Upload] = st.session_state[K.UPLOADS]
    if active and active in uploads:
        digest = active.split(":")[1] if ":" in active else "?"
        return [(uploads[active].name, digest)]
    files = [Path(p) for p in os.environ.get(INCIDENTS_ENV, "").split(os.pathsep) if p]
    return [(p.name, _file_sha256(str(p), p.stat().st_mtime_ns)) for p in files if p.is_file()]


@functools.lru_cache(maxsize=16)
def _file_sha256(path: str, _mtime_ns: int) -> str:
    from atlas.fetch import sha256_of

    return sha256_of(Path(path))


def _facts_panel(spec: MapSpec, data: AtlasData, lang: str) -> None:
    """Numbers for the article (layers.facts): made when the reader asks for them."""
    with st.expander(t("facts_title", lang)):
        st.caption(t("facts_intro", lang))
        if not st.toggle(t("facts_show", lang), key="atlas_facts_on"):
            return
        from layers.facts import article_facts

        try:
            facts = article_facts(spec, data, inputs=_facts_inputs(data))
        except AtlasError as exc:
            st.error(str(exc))
            return
        text = facts.markdown()
        st.markdown(text)
        st.code(text, language="markdown", wrap_lines=True)
        c1, c2 = st.columns(2)
        c1.download_button(t("facts_dl_md", lang), text, "numbers.md", "text/markdown",
                           on_click="ignore")  # fmt: skip
        c2.download_button(t("facts_dl_json", lang), facts.to_json(), "numbers.json",
                           "application/json", on_click="ignore")  # fmt: skip


def _datasets(data: AtlasData) -> list[str]:
    inc = data.incidents
    if inc is None or inc.empty:
        return []
    return sorted({str(v) for v in inc["dataset"].dropna().unique()})  # not per row


def _on_quick() -> None:
    choice = st.session_state[_w(K.QUICK)]
    ranges = st.session_state.get("_quick_ranges", {})
    if ranges.get(choice):
        st.session_state[_w(K.DATES)] = ranges[choice]


#: Layers that draw the same incidents two ways: switching one on switches the other off.
EXCLUSIVE_LAYERS = {"points": "clusters", "clusters": "points"}


def _on_layer(name: str) -> None:
    other = EXCLUSIVE_LAYERS.get(name)
    if other and st.session_state[_w(f"{K.LAYERS}_{name}")]:
        st.session_state[_w(f"{K.LAYERS}_{other}")] = False


def _on_reset() -> None:
    """Every filter back to its default (layers, language and the view stay)."""
    ss = st.session_state
    default = MapSpec()
    dmin, dmax = ss.get("_date_bounds", (None, None))
    values = {
        K.QUICK: "all", K.DATES: (dmin, dmax), K.TYPES: [], K.ACTOR: "", K.MIN_FAT: 0,
        K.DATASETS: [], K.PRECISIONS: list(default.precisions),
    }  # fmt: skip
    for name, value in values.items():
        if name == K.DATES and dmin is None:
            continue
        ss[name] = value
        ss[_w(name)] = value


def _on_dates() -> None:
    st.session_state[_w(K.QUICK)] = "custom"


# ---- widgets that follow the language --------------------------------------------------------
# A widget's labels change with the language; Streamlit keeps a keyed widget's identity
# across label changes and its frontend then shows the old language's labels (and, for
# some widgets, loses the value). So each such widget is drawn under a per-language key
# (K.TYPES -> "w_types@es") and its value lives in the language-free key: copied in
# after the reader changes a widget, copied out before the widgets are drawn.
def _bound() -> tuple[str, ...]:
    return (K.QUICK, K.DATES, K.BUCKET, K.TYPES, K.ACTOR, K.MIN_FAT, K.DATASETS,
            K.PRECISIONS, *(f"{K.LAYERS}_{n}" for n in TOGGLE_LAYERS), K.METRIC,
            K.REGION_LAYER, K.REGION, K.BASEMAP, K.COCA_YEAR, K.STEP_ON,
            K.STEP_MODE, K.GENERALISE, K.COMPARE, K.PERIOD_A, K.PERIOD_B)  # fmt: skip


def _w(name: str) -> str:
    """The key ``name``'s widget is drawn under in the language of the drawn widgets."""
    return widget_key(name, st.session_state.get(K.WIDGET_LANG) or st.session_state[K.LANG])


def _sync_in(names: tuple[str, ...] | None = None) -> None:
    """Copy the values the reader set in the drawn widgets into the language-free keys."""
    ss = st.session_state
    last = ss.get(K.WIDGET_LANG)
    if not last:
        return
    for name in names or _bound():
        key = widget_key(name, last)
        if key in ss:
            if names is None and name in ss and ss[name] != ss[key]:
                ss[K.SIDEBAR_CHANGED] = True
            ss[name] = ss[key]


def _close_sidebar_on_phone() -> None:
    """On a narrow screen the sidebar covers the page: after the reader changes a filter
    there, fold it so the map shows the answer (our own script, no data in it)."""
    st.html(
        "<script>(function(){if(window.innerWidth>=640)return;"
        "var b=document.querySelector('[data-testid=stSidebar] "
        "[data-testid=stSidebarCollapseButton] button');"
        "if(b&&document.querySelector('[data-testid=stSidebar][data-collapsed=false]'))"
        "{b.click();}})();</script>",
        unsafe_allow_javascript=True,
    )


def _sync_out() -> None:
    """Give this run's widgets (in this run's language) the language-free values."""
    ss = st.session_state
    ss[K.WIDGET_LANG] = ss[K.LANG]
    for name in _bound():
        if name in ss:
            ss[widget_key(name, ss[K.LANG])] = ss[name]


def _set(name: str, value: object) -> None:
    """Set a bound value before its widget is drawn in this run."""
    st.session_state[name] = value
    st.session_state[_w(name)] = value


# ---- sidebar ----------------------------------------------------------------------------
def _sidebar(data: AtlasData) -> tuple[MapSpec, str | None]:
    """All filter and layer widgets; returns the spec they describe, framed on the
    recorded view (or, before the reader moves the map, on the link's frame)."""
    ss = st.session_state
    sb = st.sidebar
    sb.radio(
        "Language / Idioma",
        options=["en", "es"],
        key=K.LANG,
        horizontal=True,
        format_func=lambda v: {"en": "English", "es": "Español"}[v],
    )
    lang = ss[K.LANG]
    sb.header(t("filters", lang))
    sb.button(t("reset_filters", lang), on_click=_on_reset, key="reset_filters",
              help=t("reset_filters_help", lang))  # fmt: skip

    dmin, dmax = _date_bounds(data)
    ss["_date_bounds"] = (dmin, dmax)
    ranges = quick_ranges(dmin, dmax)
    ss["_quick_ranges"] = ranges
    if ss.get(K.QUICK) not in ranges:
        _set(K.QUICK, "custom")

    def quick_label(key: str) -> str:
        if key.startswith("y"):
            return t("quick_year", lang, year=key[1:])
        return t(f"quick_{key}", lang)

    sb.selectbox(t("quick_range", lang), list(ranges), key=_w(K.QUICK), format_func=quick_label,
                 on_change=_on_quick)  # fmt: skip
    sb.date_input(
        t("date_range", lang),
        key=_w(K.DATES),
        min_value=dmin,
        max_value=dmax,
        help=t("date_range_help", lang),
        on_change=_on_dates,
        format="DD/MM/YYYY" if lang == "es" else "YYYY-MM-DD",
    )
    dates = ss[K.DATES]
    if not isinstance(dates, tuple | list) or len(dates) != 2:  # mid-selection: one day
        dates = (dates[0], dates[0]) if isinstance(dates, tuple | list) and dates else (dmin, dmax)
    date_from, date_to = dates
    if (date_from, date_to) == (dmin, dmax):
        date_from = date_to = None  # "all": the URL stays valid for other data
    _compare_controls(lang, dmin, dmax)

    sb.selectbox(t("bucket", lang), BUCKETS, key=_w(K.BUCKET),
                 format_func=lambda b: t(f"bucket_{b}", lang))  # fmt: skip
    sb.multiselect(t("event_types", lang), EVENT_TYPES, key=_w(K.TYPES),
                   format_func=lambda e: EVENT_TYPE_LABELS[e][lang],
                   help=t("event_types_help", lang), placeholder=t("all", lang))  # fmt: skip
    sb.text_input(t("actor", lang), key=_w(K.ACTOR), max_chars=100, help=t("actor_help", lang))
    sb.number_input(t("min_fatalities", lang), min_value=0, max_value=100_000, step=1,
                    key=_w(K.MIN_FAT))  # fmt: skip
    sb.multiselect(t("datasets", lang), _datasets(data), key=_w(K.DATASETS),
                   help=t("event_types_help", lang), placeholder=t("all", lang))  # fmt: skip
    sb.multiselect(t("precisions", lang), GEO_PRECISIONS, key=_w(K.PRECISIONS),
                   format_func=lambda p: t(f"precision_{p}", lang),
                   help=t("precisions_help", lang), placeholder=t("none", lang))  # fmt: skip

    sb.header(t("layers", lang))
    for name in TOGGLE_LAYERS:
        sb.checkbox(t(f"layer_{name}", lang), key=_w(f"{K.LAYERS}_{name}"),
                    on_change=_on_layer, args=(name,))  # fmt: skip
    if ss[f"{K.LAYERS}_choropleth"]:
        sb.radio(t("metric", lang), ("count", "per_area"), key=_w(K.METRIC), horizontal=True,
                 format_func=lambda m: t(f"metric_{m}", lang))  # fmt: skip
    names = dict(zip(data.regions["region_id"].astype(str), data.regions["name"].astype(str),
                     strict=True))  # fmt: skip
    sb.selectbox(t("region_layer", lang), region_layers(data.regions, data.districts),
                 key=_w(K.REGION_LAYER))  # fmt: skip
    sb.selectbox(t("region", lang), list(names), key=_w(K.REGION),
                 format_func=lambda r: names.get(r, r))  # fmt: skip
    coca_years = _coca_years(data)
    if ss[f"{K.LAYERS}_coca"] and coca_years:
        if ss.get(K.COCA_YEAR) not in (0, *coca_years):
            _set(K.COCA_YEAR, 0)
        sb.selectbox(t("coca_year", lang), [0, *coca_years], key=_w(K.COCA_YEAR),
                     format_func=lambda y: t("coca_year_latest", lang, year=coca_years[-1])
                     if y == 0 else str(y))  # fmt: skip
    _generalise_control(lang)
    sb.selectbox(t("basemap", lang), BASEMAPS, key=_w(K.BASEMAP),
                 format_func=lambda b: t(f"basemap_{b}", lang))  # fmt: skip
    if ss[K.BASEMAP] != "outlines":
        sb.caption(t("tiles_note", lang))

    on = {"basemap", *(n for n in TOGGLE_LAYERS if ss[f"{K.LAYERS}_{n}"])}
    layers = tuple(n for n in LAYER_NAMES if n in on)  # draw order
    try:
        spec = MapSpec(
            date_from=date_from,
            date_to=date_to,
            event_types=tuple(ss[K.TYPES]),
            actor=str(ss[K.ACTOR])[:100],
            min_fatalities=int(ss[K.MIN_FAT]),
            datasets=tuple(ss[K.DATASETS]),
            precisions=tuple(ss[K.PRECISIONS]),
            layers=layers,
            metric=ss.get(K.METRIC, "count"),
            region=str(ss[K.REGION])[:200],
            region_layer=str(ss[K.REGION_LAYER])[:200],
            bucket=ss[K.BUCKET],
            step_mode=ss.get(K.STEP_MODE, "cumulative"),
            basemap=ss[K.BASEMAP],
            coca_year=ss.get(K.COCA_YEAR) or None,
            generalise=ss.get(K.GENERALISE, "none"),
            bbox=_recorded_bbox(),
            focus=ss[K.FRAME][1],
            **ss.get(K.CARRIED, {}),
            lang=lang,
        )
        return spec, None
    except AtlasError as exc:
        return MapSpec(lang=lang), str(exc)


def _generalise_control(lang: str) -> None:
    """Safe locations: every map, download and export shows generalised places."""
    ss = st.session_state
    choices = list(GENERALISE_CHOICES)
    if ss.get(K.GENERALISE, "none") not in choices:  # a link's own grid size
        choices.append(ss[K.GENERALISE])

    def label(value: str) -> str:
        if value.startswith("grid:"):
            return t("generalise_grid", lang, km=value[5:])
        return t(f"generalise_{value}", lang)

    st.sidebar.selectbox(t("generalise", lang), choices, key=_w(K.GENERALISE),
                         format_func=label, help=t("generalise_help", lang))  # fmt: skip


# ---- main panels ----------------------------------------------------------------------------
def _counts_line(summary: query.FilterSummary, lang: str, region_name: str) -> str:
    if summary.inside_region is None:
        return t("counts_no_region", lang, incidents=fmt_int(summary.incidents, lang),
                 deaths=fmt_int(summary.deaths, lang))  # fmt: skip
    return t(
        "counts",
        lang,
        incidents=fmt_int(summary.incidents, lang),
        deaths=fmt_int(summary.deaths, lang),
        inside=fmt_int(summary.inside_region, lang),
        region=region_name,
    )


def _region_name(data: AtlasData, region_id: str) -> str:
    rows = data.regions[data.regions["region_id"].astype(str) == region_id]
    return short_region_name(str(rows["name"].iloc[0])) if len(rows) else region_id


def _step_controls(spec: MapSpec, lang: str, dmin: dt.date, dmax: dt.date
                   ) -> tuple[list[tuple[dt.date, dt.date]], int] | None:  # fmt: skip
    """Through time: the switch and the step mode. The stepping and playing happen in the
    browser (the map's own player, layers/timeplayer.py); this returns its steps and the
    step it opens on, or None when the switch is off. The step is the link's, then where
    the reader last stopped the player (the map fragment records it); when the dates,
    quick range or time step change the steps, the new step holding the old one's first
    day (``ui_state.carry_step``)."""
    ss = st.session_state
    c1, c2 = st.columns([2, 3], vertical_alignment="center")
    on = c1.toggle(t("step_on", lang), key=_w(K.STEP_ON))
    ss[K.STEP_ON] = on
    if not on:
        return None
    c2.radio(t("step_mode", lang), STEP_MODES, key=_w(K.STEP_MODE), horizontal=True,
             format_func=lambda m: t(f"step_{m}", lang))  # fmt: skip
    if isinstance(ss.get(K.STEP_STEPS), list):  # a report that came with this page run
        _record_step(ss.get(K.MAP), ss[K.STEP_STEPS])
    all_steps = query.steps(spec.date_from or dmin, spec.date_to or dmax, spec.bucket)
    index = ss[K.STEP] = carry_step(ss.get(K.STEP_STEPS), ss.get(K.STEP), all_steps)
    ss[K.STEP_STEPS] = all_steps
    st.caption(t("step_player_note", lang))
    return all_steps, index


def _chart(drawn: gpd.GeoDataFrame, spec: MapSpec, lang: str, region_name: str,
           dmin: dt.date, dmax: dt.date, key: str) -> None:  # fmt: skip
    """Incidents and deaths per bucket, inside vs outside the region: an inline SVG
    (layers.timechart), made once per filter state ``key`` for every session."""
    bucket_word = t(f"bucket_{spec.bucket}", lang).lower()
    st.markdown(f"**{t('chart_title', lang, bucket=bucket_word, region=region_name)}**")
    chart = _shared_chart(key, lang, dmin, dmax, drawn, spec)
    if chart is None:
        st.caption(t("no_match", lang))
        return
    st.markdown(chart, unsafe_allow_html=True)


@st.cache_data(show_spinner=False, max_entries=32)
def _shared_chart(key: str, lang: str, dmin: dt.date, dmax: dt.date,
                  _drawn: gpd.GeoDataFrame, _spec: MapSpec) -> str | None:  # fmt: skip
    """The chart's HTML for one filter state: ``key`` (app._map_keys) names the spec's
    content and the data version, so a new reader's first page does not draw it again."""
    ts = query.time_series(
        _drawn, _drawn["inside_region"], _spec.bucket,
        date_from=_spec.date_from or dmin, date_to=_spec.date_to or dmax,
    )  # fmt: skip
    give_way()  # between the counting and the drawing (a heavy run: atlas.giveway)
    return time_chart_html(ts, _spec.bucket, lang)


def _recorded_bbox() -> tuple[float, float, float, float] | None:
    """The view's bounds: what the reader has on screen, else the link's bbox (or None:
    the focus region frames the map)."""
    view: MapView | None = st.session_state.get(K.VIEW)
    return view.bbox if view is not None else st.session_state[K.FRAME][0]


def _map_keys(spec: MapSpec, data_key: str, context_key: str) -> tuple[str, str]:
    """(base key, layers key): what the base map and what its layer groups show, without
    where the map looks or the player's step (the chart and coca panel key on it; the
    groups' own keys carry the player). The same base key keeps the same map component.

    The base (places, rivers, boundaries: no incidents) is keyed by ``context_key``, the
    data version without its incidents: putting an uploaded incident file in use swaps
    the incident layers inside the map the reader has, at the view they had, instead of
    building, sending and drawing a whole new map (at 1M rows that redraw was the slowest
    part of the first page, for the server and for the browser)."""
    content = spec.replace(bbox=None, title="", dek="", notes="", source_line="", byline="")
    layers = hashlib.sha256(f"{content.to_json()}|{data_key}".encode()).hexdigest()
    return f"{spec.basemap}|{context_key}", layers


@st.fragment
def _map_fragment(spec: MapSpec, view: AtlasData, lang: str, keys: tuple[str, str],
                  player: tuple[list[tuple[dt.date, dt.date]], int] | None) -> None:  # fmt: skip
    """The map and the share link.

    The map is a base (kept for the session while the basemap and data version stay) and
    layer groups that the streamlit-folium component swaps inside the same map. The
    session's :class:`MapRenderer` keeps each part rendered: a filter change re-renders the
    groups that read the incidents (``layers.compose.plan_groups``), a pan re-renders
    nothing; this fragment then records the view (session state and the URL's bbox). The
    component stays, hence the reader's view.
    """
    with page_run():  # a run of its own when the map alone reruns (atlas.giveway)
        heavy_if(len(view.incidents) if view.incidents is not None else 0)
        _map_body(spec, view, lang, keys, player)


def _map_body(spec: MapSpec, view: AtlasData, lang: str, keys: tuple[str, str],
              player: tuple[list[tuple[dt.date, dt.date]], int] | None) -> None:  # fmt: skip
    from layers.compose import INCIDENT_GROUPS, build_base, build_group, plan_groups
    from layers.hexbins import incident_view, view_key

    ss = st.session_state
    ss[K.MAP_RUNS] = ss.get(K.MAP_RUNS, 0) + 1
    if player is not None:  # first: a run the reader starts next must not lose it
        _record_step(ss.get(K.MAP), player[0])
    base_key, data_key = keys
    renderer = ss.get(K.MAP_CACHE)
    if not isinstance(renderer, MapRenderer):
        renderer = ss[K.MAP_CACHE] = MapRenderer(key=K.MAP)
    # incidents as points, or as hexagons when the recorded view holds too many
    shown = incident_view(spec, view, ss.get(K.VIEW))
    give_way()
    plans = [
        (f"{plan.key}|{view_key(shown)}" if plan.name in INCIDENT_GROUPS else plan.key,
         functools.partial(build_group, plan.name, spec, shown, assets="local", player=player))
        for plan in plan_groups(spec, data_key, player, changes=view.changes is not None)
    ]  # fmt: skip
    try:
        first_view = ss.get(K.VIEW)
        renderer.set_base(base_key, lambda: build_base(spec, view, assets="local",
                                                       view=first_view),
                          # no recorded view: the base fits the frame, which may
                          # follow the incidents (the base key does not name them)
                          shared_key=repr((base_key, first_view, spec.bbox, spec.focus,
                                           spec.lang, spec.region,
                                           frame_of(spec, view) if first_view is None
                                           else None)))  # fmt: skip
        out = renderer.draw(plans, height=620)
    except AtlasError as exc:
        st.error(t("map_failed", lang, error=exc))
        return
    moved = view_from_map(out)
    if moved is not None and moved != ss.get(K.VIEW):
        ss[K.VIEW] = moved
        st.query_params["bbox"] = format_bbox(moved.bbox)
        for old in ("center", "zoom"):  # a version-1 link, now converted
            if old in st.query_params:
                del st.query_params[old]
        if view_key(incident_view(spec, view, moved)) != view_key(shown):
            _rerun_map()  # the new view needs other points or hexagons
    _callout_panel(out, lang)
    _share_panel(lang)


def _record_step(out: object, steps: list[tuple[dt.date, dt.date]]) -> None:
    """Where the reader stopped the map's player (it reports pauses and steps, not frames):
    into session state and the URL's ``step``, which the player has already written into
    the address bar. Reads the component's value as its change callback left it (before
    this run draws anything). Called by the map fragment (a report reruns only it) and,
    before the steps are worked out, by a page run a widget started at the same moment."""
    ss = st.session_state
    report = reported_step(out, steps_key(steps))
    if report is None or report[1] == ss.get(K.STEP_SEEN):
        return  # nothing new (the component repeats its last value on every run)
    ss[K.STEP_SEEN] = report[1]
    if report[0] >= len(steps) or ss.get(K.STEP_STEPS) != steps:
        return
    ss[K.STEP] = report[0]
    if st.query_params.get(STEP_PARAM) != str(report[0]):
        st.query_params[STEP_PARAM] = str(report[0])


def _rerun_map() -> None:
    """Run the map fragment again (the whole page if this run is the page's)."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()


def _callout_panel(out: object, lang: str) -> None:
    """Click the map, type the text, add: a callout in the spec (carried like the other
    settings without a sidebar widget, so the link, the exports and the map show it)."""
    ss = st.session_state
    carried = ss.get(K.CARRIED, {})
    with st.expander(t("callouts_title", lang), expanded=bool(ss.get(K.CALLOUT_MODE))):
        st.toggle(t("callout_mode", lang), key=K.CALLOUT_MODE)
        click = clicked_point(out)
        if click != ss.get(K.CALLOUT_SEEN):  # a new click (the map repeats the last one)
            ss[K.CALLOUT_SEEN] = click
            if click is not None and ss.get(K.CALLOUT_MODE):
                ss[K.CALLOUT_AT] = click
        at = ss.get(K.CALLOUT_AT)
        if ss.get(K.CALLOUT_MODE):
            if at is None:
                st.caption(t("callout_click", lang))
            else:
                st.caption(t("callout_at", lang, lat=f"{at[1]:.4f}", lon=f"{at[0]:.4f}"))
                with st.form("atlas_callout_form", clear_on_submit=True, border=False):
                    text = st.text_input(t("callout_text", lang), key=K.CALLOUT_TEXT,
                                         max_chars=200)  # fmt: skip
                    if st.form_submit_button(t("callout_add", lang)):
                        try:
                            ss[K.CARRIED] = add_callout(carried, text, at)
                        except AtlasError as exc:
                            st.error(str(exc))
                        else:
                            ss[K.CALLOUT_AT] = None
                            st.rerun()
        for i, c in enumerate(carried.get("callouts", ())):
            left, right = st.columns([5, 1])
            left.text(c.text)  # st.text: shown as typed, never as markdown or HTML
            if right.button(t("callout_remove", lang), key=f"atlas_callout_rm_{i}"):
                rest = tuple(x for j, x in enumerate(carried["callouts"]) if j != i)
                ss[K.CARRIED] = {**carried, "callouts": rest}
                st.rerun()


def _upload_panel(lang: str) -> None:
    """Upload, show the LoadReport, and only then offer to use the data."""
    ss = st.session_state
    mb = DEFAULT_LIMITS.max_bytes // 2**20
    with st.expander(t("upload_title", lang)):
        kind = st.radio(t("upload_kind", lang), ("incidents", "regions"), key=K.UPLOAD_KIND,
                        format_func=lambda k: t(f"upload_{k}", lang))  # fmt: skip
        file = st.file_uploader(t("upload_file", lang), type=UPLOAD_TYPES, key=K.UPLOAD_FILE,
                                help=t("upload_help", lang, mb=mb))  # fmt: skip
        active = ss[K.UPLOAD_ACTIVE]
        if active.get("incidents") or active.get("regions"):
            if st.button(t("remove_upload", lang)):
                ss[K.UPLOAD_ACTIVE] = {"incidents": None, "regions": []}
                st.rerun()
        if file is None:
            return
        data = file.getvalue()
        # the uploader hands the same file to every run of this page: hash it once
        # (a 80 MB file took ~0.2 s of a core at each run), by Streamlit's id of the upload
        known = ss.get(K.UPLOAD_DIGEST)
        if known is not None and known[0] == file.file_id and known[1] == len(data):
            digest = known[2]
        else:
            digest = hashlib.sha256(data).hexdigest()
            ss[K.UPLOAD_DIGEST] = (file.file_id, len(data), digest)
        mapping = ss.get(K.UPLOAD_MAPPING, {}).get(digest) if kind == "incidents" else None
        key = f"{kind}:{digest}" + (f":{sorted(mapping.items())}" if mapping else "")
        upload = ss[K.UPLOADS].get(key)
        if upload is None:
            try:
                upload = read_upload(file.name, data, kind, DEFAULT_LIMITS.max_bytes, mapping,
                                     sha256=digest)  # fmt: skip
            except AtlasError as exc:
                columns = getattr(exc, "columns", None)
                if columns:
                    _column_picker(digest, columns, lang)
                else:
                    st.error(str(exc))
                return
            ss[K.UPLOADS][key] = upload
            # the parse's temporaries, back to the system; a file read in the worker process
            # left only buffers here, which need no (whole-server) garbage collection
            return_freed_memory(collect=not read_in_worker(kind, len(data)))
        show_report(upload.report, lang)
        if upload.report.rows_kept == 0:
            st.warning(t("nothing_kept", lang, name=upload.name))
            return
        in_use = (
            active.get("incidents") == key
            if kind == "incidents"
            else key in active.get("regions", [])
        )
        if in_use:
            st.success(t("in_use", lang, name=upload.name, kept=fmt_int(upload.report.rows_kept,
                                                                         lang)))  # fmt: skip
        elif st.button(t("use_data", lang), type="primary", key="use_upload"):
            if kind == "incidents":
                ss[K.UPLOAD_ACTIVE] = {**active, "incidents": key}
            else:
                ss[K.UPLOAD_ACTIVE] = {**active, "regions": [*active.get("regions", []), key]}
                ss[K.PENDING_LAYER] = str(upload.frame["layer"].iloc[0])
            st.rerun()


def _changes(data: AtlasData, spec: MapSpec, data_key: str):
    """The diff against the second version the reader uploaded (None without one) and the
    changes the map draws (filtered by the spec and generalised with it)."""
    from atlas.diff import changes_points, check_ids, diff_incidents

    ss = st.session_state
    other = ss.get(K.CHANGES)
    if other is None:
        return None, None
    memo_key = (other.sha256, data_key, spec.replace(bbox=None, title="", dek="").to_json())
    memo = ss.get(K.CHANGES_MEMO)
    if memo is not None and memo[0] == memo_key:
        return memo[1], memo[2]
    try:
        kinds = {r.kind for r in data.reports if r.kind in ("acled", "ucdp", "table", "vector")}
        if kinds and other.report.kind not in kinds:
            raise AtlasError(t("changes_sources", spec.lang, old=", ".join(sorted(kinds)),
                               new=other.report.kind))  # fmt: skip
        check_ids(other.frame, other.report, other.name)
        changes, totals = diff_incidents(data.incidents, other.frame, spec, data.regions)
    except AtlasError as exc:
        st.session_state[K.CHANGES] = None
        st.error(str(exc))
        return None, None
    result = ((changes, totals), changes_points(changes, spec, data.districts))
    ss[K.CHANGES_MEMO] = (memo_key, *result)
    return result


def _changes_panel(diff, data: AtlasData, lang: str) -> None:
    """Upload a second version of the incident file; counts, lines and the table."""
    from atlas.diff import DiffResult, VersionInfo

    ss = st.session_state
    with st.expander(t("changes_title", lang), expanded=diff is not None):
        st.caption(t("changes_intro", lang))
        file = st.file_uploader(t("changes_file", lang), type=UPLOAD_TYPES, key=K.CHANGES_FILE)
        if file is not None and (ss.get(K.CHANGES) is None
                                 or ss[K.CHANGES].sha256 != hashlib.sha256(file.getvalue()).hexdigest()):  # fmt: skip
            try:
                ss[K.CHANGES] = read_upload(file.name, file.getvalue(), "incidents",
                                            DEFAULT_LIMITS.max_bytes)  # fmt: skip
            except AtlasError as exc:
                st.error(str(exc))
                return
            st.rerun()
        if diff is None:
            return
        other = ss[K.CHANGES]
        changes, totals = diff
        blank = VersionInfo("", "", "", "", 0, 0, "", "")
        result = DiffResult(blank, dataclasses.replace(blank, name=other.name,
                            sha256=other.sha256), changes, totals)  # fmt: skip
        counts = {k: fmt_int(v, lang) for k, v in result.counts().items()}
        st.markdown(t("changes_counts", lang, **counts))
        names = dict(zip(data.regions["region_id"].astype(str),
                         data.regions["name"].astype(str).map(short_region_name), strict=True))  # fmt: skip
        for line in result.lines(lang, names):
            st.markdown(f"- {line}")
        st.caption(t("changes_hashes", lang, old=_loaded_sha(data), new=other.sha256))
        dmin, dmax = _date_bounds(data)
        start = pd.to_datetime(other.frame["date_start"])
        end = pd.to_datetime(other.frame["date_end"]).fillna(start)
        if len(start) and (start.min().date() < dmin or end.max().date() > dmax):
            # the date widget's range comes from the loaded file: say what it cannot reach
            st.warning(t("changes_dates", lang, start=fmt_date(start.min().date(), lang),
                         end=fmt_date(end.max().date(), lang), lo=fmt_date(dmin, lang),
                         hi=fmt_date(dmax, lang)))  # fmt: skip
        shown = changes[changes["status"] != "unchanged"]
        st.dataframe(shown.drop(columns=["lon_old", "lon_new", "lat_old", "lat_new"]),
                     hide_index=True, width="stretch")  # fmt: skip
        c1, c2 = st.columns(2)
        c1.download_button(t("changes_download", lang), to_safe_csv(shown), "changes.csv",
                           "text/csv", on_click="ignore")  # fmt: skip
        if c2.button(t("changes_clear", lang)):
            ss[K.CHANGES] = None
            st.rerun()


def _loaded_sha(data: AtlasData) -> str:
    """sha256 of the loaded incident file when known (an upload, the shipped sample)."""
    active = st.session_state.get(K.UPLOAD_ACTIVE, {}).get("incidents")
    if active:
        return str(active).split(":")[1]
    if data.is_sample:
        return hashlib.sha256((GEODATA / "sample_incidents.csv").read_bytes()).hexdigest()
    return "?"


def _column_picker(digest: str, columns: list[str], lang: str) -> None:
    """When the file's coordinate columns were not recognised: let the reader say which
    columns hold latitude, longitude and date (the readers' ``mapping``)."""
    st.warning(t("upload_pick_intro", lang))
    none = "—"
    with st.form(f"columns_{digest[:12]}"):
        c1, c2, c3 = st.columns(3)
        lat = c1.selectbox(t("upload_pick_lat", lang), columns, index=None,
                           placeholder=t("upload_pick_choose", lang))  # fmt: skip
        lon = c2.selectbox(t("upload_pick_lon", lang), columns, index=None,
                           placeholder=t("upload_pick_choose", lang))  # fmt: skip
        date = c3.selectbox(t("upload_pick_date", lang), [none, *columns], index=0)
        go = st.form_submit_button(t("upload_pick_read", lang), type="primary")
    if not go:
        return
    if lat is None or lon is None or lat == lon:
        st.error(t("upload_pick_need", lang))
        return
    mapping = {"latitude": lat, "longitude": lon}
    if date != none:
        mapping["date_start"] = date
    st.session_state.setdefault(K.UPLOAD_MAPPING, {})[digest] = mapping
    st.rerun()


def show_report(report, lang: str) -> None:
    """A LoadReport as a sentence, a reasons table, example rejected rows and warnings."""
    st.markdown(f"**{t('load_report', lang)}**")
    st.write(t("report_counts", lang, name=report.source, read=fmt_int(report.rows_read, lang),
               kept=fmt_int(report.rows_kept, lang),
               rejected=fmt_int(report.rows_rejected, lang)))  # fmt: skip
    if report.rejected:
        table = report_table(report, lang).rename(columns={
            "reason": t("report_reason", lang), "rows": t("report_rows", lang),
            "examples": t("report_examples", lang)})  # fmt: skip
        st.dataframe(table, hide_index=True, width="stretch")
        st.dataframe(rejected_details(report, lang=lang), hide_index=True, width="stretch")
    for w in report.warnings:
        st.warning(w)


def _sources_panel(data: AtlasData, lang: str) -> None:
    box = _lazy_panel(t("sources_title", lang), K.SOURCES_OPEN)
    if box is None:
        return
    with box:
        rows = [
            {
                t("src_name", lang): s.name,
                t("src_version", lang): s.version or s.access_date,
                t("src_licence", lang): s.licence,
                t("src_caveats", lang): " ".join(s.caveats),
                t("src_sample", lang): t("yes", lang) if s.sample else t("no", lang),
                t("src_url", lang): s.url,
            }
            for s in data.sources
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        for key in ("caveat_acled", "caveat_ucdp", "caveat_empty"):
            st.markdown(f"- {t(key, lang)}")
        st.markdown(f"**{t('load_reports_title', lang)}**")
        for report in data.reports:
            st.caption(report_sentence(report, lang))


def _share_panel(lang: str) -> None:
    """The view's link with a copy button, drawn only while the panel is open: st.code
    loads Streamlit's syntax highlighter, the costliest script of a first page (~0.8 s of
    main-thread time measured in chromium), which a reader who does not share never needs."""
    box = _lazy_panel(t("share_title", lang), K.SHARE_OPEN)
    if box is None:
        return
    with box:
        st.caption(t("copy_link", lang))
        st.code(share_url(st.context.url or "", st.query_params.to_dict()), language=None,
                wrap_lines=True)  # fmt: skip


def _incidents_csv(drawn: gpd.GeoDataFrame) -> str:
    flat = pd.DataFrame(drawn.drop(columns="geometry"))
    flat["latitude"] = drawn.geometry.y.round(6)
    flat["longitude"] = drawn.geometry.x.round(6)
    return to_safe_csv(flat)


def _regions_csv(drawn: gpd.GeoDataFrame, data: AtlasData, spec: MapSpec) -> str:
    """Per-region counts of the filtered incidents (made when the button is pressed; a
    failure is written into the file, since the page has already been drawn)."""
    try:
        return to_safe_csv(region_summary(drawn, data.regions, data.districts, spec))
    except AtlasError as exc:
        return to_safe_csv(pd.DataFrame({"error": [str(exc)]}))


def _incidents_geojson(drawn: gpd.GeoDataFrame) -> str:
    dated = drawn.copy()
    for col in ("date_start", "date_end"):
        dated[col] = pd.to_datetime(dated[col]).dt.strftime("%Y-%m-%d")
    return dated.to_json(drop_id=True, na="null")


def _downloads(drawn: gpd.GeoDataFrame, data: AtlasData, spec: MapSpec, lang: str) -> None:
    """The filtered data as files; each is made when its button is pressed (a filter
    change costs nothing here), and pressing one does not rerun the page."""
    box = _lazy_panel(t("downloads_title", lang), K.DOWNLOADS_OPEN)
    if box is None:
        return
    with box:
        c1, c2, c3, c4 = st.columns(4)
        c1.download_button(t("dl_csv", lang), functools.partial(_incidents_csv, drawn),
                           "incidents_filtered.csv", "text/csv", on_click="ignore")  # fmt: skip
        c2.download_button(t("dl_geojson", lang), functools.partial(_incidents_geojson, drawn),
                           "incidents_filtered.geojson", "application/geo+json",
                           on_click="ignore")  # fmt: skip
        c3.download_button(t("dl_regions", lang),
                           functools.partial(_regions_csv, drawn, data, spec),
                           "regions_summary.csv", "text/csv", on_click="ignore")  # fmt: skip
        c4.download_button(t("dl_spec", lang), spec.to_json(), "map_spec.json",
                           "application/json", on_click="ignore")  # fmt: skip
        st.caption(t("dl_note", lang))


def _export_panel(spec: MapSpec, view: AtlasData, summary: query.FilterSummary,
                  lang: str) -> None:  # fmt: skip
    """A form: the file is generated only when the button is pressed."""
    ss = st.session_state
    box = _lazy_panel(t("export_title", lang), K.EXPORT_OPEN)
    if box is None:
        return
    with box:
        with st.form("export_form"):
            size = st.selectbox(t("export_size", lang), list(SIZE_PRESETS), index=0)
            title = st.text_input(
                t("export_title_field", lang), max_chars=200, key="export_title", value=spec.title
            )
            dek = st.text_input(t("export_dek", lang), max_chars=300, value=spec.dek)
            notes = st.text_area(t("export_notes", lang), max_chars=500, value=spec.notes)
            source_line = st.text_input(
                t("export_source", lang), max_chars=300, value=spec.source_line
            )
            byline = st.text_input(t("export_byline", lang), max_chars=200, value=spec.byline)
            density = st.selectbox(t("export_density", lang), DENSITIES,
                                   index=DENSITIES.index(spec.density),
                                   format_func=lambda v: t(f"density_{v}", lang))  # fmt: skip
            # ACLED's terms ask for the access date beside its credit: the day the reader
            # downloaded the file (only they know it; the credit says "undated" without)
            undated = [src for src in view.sources if is_acled_source(src) and
                       not src.access_date]  # fmt: skip
            accessed = (
                st.date_input(
                    t("export_accessed", lang),
                    value=None,
                    key=K.ACCESSED,
                    max_value=dt.date.today(),
                    format="YYYY-MM-DD",
                    help=t("export_accessed_help", lang),
                )  # fmt: skip
                if undated
                else None
            )
            c1, c2 = st.columns(2)
            fmt = c1.selectbox(t("export_format", lang), EXPORT_FORMATS)
            scale = c2.radio(t("export_scale", lang), (1, 2), horizontal=True)
            go = st.form_submit_button(t("export_button", lang), type="primary")
        if go:
            try:
                from layers.export import export, sources_text_path

                out_spec = spec.with_size(size).replace(
                    title=title, dek=dek, notes=notes, source_line=source_line,
                    byline=byline, scale=int(scale), density=density,
                )  # fmt: skip
                if isinstance(accessed, dt.date):
                    view = with_access_date(view, accessed.isoformat())
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / f"conflict_atlas.{fmt}"
                    with st.spinner("…"):
                        result = export(out_spec, view, path, summary=summary)
                    sidecar = sources_text_path(path).read_text(encoding="utf-8")
                    ss[K.EXPORT] = (path.name, path.read_bytes(), MIME[fmt], sidecar,
                                    tuple(result.dropped))  # fmt: skip
            except AtlasError as exc:
                st.error(str(exc))
                ss[K.EXPORT] = None
        if ss.get(K.EXPORT):
            name, blob, mime, sidecar, dropped = ss[K.EXPORT]
            st.success(t("export_done", lang, name=name))
            if dropped:  # what a small page left off, as the CLI prints it
                st.caption(t("export_dropped", lang, parts="; ".join(dropped)))
            if mime in ("image/png", "image/gif"):
                st.image(blob)
            c1, c2 = st.columns(2)
            c1.download_button(t("export_download", lang, fmt=name.rsplit(".", 1)[-1].upper()),
                               blob, name, mime)  # fmt: skip
            c2.download_button(t("export_sources", lang), sidecar,
                               name.rsplit(".", 1)[0] + ".sources.md", "text/markdown",
                               on_click="ignore")  # fmt: skip


def _fetch_panel(lang: str) -> None:
    ss = st.session_state
    box = _lazy_panel(t("fetch_title", lang), K.FETCH_OPEN)
    if box is None:
        return
    with box:
        st.caption(t("fetch_intro", lang))
        cat = pd.DataFrame(
            [
                {
                    "id": e.id,
                    "title": e.title,
                    "licence": e.licence,
                    "vintage": e.vintage,
                    "url": e.url,
                }
                for e in CATALOG.values()
            ]  # fmt: skip
        )
        st.dataframe(cat, hide_index=True, width="stretch")
        if st.button(t("fetch_districts", lang)):
            try:
                from atlas.fetch import fetch

                with st.spinner("…"):
                    paths = fetch([DISTRICTS_ENTRY])
                ss[K.DISTRICTS] = str(paths[DISTRICTS_ENTRY])
                ss[K.FLASH] = t("fetch_done", lang)
                st.rerun()
            except FetchError as exc:
                offline = any(w in str(exc) for w in _OFFLINE_HINTS)
                st.error(t("fetch_offline" if offline else "fetch_failed", lang, error=exc))
            except AtlasError as exc:
                st.error(str(exc))


# ---- periods side by side (issue 16) ---------------------------------------------------------
def _init_compare(spec: MapSpec, dmin: dt.date, dmax: dt.date) -> None:
    """First run: compare mode is on when the link carries two periods; the two ranges
    default to the year before and after the reference day (or the data's two halves)."""
    ss = st.session_state
    ranges = spec.periods or default_periods(dmin, dmax)
    ss[K.COMPARE] = bool(spec.periods)
    ss[K.PERIOD_A], ss[K.PERIOD_B] = (tuple(r) for r in ranges)


def _compare_controls(lang: str, dmin: dt.date, dmax: dt.date) -> None:
    """The switch and the two ranges; they set the spec's ``periods`` (carried into the
    MapSpec and so into the URL), () when the switch is off."""
    ss = st.session_state
    sb = st.sidebar
    sb.toggle(t("compare_on", lang), key=_w(K.COMPARE), help=t("compare_help", lang))
    carried = ss.setdefault(K.CARRIED, {})
    if not ss[K.COMPARE]:
        carried["periods"] = ()
        return
    picked = []
    for name, label in ((K.PERIOD_A, "compare_first"), (K.PERIOD_B, "compare_second")):
        lo, hi = _clamped_range(ss.get(name), dmin, dmax)
        if (lo, hi) != tuple(ss.get(name) or ()):
            _set(name, (lo, hi))
        sb.date_input(t(label, lang), key=_w(name), min_value=dmin, max_value=dmax,
                      format="DD/MM/YYYY" if lang == "es" else "YYYY-MM-DD")  # fmt: skip
        value = ss[_w(name)]
        if isinstance(value, tuple | list) and len(value) == 2:
            picked.append((value[0], value[1]))
        else:  # mid-selection: one day picked
            picked.append((lo, hi))
    carried["periods"] = tuple(picked)


def _clamped_range(value: object, dmin: dt.date, dmax: dt.date) -> tuple[dt.date, dt.date]:
    """A (start, end) inside dmin..dmax (an upload can change the range)."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        value = default_periods(dmin, dmax)[0]
    lo = min(max(value[0], dmin), dmax)
    return lo, min(max(value[1], lo), dmax)


def _compare_page(spec: MapSpec, data: AtlasData, data_key: str, inside: pd.Series | None,
                  drawn: gpd.GeoDataFrame, summary: query.FilterSummary,
                  lang: str) -> None:  # fmt: skip
    """The page in compare mode: each period's counts, the two synced maps, the note, then
    the same panels as the single map (about, upload, sources, export)."""
    from layers.dualmap import period_heading

    periods = filter_periods(spec, data, [tuple(p) for p in spec.periods], inside=inside)
    first, second = (period_heading(p, lang) for p in periods)
    st.markdown(f"#### {t('compare_first', lang)}: {first}")
    st.markdown(f"#### {t('compare_second', lang)}: {second}")
    dmin, dmax = _date_bounds(data)
    st.caption(_source_line(data, lang, dmax))
    if data.is_sample:
        st.warning(t("sample_notice", lang), icon="⚠️")
    _sync_url(spec)
    key = hashlib.sha256(
        f"{spec.replace(bbox=None, title='', dek='', notes='').to_json()}|{data_key}".encode()
    ).hexdigest()
    _compare_fragment(spec, data, periods, lang, key)
    notes = [t("compare_note", lang)]
    if spec.generalise != "none":
        notes.append(generalise_note(spec.generalise, lang))
    st.caption(" ".join(notes))
    st.header(t("about_title", lang), anchor="data-sources")
    st.caption(t("page_caption", lang))
    if data.is_sample:
        st.warning(t("sample_banner", lang), icon="⚠️")
    _upload_panel(lang)
    _sources_panel(data, lang)
    _export_panel(spec, data, summary, lang)  # panels filter the whole bundle per period
    _fetch_panel(lang)
    if st.session_state.pop(K.SIDEBAR_CHANGED, False):
        _close_sidebar_on_phone()
    _count_page_run()
    collected = collect_now_and_then()  # after the page's last element: see atlas.data
    if data.incidents is not None and len(data.incidents) >= TRIM_ROWS:
        # a run's 1M-row temporaries, freed in this run's thread (collected once per run)
        return_freed_memory(collect=not collected)


@st.fragment
def _compare_fragment(spec: MapSpec, data: AtlasData, periods: list, lang: str,
                      key: str) -> None:  # fmt: skip
    """The two synced maps (layers/dualmap.py), built once per content key and opening on
    the reader's last view; a pan or zoom records the view (session and URL bbox) and
    reruns only this fragment."""
    from layers.dualmap import build_dual_map

    ss = st.session_state
    cached = ss.get(K.COMPARE_CACHE)
    if cached is None or cached[0] != key:
        try:
            dual = build_dual_map(spec, data, periods, assets="local", view=ss.get(K.VIEW))
        except AtlasError as exc:
            st.error(t("map_failed", lang, error=exc))
            return
        cached = ss[K.COMPARE_CACHE] = (key, dual)
    out = st_folium(copy.deepcopy(cached[1]), key=K.COMPARE_MAP, height=560,
                    use_container_width=True,
                    returned_objects=["bounds", "center", "zoom"])  # fmt: skip
    moved = view_from_map(out)
    if moved is not None and moved != ss.get(K.VIEW):
        ss[K.VIEW] = moved
        st.query_params["bbox"] = format_bbox(moved.bbox)
    _share_panel(lang)


# ---- page ---------------------------------------------------------------------------------
def main() -> None:
    st.set_page_config(page_title="Conflict Atlas: VRAEM", layout="wide", page_icon="🗺️")
    with page_run():  # a run on a very large table gives way to quick ones: atlas.giveway
        _page()


def _page() -> None:
    try:
        base, data_key = _base_data()
    except AtlasError as exc:
        st.error(t("data_failed", "en", error=exc))
        st.stop()
    _init_state(base)
    data, data_key, context_key = _apply_uploads(base, data_key)
    heavy_if(len(data.incidents) if data.incidents is not None else 0)
    give_way()
    data = _with_departments(data, data_key)
    _sync_in()
    _clamp_state(data)
    _sync_out()
    give_way()

    spec, spec_error = _sidebar(data)
    give_way()
    lang = spec.lang
    _page_style(lang)
    st.title(t("page_title", lang))
    if st.session_state.get(K.FLASH):
        st.success(st.session_state.pop(K.FLASH))
    if st.session_state.get(K.URL_ERROR):
        st.warning(t("bad_url", lang, error=st.session_state[K.URL_ERROR]))
    if spec_error:
        st.error(spec_error)
    missing = [d for d in st.session_state.get(K.LINK_DATASETS, []) if d not in _datasets(data)]
    if missing:
        st.info(t("link_needs_file", lang, names=", ".join(missing)))

    dmin, dmax = _date_bounds(data)
    region_name = _region_name(data, spec.region)
    inside = None
    try:
        inside = _inside(data.incidents, data.regions, data_key, spec.region)
    except AtlasError as exc:
        st.warning(str(exc))
    give_way()
    drawn, summary = query.filter_incidents(data.incidents, spec, inside=inside,
                                            districts=data.districts)  # fmt: skip
    if spec.periods:  # periods side by side: a branch of the page of its own
        _compare_page(spec, data, data_key, inside, drawn, summary, lang)
        return

    # above the map: one line of counts, one of source, one SAMPLE notice (details below)
    st.markdown(f"#### {_counts_line(summary, lang, region_name)}")
    st.caption(_source_line(data, lang, dmax))
    if data.is_sample:
        st.warning(t("sample_notice", lang), icon="⚠️")
    if summary.incidents - summary.hidden_by_precision == 0:
        hiding = hiding_filters(data.incidents, spec)
        names = ", ".join(t(f"filter_{h}", lang) for h in hiding)
        st.warning(t("no_match_because", lang, filters=names) if hiding
                   else t("no_match", lang))  # fmt: skip

    map_slot = st.container()  # the map goes first; the step controls are drawn below it
    player = _step_controls(spec, lang, dmin, dmax)
    diff, changes = _changes(data, spec, data_key)
    view = dataclasses.replace(data, incidents=drawn, changes=changes)
    _sync_url(spec)
    if diff is not None:
        data_key = f"{data_key}|changes:{st.session_state[K.CHANGES].sha256}"
    map_keys = _map_keys(spec, data_key, context_key)
    give_way()
    with map_slot:
        _map_fragment(spec, view, lang, (map_keys[0], data_key), player)
    period = t("period", lang, start=fmt_date(spec.date_from or dmin, lang),
               end=fmt_date(spec.date_to or dmax, lang))  # fmt: skip
    notes = [period, t("legend_note", lang)]
    if summary.hidden_by_precision:
        notes.append(t("hidden_precision", lang, n=fmt_int(summary.hidden_by_precision, lang)))
    if summary.deaths_unknown:
        notes.append(t("deaths_unknown", lang, n=fmt_int(summary.deaths_unknown, lang)))
    if spec.generalise != "none":
        notes.append(generalise_note(spec.generalise, lang))
    if data.approximate:
        approx = data.regions.loc[data.regions["approximate"].astype(bool), "name"]
        names = sorted({short_region_name(n) for n in approx.astype(str)})
        notes.append(t("approx_note", lang, regions=", ".join(names)))
    st.caption(" ".join(notes))
    give_way()
    _chart(drawn, spec, lang, region_name, dmin, dmax, map_keys[1])
    give_way()

    st.header(t("about_title", lang), anchor="data-sources")
    st.caption(t("page_caption", lang))
    if data.is_sample:
        st.warning(t("sample_banner", lang), icon="⚠️")
    _coca_panel(view, lang, map_keys[1])
    give_way()
    _facts_panel(spec, data, lang)
    give_way()
    _upload_panel(lang)
    _changes_panel(diff, data, lang)
    _sources_panel(data, lang)
    give_way()
    _downloads(drawn, data, spec, lang)
    give_way()
    _export_panel(spec, view, summary, lang)
    _fetch_panel(lang)
    if st.session_state.pop(K.SIDEBAR_CHANGED, False):
        _close_sidebar_on_phone()
    _count_page_run()
    collect_now_and_then()  # after the page's last element: see atlas.data


def _page_style(lang: str) -> None:
    """Map first: less padding above the page, a compact title, tighter gaps; and the file
    uploader's built-in English words replaced by ours (Streamlit has no option for them)."""
    mb = DEFAULT_LIMITS.max_bytes // 2**20
    button = json.dumps(t("upload_button", lang))
    note = json.dumps(t("upload_instructions", lang, mb=mb,
                        types=", ".join(x.upper() for x in UPLOAD_TYPES)))  # fmt: skip
    st.html(
        "<style>"
        "[data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer] p"
        "{display:none}"
        "[data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer]::after"
        f"{{content:{button};font-size:14px}}"
        "[data-testid=stFileUploaderDropzoneInstructions] span{display:none}"
        f"[data-testid=stFileUploaderDropzoneInstructions] > div::after{{content:{note};"
        "font-size:12px}"
        "[data-testid=stMainBlockContainer]{padding-top:1rem;padding-bottom:2rem}"
        "[data-testid=stMain] h1{font-size:1.55rem;line-height:1.35;padding:0}"
        "[data-testid=stMain] h4{font-size:1.05rem;line-height:1.4;padding:0}"
        "[data-testid=stMain] [data-testid=stVerticalBlock]{gap:.45rem}"
        "[data-testid=stMain] [data-testid=stAlert] > div{padding:.35rem .75rem}"
        ":focus-visible{outline:3px solid #1b6fd1 !important;outline-offset:2px}"
        # on a phone the fixed toolbar (the sidebar's button) sits over the first line
        "@media (max-width:640px){[data-testid=stMainBlockContainer]{padding-top:3.4rem}}"
        "</style>"
    )


def _source_line(data: AtlasData, lang: str, last_day: dt.date) -> str:
    """Where the incidents come from and how current they are, in one line."""
    inc = data.incidents
    names = [] if inc is None or inc.empty else _datasets(data)
    if data.is_sample:
        names = [t("sample_dataset", lang)]
    return t("source_line", lang, sources=", ".join(names) or "—",
             day=fmt_date(last_day, lang))  # fmt: skip


def _sync_url(spec: MapSpec) -> None:
    """Mirror the view into the URL (the map fragment keeps its bbox current on pans)."""
    params = spec.to_query()
    if st.session_state.get(K.STEP_ON):
        params[STEP_ON_PARAM] = "1"
        params[STEP_PARAM] = str(st.session_state.get(K.STEP, 0))
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def _count_page_run() -> None:
    """A counter of full-page runs, kept in the page for tests (a pan must not add one)."""
    ss = st.session_state
    ss[K.PAGE_RUNS] = ss.get(K.PAGE_RUNS, 0) + 1
    st.html(f'<span id="atlas-page-runs" data-runs="{int(ss[K.PAGE_RUNS])}"></span>')


main()
