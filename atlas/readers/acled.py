"""ACLED export CSV: a declaration (crosswalk, date formats, precision and type maps).

Both column sets are read: the pre-2023 export (``data_id``, ``event_id_no_cnty``...) and
the current one (adds ``disorder_type``, ``civilian_targeting``, ``iso3``...; drops
``data_id``/``event_id_no_cnty``). ACLED dates an event to one estimated day and says how
sure it is in ``time_precision``; we keep ``date_start == date_end == event_date`` and store
the precision rather than widening the range. ``geo_precision`` 3 means "a larger region":
ACLED places the event at the provincial capital, so it maps to ``admin2``.
"""

from __future__ import annotations

import pandas as pd

from atlas.readers.validate import code_column, crosswalk, header_matches

DATASET = "acled"

#: Columns that identify an ACLED export.
SIGNATURE: frozenset[str] = frozenset({"event_id_cnty", "event_date"})

#: canonical -> raw column
CROSSWALK: dict[str, str] = {
    "event_id": "event_id_cnty",
    "date_start": "event_date",
    "source_event_type": "event_type",
    "sub_event_type": "sub_event_type",
    "actor1": "actor1",
    "actor2": "actor2",
    "fatalities": "fatalities",
    "location": "location",
    "admin1": "admin1",
    "admin2": "admin2",
    "admin3": "admin3",
    "country": "country",
    "source": "source",
    "notes": "notes",
    "latitude": "latitude",
    "longitude": "longitude",
    # Not a source column: generated sample files carry their own flag (true/false).
    "synthetic": "synthetic",
}

#: Raw columns stage() reads (lower case); the others are parsed but not kept.
USED: frozenset[str] = frozenset(
    {*CROSSWALK.values(), "time_precision", "geo_precision", "civilian_targeting"}
)

#: "2023-02-16" (API/new exports), "16 May 2025" and "16-May-2025" (older exports/Excel).
DATE_FORMATS: tuple[str, ...] = ("ISO", "%d %B %Y", "%d-%b-%Y", "%d-%B-%Y", "%d %b %Y")

TIME_PRECISION: dict[str, str] = {"1": "day", "2": "week", "3": "month"}
GEO_PRECISION: dict[str, str] = {"1": "exact", "2": "near", "3": "admin2"}
EVENT_TYPES: dict[str, str] = {
    "Battles": "armed_clash",
    "Violence against civilians": "violence_against_civilians",
    "Explosions/Remote violence": "explosion_remote",
    "Riots": "riot",
    "Protests": "protest",
    "Strategic developments": "strategic",
}


def matches(columns: list[str]) -> bool:
    """True when the header looks like an ACLED export."""
    return header_matches(columns, SIGNATURE)


def stage(raw: pd.DataFrame) -> pd.DataFrame:
    """Rename and map one chunk of raw text columns to staged canonical columns."""
    out, cols = crosswalk(raw, CROSSWALK)
    src_type = out.get("source_event_type", pd.Series("", index=raw.index)).astype("string")
    out["event_type"] = src_type.str.strip().map(EVENT_TYPES).fillna("other")
    out["date_precision"] = _precision(raw, cols, "time_precision", TIME_PRECISION, "day")
    out["geo_precision"] = _precision(raw, cols, "geo_precision", GEO_PRECISION, "exact")
    if "civilian_targeting" in cols:
        text = raw[cols["civilian_targeting"]].astype("string").str.strip().fillna("")
        out["civilian_targeting"] = (text.str.lower() == "civilian targeting").astype("boolean")
    else:
        out["civilian_targeting"] = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    return out


def _precision(
    raw: pd.DataFrame, cols: dict[str, str], name: str, table: dict[str, str], default: str
) -> pd.Series:
    return code_column(raw, cols, name).map(table).fillna(default).astype("string")
