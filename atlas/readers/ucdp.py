"""UCDP Georeferenced Event Dataset (GED) CSV: a declaration.

The 49-column GED export. ``best`` is the best fatality estimate, ``low``/``high`` the
range. ``where_prec`` 1..7 and ``date_prec`` 1..5 follow the GED codebook; UCDP gives an
explicit ``date_start``/``date_end`` window, which is kept as is. Type of violence 1
(state-based) and 2 (non-state) are armed clashes, 3 (one-sided) is violence against
civilians; the code is kept verbatim in ``source_event_type`` and its codebook name in
``sub_event_type``. ``notes`` holds ``source_headline`` (GED has no free-text summary).
"""

from __future__ import annotations

import pandas as pd

from atlas.readers.validate import code_column, crosswalk, header_matches

DATASET = "ucdp"

SIGNATURE: frozenset[str] = frozenset({"where_prec", "date_start", "best"})

CROSSWALK: dict[str, str] = {
    "event_id": "id",
    "date_start": "date_start",
    "date_end": "date_end",
    "source_event_type": "type_of_violence",
    "actor1": "side_a",
    "actor2": "side_b",
    "fatalities": "best",
    "fatalities_low": "low",
    "fatalities_high": "high",
    "location": "where_coordinates",
    "admin1": "adm_1",
    "admin2": "adm_2",
    "country": "country",
    "source": "source_article",
    "notes": "source_headline",
    "latitude": "latitude",
    "longitude": "longitude",
    # Not a source column: generated sample files carry their own flag (true/false).
    "synthetic": "synthetic",
}

#: Raw columns stage() reads (lower case); the others are parsed but not kept.
USED: frozenset[str] = frozenset(
    {*CROSSWALK.values(), "type_of_violence", "where_prec", "date_prec"}
)

#: GED dates are ISO ("2021-05-23", sometimes with a time "2021-05-23 00:00:00.000").
DATE_FORMATS: tuple[str, ...] = ("ISO",)

WHERE_PREC: dict[str, str] = {
    "1": "exact",
    "2": "near",
    "3": "admin2",
    "4": "admin1",
    "5": "admin1",
    "6": "country",
    "7": "country",
}
DATE_PREC: dict[str, str] = {"1": "day", "2": "week", "3": "week", "4": "month", "5": "year"}
TYPE_OF_VIOLENCE: dict[str, str] = {
    "1": "armed_clash",
    "2": "armed_clash",
    "3": "violence_against_civilians",
}
TYPE_NAMES: dict[str, str] = {
    "1": "state-based conflict",
    "2": "non-state conflict",
    "3": "one-sided violence",
}


def matches(columns: list[str]) -> bool:
    """True when the header looks like a UCDP GED export."""
    return header_matches(columns, SIGNATURE)


def stage(raw: pd.DataFrame) -> pd.DataFrame:
    """Rename and map one chunk of raw GED text columns to staged canonical columns."""
    out, cols = crosswalk(raw, CROSSWALK)
    tov = code_column(raw, cols, "type_of_violence")
    out["event_type"] = tov.map(TYPE_OF_VIOLENCE).fillna("other").astype("string")
    out["sub_event_type"] = tov.map(TYPE_NAMES).fillna("").astype("string")
    out["civilian_targeting"] = pd.array((tov == "3").fillna(False), dtype="boolean")
    out.loc[tov.isna().to_numpy(), "civilian_targeting"] = pd.NA
    out["geo_precision"] = code_column(raw, cols, "where_prec").map(WHERE_PREC).fillna("country")
    out["date_precision"] = code_column(raw, cols, "date_prec").map(DATE_PREC).fillna("day")
    return out
