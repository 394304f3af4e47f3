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
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import folium
from branca.element import Element

from atlas.errors import InputError
from atlas.frame import MapView, frame_of
from atlas.i18n import t
from layers import assets as asset_store
from layers.base import LegendEntry
from layers.legend import Legend, legend_banners, legend_html
from layers.registry import layers_for
from layers.timeplayer import add_time_player

if TYPE_CHECKING:  # pragma: no cover
    from atlas.data import AtlasData
    from atlas.spec import MapSpec

ASSET_MODES = ("local", "inline", "cdn")
MAX_ZOOM = 18

_MAP_JS = ("leaflet", "jquery")
_MAP_CSS = ("leaflet_css",)


def legend_entries(spec: MapSpec, data: AtlasData) -> list[LegendEntry]:
    """Legend lines of every enabled layer, in draw order (the print figure uses these too)."""
    out: list[LegendEntry] = []
    for layer in layers_for(spec.layers):
        out.extend(layer.legend_entries(data, spec))
    return out


def build_folium_map(
    spec: MapSpec,
    data: AtlasData,
    *,
    assets: str = "local",
    asset_base_url: str = "/app/static/vendor",
    view: MapView | None = None,
    player: tuple[list[tuple[dt.date, dt.date]], int] | None = None,
) -> folium.Map:
    """The interactive map for ``spec`` (incidents already filtered by the caller).

    It opens on ``view`` (the centre and zoom a reader had, kept across a redraw) when
    given, else it fits the spec's frame (:func:`atlas.frame.frame_bounds`). With
    ``player=(steps, index)`` (steps from :func:`atlas.query.steps`) the map gets the
    in-browser time player (:mod:`layers.timeplayer`), in ``spec.step_mode``, opening on
    step ``index``; pass every incident of the period, the player hides the others.
    """
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
    # with tiles=None folium puts no maxZoom on the map and MarkerCluster stays blank
    fmap.options["maxZoom"] = MAX_ZOOM
    # per-instance lists: folium.Map.default_js itself is never touched
    fmap.default_js = [(n, u) for n, u in folium.Map.default_js if n in _MAP_JS]
    fmap.default_css = [(n, u) for n, u in folium.Map.default_css if n in _MAP_CSS]

    for layer in layers_for(spec.layers):
        layer.to_folium(fmap, data, spec)

    entries = legend_entries(spec, data)
    banners = legend_banners(spec, data)
    if entries or banners:
        Legend(legend_html(entries, banners, t("legend", spec.lang))).add_to(fmap)
    if player is not None and data.incidents is not None:
        steps, index = player
        add_time_player(
            fmap, data.incidents, steps, mode=spec.step_mode, lang=spec.lang, index=index
        )
    folium.LayerControl(collapsed=True).add_to(fmap)
    if view is None:
        fmap.fit_bounds([[south, west], [north, east]])
    apply_assets(fmap, assets, asset_base_url)
    return fmap


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


def apply_assets(fmap: folium.Map, mode: str, asset_base_url: str = "/app/static/vendor") -> None:
    """Point every element's JS/CSS at the self-served copies (or inline them)."""
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
