"""The dashboard's map as a streamlit-folium component that renders each part once.

``st_folium`` turns its map into JavaScript on every run: the base (Leaflet map, basemap,
plugins) and every layer group, each time a filter, a layer or a pan reruns the script.
Here a :class:`MapRenderer` (one per session) keeps what it rendered:

* the base script, header and asset links, per base key (basemap and data version);
* each layer group's script, per group key (``layers.compose.plan_groups``): a filter
  change re-renders only the groups that read the incidents, and a pan re-renders nothing;
* the layer control, per list of group names.

Rendered parts are also shared between sessions (:data:`SHARED`, keyed by what they
depend on), so a new reader's first map with the default view costs no rendering.
It hands the component the same arguments ``st_folium`` would (the same script gives the
same component key, so the browser keeps its map and view while the groups are swapped).
It uses streamlit-folium's own helpers for each piece, pinned to the 0.27 series in
pyproject.toml; tests/test_map_component.py compares the arguments with ``st_folium``'s.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import streamlit as st
import streamlit_folium as sf

from atlas.giveway import give_way
from layers.assets import bundle_js

#: What the dashboard asks the component to send back (``last_clicked`` places callouts;
#: the map reads this list once, when first drawn).
RETURNED = ("bounds", "center", "zoom", "last_clicked")


@dataclass
class RenderedBase:
    script: str
    header: str
    html: str
    map_id: str
    parent_id: str  # the folium id the groups' parent map must carry
    hash_key: str
    defaults: dict[str, Any]
    css: list[str]
    js: list[str]


@dataclass
class RenderedGroup:
    script: str
    group: folium.FeatureGroup  # rendered, kept for the layer control
    css: list[str] = field(default_factory=list)
    js: list[str] = field(default_factory=list)


@dataclass
class MapRenderer:
    """Rendered parts of one session's map, reused across reruns (see module doc)."""

    key: str
    base_key: str = ""
    base: RenderedBase | None = None
    groups: dict[tuple[str, int], RenderedGroup] = field(default_factory=dict)
    control: tuple[tuple[str, ...], str] | None = None
    renders: int = 0  # parts rendered (base + groups + control), for tests

    def set_base(
        self, base_key: str, build: Callable[[], folium.Map], shared_key: str | None = None
    ) -> None:
        """Render the base when ``base_key`` changed (a new basemap or data version).

        ``shared_key``, when given, names everything the base depends on (first view,
        language...): a base another session rendered under it is reused."""
        if self.base is not None and base_key == self.base_key:
            return
        full = f"base|{self.key}|{shared_key}" if shared_key else None
        base = SHARED.get(full) if full else None
        if base is None:
            base = render_base(build(), self.key)
            self.renders += 1
            if full:
                SHARED.put(full, base, len(base.script) + len(base.header))
        self.base = base
        self.base_key = base_key
        self.groups.clear()
        self.control = None

    def arguments(
        self,
        plans: Sequence[tuple[str, Callable[[], folium.FeatureGroup | None]]],
        *,
        height: int,
    ) -> dict[str, Any]:
        """The component's arguments for groups ``plans`` ((key, build) in draw order)."""
        assert self.base is not None, "set_base first"
        used: dict[tuple[str, int], RenderedGroup] = {}
        idx = 0
        for key, build in plans:
            slot = (key, idx)
            done = self.groups.get(slot) or SHARED.get(f"group|{key}|{idx}")
            if done is None:
                give_way()  # a heavy run lets quick ones through between groups
                group = build()
                if group is None:
                    continue
                done = render_group(group, self.base.parent_id, idx)
                self.renders += 1
                SHARED.put(f"group|{key}|{idx}", done, len(done.script))
            used[slot] = done
            idx += 1
        # keep this run's groups and the last run's (a toggled-back layer is not redrawn)
        self.groups = {**{k: v for k, v in self.groups.items() if k not in used}, **used}
        if len(self.groups) > 2 * max(len(used), 1):
            for stale in [k for k in self.groups if k not in used][: len(self.groups) // 2]:
                del self.groups[stale]
        # the control lists the groups by name and position only
        keys = tuple(f"{g.group.get_name()}|{g.group.layer_name}|{g.group.control}"
                     for g in used.values())  # fmt: skip
        if self.control is None or self.control[0] != keys:
            self.control = (keys, render_control([g.group for g in used.values()],
                                                 self.base.parent_id))  # fmt: skip
            self.renders += 1
        base = self.base
        css = list(dict.fromkeys([*base.css, *(c for g in used.values() for c in g.css)]))
        js = list(dict.fromkeys([*base.js, *(j for g in used.values() for j in g.js)]))
        return dict(
            script=base.script,
            header=base.header,
            html=base.html,
            id=base.map_id,
            key=base.hash_key,
            height=height,
            width=None,  # the container's width
            returned_objects=list(RETURNED),
            default=base.defaults,
            zoom=None,
            center=None,
            feature_group="".join(g.script for g in used.values()),
            return_on_hover=False,
            layer_control=self.control[1],
            pixelated=False,
            css_links=css,
            js_links=js,
            wrap_longitude=False,
        )

    def draw(self, plans, *, height: int) -> Any:
        """Show the map; returns what the browser reported (bounds, centre, zoom)."""
        args = self.arguments(plans, height=height)
        args["js_links"] = bundle_js(args["js_links"])  # one request, not one per script
        hash_key, key = args["key"], self.key

        def _on_change() -> None:
            st.session_state[key] = st.session_state.get(hash_key, {})

        return sf._component_func(**args, on_change=_on_change)


class SharedParts:
    """Rendered parts any session may reuse (a group's key already names its data
    version and filters), least recently used dropped above ``max_bytes`` of script.
    Sessions run in threads: every access holds the lock."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str | None) -> Any:
        if key is None:
            return None
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            self._items.move_to_end(key)
            return hit[0]

    def put(self, key: str, value: Any, size: int) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _k, (_v, n) = self._items.popitem(last=False)
                self._bytes -= n

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


#: Parts shared by every session of this process: 256 MB of script at most.
SHARED = SharedParts(max_bytes=256 * 2**20)


def render_base(fmap: folium.Map, key: str) -> RenderedBase:
    """The base's script, header and links, as ``st_folium`` computes them (on a copy:
    rendering renames the map's elements)."""
    m = copy.deepcopy(fmap)
    m.get_root().render()
    m.render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    script = sf._get_map_string(m)
    css, js = _links(m)
    try:
        bounds = m.get_bounds()
    except AttributeError:  # pragma: no cover - folium maps have bounds
        bounds = [[None, None], [None, None]]
    (south, west), (north, east) = bounds
    defaults = {
        "bounds": {"_southWest": {"lat": south, "lng": west},
                   "_northEast": {"lat": north, "lng": east}},
        "zoom": m.options.get("zoom"),
        "last_clicked": None,
    }  # fmt: skip
    return RenderedBase(
        script=script,
        header=header,
        html=html,
        map_id=sf.get_full_id(m),
        parent_id=m._id,
        hash_key=sf.generate_js_hash(script, key, False),
        defaults={k: v for k, v in defaults.items() if k in RETURNED},
        css=css,
        js=js,
    )


def _parent(parent_id: str) -> folium.Map:
    """A stand-in for the rendered base: groups and the control only need its name."""
    m = folium.Map(tiles=None)
    m._id = parent_id
    return m


def render_group(group: folium.FeatureGroup, parent_id: str, idx: int) -> RenderedGroup:
    script = sf._get_feature_group_string(group, map=_parent(parent_id), idx=idx)
    css, js = _links(group)
    return RenderedGroup(script=script, group=group, css=css, js=js)


def render_control(groups: list[folium.FeatureGroup], parent_id: str) -> str:
    parent = _parent(parent_id)
    for group in groups:
        parent.add_child(group, name=group.get_name())
    return sf._get_layer_control_string(folium.LayerControl(collapsed=True), parent)


def _links(element: Any) -> tuple[list[str], list[str]]:
    css: list[str] = []
    js: list[str] = []
    stack = [element]
    while stack:
        el = stack.pop(0)
        css.extend(href for _, href in getattr(el, "default_css", []))
        js.extend(src for _, src in getattr(el, "default_js", []))
        stack[0:0] = list(getattr(el, "_children", {}).values())
    return list(dict.fromkeys(css)), list(dict.fromkeys(js))
