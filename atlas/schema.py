"""The canonical incident schema and the LoadReport every reader returns.

One schema for every source (ACLED, UCDP GED, any table with coordinates, point vector
files). A reader maps its source's columns onto these, then the shared validator
(:mod:`atlas.readers.validate`) checks rows and fills the :class:`LoadReport`.

Canonical incident columns (a GeoDataFrame in EPSG:4326):

==================  ===========================  ==============================================
column              dtype                        meaning
==================  ===========================  ==============================================
event_id            string                       source id, unique within ``dataset``
dataset             string                       "acled", "ucdp", or the file's name
date_start          datetime64[ns]               first day the event may have happened
date_end            datetime64[ns]               last day (== date_start for day precision)
date_precision      string                       day / week / month / year
event_type          string                       canonical type, see ``EVENT_TYPES``
source_event_type   string                       the source's own type, kept verbatim
sub_event_type      string                       the source's sub-type ("" when none)
actor1, actor2      string                       actors ("" when none)
fatalities          Float64                      best estimate (NA when unknown)
fatalities_low      Float64                      low estimate where the source has one
fatalities_high     Float64                      high estimate where the source has one
civilian_targeting  boolean                      True/False where known, NA otherwise
location            string                       place name
admin1..admin3      string                       administrative names ("" when none)
country             string                       country name
geo_precision       string                       exact / near / admin2 / admin1 / country
source              string                       the source's citation text
notes               string                       free text (untrusted: escape when shown)
synthetic           bool                         True for generated sample rows
geometry            Point                        EPSG:4326
==================  ===========================  ==============================================
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

INCIDENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "dataset",
    "date_start",
    "date_end",
    "date_precision",
    "event_type",
    "source_event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "fatalities",
    "fatalities_low",
    "fatalities_high",
    "civilian_targeting",
    "location",
    "admin1",
    "admin2",
    "admin3",
    "country",
    "geo_precision",
    "source",
    "notes",
    "synthetic",
    "geometry",
)

STRING_COLUMNS: tuple[str, ...] = (
    "event_id",
    "dataset",
    "date_precision",
    "event_type",
    "source_event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "location",
    "admin1",
    "admin2",
    "admin3",
    "country",
    "geo_precision",
    "source",
    "notes",
)

#: Canonical event types, in legend order. Sources map onto these and keep their own
#: type in ``source_event_type``.
EVENT_TYPES: tuple[str, ...] = (
    "armed_clash",  # ACLED Battles; UCDP state-based (1) and non-state (2)
    "violence_against_civilians",  # ACLED Violence against civilians; UCDP one-sided (3)
    "explosion_remote",  # ACLED Explosions/Remote violence
    "riot",  # ACLED Riots
    "protest",  # ACLED Protests
    "strategic",  # ACLED Strategic developments
    "other",  # anything a source calls something else
)

EVENT_TYPE_LABELS: dict[str, dict[str, str]] = {
    "armed_clash": {"en": "Armed clash", "es": "Enfrentamiento armado"},
    "violence_against_civilians": {
        "en": "Violence against civilians",
        "es": "Violencia contra civiles",
    },
    "explosion_remote": {"en": "Explosion / remote violence", "es": "Explosión / violencia remota"},
    "riot": {"en": "Riot", "es": "Disturbio"},
    "protest": {"en": "Protest", "es": "Protesta"},
    "strategic": {"en": "Strategic development", "es": "Desarrollo estratégico"},
    "other": {"en": "Other", "es": "Otro"},
}

#: How exactly the place is known, from most to least precise.
GEO_PRECISIONS: tuple[str, ...] = ("exact", "near", "admin2", "admin1", "country")
#: Precisions drawn as points by default; coarser ones are counted and said so.
DEFAULT_DRAWN_PRECISIONS: tuple[str, ...] = ("exact", "near", "admin2")

#: How exactly the date is known.
DATE_PRECISIONS: tuple[str, ...] = ("day", "week", "month", "year")

#: Reason codes for rejected rows, with the human text shown to users.
REJECTION_REASONS: dict[str, str] = {
    "no_coordinates": "no coordinates",
    "unparseable_coordinates": "coordinates could not be read as numbers",
    "out_of_range": "coordinates outside the world (lat -90..90, lon -180..180)",
    "swapped_coordinates": "latitude and longitude look swapped",
    "null_island": "coordinates at (0, 0), a common placeholder for unknown",
    "no_date": "no date",
    "unparseable_date": "date could not be read",
    "end_before_start": "end date before start date",
    "duplicate_event_id": "duplicate event_id (the first occurrence was kept)",
    "empty_geometry": "empty geometry",
    "not_a_point": "geometry is not a point",
    "invalid_fatalities": "fatalities is not a non-negative number",
    "not_a_polygon": "geometry is not a polygon",
    "invalid_geometry": "geometry is invalid and has no polygon area after repair",
    "no_region_id": "no region id",
}


@dataclass(frozen=True)
class Rejection:
    """One rejected input row: ``row`` is the spreadsheet-style row number (header = 1)."""

    row: int
    reason: str
    detail: str = ""


@dataclass
class LoadReport:
    """What happened to every input row: read = kept + rejected, always.

    ``warnings`` are facts about kept rows a user should know (repaired geometry, dates
    in the future, decimal commas converted...), each a full sentence.
    """

    source: str
    kind: str
    rows_read: int = 0
    rows_kept: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: True when the file had no id column and each row was named "<dataset>:<row>"
    #: (ids that say nothing across versions: the diff refuses such a file).
    numbered_ids: bool = False

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected)

    def reject(self, row: int, reason: str, detail: str = "") -> None:
        if reason not in REJECTION_REASONS:
            raise KeyError(f"unknown rejection reason {reason!r}")
        self.rejected.append(Rejection(int(row), reason, detail))

    def by_reason(self) -> dict[str, int]:
        """Rejected-row counts per reason code, most common first."""
        return dict(Counter(r.reason for r in self.rejected).most_common())

    def rows_for(self, reason: str, limit: int = 5) -> list[int]:
        return [r.row for r in self.rejected if r.reason == reason][:limit]

    def check(self) -> None:
        """Raise AssertionError if rows were lost without a reason."""
        if self.rows_read != self.rows_kept + self.rows_rejected:
            raise AssertionError(
                f"{self.source}: {self.rows_read} rows read but {self.rows_kept} kept "
                f"and {self.rows_rejected} rejected"
            )

    def summary(self) -> str:
        """One paragraph a journalist can quote: counts, reasons and example rows."""
        head = f"{self.source}: {self.rows_read:,} rows read, {self.rows_kept:,} kept"
        if not self.rejected:
            head += ", none rejected."
        else:
            parts = []
            for reason, n in self.by_reason().items():
                rows = self.rows_for(reason)
                more = ", …" if n > len(rows) else ""
                example = ", ".join(str(r) for r in rows)
                label = "row" if n == 1 else "rows"
                parts.append(f"{n:,} {label} {REJECTION_REASONS[reason]} ({label} {example}{more})")
            head += f", {self.rows_rejected:,} left out: " + "; ".join(parts) + "."
        if self.warnings:
            head += " " + " ".join(self.warnings)
        return head

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rows_rejected"] = self.rows_rejected
        d["by_reason"] = self.by_reason()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> LoadReport:
        """The report :meth:`to_dict` (or ``asdict``) described; derived keys are ignored."""
        return cls(
            source=d["source"],
            kind=d["kind"],
            rows_read=int(d["rows_read"]),
            rows_kept=int(d["rows_kept"]),
            rejected=[Rejection(int(r["row"]), r["reason"], r["detail"]) for r in d["rejected"]],
            warnings=list(d["warnings"]),
            numbered_ids=bool(d.get("numbered_ids", False)),
        )
