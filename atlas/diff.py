"""What changed between two versions of an incident file (ACLED revises and deletes events).

``diff_files(old, new, spec)`` reads both files with the ordinary readers, matches events
by id over *every* row (before any filter, so a deleted event is never confused with a
filtered one), and returns a :class:`DiffResult`:

* ``changes``: one row per id in either file with ``status`` added / removed / changed /
  unchanged, the fields that differ (:data:`COMPARED_FIELDS`), and the revisions:
  fatalities up or down, kilometres moved (WGS 84 ellipsoid), days moved; a point counts
  as moved above :data:`MOVE_DEGREES` (0.001° ≈ 100 m) in latitude or longitude, or when
  a smaller move takes it across ``spec.region``'s edge.
* ``totals``: per region (``spec.region`` and everything) and period, inside the spec's
  filters: events and fatalities in each version, added, removed, revised, and the
  revised events that entered or left the cell, so ``events_new = events_old + added -
  removed + revised_in - revised_out``.
* both files' names, sha256, modification times and event date ranges.

Refused, never guessed: files of different sources (ACLED against UCDP, a table...),
files without an id column or with rows whose id is blank (counted), files with duplicate
ids (listed). Ids are matched without the blanks around them, as the readers find
duplicates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from atlas.errors import InputError
from atlas.i18n import fmt_int, t
from atlas.query import match_mask, region_mask
from atlas.readers import read_incidents
from atlas.safety import operator_limits, to_safe_csv
from atlas.schema import LoadReport
from atlas.spec import MapSpec

#: Fields compared between versions ("coordinates" = moved more than MOVE_DEGREES).
COMPARED_FIELDS: tuple[str, ...] = (
    "date_start", "date_end", "date_precision", "event_type", "sub_event_type", "actor1",
    "actor2", "fatalities", "location", "admin1", "admin2", "admin3", "coordinates",
    "geo_precision",
)  # fmt: skip
#: A point moved when its latitude or longitude changed by more than this (≈ 100 m).
MOVE_DEGREES = 0.001
STATUSES: tuple[str, ...] = ("added", "removed", "changed", "unchanged")
PERIODS: dict[str, str] = {"year": "Y", "quarter": "Q", "month": "M"}
ALL_REGIONS = "all"
_GEOD = pyproj.Geod(ellps="WGS84")
_TEXT = ("date_precision", "event_type", "sub_event_type", "actor1", "actor2", "location",
         "admin1", "admin2", "admin3", "geo_precision")  # fmt: skip


@dataclass(frozen=True)
class VersionInfo:
    """One version of the file: what it is and what it held."""

    name: str
    sha256: str
    modified: str  # the file's modification time, UTC, ISO 8601
    source: str  # the reader that read it: acled, ucdp, table, vector
    rows_read: int
    rows_kept: int
    first_date: str
    last_date: str


@dataclass
class DiffResult:
    old: VersionInfo
    new: VersionInfo
    changes: pd.DataFrame
    totals: pd.DataFrame
    spec: MapSpec = field(default_factory=MapSpec)
    by: str = "year"

    def counts(self) -> dict[str, int]:
        """Events per status over the whole files (no filter)."""
        vc = self.changes["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUSES}

    def lines(self, lang: str = "en", region_names: dict[str, str] | None = None) -> list[str]:
        """One sentence per region and period: "VRAEM, 2023: +3 events, −1, fatalities
        34 → 31" (and the revised events, when any)."""
        names = region_names or {}
        out = []
        for row in self.totals.itertuples(index=False):
            region = t("diff_all", lang) if row.region == ALL_REGIONS else names.get(
                row.region, row.region)  # fmt: skip
            line = t("diff_line", lang, region=region, period=row.period,
                     added=fmt_int(row.added, lang), removed=fmt_int(row.removed, lang),
                     old=fmt_int(row.fatalities_old, lang),
                     new=fmt_int(row.fatalities_new, lang))  # fmt: skip
            if row.revised:
                line += t("diff_revised", lang, n=fmt_int(row.revised, lang))
            out.append(line)
        return out

    def header(self) -> list[str]:
        """What was compared: both files with hash, date and rows; the filters."""
        out = []
        for label, v in (("old", self.old), ("new", self.new)):
            out.append(
                f"{label}: {v.name} sha256 {v.sha256} modified {v.modified} ({v.source}, "
                f"{v.rows_kept:,} of {v.rows_read:,} rows kept, events {v.first_date} to "
                f"{v.last_date})"
            )
        return out

    def to_csv(self) -> str:
        """The changes table as CSV (formula cells neutralised; each version's file,
        hash and date in the columns ``old_file``…)."""
        table = self.changes.copy()
        for label, v in (("old", self.old), ("new", self.new)):
            table[f"{label}_file"] = v.name
            table[f"{label}_sha256"] = v.sha256
            table[f"{label}_modified"] = v.modified
        return to_safe_csv(table)

    def to_dict(self) -> dict:
        return {"old": asdict(self.old), "new": asdict(self.new), "counts": self.counts()}


# ---- public API ---------------------------------------------------------------------------
def read_version(path: str | Path) -> tuple[gpd.GeoDataFrame, VersionInfo]:
    """Read one version with the ordinary readers; refuse duplicate or missing ids."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found; check the path")
    frame, report = read_incidents(p, limits=operator_limits())
    check_ids(frame, report, p.name)
    dates = pd.to_datetime(frame["date_start"])
    info = VersionInfo(
        name=p.name,
        sha256=hashlib.sha256(p.read_bytes()).hexdigest(),
        modified=dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC).isoformat(timespec="seconds"),
        source=report.kind,
        rows_read=report.rows_read,
        rows_kept=report.rows_kept,
        first_date=dates.min().date().isoformat() if len(frame) else "",
        last_date=dates.max().date().isoformat() if len(frame) else "",
    )
    return frame, info


def check_ids(frame: gpd.GeoDataFrame, report: LoadReport, name: str) -> None:
    """Refuse a version whose rows repeat an id (listed) or that has no id column."""
    dups = [r.detail.split("=", 1)[-1] for r in report.rejected if r.reason == "duplicate_event_id"]
    if dups:
        shown = ", ".join(sorted(set(dups))[:20])
        raise InputError(
            f"{name}: {len(dups):,} rows repeat an event id ({shown}"
            f"{', …' if len(set(dups)) > 20 else ''}); a diff cannot tell which row is the "
            "event: fix the file (ids must be unique)"
        )
    ids = _ids(frame)
    if not len(frame):
        return
    if report.numbered_ids:  # the reader named rows by number: no id column
        raise InputError(
            f"{name}: no event id column (looked for ACLED event_id_cnty, UCDP id, or a "
            "table's event_id/id); a diff matches events by id and will not guess by place "
            "or date"
        )
    blank = int((ids == "").sum())
    if blank:
        raise InputError(
            f"{name}: {blank:,} {'row has' if blank == 1 else 'rows have'} no event id (the "
            "cell is empty or blank); a diff matches events by id and will not guess which "
            "event such a row is: fix the file (every row needs an id)"
        )


def diff_files(
    old: str | Path,
    new: str | Path,
    spec: MapSpec | None = None,
    regions: gpd.GeoDataFrame | None = None,
    *,
    by: str = "year",
) -> DiffResult:
    """Compare two versions of one incident file (see the module docstring)."""
    old_frame, old_info = read_version(old)
    new_frame, new_info = read_version(new)
    if old_info.source != new_info.source:
        raise InputError(
            f"{old_info.name} was read as {old_info.source} and {new_info.name} as "
            f"{new_info.source}: a diff compares two versions of the same source's file"
        )
    spec = spec or MapSpec()
    changes, totals = diff_incidents(old_frame, new_frame, spec, regions, by=by)
    return DiffResult(old_info, new_info, changes, totals, spec, by)


def diff_incidents(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    spec: MapSpec | None = None,
    regions: gpd.GeoDataFrame | None = None,
    *,
    by: str = "year",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The changes table and the totals per region and period (module docstring)."""
    if by not in PERIODS:
        raise InputError(f"by {by!r}: choose {', '.join(PERIODS)}")
    spec = spec or MapSpec()
    for name, frame in (("old", old), ("new", new)):
        ids = _ids(frame)
        dup = ids.duplicated()
        if dup.any():
            shown = ", ".join(ids[dup].astype(str).unique()[:20])
            raise InputError(f"{name} version: duplicate event ids ({shown}); ids must be unique")
    a = _prepare(old, spec, regions, "old")
    b = _prepare(new, spec, regions, "new")
    both = a.join(b, how="outer")
    has_a, has_b = both["present_old"].eq(True), both["present_new"].eq(True)
    changed_fields = _changed_fields(both, has_a & has_b)
    status = np.select(
        [has_a & ~has_b, ~has_a & has_b, changed_fields.str.len() > 0],
        ["removed", "added", "changed"],
        "unchanged",
    )
    out = pd.DataFrame(index=both.index)
    out["status"] = status
    out["fields_changed"] = changed_fields.where(has_a & has_b, "")
    fo, fn = both["fatalities_old"].astype("Float64"), both["fatalities_new"].astype("Float64")
    delta = fn - fo
    out["fatalities_old"], out["fatalities_new"] = fo, fn
    out["fatalities_revision"] = np.select(
        [delta.gt(0).fillna(False), delta.lt(0).fillna(False)], ["up", "down"], ""
    )
    out["km_moved"] = _km(both).round(3)
    days = (both["date_start_new"] - both["date_start_old"]).dt.days
    out["days_moved"] = days.astype("Int64")
    for col in (
        "date_start",
        "event_type",
        "actor1",
        "location",
        "lon",
        "lat",
        "in_filter",
        "inside",
    ):
        out[f"{col}_old"] = both[f"{col}_old"]
        out[f"{col}_new"] = both[f"{col}_new"]
    for col in ("date_start_old", "date_start_new"):
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    out = out.rename_axis("event_id").reset_index()
    order = {s: i for i, s in enumerate(STATUSES)}
    out = out.sort_values(["status", "event_id"], key=lambda s: s.map(order) if s.name ==
                          "status" else s, kind="stable").reset_index(drop=True)  # fmt: skip
    totals = _totals(both, out.set_index("event_id")["status"], spec, by)
    return out, totals


def changes_points(
    changes: pd.DataFrame,
    spec: MapSpec | None = None,
    districts: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The changes a map draws: added, removed and changed events inside the spec's
    filters in either version, at the new place (the old one for a removed event).

    The points go through ``spec.generalise`` like every incident a renderer gets
    (:func:`atlas.generalise.generalise_incidents`), so a changes layer leaks nothing a
    generalised map hides; the location columns are dropped.
    """
    spec = spec or MapSpec()
    keep = changes["status"].ne("unchanged") & (
        changes["in_filter_old"].eq(True) | changes["in_filter_new"].eq(True)
    )
    rows = changes[keep]
    lon = rows["lon_new"].where(rows["status"].ne("removed"), rows["lon_old"])
    lat = rows["lat_new"].where(rows["status"].ne("removed"), rows["lat_old"])
    ok = lon.notna() & lat.notna()
    rows, lon, lat = rows[ok], lon[ok], lat[ok]
    cols = ["event_id", "status", "fields_changed", "fatalities_old", "fatalities_new",
            "fatalities_revision", "km_moved", "days_moved", "date_start_old",
            "date_start_new"]  # fmt: skip
    out = gpd.GeoDataFrame(
        rows[cols].reset_index(drop=True),
        geometry=gpd.points_from_xy(lon.to_numpy(), lat.to_numpy()),
        crs="EPSG:4326",
    )
    out["event_type"] = rows["event_type_new"].fillna(rows["event_type_old"]).to_numpy()
    out["sub_event_type"] = ""
    out["fatalities"] = out["fatalities_new"].fillna(out["fatalities_old"])
    if spec.generalise != "none":
        from atlas.generalise import generalise_incidents

        out = generalise_incidents(out, spec.generalise, districts, lang=spec.lang)
        out = out.drop(columns=["location", "admin3", "notes"], errors="ignore")
    return out


# ---- private stages -----------------------------------------------------------------------
def _ids(frame: pd.DataFrame) -> pd.Series:
    """Event ids as text without the blanks around them: the readers keep an id cell as
    written but find duplicates on the stripped text, so " PER1" and "PER1" are one event
    (matched, not one removed and one added)."""
    return frame["event_id"].astype("string").fillna("").str.strip()


def _prepare(
    frame: gpd.GeoDataFrame, spec: MapSpec, regions: gpd.GeoDataFrame | None, tag: str
) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.Index(_ids(frame), name="event_id"))
    out["present"] = True
    for col in ("date_start", "date_end"):
        out[col] = pd.to_datetime(frame[col]).to_numpy()
    for col in _TEXT:
        out[col] = frame[col].astype("string").fillna("").str.strip().to_numpy()
    out["fatalities"] = pd.to_numeric(frame["fatalities"], errors="coerce").to_numpy()
    out["lon"] = frame.geometry.x.to_numpy()
    out["lat"] = frame.geometry.y.to_numpy()
    out["in_filter"] = np.asarray(match_mask(frame, spec), dtype=bool)
    if regions is None:
        from atlas.data import load_shipped

        regions = load_shipped().regions
    out["inside"] = region_mask(frame, regions, spec.region).to_numpy()
    return out.add_suffix(f"_{tag}")


def _changed_fields(both: pd.DataFrame, common: pd.Series) -> pd.Series:
    flags = {}
    for col in ("date_start", "date_end"):
        o, n = both[f"{col}_old"], both[f"{col}_new"]
        flags[col] = ~((o == n) | (o.isna() & n.isna()))
    for col in _TEXT:
        flags[col] = both[f"{col}_old"].fillna("") != both[f"{col}_new"].fillna("")
    fo, fn = both["fatalities_old"], both["fatalities_new"]
    flags["fatalities"] = ~((fo == fn) | (fo.isna() & fn.isna()))
    moved = np.maximum((both["lon_new"] - both["lon_old"]).abs(),
                       (both["lat_new"] - both["lat_old"]).abs())  # fmt: skip
    # a hair's move that takes the point across the region's edge is a move too: else an
    # "unchanged" event would enter or leave the region's totals unexplained
    crossed = both["inside_old"].ne(both["inside_new"]) & both["inside_old"].notna()
    flags["coordinates"] = (moved > MOVE_DEGREES) | (crossed & both["inside_new"].notna())
    names = pd.Series("", index=both.index, dtype=object)
    for col in COMPARED_FIELDS:
        hit = flags[col].fillna(False).to_numpy(dtype=bool) & common.to_numpy()
        names[hit] = names[hit] + ";" + col
    return names.str.lstrip(";")


def _km(both: pd.DataFrame) -> pd.Series:
    ok = both[["lon_old", "lat_old", "lon_new", "lat_new"]].notna().all(axis=1).to_numpy()
    km = np.full(len(both), np.nan)
    if ok.any():
        _, _, metres = _GEOD.inv(both["lon_old"].to_numpy()[ok], both["lat_old"].to_numpy()[ok],
                                 both["lon_new"].to_numpy()[ok], both["lat_new"].to_numpy()[ok])  # fmt: skip
        km[ok] = np.asarray(metres) / 1000.0
    return pd.Series(km, index=both.index)


def _period(dates: pd.Series, by: str) -> pd.Series:
    p = pd.to_datetime(dates).dt.to_period(PERIODS[by]).astype("string")
    return p.str.replace(r"^(\d{4})Q(\d)$", r"\1-Q\2", regex=True)


def _totals(both: pd.DataFrame, status: pd.Series, spec: MapSpec, by: str) -> pd.DataFrame:
    rows = []
    st = status.reindex(both.index)
    for region in (spec.region, ALL_REGIONS):
        sides = {}
        for tag in ("old", "new"):
            keep = both[f"present_{tag}"].eq(True) & both[f"in_filter_{tag}"].eq(True)
            if region != ALL_REGIONS:
                keep &= both[f"inside_{tag}"].eq(True)
            sides[tag] = (keep, _period(both[f"date_start_{tag}"], by))
        periods = sorted(
            set(sides["old"][1][sides["old"][0]].dropna())
            | set(sides["new"][1][sides["new"][0]].dropna())
        )
        for period in periods:
            a = sides["old"][0] & sides["old"][1].eq(period).fillna(False)
            b = sides["new"][0] & sides["new"][1].eq(period).fillna(False)
            changed = st.eq("changed")
            rows.append({
                "region": region,
                "period": period,
                "events_old": int(a.sum()),
                "events_new": int(b.sum()),
                "added": int((b & st.eq("added")).sum()),
                "removed": int((a & st.eq("removed")).sum()),
                "revised": int(((a | b) & changed).sum()),
                "revised_in": int((b & ~a & changed).sum()),
                "revised_out": int((a & ~b & changed).sum()),
                "fatalities_old": int(both.loc[a, "fatalities_old"].fillna(0).sum()),
                "fatalities_new": int(both.loc[b, "fatalities_new"].fillna(0).sum()),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=[
        "region", "period", "events_old", "events_new", "added", "removed", "revised",
        "revised_in", "revised_out", "fatalities_old", "fatalities_new",
    ])  # fmt: skip


__all__ = [
    "ALL_REGIONS",
    "COMPARED_FIELDS",
    "MOVE_DEGREES",
    "STATUSES",
    "DiffResult",
    "VersionInfo",
    "changes_points",
    "check_ids",
    "diff_files",
    "diff_incidents",
    "read_version",
]
