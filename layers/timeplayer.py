"""Play through time in the browser: a small Leaflet control steps the map's incidents.

The points and clusters layers put each marker and its first and last day into a registry
on the map object (``map._atlasTime``, see layers/incidents.py). The player (a top-centre
control: previous, play/pause, next, a step slider, the step's date range and its count)
shows, at step ``i``, the markers whose [first day, last day] overlaps the step's range,
exactly as :func:`atlas.query.step_mask` does: cumulative from the first step's start, or
the step alone ("window"). Nothing goes back to the server, so a frame costs milliseconds.

Two paths, chosen by the number of incidents:

* ``"markers"`` (up to :data:`PLAYER_MAX_MARKERS`): the registered marker layers are
  re-filtered each frame (CircleMarkers, or a MarkerClusterGroup re-filled in bulk).
* ``"cells"`` (above): re-filling a 100k MarkerClusterGroup takes over a second per frame,
  so counts per 0.1° cell and step are computed here and drawn as circles; the clustered
  markers are emptied once loaded. Measured in chromium here (one frame's work and paint,
  median / worst): 2,000 CircleMarkers 17-25 / 226 ms; a 20k cluster group 113 / 212 ms
  cumulative; a 100k cluster group 436 / 1,563 ms cumulative; 100k as cells 17 / 170 ms.

Labels are computed here (es-PE dates via :func:`atlas.i18n.fmt_date`) and set in the
page with ``textContent`` only.

Inside the dashboard (the streamlit-folium component's frame, same origin as the page) the
player tells where the reader stopped, never each frame while playing: on previous/next,
a slider change, a pause and the end of play it writes ``step=<index>`` into the page's
address (``history.replaceState``, every other parameter kept byte for byte) and, a
moment later (debounced), sends ``{"atlas_step": {"index", "key", "token"}}`` as the
component's value, added to the last value streamlit-folium sent. That reruns the map
fragment only (as a pan does), which records the step (``atlas.ui_state.reported_step``).
``key`` (:func:`steps_key`) names the steps the index counts in. A page without that
component (an exported HTML file, or one embedded elsewhere) reports nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING

import folium
import numpy as np
from branca.element import MacroElement
from folium.template import Template

from atlas.errors import InputError
from atlas.i18n import fmt_date, fmt_int, t
from atlas.spec import STEP_MODES
from atlas.ui_state import STEP_PARAM, STEP_REPORT
from layers.incidents import incident_days
from layers.style import STYLES

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

#: Milliseconds per frame while playing (2.5 frames/s).
FRAME_MS = 400
#: Milliseconds the player waits after the reader's last step before telling the server
#: (a run of clicks on "next" sends one report).
REPORT_MS = 250
#: Above this many incidents the player draws per-cell counts instead of markers.
PLAYER_MAX_MARKERS = 20_000
#: Grid cell of the "cells" path, degrees (~11 km in the VRAEM), as the print clusters.
CELL_DEG = 0.1
PATHS = ("markers", "cells")

_EPOCH = dt.date(1970, 1, 1)


def steps_key(steps: list[tuple[dt.date, dt.date]]) -> str:
    """A short name of a list of steps: a reported index counts in the steps it names."""
    text = ";".join(f"{s.isoformat()}/{e.isoformat()}" for s, e in steps)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def step_days(steps: list[tuple[dt.date, dt.date]], mode: str) -> np.ndarray:
    """(n, 2) array of the [first, last] day (days since 1970-01-01) shown at each step."""
    if mode not in STEP_MODES:
        raise InputError(f"step mode {mode!r}: choose from {', '.join(STEP_MODES)}")
    if not steps:
        raise InputError("time player: the date range has no steps")
    out = np.array([[(s - _EPOCH).days, (e - _EPOCH).days] for s, e in steps], dtype=np.int64)
    if mode == "cumulative":
        out[:, 0] = out[0, 0]
    return out


def _shown(d0: np.ndarray, d1: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return (d1 >= lo) & (d0 <= hi)


def step_counts(
    incidents: gpd.GeoDataFrame, steps: list[tuple[dt.date, dt.date]], mode: str
) -> np.ndarray:
    """Incidents shown at each step (the same rows :func:`atlas.query.step_mask` keeps)."""
    d0, d1 = incident_days(incidents)
    return np.array([int(_shown(d0, d1, lo, hi).sum()) for lo, hi in step_days(steps, mode)])


def cell_counts(
    incidents: gpd.GeoDataFrame,
    steps: list[tuple[dt.date, dt.date]],
    mode: str,
    cell: float = CELL_DEG,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell counts: ``(centres, counts)`` with centres (k, 2) [lat, lon] (mean position
    of the cell's incidents) and counts (steps, k)."""
    x, y = incidents.geometry.x.to_numpy(), incidents.geometry.y.to_numpy()
    keys = np.stack([np.floor(x / cell), np.floor(y / cell)], axis=1)
    uniq, idx = np.unique(keys, axis=0, return_inverse=True)
    idx = idx.ravel()
    k = len(uniq)
    centres = np.stack(
        [
            np.bincount(idx, y, k) / np.bincount(idx, None, k),
            np.bincount(idx, x, k) / np.bincount(idx, None, k),
        ],
        axis=1,
    )
    d0, d1 = incident_days(incidents)
    counts = np.stack(
        [np.bincount(idx[_shown(d0, d1, lo, hi)], minlength=k) for lo, hi in step_days(steps, mode)]
    )
    return centres, counts


def _js_json(value: object) -> str:
    """JSON for a <script>: no "</", and no "{{"/"{%" (branca renders scripts through Jinja
    again), with braces inside strings escaped as \\u007b/\\u007d."""

    def clean(v: object) -> object:
        if isinstance(v, str):
            return v.replace("{", "\ue000").replace("}", "\ue001")
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    text = json.dumps(clean(value), ensure_ascii=False, separators=(",", ":"))
    text = text.replace("\ue000", "\\u007b").replace("\ue001", "\\u007d")
    text = text.replace("{{", "{ {").replace("}}", "} }").replace("{%", "{ %").replace("%}", "% }")
    text = text.replace("{#", "{ #")
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class PlayerStyle(MacroElement):
    """The player's CSS, in the map's header (a player inside a layer group has none)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
          .atlas-top-center {left: 50%; transform: translateX(-50%);}
          .atlas-player {background: rgba(255,255,255,0.95); padding: 5px 8px 6px;
            border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.35); color: #222;
            font: 13px/1.3 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
            width: max-content; max-width: calc(100vw - 120px);}
          .atlas-player-row {display: flex; flex-wrap: wrap; align-items: center; gap: 4px;}
          .atlas-player button {font: inherit; font-size: 14px; line-height: 1; min-width: 30px;
            height: 28px; padding: 0 7px; border: 1px solid #8a8a8a; border-radius: 3px;
            background: #fff; color: #222; cursor: pointer;}
          .atlas-player button:hover {background: #ececec;}
          .atlas-player button[aria-disabled=true] {color: #aaa; cursor: default;}
          .atlas-player button:focus-visible, .atlas-player input:focus-visible {
            outline: 3px solid #1b3a5c; outline-offset: 1px;}
          .atlas-player-range {font-weight: 700; font-size: 15px; margin-left: 6px;
            font-variant-numeric: tabular-nums;}
          .atlas-player-foot {display: flex; align-items: center; gap: 8px; margin-top: 4px;}
          .atlas-player input[type=range] {flex: 1; margin: 0; min-width: 100px;}
          .atlas-player-count {font-size: 12px; color: #333; white-space: nowrap;
            font-variant-numeric: tabular-nums;}
          .atlas-player-note {font-size: 12px; color: #555; max-width: 330px; margin-top: 3px;}
        </style>
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "AtlasPlayerStyle"


class TimePlayer(MacroElement):
    """The control and its frame loop (one per map); see the module docstring."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          // on a map it starts at once; inside a layer group it starts when the group
          // joins a map and is taken down when the group leaves (the app swaps groups)
          var host = {{ this._parent.get_name() }};
          var cfg = {{ this.config_json }};
          function init(map) {
            var T = cfg.text, n = cfg.days.length;
            var reg = host._atlasTime || map._atlasTime || [];
            map._atlasTime = reg;  // where a page (and a test) finds the markers played
            var st = {i: -1, playing: false, timer: null, next: 0, reportTimer: null};

            function el(tag, cls, parent) {
                var e = document.createElement(tag);
                if (cls) { e.className = cls; }
                if (parent) { parent.appendChild(e); }
                return e;
            }
            function button(glyph, label, parent) {
                var b = el('button', null, parent);
                b.type = 'button';
                b.textContent = glyph;
                b.setAttribute('aria-label', label);
                b.title = label;
                return b;
            }

            // a top-centre corner for the control (Leaflet has none), first in tab order
            if (!map._controlCorners.atlastop) {
                var corner = el('div', 'leaflet-top atlas-top-center');
                map._controlContainer.insertBefore(corner, map._controlContainer.firstChild);
                map._controlCorners.atlastop = corner;
            }
            var box = el('div', 'atlas-player leaflet-control');
            box.setAttribute('role', 'group');
            box.setAttribute('aria-label', T.label);
            box.setAttribute('data-path', cfg.path);
            var row = el('div', 'atlas-player-row', box);
            var prev = button('\u276e', T.prev, row);
            var play = button('\u25b6', T.play, row);
            play.setAttribute('aria-pressed', 'false');
            var next = button('\u276f', T.next, row);
            var range = el('span', 'atlas-player-range', row);
            range.setAttribute('aria-live', 'polite');
            var foot = el('div', 'atlas-player-foot', box);
            var slider = el('input', null, foot);
            slider.type = 'range';
            slider.min = 0;
            slider.max = Math.max(n - 1, 0);
            slider.step = 1;
            slider.setAttribute('aria-label', T.slider);
            var count = el('span', 'atlas-player-count', foot);
            if (cfg.path === 'cells') { el('div', 'atlas-player-note', box).textContent = T.note; }
            L.DomEvent.disableClickPropagation(box);
            L.DomEvent.disableScrollPropagation(box);
            var Player = L.Control.extend({
                options: {position: 'atlastop'},
                onAdd: function () { return box; }
            });
            var control = new Player().addTo(map);

            // ---- what a step shows ------------------------------------------------
            function refill(entry, vis) {  // a MarkerClusterGroup, in one bulk call
                var g = entry.group, chunked = g.options.chunkedLoading;
                g.options.chunkedLoading = false;
                g.clearLayers();
                g.addLayers(vis);
                g.options.chunkedLoading = chunked;
            }
            function showMarkers(entry, lo, hi) {
                var ms = entry.markers, d0 = entry.d0, d1 = entry.d1, vis = [];
                var on = entry.on || (entry.on = new Uint8Array(ms.length).fill(1));
                var added = 0;
                for (var k = 0; k < ms.length; k++) {
                    var want = d1[k] >= lo && d0[k] <= hi ? 1 : 0;
                    if (want) { vis.push(ms[k]); if (!on[k]) { added++; } }
                }
                if (!entry.ready) { return vis.length; }  // drawn by onready
                var g = entry.group;
                if (g.addLayers) {
                    refill(entry, vis);
                } else if (added) {  // canvas draws in order: re-add to keep big below
                    g.clearLayers();
                    for (var j = 0; j < vis.length; j++) { g.addLayer(vis[j]); }
                } else {
                    for (var m = 0; m < ms.length; m++) {
                        if (on[m] && !(d1[m] >= lo && d0[m] <= hi)) { g.removeLayer(ms[m]); }
                    }
                }
                for (var q = 0; q < ms.length; q++) { on[q] = d1[q] >= lo && d0[q] <= hi ? 1 : 0; }
                return vis.length;
            }

            var cells = null;
            if (cfg.path === 'cells') {
                cells = {layer: L.featureGroup().addTo(map), circles: [], n: [], cap: 10};
                // the biggest circle is half a cell wide at the current zoom: no overlaps
                var setCap = function () {
                    var c = map.getCenter();
                    var a = map.latLngToContainerPoint(c);
                    var b = map.latLngToContainerPoint([c.lat, c.lng + cfg.cellDeg]);
                    cells.cap = Math.max(3, Math.abs(b.x - a.x) / 2);
                };
                setCap();
                var onZoom = function () { setCap(); if (st.i >= 0) { showCells(st.i); } };
                map.on('zoomend', onZoom);
            }
            function cellCircle(c) {
                var circle = cells.circles[c];
                if (!circle) {
                    circle = L.circleMarker(cfg.cells[c], cfg.cellStyle);
                    circle.bindTooltip(function () {
                        var d = document.createElement('div'), v = cells.n[c];
                        d.textContent = v === 1 ? T.cellOne : T.cell.replace('#', v.toLocaleString('en'));
                        return d;
                    });
                    cells.circles[c] = circle;
                }
                return circle;
            }
            function showCells(i) {
                var pairs = cfg.cellCounts[i], on = {}, total = 0;
                for (var k = 0; k < pairs.length; k += 2) {
                    var c = pairs[k], v = pairs[k + 1], circle = cellCircle(c);
                    on[c] = true;
                    cells.n[c] = v;
                    total += v;
                    circle.setRadius(Math.max(2, cells.cap * Math.sqrt(v / cfg.cellMax)));
                    if (!cells.layer.hasLayer(circle)) { cells.layer.addLayer(circle); }
                }
                for (var j = 0; j < cells.circles.length; j++) {
                    var old = cells.circles[j];
                    if (old && !on[j] && cells.layer.hasLayer(old)) { cells.layer.removeLayer(old); }
                }
                box.setAttribute('data-cells', pairs.length / 2);
                return total;  // incidents the circles count
            }

            function show(i) {
                i = Math.max(0, Math.min(n - 1, i));
                st.i = i;
                var lo = cfg.days[i][0], hi = cfg.days[i][1], shown = 0;
                if (cells) {
                    shown = showCells(i);
                } else {
                    for (var k = 0; k < reg.length; k++) { shown += showMarkers(reg[k], lo, hi); }
                }
                range.textContent = cfg.labels[i];
                count.textContent = cfg.counts[i];
                slider.value = i;
                slider.setAttribute('aria-valuetext', cfg.labels[i]);
                prev.setAttribute('aria-disabled', i <= 0 ? 'true' : 'false');
                next.setAttribute('aria-disabled', i >= n - 1 ? 'true' : 'false');
                box.setAttribute('data-step', i);
                box.setAttribute('data-shown', shown);
            }

            // ---- playing --------------------------------------------------------
            function tick() {
                if (!st.playing) { return; }
                if (st.i >= n - 1) { pause(); report(); return; }
                show(st.i + 1);
                if (st.i >= n - 1) { pause(); report(); return; }
                st.next += cfg.frameMs;  // a steady clock: a slow frame does not add up
                st.timer = setTimeout(tick, Math.max(0, st.next - performance.now()));
            }
            function start() {
                if (n <= 1) { return; }
                if (st.i >= n - 1) { show(0); }
                st.playing = true;
                play.textContent = '\u275a\u275a';
                play.setAttribute('aria-label', T.pause);
                play.title = T.pause;
                play.setAttribute('aria-pressed', 'true');
                range.setAttribute('aria-live', 'off');
                st.next = performance.now() + cfg.frameMs;
                st.timer = setTimeout(tick, cfg.frameMs);
            }
            function pause() {
                st.playing = false;
                clearTimeout(st.timer);
                play.textContent = '\u25b6';
                play.setAttribute('aria-label', T.play);
                play.title = T.play;
                play.setAttribute('aria-pressed', 'false');
                range.setAttribute('aria-live', 'polite');
            }
            function stepBy(d) {
                pause();
                show(st.i + d);
                report();
            }

            // ---- where the reader stopped goes to the page's URL ---------------------
            // only inside the dashboard's map component (streamlit-folium's frame)
            var page = window.parent !== window && window.__GLOBAL_DATA__ ? window.parent : null;
            function report() {
                if (!page) { return; }
                var i = st.i;
                try {  // the address at once; every other parameter kept as it is
                    var loc = page.location, q = loc.search;
                    var re = new RegExp('([?&]' + cfg.param + '=)[^&#]*');
                    var nq = re.test(q) ? q.replace(re, '$1' + i)
                        : (q ? q + '&' : '?') + cfg.param + '=' + i;
                    if (nq !== q) {
                        page.history.replaceState(page.history.state, '', loc.pathname + nq + loc.hash);
                    }
                } catch (e) { /* another origin: the server's answer sets the address */ }
                clearTimeout(st.reportTimer);
                st.reportTimer = setTimeout(function () {  // the server: once, when settled
                    var g = window.__GLOBAL_DATA__, value = {};
                    var last = (g && g.previous_data) || {};
                    for (var k in last) { value[k] = last[k]; }
                    window.__atlasReports = (window.__atlasReports || 0) + 1;
                    value[cfg.report] = {index: i, key: cfg.stepsKey,
                        token: Date.now().toString(36) + '.' + window.__atlasReports};
                    page.postMessage({isStreamlitMessage: true, type: 'streamlit:setComponentValue',
                                      value: value, dataType: 'json'}, '*');
                }, cfg.reportMs);
            }
            L.DomEvent.on(play, 'click', function () {
                if (st.playing) { pause(); report(); } else { start(); }
            });
            L.DomEvent.on(prev, 'click', function () { stepBy(-1); });
            L.DomEvent.on(next, 'click', function () { stepBy(1); });
            L.DomEvent.on(slider, 'input', function () { pause(); show(parseInt(slider.value, 10)); });
            L.DomEvent.on(slider, 'change', report);
            L.DomEvent.on(box, 'keydown', function (e) {
                if (e.target !== slider) {
                    if (e.key === 'ArrowLeft') { stepBy(-1); e.preventDefault(); }
                    else if (e.key === 'ArrowRight') { stepBy(1); e.preventDefault(); }
                }
                L.DomEvent.stopPropagation(e);  // not the map's keyboard panning
            });

            // layers still loading (chunked clusters) are filtered, or emptied, once loaded
            reg.forEach(function (entry) {
                var load = function () {
                    if (cells) {
                        entry.group.clearLayers();
                        return;
                    }
                    showMarkers(entry, cfg.days[st.i][0], cfg.days[st.i][1]);
                };
                if (entry.ready) {
                    if (cells) { load(); }
                } else {
                    entry.onready = load;
                }
            });
            show(cfg.index);
            map._atlasPlayer = {show: show, play: start, pause: pause, state: st};
            return function () {  // take the player down with its group
                pause();
                clearTimeout(st.reportTimer);
                control.remove();
                if (cells) { map.off('zoomend', onZoom); map.removeLayer(cells.layer); }
                if (map._atlasPlayer && map._atlasPlayer.state === st) { delete map._atlasPlayer; }
            };
          }
          if (host instanceof L.Map) { init(host); return; }
          var stop = null;
          host.on('add', function () { if (!stop) { stop = init(host._map); } });
          host.on('remove', function () { if (stop) { stop(); stop = null; } });
          if (host._map) { stop = init(host._map); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, config: dict) -> None:
        super().__init__()
        self._name = "AtlasTimePlayer"
        self.config = config
        self.config_json = _js_json(config)


def add_time_player(
    fmap: folium.Map | folium.FeatureGroup,
    incidents: gpd.GeoDataFrame,
    steps: list[tuple[dt.date, dt.date]],
    *,
    mode: str,
    lang: str,
    index: int = 0,
    path: str | None = None,
) -> TimePlayer:
    """Add the time player to ``fmap`` (after the incident layers) and return it.

    ``steps`` come from :func:`atlas.query.steps`; ``mode`` is "cumulative" or "window";
    ``index`` is the step shown first; ``path`` forces "markers" or "cells" (default:
    "cells" above :data:`PLAYER_MAX_MARKERS` incidents).
    """
    days = step_days(steps, mode)
    if not 0 <= index < len(steps):
        raise InputError(f"time player: step {index}: choose one between 0 and {len(steps) - 1}")
    if path is None:
        path = "cells" if len(incidents) > PLAYER_MAX_MARKERS else "markers"
    if path not in PATHS:
        raise InputError(f"time player: path {path!r}: choose from {', '.join(PATHS)}")
    counts = step_counts(incidents, steps, mode)
    starts = [steps[0][0] if mode == "cumulative" else s for s, _ in steps]
    config: dict = {
        "path": path,
        "mode": mode,
        "index": index,
        "frameMs": FRAME_MS,
        "reportMs": REPORT_MS,
        "report": STEP_REPORT,
        "param": STEP_PARAM,
        "stepsKey": steps_key(steps),
        "days": days.tolist(),
        "labels": [
            t("player_range", lang, start=fmt_date(s, lang), end=fmt_date(e, lang))
            for s, (_, e) in zip(starts, steps, strict=True)
        ],
        "counts": [
            t("player_shown_one", lang) if c == 1 else t("player_shown", lang, n=fmt_int(c, lang))
            for c in counts
        ],
        "text": {
            "label": t("player_label", lang),
            "play": t("player_play", lang),
            "pause": t("player_pause", lang),
            "prev": t("player_prev", lang),
            "next": t("player_next", lang),
            "slider": t("player_slider", lang),
            "note": t("player_cells_note", lang),
            "cell": t("player_cell_tip", lang, n="#"),
            "cellOne": t("player_cell_tip_one", lang),
        },
    }
    if path == "cells" and len(incidents):
        centres, per_step = cell_counts(incidents, steps, mode)
        s = STYLES["clusters"]
        config["cells"] = np.round(centres, 4).tolist()
        config["cellCounts"] = [
            np.column_stack([np.flatnonzero(row), row[row > 0]]).ravel().tolist()
            for row in per_step
        ]
        config["cellMax"] = int(max(per_step.max(), 1))
        config["cellDeg"] = CELL_DEG
        config["cellStyle"] = {
            "color": s.color,
            "weight": 1,
            "fillColor": s.fill,
            "fillOpacity": s.fill_opacity,
        }
    elif path == "cells":
        config.update(
            cells=[], cellCounts=[[] for _ in steps], cellMax=1, cellDeg=CELL_DEG, cellStyle={}
        )
    if isinstance(fmap, folium.Map):  # in a layer group, the map's base carries the style
        PlayerStyle().add_to(fmap)
    player = TimePlayer(config)
    player.add_to(fmap)
    return player


__all__ = [
    "CELL_DEG",
    "FRAME_MS",
    "REPORT_MS",
    "PLAYER_MAX_MARKERS",
    "TimePlayer",
    "add_time_player",
    "cell_counts",
    "step_counts",
    "step_days",
    "steps_key",
]
