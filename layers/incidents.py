"""Incident points: coloured by event type, sized by fatalities, escaped popups.

Up to :data:`MAX_DOM_POINTS` incidents each become a Leaflet CircleMarker with a full
popup. Above that, one compact array is sent (lat, lon, type, fatalities, day, date
precision) and the browser builds clustered circle markers from it, with popups made
from text nodes (never HTML). 100k incidents stay a few MB; see tests/test_compose.py.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import folium
import numpy as np
import pandas as pd
from folium.plugins import FastMarkerCluster, MarkerCluster
from folium.template import Template

from atlas.aggregate import shown_incidents
from atlas.i18n import t
from atlas.schema import DATE_PRECISIONS, EVENT_TYPES, GEO_PRECISIONS
from layers import hexbins
from layers.base import Layer, LegendEntry
from layers.style import (
    EVENT_COLORS,
    EVENT_MARKERS,
    RING_STYLE,
    SCREEN_RINGS,
    SIZE_LEGEND_FATALITIES,
    STYLES,
    esc,
    event_colors,
    event_label,
    fatality_diameter_pt,
    radius_px,
)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec

#: Above this many incidents the points layer switches to the compact representation.
MAX_DOM_POINTS = 2_000


def present_types(incidents: gpd.GeoDataFrame) -> list[str]:
    """Canonical event types present, in EVENT_TYPES order."""
    if incidents is None or incidents.empty:
        return []
    found = {str(v) for v in incidents["event_type"].dropna().unique()}  # not per row
    return [et for et in EVENT_TYPES if et in found]


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    """A column as escaped strings ('' when missing)."""
    if name not in df.columns:
        return pd.Series("", index=df.index, dtype=object)
    return df[name].map(esc)


def _fmt_fatalities(df: pd.DataFrame, lang: str) -> pd.Series:
    best = pd.to_numeric(df.get("fatalities"), errors="coerce")
    out = best.map(lambda v: t("unknown", lang) if pd.isna(v) else f"{v:,.0f}")
    if "fatalities_low" in df and "fatalities_high" in df:
        lo = pd.to_numeric(df["fatalities_low"], errors="coerce")
        hi = pd.to_numeric(df["fatalities_high"], errors="coerce")
        both = lo.notna() & hi.notna() & (lo != hi)
        rng = " (" + lo.map("{:,.0f}".format, na_action="ignore").astype(str) + "–"
        rng = rng + hi.map("{:,.0f}".format, na_action="ignore").astype(str) + ")"
        out = out.where(~both, out + rng)
    return out.astype(str)


def _fmt_dates(df: pd.DataFrame, lang: str) -> pd.Series:
    start = pd.to_datetime(df["date_start"]).dt.strftime("%Y-%m-%d").fillna("?")
    end = pd.to_datetime(df.get("date_end", df["date_start"])).dt.strftime("%Y-%m-%d")
    end = end.fillna(start)
    span = start.where(start == end, start + " – " + end)
    prec = df.get("date_precision", pd.Series("", index=df.index)).map(
        lambda p: esc(t(f"date_prec_{p}", lang)) if p in DATE_PRECISIONS else esc(p)
    )
    return span.where(prec == "", span + " (" + prec + ")")


def plain_text(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with categorical columns (atlas.data.compact_incidents) as strings again, for
    building text row by row (a categorical does not add to a string)."""
    cats = {c: "string" for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)}
    return df.astype(cats) if cats else df


def popup_fields(
    incidents: pd.DataFrame, lang: str, sample: bool
) -> tuple[np.ndarray, list[str], list[pd.Series]]:
    """A popup's parts: whether each incident carries the SAMPLE line, the field labels
    and each field's values, all escaped (vectorised string ops)."""
    df = plain_text(incidents)
    label = df["event_type"].map(lambda v: esc(event_label(str(v), lang)))
    src_type = _col(df, "source_event_type")
    # the source's own term, when it says more than our label (ACLED's "Battles")
    same = src_type.str.casefold() == label.str.casefold()
    type_txt = label.where((src_type == "") | same,
                           label + " (" + esc(t("in_source", lang)) + ": " + src_type + ")")  # fmt: skip
    a1, a2 = _col(df, "actor1"), _col(df, "actor2")
    actors = a1.where(a2 == "", a1 + " – " + a2)
    place = _col(df, "location")
    for admin in ("admin2", "admin1"):
        part = _col(df, admin)
        place = place.where(part == "", place + ", " + part)
    geo = df.get("geo_precision", pd.Series("", index=df.index)).map(
        lambda p: esc(t(f"precision_{p}", lang)) if p in GEO_PRECISIONS else esc(p)
    )
    place = place + " (" + esc(t("precision", lang)) + ": " + geo + ")"
    rows = [
        (t("date", lang), _fmt_dates(df, lang)),
        (t("type", lang), type_txt),
        (t("actors", lang), actors),
        (t("map_fatalities", lang).capitalize(), _fmt_fatalities(df, lang).map(esc)),
        (t("location", lang), place),
        (t("dataset", lang), _col(df, "dataset")),
        (t("source", lang), _col(df, "source")),
        (t("notes", lang), _col(df, "notes")),
    ]
    flag = np.zeros(len(df), dtype=bool)
    if sample or ("synthetic" in df and df["synthetic"].any()):
        flag = (df["synthetic"].fillna(False).astype(bool).to_numpy() if "synthetic" in df
                else np.ones(len(df), dtype=bool)) | bool(sample)  # fmt: skip
    return flag, [esc(name) for name, _ in rows], [values.astype(str) for _, values in rows]


def popup_banner(lang: str) -> str:
    return "<b style='color:#b00'>" + esc(t("sample_short", lang)) + "</b><br>"


def popup_html(incidents: pd.DataFrame, lang: str, sample: bool) -> pd.Series:
    """Popup HTML per incident; every value escaped."""
    flag, labels, values = popup_fields(incidents, lang, sample)
    out = pd.Series("<div class='atlas-popup'>", index=incidents.index, dtype=object)
    out = out + np.where(flag, popup_banner(lang), "")
    for name, col in zip(labels, values, strict=True):
        out = out + "<b>" + name + ":</b> " + col + "<br>"
    return out + "</div>"


def tooltip_text(incidents: pd.DataFrame, lang: str) -> pd.Series:
    """Short escaped tooltip: date, type, fatalities."""
    incidents = plain_text(incidents)
    date = pd.to_datetime(incidents["date_start"]).dt.strftime("%Y-%m-%d").fillna("?")
    label = incidents["event_type"].map(lambda v: event_label(str(v), lang))
    fat = _fmt_fatalities(incidents, lang)
    one = pd.to_numeric(incidents["fatalities"], errors="coerce") == 1
    word = pd.Series(t("map_fatalities", lang), index=incidents.index).where(
        ~one, t("map_fatality", lang)
    )
    text = date + " · " + label + " · " + fat + " " + word
    if "synthetic" in incidents:
        flag = incidents["synthetic"].fillna(False).astype(bool)
        text = text.where(~flag, t("sample_short", lang) + " · " + text)
    return text.map(esc)


class _CompactPoints(FastMarkerCluster):
    """FastMarkerCluster fed a pre-serialised JSON array (no per-row Python work)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(){
                {{ this.callback }}
                var data = {{ this.json_data }};
                var opts = {{ this.options|tojavascript }};
                // the map's time registry (layers/timeplayer.py): markers and their days
                var reg = {group: null, markers: new Array(data.length), d0: [], d1: [],
                           ready: false, onready: null};
                opts.chunkProgress = function(done, total) {
                    if (done >= total && !reg.ready) {
                        reg.ready = true;
                        if (reg.onready) { reg.onready(); }
                    }
                };
                var cluster = L.markerClusterGroup(opts);
                reg.group = cluster;
                for (var i = 0; i < data.length; i++) {
                    reg.markers[i] = callback(data[i]).addTo(cluster);
                    reg.d0.push(data[i][4]);
                    reg.d1.push(data[i][4] + data[i][6]);
                }
                var host = {{ this._parent.get_name() }};
                (host._atlasTime = host._atlasTime || []).push(reg);
                cluster.addTo(host);
                return cluster;
            })();
        {% endmacro %}"""
    )

    def __init__(self, json_data: str, callback: str, name: str, **kwargs: object) -> None:
        MarkerCluster.__init__(self, name=name, **kwargs)
        self._name = "FastMarkerCluster"
        self.json_data = json_data
        self.callback = callback


class _DomPoints(folium.map.Layer):
    """One circle marker per incident, built in the browser from a JSON payload.

    ``rows``: [lat, lon, radius, colour index, first day, span in days, SAMPLE flag,
    tooltip, then one index per popup field]; ``strings`` holds every distinct value once
    (a dataset name or a note repeated on 2,000 rows is sent once); ``labels`` the field
    names. Every string was escaped in Python (:func:`popup_fields`), so the popup built
    from them (the same HTML as :func:`popup_html`) is safe to bind as HTML. The markers
    and their days go into the map's time registry for the player.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.featureGroup();
            (function(){
                var P = {{ this.payload }};
                var rows = P.rows, S = P.strings, C = P.colors, LB = P.labels;
                var base = {{ this.marker_style|tojson }};
                var head = "<div class='atlas-popup'>";
                function popup(r) {
                    var h = head + (r[6] ? P.banner : "");
                    for (var k = 0; k < LB.length; k++) {
                        h += "<b>" + LB[k] + ":</b> " + S[r[8 + k]] + "<br>";
                    }
                    return h + "</div>";
                }
                // the map's time registry (layers/timeplayer.py): markers and their days
                var reg = {group: {{ this.get_name() }}, markers: [], d0: [], d1: [],
                           ready: true, onready: null};
                rows.forEach(function(r) {
                    var opts = Object.assign({radius: r[2], fillColor: C[r[3]], fill: true}, base);
                    if (P.rings[r[3]]) {  // a ring: white fill, its colour as the outline
                        opts = Object.assign(opts, P.ring, {color: C[r[3]]});
                    }
                    reg.markers.push(L.circleMarker([r[0], r[1]], opts)
                        .bindPopup(function(){ return popup(r); }, {maxWidth: 320})
                        .bindTooltip(S[r[7]])
                        .addTo({{ this.get_name() }}));
                    reg.d0.push(r[4]);
                    reg.d1.push(r[4] + r[5]);
                });
                var host = {{ this._parent.get_name() }};
                (host._atlasTime = host._atlasTime || []).push(reg);
            })();
        {% endmacro %}"""
    )

    def __init__(self, payload: str, marker_style: dict, name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "IncidentPoints"
        self.payload = payload.replace("</", "<\\/")  # cannot close the <script>
        self.marker_style = marker_style


def dom_payload(incidents: gpd.GeoDataFrame, lang: str, sample: bool) -> dict:
    """The :class:`_DomPoints` payload for ``incidents`` (in draw order)."""
    flag, labels, values = popup_fields(incidents, lang, sample)
    tips = tooltip_text(incidents, lang).astype(str)
    columns = [tips, *values]
    codes, strings = pd.factorize(pd.concat(columns, ignore_index=True), sort=False)
    codes = codes.reshape(len(columns), len(incidents))
    colors = event_colors(incidents["event_type"])
    ring = incidents["event_type"].astype("string").isin(SCREEN_RINGS).fillna(False).to_numpy()
    # one code per symbol (colour, and ring or filled): riots and protests share a hue
    color_codes, symbols = pd.MultiIndex.from_arrays([colors, ring]).factorize()
    days = incident_days(incidents)
    table = pd.DataFrame(
        {
            "lat": np.round(incidents.geometry.y.to_numpy(), 6),
            "lon": np.round(incidents.geometry.x.to_numpy(), 6),
            "r": np.round(radius_px(incidents["fatalities"]), 1),
            "c": color_codes,
            "d": days[0],
            "s": days[1] - days[0],
            "f": flag.astype(int),
            **{f"v{i}": codes[i] for i in range(len(columns))},
        }
    )
    return {
        "rows": json.loads(table.to_json(orient="values", double_precision=6)),
        "strings": list(strings),
        "colors": [str(c) for c in symbols.get_level_values(0)],
        "rings": [bool(r) for r in symbols.get_level_values(1)],
        "ring": RING_STYLE,
        "labels": labels,
        "banner": popup_banner(lang) if flag.any() else "",
    }


#: The day an undated incident gets: before any step, so the player never shows it.
NO_DAY = -1_000_000


def incident_days(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """First and last day of each incident as days since 1970-01-01 (the end is never
    before the start; an incident without a start date gets days no step reaches)."""
    start = pd.to_datetime(incidents["date_start"])
    end = pd.to_datetime(incidents.get("date_end", start)).fillna(start)
    missing = start.isna().to_numpy()
    d0 = start.to_numpy().astype("datetime64[D]").astype(np.int64)
    d1 = np.maximum(end.to_numpy().astype("datetime64[D]").astype(np.int64), d0)
    d0 = np.where(missing, NO_DAY, d0)
    d1 = np.where(missing, NO_DAY, d1)
    return d0, d1


def compact_payload(incidents: gpd.GeoDataFrame) -> str:
    """JSON rows [lat, lon, type index, fatalities (-1 unknown), day number, date prec,
    span in days (last day - first day)]."""
    lat = np.round(incidents.geometry.y.to_numpy(), 5)
    lon = np.round(incidents.geometry.x.to_numpy(), 5)
    type_idx = pd.Categorical(incidents["event_type"], categories=EVENT_TYPES).codes
    type_idx = np.where(type_idx < 0, EVENT_TYPES.index("other"), type_idx)
    fat = pd.to_numeric(incidents["fatalities"], errors="coerce").astype("float64")
    fat = np.round(fat.fillna(-1).to_numpy()).astype(np.int64)
    d0, d1 = incident_days(incidents)
    prec = pd.Categorical(incidents["date_precision"], categories=DATE_PRECISIONS).codes
    frame = pd.DataFrame(
        {"a": lat, "b": lon, "c": type_idx, "d": fat, "e": d0, "f": prec, "g": d1 - d0}
    )
    return frame.to_json(orient="values", double_precision=5)


def _compact_callback(lang: str, sample: bool) -> str:
    colors = [EVENT_COLORS[et] for et in EVENT_TYPES]
    rings = [et in SCREEN_RINGS for et in EVENT_TYPES]
    labels = [event_label(et, lang) for et in EVENT_TYPES]
    texts = {
        "fat": t("map_fatalities", lang),
        "fat1": t("map_fatality", lang),
        "unknown": t("unknown", lang),
        "note": t("coarse_view", lang),
        "sample": t("sample_short", lang) if sample else "",
    }
    s = STYLES["points"]
    # textContent only: nothing from the data is parsed as HTML
    return (
        "var callback = (function(){"
        f"var C={json.dumps(colors)},R={json.dumps(rings)},RS={json.dumps(RING_STYLE)},"
        f"L_={json.dumps(labels, ensure_ascii=False)},"
        f"P={json.dumps([t(f'date_prec_{p}', lang) for p in DATE_PRECISIONS], ensure_ascii=False)},"
        f"T={json.dumps(texts, ensure_ascii=False)};"
        "return function(r){"
        "var f=r[3];var rad=Math.min(3+2.2*Math.sqrt(Math.max(f,0)),24);"
        "var m=L.circleMarker([r[0],r[1]],R[r[2]]?Object.assign({radius:rad,color:C[r[2]],"
        f"fillOpacity:{s.fill_opacity}}},RS):{{radius:rad,color:"
        f"'{s.color}',weight:{s.weight},fillColor:C[r[2]],fillOpacity:{s.fill_opacity}}});"
        "m.bindPopup(function(){var d=document.createElement('div');"
        "var day=new Date(r[4]*86400000).toISOString().slice(0,10);"
        "var lines=[];if(T.sample){lines.push(T.sample);}"
        "lines.push(day+' ('+(P[r[5]]||'?')+')');lines.push(L_[r[2]]);"
        "lines.push((f<0?T.unknown:f)+' '+(f===1?T.fat1:T.fat));lines.push(T.note);"
        "for(var i=0;i<lines.length;i++){var p=document.createElement('div');"
        "p.textContent=lines[i];d.appendChild(p);}return d;});"
        "return m;};})();"
    )


class PointsLayer(Layer):
    """Incidents as circles: colour = event type, area ~ fatalities."""

    name = "points"
    title = {"en": "Incidents", "es": "Incidentes"}
    style = STYLES["points"]

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        if hexbins.aggregated(data) is not None:  # the view shows hexagons
            return hexbins.legend_entries(data, spec)
        inc = data.incidents
        types = present_types(inc)
        if not types:
            return []
        # SAMPLE is said once, in the legend's banner (screen) and the page's mark (print)
        entries = [
            LegendEntry(
                label=event_label(et, spec.lang),
                kind="point",
                color=EVENT_COLORS[et],
                edgecolor=self.style.color,
                size=float(radius_px(3.0)[0] * 2),
                ring=et in SCREEN_RINGS,
            )
            for et in types
        ]
        for n in SIZE_LEGEND_FATALITIES:
            entries.append(
                LegendEntry(
                    label=f"{n:,} {t('map_fatality' if n == 1 else 'map_fatalities', spec.lang)}",
                    kind="point",
                    color="#ffffff",
                    edgecolor=self.style.color,
                    size=float(radius_px(float(n))[0] * 2),
                )
            )
        return entries

    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        if hexbins.draw_hexagons(fmap, data, spec):  # too many in the view: aggregates
            return
        inc = shown_incidents(data)  # the recorded view's incidents (all of them, if few)
        if inc is None or inc.empty:
            return
        name = self.title.get(spec.lang, self.title["en"])
        if data.is_sample:
            name += f" ({t('sample_short', spec.lang)})"
        if len(inc) > MAX_DOM_POINTS:
            _CompactPoints(
                compact_payload(inc),
                _compact_callback(spec.lang, bool(data.is_sample)),
                name=name,
                disableClusteringAtZoom=12,
                chunkedLoading=True,
            ).add_to(fmap)
            return
        order = pd.to_numeric(inc["fatalities"], errors="coerce").fillna(0)
        inc = inc.loc[order.sort_values(ascending=False, kind="stable").index]  # big below
        s = self.style
        _DomPoints(
            json.dumps(dom_payload(inc, spec.lang, bool(data.is_sample)), ensure_ascii=False),
            {"color": s.color, "weight": s.weight, "fillOpacity": s.fill_opacity},
            name=name,
        ).add_to(fmap)

    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        """Print symbols: small translucent dots with a thin white outline, one marker
        shape per type group (style.EVENT_MARKERS), diameter by fatality class; the
        biggest drawn first so small events stay visible on top of them. A view the page
        aggregates (``density``: :func:`layers.printmap.density_choice`) is drawn as the
        map's hexagons instead (:func:`layers.hexbins.draw_print_hexagons`)."""
        if hexbins.draw_print_hexagons(ax, data):
            return
        inc = data.incidents
        if inc is None or inc.empty:
            return
        for marker, x, y, diam, colors in print_markers(inc):
            ax.scatter(
                x,
                y,
                s=diam**2,
                marker=marker,
                c=colors,
                edgecolors="white",
                linewidths=0.3,
                alpha=0.8,
                zorder=6,
                gid=f"incidents-{marker}",
            )


def print_markers(
    incidents: gpd.GeoDataFrame,
) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """The print page's markers in drawing order: per marker shape (marker, lon, lat,
    width in points at 1x, RGBA colours), the biggest events first within each shape. The page
    and its density measure (:mod:`layers.density`) both read this."""
    from matplotlib.colors import to_rgba_array

    order = pd.to_numeric(incidents["fatalities"], errors="coerce").fillna(0)
    inc = incidents.loc[order.sort_values(ascending=False, kind="stable").index]
    diam = fatality_diameter_pt(inc["fatalities"])
    # shape and colour looked up once per type, as arrays (no per-point Python)
    codes, kinds = pd.factorize(inc["event_type"].astype("string").fillna("other"))
    markers = np.array([EVENT_MARKERS.get(k, "D") for k in kinds], dtype=object)[codes]
    colors = to_rgba_array(event_colors(pd.Series(kinds, dtype="string")))[codes]
    x, y = inc.geometry.x.to_numpy(), inc.geometry.y.to_numpy()
    out = []
    for marker in dict.fromkeys(markers):
        sel = markers == marker
        # A square or a diamond looks bigger than a circle of the same width.
        k = 0.8 if marker in ("s", "D") else 1.0
        out.append((str(marker), x[sel], y[sel], diam[sel] * k, colors[sel]))
    return out
