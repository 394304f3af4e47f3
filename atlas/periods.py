"""Periods side by side: which date ranges a comparison shows and what each one counts.

Two views use this: the app's two synced maps (``MapSpec.periods``, two ranges) and the
export's small multiples (``MapSpec.small_multiples``: one panel per year or quarter, or
the two ``periods``). Every panel is the view's filters with its own dates; its counts
come from :func:`atlas.query.filter_incidents`, so a panel says exactly what it draws.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from atlas import query
from atlas.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

    from atlas.data import AtlasData
    from atlas.spec import MapSpec

#: The date the "before and after" story usually turns on (issue 16): 23 May 2021.
REFERENCE_DAY = dt.date(2021, 5, 23)

#: Panels a page can hold, per size preset (others: :data:`DEFAULT_MAX_PANELS`).
MAX_PANELS: dict[str, int] = {"web": 4, "a4": 6}
DEFAULT_MAX_PANELS = 4


@dataclass(frozen=True)
class Period:
    """One panel: its inclusive day range, the bundle with only its drawn incidents, and
    the FilterSummary of those (incidents, deaths, inside the region)."""

    start: dt.date
    end: dt.date
    data: AtlasData
    summary: query.FilterSummary


def default_periods(dmin: dt.date, dmax: dt.date) -> tuple[tuple[dt.date, dt.date], ...]:
    """The year before and the year after :data:`REFERENCE_DAY` when the data covers any
    of both; else the data's range cut in two halves (the earlier half first)."""
    before = (REFERENCE_DAY.replace(year=REFERENCE_DAY.year - 1), REFERENCE_DAY - _DAY)
    after = (REFERENCE_DAY, REFERENCE_DAY.replace(year=REFERENCE_DAY.year + 1) - _DAY)
    if dmin <= before[1] and dmax >= after[0]:
        return (before, after)
    if dmax <= dmin:
        return ((dmin, dmin), (dmin, dmin))
    mid = dmin + (dmax - dmin) // 2
    return ((dmin, mid), (mid + _DAY, max(mid + _DAY, dmax)))


def panel_ranges(spec: MapSpec, dmin: dt.date, dmax: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The date ranges of the panels ``spec`` asks for, oldest first: one per year or
    quarter of the view's dates when ``small_multiples`` is set, else the two ``periods``;
    [] when it asks for neither. Open ends come from the data: an open start is the first
    day of the year or quarter of the first event (nothing is earlier), an open end is the
    last event's day, so a latest, unfinished year or quarter shows the days it holds."""
    if spec.small_multiples != "none":
        if spec.date_from is not None:
            lo = spec.date_from
        elif spec.small_multiples == "year":
            lo = dmin.replace(month=1, day=1)
        else:
            lo = dmin.replace(month=(dmin.month - 1) // 3 * 3 + 1, day=1)
        hi = spec.date_to or dmax
        if hi < lo:
            raise InputError(f"small multiples: the view's dates {lo}..{hi} hold no day")
        return query.steps(lo, hi, spec.small_multiples)
    return [tuple(p) for p in spec.periods]


def max_panels(size: str) -> int:
    """How many panels fit the size preset (4 on ``web``, 6 on ``a4``)."""
    return MAX_PANELS.get(size, DEFAULT_MAX_PANELS)


def filter_periods(
    spec: MapSpec,
    data: AtlasData,
    ranges: list[tuple[dt.date, dt.date]],
    *,
    inside: pd.Series | None = None,
) -> list[Period]:
    """One :class:`Period` per range: the view's filters with the range's dates.

    ``inside`` (incidents inside ``spec.region``, as from :func:`atlas.query.region_mask`)
    is computed once here from ``data.regions`` when not given and the region is loaded.
    """
    incidents = data.incidents
    if inside is None and incidents is not None and not incidents.empty:
        ids = set(data.regions["region_id"].astype(str))
        if spec.region in ids:
            inside = query.region_mask(incidents, data.regions, spec.region)
    out = []
    for lo, hi in ranges:
        # the one choke point of spec.generalise: every panel gets generalised places
        drawn, summary = query.filter_incidents(
            incidents,
            spec.replace(date_from=lo, date_to=hi),
            inside=inside,
            districts=data.districts,
        )
        out.append(Period(lo, hi, dataclasses.replace(
            data, incidents=drawn, reference_events=_happened_by(data.reference_events, hi)),
            summary))  # fmt: skip
    return out


def _happened_by(ref, day: dt.date):
    """The reference events dated on or before ``day``: a panel of the year before the
    San Miguel del Ene massacre does not show its star."""
    if ref is None or ref.empty or "date" not in ref:
        return ref
    import pandas as pd

    when = pd.to_datetime(ref["date"], errors="coerce")
    return ref[(when.isna() | (when <= pd.Timestamp(day))).to_numpy()]


def data_range(incidents: gpd.GeoDataFrame | None) -> tuple[dt.date, dt.date] | None:
    """First and last day of the incidents (None when there are none)."""
    import pandas as pd

    if incidents is None or incidents.empty:
        return None
    start = pd.to_datetime(incidents["date_start"])
    end = pd.to_datetime(incidents["date_end"]).fillna(start)
    return start.min().date(), end.max().date()


_DAY = dt.timedelta(days=1)

__all__ = [
    "MAX_PANELS",
    "REFERENCE_DAY",
    "Period",
    "data_range",
    "default_periods",
    "filter_periods",
    "max_panels",
    "panel_ranges",
]
