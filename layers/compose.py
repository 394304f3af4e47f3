"""Compose the interactive map: every enabled layer in registry order, one legend, assets.

``build_folium_map(spec, data)`` is what the app shows; ``inline_html(fmap)`` is the
self-contained HTML export; ``legend_entries(spec, data)`` is the legend both renderers
draw. Asset modes:

* ``"local"``: Leaflet and plugins load from ``asset_base_url`` (the app's static
  folder, filled by ``python -m layers.assets``); no CDN URL is left in the page.
* ``"inline"``: the same files are embedded in the page (works from a file:// URL).
* ``"cdn"``: folium's own CDN links (only for machines that reach the CDNs).

Each map gets its own copy of folium's default asset lists (folium's class-level lists
are never changed); jQuery stays because folium's Popup builds content with ``$()``;
Bootstrap, Font Awesome and awesome-markers are dropped because no layer uses them.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import HeatMap, MarkerCluster
from folium.template import Template

from atlas.errors import InputError
from atlas.frame import MapView, frame_of
from atlas.i18n import t
from layers import assets as asset_store
from layers import changes as changes_layer
from layers.base import LegendEntry
from layers.callouts import Callouts, CalloutStyle, place_callouts
from layers.coca import COCA_PANE, COCA_PANE_Z
from layers.legend import Legend, LegendStyle, legend_banners, legend_html
from layers.registry import layers_for
from layers.timeplayer import PlayerStyle, add_time_player

if TYPE_CHECKING:  # pragma: no cover
    from atlas.data import AtlasData
    from atlas.spec import MapSpec

ASSET_MODES = ("local", "inline", "cdn")
MAX_ZOOM = 18

_MAP_JS = ("leaflet", "jquery")
_MAP_CSS = ("leaflet_css",)


def legend_entries(spec: MapSpec, data: AtlasData, *, live: bool = False) -> list[LegendEntry]:
    """Legend lines of every enabled layer, in draw order: of the print figure, or with
    ``live`` of the folium map (where a layer may draw differently, e.g. by zoom)."""
    out: list[LegendEntry] = []
    for layer in layers_for(spec.layers):
        out.extend(
            layer.live_legend_entries(data, spec) if live else layer.legend_entries(data, spec)
        )
    out.extend(changes_layer.legend_entries(getattr(data, "changes", None), spec.lang))
    return out


#: Layers drawn into the base map; every other layer is a feature group the app can swap
#: without rebuilding the map (streamlit-folium's ``feature_group_to_add``).
BASE_LAYERS: tuple[str, ...] = ("basemap",)


@dataclass
class MapParts:
    """A map in two parts: ``base`` (the Leaflet map, basemap, asset links, styles, the
    first view) and ``groups`` (one FeatureGroup per data layer, the legend in the last)."""

    base: folium.Map
    groups: list[folium.FeatureGroup] = field(default_factory=list)


def build_map_parts(
    spec: MapSpec,
    data: AtlasData,
    *,
    assets: str = "local",
    asset_base_url: str = "/app/static/vendor",
    view: MapView | None = None,
    preload_plugins: bool = True,
    player: tuple[list[tuple[dt.date, dt.date]], int] | None = None,
) -> MapParts:
    """The interactive map for ``spec`` as a base and swappable layer groups.

    The base depends only on the basemap and the first view, so a filter or layer change
    swaps the groups and keeps the map (and the reader's view). ``player`` as in
    :func:`build_groups`.
    """
    base = build_base(spec, data, assets=assets, asset_base_url=asset_base_url, view=view,
                      preload_plugins=preload_plugins)  # fmt: skip
    groups = build_groups(spec, data, assets=assets, asset_base_url=asset_base_url, player=player)
    return MapParts(base, groups)


def build_base(
    spec: MapSpec,
    data: AtlasData,
    *,
    assets: str = "local",
    asset_base_url: str = "/app/static/vendor",
    view: MapView | None = None,
    preload_plugins: bool = True,
) -> folium.Map:
    """The Leaflet map with the base layers, opening on ``view`` (the centre and zoom a
    reader had) when given, else fitting the spec's frame (:func:`atlas.frame.frame_of`).
    With ``preload_plugins`` it declares the JS/CSS of every plugin a group may use (a map
    loads its scripts once, when it is first drawn)."""
    if assets not in ASSET_MODES:
        raise InputError(f"assets={assets!r}: choose one of {', '.join(ASSET_MODES)}")
    west, south, east, north = frame_of(spec, data)
    center = view.center if view is not None else ((south + north) / 2, (west + east) / 2)
    fmap = folium.Map(
        location=list(center),
        zoom_start=view.zoom if view is not None else 8,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    dress_base(fmap, spec, data, fit=None if view is not None else (west, south, east, north),
               preload_plugins=preload_plugins)  # fmt: skip
    apply_assets(fmap, assets, asset_base_url)
    return fmap


def dress_base(
    fmap: folium.Map,
    spec: MapSpec,
    data: AtlasData,
    *,
    fit: tuple[float, float, float, float] | None,
    preload_plugins: bool = True,
) -> None:
    """Give a bare ``folium.Map`` (made with ``tiles=None``) what every atlas map has: a
    maxZoom, its own asset lists, the plugin and legend styles, the panes, the base layers,
    and, when ``fit`` (west, south, east, north) is given, the first view fitted to it.
    :func:`build_base` and the two maps of :mod:`layers.dualmap` both use it."""
    # with tiles=None folium puts no maxZoom on the map and MarkerCluster stays blank
    fmap.options["maxZoom"] = MAX_ZOOM
    # per-instance lists: folium.Map.default_js itself is never touched
    fmap.default_js = [(n, u) for n, u in folium.Map.default_js if n in _MAP_JS]
    fmap.default_css = [(n, u) for n, u in folium.Map.default_css if n in _MAP_CSS]
    if preload_plugins:
        PluginAssets().add_to(fmap)
        PlayerStyle().add_to(fmap)
    LegendStyle().add_to(fmap)
    CalloutStyle().add_to(fmap)
    # panes belong to the map: the ones layer groups draw into are made here
    folium.map.CustomPane(COCA_PANE, z_index=COCA_PANE_Z).add_to(fmap)
    for layer in layers_for(spec.layers):
        if layer.name in BASE_LAYERS:
            layer.to_folium(fmap, data, spec)
    if fit is not None:
        west, south, east, north = fit
        FitFrame([[south, west], [north, east]]).add_to(fmap)


#: The spec fields a layer that does not read the incidents (``Layer.reads_incidents``
#: False) may depend on: its group is kept across filter changes.
STATIC_FIELDS: tuple[str, ...] = ("region", "region_layer", "lang", "coca_year", "metric")

#: Layers that can hold the time player (the first enabled one, in draw order, does).
MARKER_LAYERS = ("points", "clusters")

#: Key of the legend's own group (no layer control entry).
LEGEND_GROUP = "legend"
#: Key of the callouts' group (the spec's ``callouts``, :mod:`layers.callouts`).
CALLOUTS_GROUP = "callouts"
#: The changes between two versions of the incident file (layers/changes.py).
CHANGES_GROUP = "changes"


@dataclass(frozen=True)
class GroupPlan:
    """One layer group to draw: ``name`` (a layer, or :data:`LEGEND_GROUP`) and ``key``,
    which changes exactly when what the group draws can change."""

    name: str
    key: str


def plan_groups(
    spec: MapSpec,
    data_key: str,
    player: tuple[list[tuple[dt.date, dt.date]], int] | None = None,
    *,
    changes: bool = False,
) -> list[GroupPlan]:
    """The groups :func:`build_groups` makes for ``spec``, in draw order, with their keys.

    ``data_key`` names the data version (files, uploads). A layer that reads the incidents
    gets a key from every spec field that is not frame or editorial text (a filter change
    changes it); one that does not is keyed by :data:`STATIC_FIELDS` only, so a caller can
    keep it, built and rendered, across filter changes. The marker layer's key includes the
    player; the legend reads everything the layers draw. With ``changes`` (the data holds a
    second version's changes, ``AtlasData.changes``; ``data_key`` must name that version)
    the changes layer comes after the data layers.
    """
    content = spec.replace(bbox=None, title="", dek="", notes="", source_line="", byline="",
                           size="web", width=1200, height=675, dpi=100, scale=1)  # fmt: skip
    dynamic = _digest(f"{content.to_json()}|{data_key}")
    static = _digest("|".join(str(getattr(spec, f)) for f in STATIC_FIELDS) + f"|{data_key}")
    step = "" if player is None else _digest(repr(player))
    plans: list[GroupPlan] = []
    marker = None
    for layer in layers_for(spec.layers):
        if layer.name in BASE_LAYERS:
            continue
        key = dynamic if layer.reads_incidents else static
        if layer.name in MARKER_LAYERS and marker is None:
            marker = layer.name
            key = f"{key}|{step}"
        plans.append(GroupPlan(layer.name, f"{layer.name}|{key}"))
    if changes:
        plans.append(GroupPlan(CHANGES_GROUP, f"{CHANGES_GROUP}|{dynamic}"))
    plans.append(GroupPlan(LEGEND_GROUP, f"{LEGEND_GROUP}|{dynamic}"))
    if spec.callouts:  # after the legend's group: switching callouts off keeps the legend
        callouts = json.dumps([dataclasses.asdict(c) for c in spec.callouts], sort_keys=True)
        key = _digest(f"{callouts}|{spec.lang}|{data_key}")
        plans.append(GroupPlan(CALLOUTS_GROUP, f"{CALLOUTS_GROUP}|{key}"))
    return plans


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def build_group(
    name: str,
    spec: MapSpec,
    data: AtlasData,
    *,
    assets: str = "local",
    asset_base_url: str = "/app/static/vendor",
    player: tuple[list[tuple[dt.date, dt.date]], int] | None = None,
) -> folium.FeatureGroup | None:
    """The group of one :class:`GroupPlan` (``None``: a legend with nothing to say).

    With ``player=(steps, index)`` (steps from :func:`atlas.query.steps`) the group of the
    incident markers (points, else clusters) also holds the in-browser time player
    (:mod:`layers.timeplayer`), in ``spec.step_mode``, opening on step ``index``; pass every
    incident of the period, the player hides the others.
    """
    if name == LEGEND_GROUP:
        entries = legend_entries(spec, data, live=True)
        banners = legend_banners(spec, data)
        if not (entries or banners):
            return None
        group = folium.FeatureGroup(name=t("legend", spec.lang), control=False)
        Legend(legend_html(entries, banners, t("legend", spec.lang))).add_to(group)
    elif name == CALLOUTS_GROUP:
        placed, _missing = place_callouts(spec, data)
        if not placed:
            return None
        group = folium.FeatureGroup(name=t("layer_callouts", spec.lang), control=True)
        Callouts(placed).add_to(group)
    elif name == CHANGES_GROUP:  # a second version of the file: not a spec layer
        group = folium.FeatureGroup(name=t("layer_changes", spec.lang), control=True)
        changes_layer.to_folium(group, getattr(data, "changes", None), spec.lang)
    else:
        (layer,) = layers_for((name,))
        group = folium.FeatureGroup(name=t(f"layer_{name}", spec.lang), control=True)
        layer.to_folium(group, data, spec)
        markers = next((x.name for x in layers_for(spec.layers) if x.name in MARKER_LAYERS), None)
        if player is not None and name == markers and data.incidents is not None:
            steps, index = player
            add_time_player(group, data.incidents, steps, mode=spec.step_mode,
                            lang=spec.lang, index=index)  # fmt: skip
    apply_assets(group, assets, asset_base_url)
    return group


def build_groups(
    spec: MapSpec,
    data: AtlasData,
    *,
    assets: str = "local",
    asset_base_url: str = "/app/static/vendor",
    player: tuple[list[tuple[dt.date, dt.date]], int] | None = None,
) -> list[folium.FeatureGroup]:
    """One FeatureGroup per enabled data layer, in draw order, then the legend's own group
    and the callouts' (see :func:`plan_groups` and :func:`build_group`)."""
    groups = []
    for plan in plan_groups(spec, "", player, changes=getattr(data, "changes", None) is not None):
        group = build_group(plan.name, spec, data, assets=assets, asset_base_url=asset_base_url,
                            player=player)  # fmt: skip
        if group is not None:
            groups.append(group)
    return groups


def build_folium_map(
    spec: MapSpec,
    data: AtlasData,
    *,
    assets: str = "local",
    asset_base_url: str = "/app/static/vendor",
    view: MapView | None = None,
    player: tuple[list[tuple[dt.date, dt.date]], int] | None = None,
) -> folium.Map:
    """The interactive map for ``spec`` in one piece (incidents already filtered by the
    caller): :func:`build_map_parts` with the groups added and a layer control."""
    parts = build_map_parts(spec, data, assets="cdn", view=view, preload_plugins=False,
                            player=player)  # fmt: skip
    fmap = parts.base
    if player is not None:
        PlayerStyle().add_to(fmap)
    for group in parts.groups:
        group.add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    apply_assets(fmap, assets, asset_base_url)
    return fmap


class FitFrame(MacroElement):
    """Fit the map to the frame, leaving room for the legend (bottom left, ~270 px wide)
    on maps wide enough to have it open, so the focus is not drawn under it."""

    #: Map width (px) from which the legend starts open and the frame moves right of it.
    LEGEND_OPEN_PX = 640
    LEGEND_PX = 270

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
            var map = {{ this._parent.get_name() }};
            var wide = map.getSize().x >= {{ this.LEGEND_OPEN_PX }};
            map.fitBounds({{ this.bounds|tojson }},
                          {paddingTopLeft: [wide ? {{ this.LEGEND_PX }} : 0, 0]});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitFrame"
        self.bounds = bounds


class PluginAssets(JSCSSMixin, MacroElement):
    """Nothing on the map: it declares the plugin files (marker clusters, heat) the layer
    groups may need, because a map loads its scripts once, when it is first drawn."""

    _template = Template("")

    def __init__(self) -> None:
        super().__init__()
        self._name = "PluginAssets"
        self.default_js = [*MarkerCluster.default_js, *HeatMap.default_js]
        self.default_css = list(MarkerCluster.default_css)


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _asset_elements(fmap: folium.Map) -> Iterator[Element]:
    for el in _walk(fmap):
        if getattr(el, "default_js", None) or getattr(el, "default_css", None):
            yield el


def _to_vendor(url: str, base: str) -> str:
    """Vendor path of a CDN URL or of an already rewritten local URL."""
    prefix = base.rstrip("/") + "/"
    if url.startswith(prefix):
        return url[len(prefix) :]
    return asset_store.vendor_path(url)


def apply_assets(fmap: Element, mode: str, asset_base_url: str = "/app/static/vendor") -> None:
    """Point every element's JS/CSS at the self-served copies (or inline them); ``fmap``
    is a map, or a layer group that will join one (local mode)."""
    if mode == "cdn":
        return
    base = getattr(fmap, "_atlas_asset_base", None) or asset_base_url.rstrip("/")
    if mode == "local":
        fmap._atlas_asset_base = base
        for el in _asset_elements(fmap):
            el.default_js = [(n, f"{base}/{_to_vendor(u, base)}") for n, u in el.default_js]
            el.default_css = [(n, f"{base}/{_to_vendor(u, base)}") for n, u in el.default_css]
        return
    if mode != "inline":
        raise InputError(f"assets={mode!r}: choose one of {', '.join(ASSET_MODES)}")
    missing = asset_store.check_assets()
    if missing:
        raise InputError(
            f"HTML export: {len(missing)} asset files are missing ({missing[0]}, …); "
            "run `python -m layers.assets` once to install them"
        )
    header = fmap.get_root().header
    for el in list(_asset_elements(fmap)):
        for name, _url in [*el.default_css, *el.default_js]:
            header._children.pop(name, None)  # links left by an earlier render
        for name, url in el.default_css:
            rel = _to_vendor(url, base)
            if f"inline:{name}" not in header._children:
                header.add_child(
                    Element(f"<style>{_inline_css(rel)}</style>"), name=f"inline:{name}"
                )
        for name, url in el.default_js:
            rel = _to_vendor(url, base)
            if f"inline:{name}" not in header._children:
                header.add_child(
                    Element(f"<script>{_inline_js(rel)}</script>"), name=f"inline:{name}"
                )
        el.default_js = []
        el.default_css = []


_CSS_URL = re.compile(r"url\((['\"]?)(images/[^)'\"]+)\1\)")


def _inline_css(rel: str) -> str:
    path = asset_store.VENDOR_DIR / rel
    css = path.read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        img = (path.parent / match.group(2)).resolve()
        if not img.is_relative_to(asset_store.VENDOR_DIR.resolve()) or not img.is_file():
            return match.group(0)
        b64 = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{b64})"

    return _CSS_URL.sub(data_uri, css)


def _inline_js(rel: str) -> str:
    js = (asset_store.VENDOR_DIR / rel).read_text(encoding="utf-8")
    return js.replace("</script", "<\\/script")


def inline_html(fmap: folium.Map) -> str:
    """A standalone HTML page for the map: assets embedded, only tile URLs stay external."""
    apply_assets(fmap, "inline")
    return fmap.get_root().render()


def save_inline_html(fmap: folium.Map, path: str | Path) -> Path:
    """Write :func:`inline_html` to ``path`` (UTF-8)."""
    out = Path(path)
    out.write_text(inline_html(fmap), encoding="utf-8")
    return out


__all__ = [
    "ASSET_MODES",
    "apply_assets",
    "build_folium_map",
    "inline_html",
    "legend_entries",
    "save_inline_html",
]
