"""Coca cultivation by department: a choropleth of DEVIDA hectares for one year.

The department rows of ``data.coca`` (DEVIDA's table 2018-2022, as reproduced by El
Comercio) are joined to ``data.departments`` by 2-digit ubigeo. The year is
``spec.coca_year`` when the spec has it, else the latest year with department figures
(2022). Classes are fixed hectare bands, so years compare on one scale; a department
without a figure is "no data" (hatched grey), never zero. The VRAEM zone's own series
(UNODC 2017, DEVIDA 2020 and 2022) is a legend line beside the map: department coca is
not where incidents happen, and the zone figures are not department sums.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from atlas import i18n
from layers.base import FrameMemo, Layer, LegendEntry, PointsMemo
from layers.style import STYLES, esc

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec

#: Hectare class edges (lower bounds) and ColorBrewer Greens (sequential, CVD-safe).
CLASS_EDGES: tuple[int, ...] = (1, 1_000, 5_000, 10_000, 15_000)
CLASS_COLORS: tuple[str, ...] = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")
ZERO_COLOR = "#ffffff"
NO_DATA_COLOR = "#e3e3e3"
NO_DATA_HATCH = "////"
DEFAULT_YEAR = 2022
#: The VRAEM zone series shown beside the map: (zone name in the table, years).
ZONE_SERIES = ("VRAEM", (2017, 2020, 2022))


def _short_publisher(text: str) -> str:
    """'DEVIDA table reproduced by ...' -> 'DEVIDA'; UNODC likewise; else the text."""
    for name in ("DEVIDA", "UNODC"):
        if name in str(text):
            return name
    return str(text)


def department_rows(coca: pd.DataFrame | None) -> pd.DataFrame:
    """The department-level rows of the coca table (ubigeo_dep, year, hectares, source)."""
    if coca is None or coca.empty or "zone_kind" not in coca:
        return pd.DataFrame(columns=["ubigeo_dep", "year", "hectares", "source_publisher"])
    return coca[coca["zone_kind"] == "department"]


def coca_year(spec: MapSpec, data: AtlasData) -> int:
    """The year drawn: ``spec.coca_year`` when set, else 2022 (the latest department year)."""
    year = getattr(spec, "coca_year", None) or DEFAULT_YEAR
    return int(year)


def class_of(hectares: float | None) -> int:
    """-1 no data, 0 zero, 1..5 the hectare bands of :data:`CLASS_EDGES`."""
    if hectares is None or pd.isna(hectares):
        return -1
    if hectares <= 0:
        return 0
    return int(np.searchsorted(CLASS_EDGES, hectares, side="right"))


def class_label(k: int, lang: str) -> str:
    if k == -1:
        return i18n.t("coca_no_data", lang)
    if k == 0:
        return "0 ha"
    lo = CLASS_EDGES[k - 1]
    if k == len(CLASS_EDGES):
        return i18n.t("coca_or_more", lang, n=i18n.fmt_int(lo, lang))
    hi = CLASS_EDGES[k] - 1
    return f"{i18n.fmt_int(lo, lang)}–{i18n.fmt_int(hi, lang)} ha"


def class_color(k: int) -> str:
    return NO_DATA_COLOR if k == -1 else ZERO_COLOR if k == 0 else CLASS_COLORS[k - 1]


def coca_frame(data: AtlasData, spec: MapSpec, *, counts: bool = True) -> gpd.GeoDataFrame | None:
    """Departments with ``hectares`` (NA = no data), ``klass``, ``fill``, ``source``,
    ``url`` and, with ``counts``, ``incidents`` (the view's incidents in the department
    dated that year). The caller may change the frame it gets."""
    classes = _classes(data, coca_year(spec, data))
    if classes is None:
        return None
    frame = classes.copy()
    if counts:
        frame["incidents"] = _incidents_by_department(data, frame)
    return frame


def _classes(data: AtlasData, year: int) -> gpd.GeoDataFrame | None:
    """Departments with their hectares and classes for ``year``: the part of
    :func:`coca_frame` no filter changes, made once per departments layer, coca table and
    year (callers must not change the frame)."""
    departments = getattr(data, "departments", None)
    if departments is None or departments.empty:
        return None

    def make() -> gpd.GeoDataFrame:
        rows = department_rows(data.coca)
        rows = rows[rows["year"] == year][
            ["ubigeo_dep", "hectares", "source_publisher", "source_url"]
        ].rename(
            columns={"ubigeo_dep": "ubigeo", "source_publisher": "source", "source_url": "url"}
        )
        frame = departments[["ubigeo", "name", "geometry"]].merge(rows, on="ubigeo", how="left")
        frame["hectares"] = pd.to_numeric(frame["hectares"], errors="coerce")
        frame["klass"] = [class_of(v) for v in frame["hectares"]]
        frame["fill"] = [class_color(k) for k in frame["klass"]]
        frame["year"] = year
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=departments.crs)

    return _CLASSES.get((departments, data.coca), str(year), make)


#: The department frames and their map features, per departments layer and coca table
#: (the shared data's: the app asks every page run) and year (and language).
_CLASSES = FrameMemo()
_FEATURES = FrameMemo()


def _department_of_incidents(data: AtlasData, departments: gpd.GeoDataFrame) -> pd.Series:
    """2-digit department code of each incident (NA outside every department).

    Read from ``data.incident_departments`` when the incidents were placed in their
    departments as they were loaded (a 1M-row upload, in the process that read it);
    otherwise placed here. The map layer and the per-1,000-ha table ask this for the same
    view in one page run: answers placed here are kept for a few point sets (keyed by the
    points' coordinates and the departments' codes and bounds)."""
    from atlas.spatial import departments_key, row_departments

    inc = data.incidents
    known = getattr(data, "incident_departments", None)
    if known is not None:
        hit = known.for_rows(departments, inc.index)
        if hit is not None:
            return hit
    hit = _DEPARTMENT_MEMO.get(inc.geometry, departments_key(departments),
                               lambda: row_departments(inc, departments).codes.array)  # fmt: skip
    return pd.Series(hit, index=inc.index, name="region_id", copy=False)


_DEPARTMENT_MEMO = PointsMemo()


def _incidents_by_department(data: AtlasData, frame: gpd.GeoDataFrame) -> np.ndarray:
    """Incidents of the view dated in the coca year, per department of ``frame``."""
    inc = data.incidents
    if inc is None or inc.empty or "date_start" not in inc:
        return np.zeros(len(frame), dtype=int)
    year = int(frame["year"].iloc[0])
    in_year = pd.to_datetime(inc["date_start"]).dt.year == year
    deps = _department_of_incidents(data, frame)[in_year.to_numpy()]
    counts = deps.value_counts()
    return np.asarray([int(counts.get(u, 0)) for u in frame["ubigeo"]])


def incidents_per_1000_ha(data: AtlasData) -> pd.DataFrame:
    """Per department and year with a coca figure: incidents of the view dated that
    year in the department, hectares, and incidents per 1,000 ha. Department coca is not
    where incidents happen: print ``coca_per_ha_caveat`` (atlas.i18n) with any use."""
    cols = ["ubigeo", "name", "year", "incidents", "hectares", "incidents_per_1000ha"]
    departments = getattr(data, "departments", None)
    rows = department_rows(data.coca)
    rows = rows[pd.to_numeric(rows["hectares"], errors="coerce") > 0]
    if departments is None or departments.empty or rows.empty:
        return pd.DataFrame(columns=cols)
    inc = data.incidents
    table = rows[["ubigeo_dep", "year", "hectares"]].rename(columns={"ubigeo_dep": "ubigeo"})
    table = table.merge(departments[["ubigeo", "name"]], on="ubigeo", how="inner")
    if inc is None or inc.empty or "date_start" not in inc:
        table["incidents"] = 0
    else:
        counts = (
            pd.DataFrame(
                {
                    "ubigeo": _department_of_incidents(data, departments).to_numpy(),
                    "year": pd.to_datetime(inc["date_start"]).dt.year.to_numpy(),
                }
            )
            .dropna()
            .value_counts()
            .rename("incidents")
            .reset_index()
        )
        counts["year"] = counts["year"].astype(int)
        table = table.merge(counts, on=["ubigeo", "year"], how="left")
        table["incidents"] = table["incidents"].fillna(0).astype(int)
    table["hectares"] = table["hectares"].astype(float)
    table["incidents_per_1000ha"] = table["incidents"] / table["hectares"] * 1000.0
    return table[cols].sort_values(["year", "ubigeo"]).reset_index(drop=True)


def zone_series_text(data: AtlasData, lang: str) -> str:
    """'VRAEM zone: 20,304 ha (2017, UNODC) · 27,994 ha (2020, DEVIDA) · …' or ''."""
    coca = data.coca
    if coca is None or coca.empty:
        return ""
    zone, years = ZONE_SERIES
    rows = coca[(coca["zone"] == zone) & coca["year"].isin(years) & coca["hectares"].notna()]
    if rows.empty:
        return ""
    parts = [
        f"{i18n.fmt_int(float(r.hectares), lang)} ha ({int(r.year)}, "
        f"{_short_publisher(r.source_publisher)})"
        for r in rows.sort_values("year").itertuples()
    ]
    return i18n.t("coca_zone_series", lang, zone=zone, series=" · ".join(parts))


def _features(frame: gpd.GeoDataFrame, lang: str) -> list[dict]:
    """The departments as GeoJSON features for the web map, with what their tooltip and
    popup show but the view's incidents (escaped here: the popup renders HTML)."""
    shown = pd.DataFrame(index=frame.index)
    shown["name"] = frame["name"].map(lambda v: esc(str(v)))
    shown["ha"] = [
        f"{i18n.fmt_int(v, lang)} ha" if pd.notna(v) else i18n.t("coca_no_data", lang)
        for v in frame["hectares"]
    ]
    shown["year"] = frame["year"].astype(str)
    shown["source"] = [
        esc(f"{s} {u}") if isinstance(s, str) else esc(i18n.t("coca_not_in_table", lang))
        for s, u in zip(frame["source"], frame["url"].fillna(""), strict=True)
    ]
    shown["fill"] = frame["fill"]
    shown["nodata"] = frame["klass"] == -1
    # departments at screen detail: about 0.5 km, a quarter of the bytes
    geometry = frame.geometry
    if frame.crs is not None and frame.crs.to_epsg() != 4326:  # the web map's degrees
        geometry = geometry.to_crs(4326)
    light = shapely.set_precision(shapely.simplify(np.asarray(geometry.array), 0.004), 1e-3)
    records = shown.to_dict(orient="records")
    return [
        {
            "id": str(i),  # what the styler switches on
            "type": "Feature",
            "properties": props,
            "geometry": shapely.geometry.mapping(geom),
        }
        for i, props, geom in zip(frame.index, records, light, strict=True)
    ]


def source_text(frame: gpd.GeoDataFrame) -> str:
    sources = sorted({str(s) for s in frame["source"].dropna()})
    return "; ".join(sources)


#: The coca choropleth's pane: above the land (250), below the zone shading (360) and data.
COCA_PANE = "atlasCoca"
COCA_PANE_Z = 350


class CocaLayer(Layer):
    """Coca hectares by department for one year (choropleth), with the zone series."""

    name = "coca"
    title = {"en": "Coca cultivation", "es": "Cultivo de coca"}
    style = STYLES["coca"]

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        frame = coca_frame(data, spec, counts=False)
        if frame is None:
            return []
        lang = spec.lang
        year = coca_year(spec, data)
        publisher = _short_publisher(source_text(frame)) or "DEVIDA"
        head = i18n.t("coca_legend_head", lang, year=year, source=publisher)
        present = set(frame["klass"])
        entries = []
        for k in range(len(CLASS_EDGES), -2, -1):
            if k <= 0 and k not in present:
                continue  # zero and no-data lines only when some department has them
            label = class_label(k, lang)
            entries.append(
                LegendEntry(
                    label=f"{head}: {label}" if not entries else label,
                    kind="patch",
                    color=class_color(k),
                    edgecolor="#9a9a9a",
                    dashed=k == -1,
                )
            )
        zone = zone_series_text(data, lang)
        if zone:
            entries.append(
                LegendEntry(label=zone, kind="patch", color="#ffffff", edgecolor="#ffffff")
            )
        return entries

    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        year = coca_year(spec, data)
        frame = _classes(data, year)
        if frame is None:
            return
        lang = spec.lang
        if isinstance(fmap, folium.Map):  # in a layer group the map's base has the pane
            folium.map.CustomPane(COCA_PANE, z_index=COCA_PANE_Z).add_to(fmap)
        # the departments' outlines and figures are the same at every filter: made once;
        # each view adds its incidents per 1,000 ha
        features = _FEATURES.get((data.departments, data.coca), f"{year}|{lang}",
                                 lambda: _features(frame, lang))  # fmt: skip
        per_ha = [
            i18n.fmt_number(n / h * 1000, lang, 1) if pd.notna(h) and h > 0 else "–"
            for n, h in zip(_incidents_by_department(data, frame), frame["hectares"], strict=True)
        ]
        gdf = {
            "type": "FeatureCollection",
            "features": [
                {**f, "properties": {**f["properties"], "per_ha": v}}
                for f, v in zip(features, per_ha, strict=True)
            ],
        }
        caveat = esc(i18n.t("coca_per_ha_caveat", lang))
        folium.GeoJson(
            gdf,
            name=self.title.get(lang, self.title["en"]),
            pane=COCA_PANE,
            style_function=lambda f: {
                "fillColor": f["properties"]["fill"],
                "fillOpacity": 0.55 if f["properties"]["nodata"] else 0.75,
                "color": "#8a8a8a",
                "weight": 0.6,
                "dashArray": "3 3" if f["properties"]["nodata"] else None,
            },
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "ha", "year"],
                aliases=["", i18n.t("coca_tooltip_ha", lang), i18n.t("coca_tooltip_year", lang)],
            ),
            popup=folium.GeoJsonPopup(
                fields=["name", "ha", "year", "source", "per_ha"],
                aliases=[
                    "",
                    i18n.t("coca_tooltip_ha", lang),
                    i18n.t("coca_tooltip_year", lang),
                    i18n.t("coca_popup_source", lang),
                    i18n.t("coca_popup_per_ha", lang) + f" ({caveat})",
                ],
            ),
        ).add_to(fmap)

    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        frame = coca_frame(data, spec, counts=False)
        if frame is None:
            return
        nodata = frame["klass"] == -1
        if (~nodata).any():
            frame[~nodata].plot(
                ax=ax,
                color=list(frame.loc[~nodata, "fill"]),
                edgecolor="#8a8a8a",
                linewidth=0.4,
                alpha=0.7,
                zorder=0.25,
            )
        if nodata.any():
            frame[nodata].plot(
                ax=ax,
                facecolor=NO_DATA_COLOR,
                edgecolor="#a8a8a8",
                hatch=NO_DATA_HATCH,
                linewidth=0.3,
                alpha=0.6,
                zorder=0.25,
            )


__all__ = [
    "CLASS_EDGES",
    "CocaLayer",
    "class_of",
    "coca_frame",
    "coca_year",
    "incidents_per_1000_ha",
    "zone_series_text",
]
