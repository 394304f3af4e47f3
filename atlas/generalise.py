"""Safe locations: move every event to a coarser place before it is drawn or downloaded.

``MapSpec.generalise`` is ``none``, ``district`` or ``grid:<km>``. The one place it is
applied is :func:`atlas.query.filter_incidents`: the frame it returns (the frame every
renderer, download, sidecar and the app's map receive) is already generalised, so no
output can see an original point.

* ``district``: each event moves to its district's representative point (a point inside
  the polygon, shapely's ``representative_point``), from the loaded district boundaries
  (the shipped INEI 2023 set unless others are loaded). An event in no district (outside
  Peru, or in a gap wider than 1 km between simplified polygons) falls back to the centre
  of a :data:`DISTRICT_FALLBACK_KM` km grid cell, counted in the report.
* ``grid:<km>``: each event moves to the centre of its square cell of ``km`` on a side in
  WGS 84 / UTM zone 18S (:data:`GRID_CRS`, EPSG:32718, metres; cells are anchored on the
  CRS's origin). Where the cell's centre lies outside the event's own district, the event
  goes to a point of the cell's part inside that district instead (so counts per district,
  and per region built from districts such as the VRAEM, do not change).

``location``, ``admin3`` and ``notes`` are replaced: the location by the district's name
(``district``) or the cell size (``grid``), ``admin3`` by the district's name (``district``)
or "" (``grid``), notes by a type summary. Callouts placed by coordinates are snapped the
same way (:func:`snap_callouts`). Counts per region are computed before the move
(:func:`atlas.query.filter_incidents` computes ``inside_region`` on the original points).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from atlas.crs import DISPLAY_CRS, METRIC_CRS
from atlas.i18n import fmt_int, t
from atlas.schema import EVENT_TYPE_LABELS
from atlas.spec import Callout, MapSpec, parse_generalise

#: The metric CRS of the grid: WGS 84 / UTM zone 18S (the VRAEM's zone), metres.
GRID_CRS = METRIC_CRS
#: An event in no district is generalised to a grid cell this wide (km) instead.
DISTRICT_FALLBACK_KM = 20.0
#: Gaps between simplified district polygons narrower than this take the nearest district.
SNAP_KM = 1.0
#: An event in no district is kept this far (degrees, > SNAP_KM) from every district.
_OUTSIDE_DEG = 0.012
#: The columns replaced (their original text could name a village or a witness).
REPLACED_COLUMNS: tuple[str, ...] = ("location", "admin3", "notes")

_TO_METRIC = pyproj.Transformer.from_crs(DISPLAY_CRS, GRID_CRS, always_xy=True)
_TO_DISPLAY = pyproj.Transformer.from_crs(GRID_CRS, DISPLAY_CRS, always_xy=True)


@dataclass(frozen=True)
class GeneraliseReport:
    """What a generalisation did: the setting, how many events, how many places they
    ended on, and how many fell back to a grid cell for want of a district."""

    setting: str
    events: int
    places: int
    no_district: int = 0


# ---- public API ---------------------------------------------------------------------------
def generalise_incidents(
    incidents: gpd.GeoDataFrame,
    setting: str,
    districts: gpd.GeoDataFrame | None = None,
    *,
    lang: str = "en",
) -> gpd.GeoDataFrame:
    """A copy of ``incidents`` with every point moved and the fine text replaced.

    ``districts`` (a regions frame with ``region_id`` and ``name``) defaults to the
    shipped INEI 2023 districts. The report is in ``attrs["generalise"]``
    (:class:`GeneraliseReport`). ``setting == "none"`` returns the frame unchanged.
    """
    mode, km = parse_generalise(setting)
    if mode == "none":
        return incidents
    if districts is None:
        districts = shipped_districts()
    out = incidents.copy()
    pts = out.geometry.to_numpy()
    ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    where = district_of(out, districts)
    names = districts.set_index(districts["region_id"].astype(str))["name"].astype(str)
    geoms = districts.set_index(districts["region_id"].astype(str)).geometry
    new = np.array(pts, dtype=object)
    no_district = 0
    if mode == "district":
        has = ok & where.notna().to_numpy()
        ids = where[has].astype(str)
        rep = _representative_points(geoms, tuple(sorted(set(ids))))
        new[has] = pd.Series(rep, dtype=object).reindex(ids.to_numpy()).to_numpy()
        rest = ok & ~has
        no_district = int(rest.sum())
        if no_district:
            new[rest] = _grid_points(pts[rest], DISTRICT_FALLBACK_KM, where[rest].to_numpy(), geoms)
        location = where.map(names).fillna("").astype(str)
        out["location"] = location.where(has, t("gen_cell", lang, km=DISTRICT_FALLBACK_KM))
        out["admin3"] = location.where(has, "")
    else:
        assert km is not None
        new[ok] = _grid_points(pts[ok], km, where[ok].to_numpy(), geoms)
        out["location"] = t("gen_cell", lang, km=km)
        out["admin3"] = ""
    out["location"] = out["location"].astype("string")
    out["admin3"] = out["admin3"].astype("string")
    out["notes"] = pd.array(type_summary(out, lang), dtype="string")
    out = out.set_geometry(gpd.GeoSeries(new, index=out.index, crs=incidents.crs))
    xy = pd.DataFrame({"x": shapely.get_x(new[ok]), "y": shapely.get_y(new[ok])}).round(6)
    places = len(xy.drop_duplicates())
    out.attrs = dict(incidents.attrs)
    out.attrs["generalise"] = GeneraliseReport(setting, len(out), places, no_district)
    return out


def district_of(incidents: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.Series:
    """One district id per incident (NA in none), gaps up to :data:`SNAP_KM` snapped."""
    from atlas.spatial import join_incidents

    work = gpd.GeoDataFrame(
        {"_pos": np.arange(len(incidents))}, geometry=incidents.geometry.to_numpy(),
        crs=incidents.crs,
    )  # fmt: skip
    joined = join_incidents(work, districts, snap_km=SNAP_KM)
    first = joined.drop_duplicates("_pos")
    ids = pd.Series(pd.NA, index=range(len(incidents)), dtype="string")
    ids.iloc[first["_pos"].to_numpy()] = first["region_id"].astype("string").to_numpy()
    ids.index = incidents.index
    return ids


def snap_callouts(
    callouts: tuple[Callout, ...], setting: str, districts: gpd.GeoDataFrame | None = None
) -> tuple[Callout, ...]:
    """Callouts placed by coordinates moved as an event there would be; callouts placed on
    a region id are left (a region is no finer than a district)."""
    mode, _ = parse_generalise(setting)
    placed = [c for c in callouts if c.lon is not None]
    if mode == "none" or not placed:
        return callouts
    frame = gpd.GeoDataFrame(
        {"notes": [""] * len(placed), "event_type": ["other"] * len(placed),
         "sub_event_type": [""] * len(placed)},
        geometry=gpd.points_from_xy([c.lon for c in placed], [c.lat for c in placed]),
        crs=DISPLAY_CRS,
    )  # fmt: skip
    moved = iter(generalise_incidents(frame, setting, districts).geometry)
    out = []
    for c in callouts:
        if c.lon is None:
            out.append(c)
            continue
        p = next(moved)
        out.append(Callout(c.text, round(p.x, 5), round(p.y, 5), c.leader, c.region_id))
    return tuple(out)


def generalise_spec(spec: MapSpec, districts: gpd.GeoDataFrame | None = None) -> MapSpec:
    """``spec`` with its callouts snapped to the generalisation (see :func:`snap_callouts`)."""
    if spec.generalise == "none" or not spec.callouts:
        return spec
    return spec.replace(callouts=snap_callouts(spec.callouts, spec.generalise, districts))


def note(setting: str, lang: str) -> str:
    """The sentence every output carries: "Locations generalised to …" ("" for none)."""
    mode, km = parse_generalise(setting)
    if mode == "none":
        return ""
    if mode == "district":
        return t("gen_note_district", lang)
    return t("gen_note_grid", lang, km=f"{km:g}", crs=GRID_CRS)


def suppress_counts(counts: pd.Series, k: int, lang: str = "en") -> pd.Series:
    """Counts as text, with every count from 1 to ``k - 1`` shown as "< k" (small-count
    suppression: a lone event in a small place can identify the people in it). Zero stays
    "0"; ``k <= 1`` suppresses nothing."""
    values = pd.to_numeric(counts, errors="coerce")
    text = values.map(lambda n: "" if pd.isna(n) else fmt_int(n, lang)).astype(object)
    if k > 1:
        small = (values > 0) & (values < k)
        text[small.fillna(False).to_numpy(dtype=bool)] = f"< {k}"
    return text


def suppress_table(table: pd.DataFrame, k: int, lang: str = "en") -> pd.DataFrame:
    """A per-region table with ``incidents`` from 1 to k - 1 shown as "< k" and the
    figures that would give them away (fatalities, densities) blanked in those rows."""
    out = table.copy()
    shown = suppress_counts(out["incidents"], k, lang)
    small = shown.str.startswith("<").to_numpy()
    for col in out.columns:
        if col.startswith(("fatalities", "incidents_per")):
            out[col] = out[col].astype(object)
            out.loc[small, col] = ""
    out["incidents"] = out["incidents"].astype(object)
    out.loc[small, "incidents"] = shown[small]
    return out


def type_summary(incidents: pd.DataFrame, lang: str) -> list[str]:
    """The notes' stand-in: the event type, the source's sub-type and the fatalities."""
    labels = {k: v.get(lang, k) for k, v in EVENT_TYPE_LABELS.items()}
    etype = incidents["event_type"].astype("string").fillna("")
    text = etype.map(labels).fillna(etype).astype(str)
    if "sub_event_type" in incidents:
        sub = incidents["sub_event_type"].astype("string").fillna("").str.strip()
        text = text.where(sub.eq("").to_numpy(), text + "; " + sub.astype(str))
    if "fatalities" in incidents:
        fat = pd.to_numeric(incidents["fatalities"], errors="coerce")
        known = fat.notna().to_numpy()
        if known.any():
            words = {n: t("gen_fatalities", lang, n=fmt_int(n, lang)) for n in fat[known].unique()}
            killed = fat[known].map(words)
            text = text.astype(object)
            text[known] = (text[known] + "; " + killed).to_numpy()
    return [str(v) for v in text]


@lru_cache(maxsize=1)
def shipped_districts() -> gpd.GeoDataFrame:
    """The shipped INEI 2023 districts (geodata/peru), read once per process."""
    from atlas.data import load_districts

    return load_districts()


# ---- private stages -----------------------------------------------------------------------
def _representative_points(geoms: gpd.GeoSeries, ids: tuple[str, ...]) -> dict[str, object]:
    if not ids:
        return {}
    picked = geoms.loc[list(ids)]
    picked = picked[~picked.index.duplicated()]
    return dict(zip(picked.index, shapely.point_on_surface(picked.to_numpy()), strict=True))


def _grid_points(
    pts: np.ndarray, km: float, district_ids: np.ndarray | None, geoms: gpd.GeoSeries | None
) -> np.ndarray:
    """Each point's cell centre in :data:`GRID_CRS`; with districts, where the centre
    lies outside the event's district, a point of the cell's part inside that district;
    for an event in no district, a point of the cell away from every district."""
    if not len(pts):
        return np.array([], dtype=object)
    size = km * 1000.0
    x, y = _TO_METRIC.transform(shapely.get_x(pts), shapely.get_y(pts))
    ix, iy = np.floor(np.asarray(x) / size), np.floor(np.asarray(y) / size)
    if district_ids is None or geoms is None:
        return _centres(ix, iy, size)
    cells = pd.DataFrame({"ix": ix, "iy": iy,
                          "d": pd.Series(district_ids, dtype="string").fillna("").to_numpy()})  # fmt: skip
    uniq = cells.drop_duplicates().reset_index(drop=True)
    uix, uiy, ud = uniq["ix"].to_numpy(), uniq["iy"].to_numpy(), uniq["d"].to_numpy(dtype=str)
    place = _centres(uix, uiy, size)
    has = ud != ""
    polys = geoms[~geoms.index.duplicated()].reindex(ud[has]).to_numpy()
    inside = np.ones(len(uniq), dtype=bool)
    inside[has] = shapely.intersects(polys, place[has])
    need = has & ~inside
    if need.any():  # the cell's part inside the event's district
        part = shapely.intersection(polys[~inside[has]], _cells(uix[need], uiy[need], size))
        good = ~shapely.is_empty(part)
        fixed = place[need]
        fixed[good] = shapely.point_on_surface(part[good])
        place[need] = fixed
    for k in np.flatnonzero(~has):  # in no district: stays in no district (rare)
        cell = _cells(uix[k : k + 1], uiy[k : k + 1], size)[0]
        near = geoms.iloc[geoms.sindex.query(cell, predicate="intersects")]
        if not len(near):
            continue
        land = shapely.buffer(shapely.union_all(near.to_numpy()), _OUTSIDE_DEG)
        if shapely.intersects(land, place[k]):
            part = shapely.difference(cell, land)
            if not part.is_empty:
                place[k] = shapely.point_on_surface(part)
    pos = cells.merge(uniq.reset_index(), on=["ix", "iy", "d"], how="left")["index"]
    return place[pos.to_numpy()]


def _centres(ix: np.ndarray, iy: np.ndarray, size: float) -> np.ndarray:
    lon, lat = _TO_DISPLAY.transform((ix + 0.5) * size, (iy + 0.5) * size)
    return shapely.points(np.asarray(lon), np.asarray(lat))


def _cells(ix: np.ndarray, iy: np.ndarray, size: float) -> np.ndarray:
    """The cells as polygons in degrees (edges densified so they follow the projection)."""
    boxes = shapely.segmentize(shapely.box(ix * size, iy * size, (ix + 1) * size,
                                           (iy + 1) * size), size / 16)  # fmt: skip

    def to_display(coords: np.ndarray) -> np.ndarray:
        lon, lat = _TO_DISPLAY.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(boxes, to_display)


__all__ = [
    "DISTRICT_FALLBACK_KM",
    "GRID_CRS",
    "REPLACED_COLUMNS",
    "GeneraliseReport",
    "district_of",
    "generalise_incidents",
    "generalise_spec",
    "note",
    "shipped_districts",
    "snap_callouts",
    "suppress_counts",
    "suppress_table",
    "type_summary",
]
