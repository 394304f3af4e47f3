"""Map benchmarks: build and render the folium map HTML, ours vs naive CircleMarkers."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from bench.core import UNDER_TEST_ERRORS, Recorder, resolve
from bench.data import synthetic_incidents


def make_data(incidents: gpd.GeoDataFrame) -> Any:
    """The app's bundle with ``incidents`` swapped in (regions, basemap... as shipped)."""
    from atlas.data import load_shipped

    return dataclasses.replace(load_shipped(), incidents=incidents)


def naive_map(incidents: gpd.GeoDataFrame) -> Any:
    """The reference a user would write: one CircleMarker per incident."""
    import folium

    fmap = folium.Map(location=[-12.5, -74.0], zoom_start=6)
    lon = shapely.get_x(incidents.geometry.values)
    lat = shapely.get_y(incidents.geometry.values)
    for y, x in zip(lat.tolist(), lon.tolist(), strict=True):  # per-row: that is the point
        folium.CircleMarker([y, x], radius=3, weight=1).add_to(fmap)
    return fmap


def naive_map_html(incidents: gpd.GeoDataFrame) -> str:
    return naive_map(incidents).get_root().render()


def naive_browser_html(incidents: gpd.GeoDataFrame) -> str:
    """The naive map with Leaflet inlined from our vendored copies (no CDN offline).

    Only the script/style links change (Leaflet itself; the Bootstrap and awesome-markers
    links folium adds are unused by CircleMarkers and not vendored); the page still draws
    one SVG path per incident.
    """
    from layers.compose import apply_assets

    fmap = naive_map(incidents)
    fmap.default_js = [(k, u) for k, u in fmap.default_js if k == "leaflet"]
    fmap.default_css = [(k, u) for k, u in fmap.default_css if k == "leaflet_css"]
    apply_assets(fmap, "inline")
    return fmap.get_root().render()


def ours_map_html(spec: Any, data: Any, assets: str = "local") -> str:
    from layers.compose import build_folium_map

    return build_folium_map(spec, data, assets=assets).get_root().render()


def bench_maps(rec: Recorder, workdir: Path) -> dict[str, Path]:
    """Build/render times and HTML sizes; returns HTML files for the browser step."""
    plan = rec.plan
    build, status, note = resolve("layers.compose", "build_folium_map")
    html_files: dict[str, Path] = {}
    sizes = sorted(set(plan.map_sizes) | set(plan.naive_sizes))
    for n in sizes:
        incidents = synthetic_incidents(n)
        if n in plan.naive_sizes:
            res, html = rec.time(
                "map",
                "build + render map HTML",
                n,
                "naive",
                lambda incidents=incidents: naive_map_html(incidents),
                note="folium.Map + one CircleMarker per incident (no popups)",
            )
            res.extra["html_bytes"] = len(html.encode())
            del html
            if n in plan.browser_naive_sizes:
                try:
                    page = naive_browser_html(incidents)
                except UNDER_TEST_ERRORS as exc:
                    res.extra["inline_error"] = f"{type(exc).__name__}: {exc}"[:300]
                else:
                    path = workdir / f"naive_{n}.html"
                    path.write_text(page, encoding="utf-8")
                    html_files[f"naive-{n}"] = path
        elif n in plan.map_sizes:
            rec.skip(
                "map",
                "build + render map HTML",
                n,
                "naive",
                "skipped",
                "naive CircleMarker map capped at 100k",
            )
        if n not in plan.map_sizes:
            continue
        if build is None:
            rec.skip("map", "build + render map HTML", n, "ours", status, note)
            continue
        from atlas.spec import MapSpec

        try:
            data = make_data(incidents)
        except UNDER_TEST_ERRORS as exc:
            rec.skip(
                "map", "build + render map HTML", n, "ours", "error",
                f"atlas.data.load_shipped: {type(exc).__name__}: {exc}"[:400],
            )  # fmt: skip
            continue
        spec = MapSpec()
        res, html = rec.time(
            "map",
            "build + render map HTML",
            n,
            "ours",
            lambda spec=spec, data=data: ours_map_html(spec, data),
            under_test=True,
            note="build_folium_map(MapSpec(), data, assets='local') + render",
        )
        if html is not None and n == max(plan.map_sizes) and n > 1_000:
            view_payloads(rec, data, n)
        if html is not None:
            res.extra["html_bytes"] = len(html.encode())
            if n in plan.browser_sizes:
                try:
                    inline = ours_map_html(spec, data, assets="inline")
                except UNDER_TEST_ERRORS as exc:
                    res.extra["inline_error"] = f"{type(exc).__name__}: {exc}"[:300]
                else:
                    path = workdir / f"ours_{n}.html"
                    path.write_text(inline, encoding="utf-8")
                    html_files[f"ours-{n}"] = path
    return html_files


#: Views a reader may have (label, zoom, centre lon, lat); each is 1000 x 620 px. None:
#: the first view, the spec's frame (the VRAEM), before the map reports where it is.
VIEWS: tuple[tuple[str, int | None, float, float], ...] = (
    ("first view (VRAEM frame)", None, 0.0, 0.0),
    ("Peru, zoom 6", 6, -75.0, -9.0),
    ("a department, zoom 8", 8, -74.0, -12.5),
    ("a province, zoom 10", 10, -74.0, -12.5),
    ("a district, zoom 12", 12, -74.0, -12.5),
    ("a town, zoom 15", 15, -73.5, -12.1),
)


def _groups_html(groups: list[Any]) -> str:
    import folium

    fmap = folium.Map(tiles=None)
    for group in groups:
        group.add_to(fmap)
    return fmap.get_root().render()


def view_payloads(rec: Recorder, data: Any, n: int) -> None:
    """Per view: bytes of the incident layers (points, heat: layer groups minus the same
    groups with no incident layer) and of the base (basemap at the view), and the time to
    choose + build + render the groups, as the app's map fragment does."""
    from atlas.frame import MapView
    from atlas.spec import MapSpec

    status = resolve("layers.hexbins", "incident_view")
    if status[0] is None:
        rec.skip("map", "incident layers payload", n, "first view (VRAEM frame)", status[1],
                 status[2])  # fmt: skip
        return
    from layers.compose import build_base, build_groups
    from layers.hexbins import incident_view

    spec = MapSpec(layers=("basemap", "regions", "points", "heat", "reference"))
    bare = spec.replace(layers=("basemap", "regions", "reference"))
    for label, zoom, lon, lat in VIEWS:
        view = None
        if zoom is not None:
            half = 500 * 360 / (256 * 2**zoom)
            view = MapView(bbox=(lon - half, lat - 0.62 * half, lon + half, lat + 0.62 * half),
                           center=(lat, lon), zoom=zoom)  # fmt: skip

        def build(view: Any = view) -> tuple[Any, str]:
            shown = incident_view(spec, data, view)
            return shown, _groups_html(build_groups(spec, shown, assets="local"))

        res, out = rec.time("map", "incident layers payload", n, label, build, under_test=True,
                            note="incident_view + build_groups + render (the map fragment)")  # fmt: skip
        if out is None:
            continue
        shown, html = out
        empty = _groups_html(build_groups(bare, shown, assets="local"))
        base = build_base(spec, data, view=view).get_root().render()
        choice = shown.shown
        res.extra.update(
            incident_bytes=len(html.encode()) - len(empty.encode()),
            base_bytes=len(base.encode()),
            mode=choice.mode if choice is not None else "points",
            in_view=choice.in_view if choice is not None else len(data.incidents),
            hexagons=len(choice.bins) if choice is not None and choice.bins is not None else 0,
        )
