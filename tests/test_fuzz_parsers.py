"""Generated inputs for the parsers tests/test_spec.py does not cover: table column
detection (header → plan, with and without the column picker's mapping), dates (every
format the table, ACLED and UCDP readers accept) and callouts (through the spec's JSON,
TOML and link forms).

A short profile runs in CI; ``pytest --fuzz`` runs the marked ``fuzz`` profile of 10,000
examples per parser (counts and time in BENCHMARKS.md). Spec files and URL parameters
are fuzzed in tests/test_spec.py. The diff's matching (atlas/diff.py) is fuzzed on two
generated ACLED-shaped versions written to real files and read by the real readers:
odd and hostile ids and text, removals, additions, revisions, shuffled rows, and the
refusals (duplicate ids, different sources, no id column, blank ids).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from atlas.diff import DiffResult, diff_files, diff_incidents, read_version
from atlas.errors import InputError
from atlas.readers import acled, ucdp
from atlas.readers.table import ALIASES, normalise_name, plan_columns
from atlas.readers.validate import TABLE_DATE_FORMATS, parse_dates
from atlas.spec import Callout, MapSpec

SHORT = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))

# ---- table column detection ------------------------------------------------------------------
_ALIAS_WORDS = sorted({a for names in ALIASES.values() for a in names})
_MARKUP = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "{{ 7*7 }}",
           "=HYPERLINK(\"http://x\")", "[a](javascript:alert(1))", "\u200b", "\ufeff", "Ñ",
           "°", " ", "(deg)", "__", "\x00"]  # fmt: skip


@st.composite
def _header_name(draw) -> str:
    """An alias dressed up (case, accents, markup, spacing) or any text."""
    if draw(st.booleans()):
        word = draw(st.sampled_from(_ALIAS_WORDS))
        word = draw(st.sampled_from([word, word.upper(), word.title(), word.replace("_", " ")]))
        before = draw(st.sampled_from(["", *_MARKUP]))
        after = draw(st.sampled_from(["", *_MARKUP]))
        return f"{before}{word}{after}"
    return draw(st.text(max_size=30))


@st.composite
def _headers(draw) -> list[str]:
    """Any header; half of them with a coordinate pair somewhere among the noise."""
    names = draw(st.lists(_header_name(), min_size=1, max_size=12))
    if draw(st.booleans()):
        for canonical in ("latitude", "longitude"):
            word = draw(st.sampled_from(ALIASES[canonical]))
            names.insert(draw(st.integers(0, len(names))), word)
    return names


_headers = _headers()
_mappings = st.dictionaries(
    st.sampled_from([*ALIASES, "lat", "<b>latitude</b>", ""]),
    st.one_of(_header_name(), st.text(max_size=10)),
    max_size=3,
)


def _check_plan(header: list[str], mapping: dict[str, str] | None) -> None:
    try:
        plan = plan_columns(header, name="f.csv", mapping=mapping)
    except InputError as exc:
        message = str(exc)
        assert message.startswith("f.csv: "), message
        assert len(message) < 30 * 90 + 600, len(message)  # names are cut to 80 characters
        if "no coordinate columns found" in message:
            assert exc.columns == [str(c) for c in header]  # the picker's list, verbatim
        return
    assert set(plan) <= set(ALIASES)
    assert all(raw in header for raw in plan.values())  # only the file's own columns
    detected = {k: v for k, v in plan.items() if not mapping or k not in mapping}
    assert len(set(detected.values())) == len(detected)  # one column feeds one field
    assert ("latitude" in plan and "longitude" in plan) or "coordinates" in plan
    for canonical, raw in plan.items():
        if mapping and canonical in mapping:
            assert normalise_name(raw) == normalise_name(mapping[canonical])
        else:
            assert normalise_name(raw) in ALIASES[canonical]


@SHORT
@given(_headers, st.one_of(st.none(), _mappings))
def test_generated_headers_plan_or_refuse(header, mapping) -> None:
    _check_plan(header, mapping)


@pytest.mark.fuzz
@FUZZ
@given(_headers, st.one_of(st.none(), _mappings))
def test_fuzz_headers(header, mapping) -> None:
    _check_plan(header, mapping)


# ---- dates -----------------------------------------------------------------------------------
_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
       "September", "October", "November", "December"]  # fmt: skip
_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
       "septiembre", "octubre", "noviembre", "diciembre"]  # fmt: skip
_days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


@st.composite
def _written_date(draw) -> tuple[str, dt.date | None]:
    """(cell, the date the table reader must read from it, or None if it must not)."""
    d = draw(_days)
    shape = draw(st.sampled_from(["iso", "iso_time", "dmy", "dmy_dash", "dmy_dot", "en",
                                  "en_short", "es", "impossible", "junk"]))  # fmt: skip
    if shape == "iso":
        return d.isoformat(), d
    if shape == "iso_time":
        return f"{d.isoformat()}T{draw(st.integers(0, 23)):02d}:30:00", d
    if shape == "dmy":
        return d.strftime("%d/%m/%Y"), d
    if shape == "dmy_dash":
        return d.strftime("%d-%m-%Y"), d
    if shape == "dmy_dot":
        return d.strftime("%d.%m.%Y"), d
    if shape == "en":
        return f"{d.day} {_EN[d.month - 1]} {d.year}", d
    if shape == "en_short":
        return f"{d.day:02d} {_EN[d.month - 1][:3]} {d.year}", d
    if shape == "es":
        return f"{d.day} de {_ES[d.month - 1]} de {d.year}", d
    if shape == "impossible":
        day, month = draw(st.sampled_from([(30, 2), (31, 4), (32, 1), (0, 5), (15, 13)]))
        return draw(st.sampled_from([f"{d.year}-{month:02d}-{day:02d}",
                                     f"{day:02d}/{month:02d}/{d.year}"])), None  # fmt: skip
    cell = draw(
        st.one_of(
            st.text(max_size=20),
            st.sampled_from(
                ["", "nan", "NaT", "today", "=NOW()", "<b>2021</b>", "2021", "99/99/9999", "\x00"]
            ),
        )
    )
    return cell, "any"  # type: ignore[return-value]


def _check_dates(cells: list[tuple[str, object]], formats: tuple[str, ...]) -> None:
    series = pd.Series([c for c, _ in cells], dtype="string")
    got = parse_dates(series, formats)
    assert len(got) == len(series) and got.index.equals(series.index)
    assert str(got.dtype) == "datetime64[ns]"
    for (cell, want), value in zip(cells, got, strict=True):
        if pd.notna(value):
            assert value == value.normalize(), (cell, value)  # dated to the day
        if want is None:
            assert pd.isna(value), (cell, value)  # 30 February is never a date
        elif isinstance(want, dt.date):
            if formats is TABLE_DATE_FORMATS or re.fullmatch(r"\d{4}-\d\d-\d\d(T.*)?", cell):
                assert pd.notna(value) and value.date() == want, (cell, value, want)


_cells = st.lists(_written_date(), min_size=1, max_size=8)
_formats = st.sampled_from([TABLE_DATE_FORMATS, acled.DATE_FORMATS, ucdp.DATE_FORMATS])


@SHORT
@given(_cells, _formats)
def test_generated_dates_parse_to_the_day_or_not_at_all(cells, formats) -> None:
    _check_dates(cells, formats)


@pytest.mark.fuzz
@FUZZ
@given(_cells, _formats)
def test_fuzz_dates(cells, formats) -> None:
    _check_dates(cells, formats)


# ---- callouts --------------------------------------------------------------------------------
_text = st.text(max_size=220)
_number = st.one_of(st.floats(-90, 90), st.floats(-90, 90).map(str),
                    st.floats(allow_nan=True, allow_infinity=True), st.integers(-1000, 1000),
                    st.text(max_size=8), st.none(), st.booleans())  # fmt: skip
_callout_values = st.one_of(
    st.fixed_dictionaries(
        {"text": st.one_of(_text, st.sampled_from(_MARKUP))},
        optional={
            "lon": _number,
            "lat": _number,
            "leader": st.one_of(st.booleans(), _text),
            "region_id": st.one_of(_text, st.integers()),
            "colour": _text,
        },
    ),  # fmt: skip
    st.text(max_size=10),
    st.integers(),
    st.lists(st.integers(), max_size=2),
)


def _check_callouts(values: list) -> None:
    try:
        spec = MapSpec.from_dict({"callouts": values})
    except InputError as exc:
        assert str(exc).startswith("spec:") and "callouts" in str(exc), str(exc)
        return
    assert all(isinstance(c, Callout) for c in spec.callouts)
    for given_value, callout in zip(values, spec.callouts, strict=True):
        assert callout.text == given_value["text"]  # verbatim, markup included
        assert callout.lon == float(given_value["lon"]) if "lon" in given_value else True
    assert MapSpec.from_json(spec.to_json()) == spec
    assert MapSpec.from_toml(spec.to_toml()) == spec
    try:
        query = spec.to_query()
    except InputError as exc:
        assert "share the spec file" in str(exc)
    else:
        assert MapSpec.from_query(query) == spec


_placed = st.fixed_dictionaries(
    {"text": st.one_of(st.text(min_size=1, max_size=200), st.sampled_from(_MARKUP[:5])),
     "lon": st.one_of(st.floats(-180, 180), st.floats(-180, 180).map(str)),
     "lat": st.floats(-90, 90)},
    optional={"leader": st.sampled_from([True, False, "true", "0"]),
              "region_id": st.text(max_size=20)},
)  # fmt: skip
#: Mostly well-formed callouts with junk mixed in, sometimes more than the 20 allowed.
_callout_lists = st.one_of(
    st.lists(st.one_of(_placed, _placed, _placed, _callout_values), max_size=6),
    st.lists(_placed, min_size=18, max_size=22),
)


@SHORT
@given(_callout_lists)
def test_generated_callouts_round_trip_or_are_refused(values) -> None:
    _check_callouts(values)


@pytest.mark.fuzz
@FUZZ
@given(_callout_lists)
def test_fuzz_callouts(values) -> None:
    _check_callouts(values)


# ---- diff matching ---------------------------------------------------------------------------
# Two versions of an ACLED-shaped file are generated as raw cells, written to real CSV files
# and diffed through the real readers; every expectation is recomputed from the raw cells
# with plain pandas/pyproj, never from atlas.diff's own intermediate values.
_ACLED_V1 = Path(__file__).resolve().parent / "fixtures" / "diff" / "acled_v1.csv"
with _ACLED_V1.open(encoding="utf-8", newline="") as _f:
    _TEMPLATE = next(csv.DictReader(_f))
_HEADER = list(_TEMPLATE)
_HOSTILE = ["=cmd|' /C calc'!A0", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
            "+1+1", "@SUM(A1:A9)", "-2+3", "\t=1+1", "{{ 7*7 }}", "{% for x in y %}x{% endfor %}",
            "[x](javascript:alert(1))", "Ñuñoa, Perú", 'a,b;"c"', "two\nlines", "  padded  ",
            "", "-12.5", "=HYPERLINK(\"http://x\",\"y\")"]  # fmt: skip
_free_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)
_cell_text = st.one_of(st.sampled_from(_HOSTILE), _free_text)
_ODD_IDS = ["NA", "nan", "None", "null", "-1", "001", "1", "1.0", "1e5", "0x1F", "PER 1",
            "per1", "PER1", "=cmd|' /C calc'!A0", "<script>alert(1)</script>", "{{ id }}",
            "id,with,commas", '"quoted"', "e\u0301", "\u00e9", "Ñ-7", "@id", "+51"]  # fmt: skip
_event_ids = st.one_of(
    st.sampled_from(_ODD_IDS),
    st.from_regex(r"PER[0-9]{1,6}", fullmatch=True),
    _free_text.map(str.strip).filter(bool),
)
_event_days = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2025, 12, 31))
_TEXT_COLUMNS = ("sub_event_type", "actor1", "actor2", "location", "admin1", "admin2",
                 "admin3", "notes", "source")  # fmt: skip
#: Filters the totals are checked under (recomputed plainly in _plain_in_filter).
_DIFF_SPECS = [
    MapSpec(),
    MapSpec(date_from=dt.date(2019, 1, 1), date_to=dt.date(2021, 12, 31)),
    MapSpec(event_types=("armed_clash", "other")),
    MapSpec(min_fatalities=3),
]


@functools.cache
def _regions():
    from atlas.data import load_shipped

    return load_shipped().regions


@functools.cache
def _region_shape(region_id: str):
    return _regions().loc[lambda r: r["region_id"] == region_id].geometry.union_all()


@functools.cache
def _vraem_edge() -> list[tuple[float, float]]:
    """Vertices of the VRAEM's outline: an event there moved by a hair may cross it."""
    shape = _region_shape("vraem-devida")
    return [(x, y) for line in getattr(shape.boundary, "geoms", [shape.boundary])
            for x, y in line.coords]  # fmt: skip


@st.composite
def _place(draw) -> tuple[float, float]:
    if draw(st.integers(0, 2)) == 0:  # on the VRAEM's edge
        edge = _vraem_edge()
        lon, lat = edge[draw(st.integers(0, len(edge) - 1))]
        return lon + draw(st.floats(-4e-4, 4e-4)), lat + draw(st.floats(-4e-4, 4e-4))
    return draw(st.floats(-76.5, -72.0)), draw(st.floats(-14.5, -10.0))


@st.composite
def _event(draw, event_id: str) -> dict[str, str]:
    """One ACLED row as raw cells (the template's other columns kept)."""
    row = dict(_TEMPLATE)
    day = draw(_event_days)
    lon, lat = draw(_place())
    row.update({
        "event_id_cnty": event_id,
        "event_date": day.isoformat(),
        "year": str(day.year),
        "time_precision": draw(st.sampled_from("123")),
        "event_type": draw(st.sampled_from([*acled.EVENT_TYPES, "Something else"])),
        "geo_precision": draw(st.sampled_from("123")),
        "latitude": f"{lat:.6f}",
        "longitude": f"{lon:.6f}",
        "fatalities": str(draw(st.integers(0, 300))),
    })  # fmt: skip
    for col in _TEXT_COLUMNS:
        row[col] = draw(_cell_text)
    return row


_REVISIONS = ("fatalities", "event_date", "move", "hair", "event_type", "time_precision",
              "geo_precision", "padding", *_TEXT_COLUMNS)  # fmt: skip


@st.composite
def _revise(draw, row: dict[str, str]) -> dict[str, str]:
    """The same event revised in 1–4 ways (a revision may redraw the same value)."""
    new = dict(row)
    for what in draw(st.sets(st.sampled_from(_REVISIONS), min_size=1, max_size=4)):
        if what == "fatalities":
            new["fatalities"] = str(draw(st.integers(0, 300)))
        elif what == "event_date":
            day = dt.date.fromisoformat(row["event_date"])
            day += dt.timedelta(days=draw(st.integers(-400, 400)))
            new["event_date"], new["year"] = day.isoformat(), str(day.year)
        elif what in ("move", "hair"):  # anywhere up to 0.5°, or under the 0.001° threshold
            step = 0.5 if what == "move" else 4e-4
            for col in ("latitude", "longitude"):
                new[col] = f"{float(row[col]) + draw(st.floats(-step, step)):.6f}"
        elif what == "event_type":
            new["event_type"] = draw(st.sampled_from([*acled.EVENT_TYPES, "Something else"]))
        elif what in ("time_precision", "geo_precision"):
            new[what] = draw(st.sampled_from("123"))
        elif what == "padding":  # blanks around an id or text are not a revision
            new["actor1"], new["location"] = f"  {row['actor1']} ", f"\t{row['location']}  "
            new["event_id_cnty"] = f" {row['event_id_cnty']}\t"
        else:
            new[what] = draw(_cell_text)
    return new


@st.composite
def _versions(draw) -> tuple[list[dict], list[dict], str, MapSpec]:
    """(old rows, new rows, how the pair is broken or "valid", the spec of the totals)."""
    old_ids = draw(st.lists(_event_ids, min_size=1, max_size=10, unique=True))
    old = [draw(_event(i)) for i in old_ids]
    new = []
    for row in old:
        fate = draw(st.sampled_from(["keep", "remove", "revise", "revise"]))
        if fate == "keep":
            new.append(dict(row))
        elif fate == "revise":
            new.append(draw(_revise(row)))
    taken = set(old_ids)
    added = draw(st.lists(_event_ids.filter(lambda i: i not in taken), max_size=5, unique=True))
    new += [draw(_event(i)) for i in added]
    if not new:  # a version with no rows is the readers' refusal, tested with them
        new.append(draw(_event(draw(_event_ids.filter(lambda i: i not in taken)))))
    new = draw(st.permutations(new))
    mode = draw(st.sampled_from(["valid"] * 6 + ["duplicate", "source", "no_ids", "blank_id"]))
    if mode == "duplicate":  # an id repeated in one version, maybe padded with blanks
        rows = draw(st.sampled_from([old, new]))
        twin = dict(draw(st.sampled_from(rows)))
        twin["event_id_cnty"] = draw(st.sampled_from(["", " ", "  \t"])) + twin["event_id_cnty"]
        twin["location"] = draw(_cell_text)
        rows.insert(draw(st.integers(0, len(rows))), twin)
    elif mode == "blank_id":
        rows = draw(st.sampled_from([old, new]))
        rows[draw(st.integers(0, len(rows) - 1))]["event_id_cnty"] = draw(
            st.sampled_from(["", " ", "\t"])
        )
    elif mode == "source":
        mode = draw(st.sampled_from(["source:old", "source:new"]))
    return old, new, mode, draw(st.sampled_from(_DIFF_SPECS))


def _write_acled(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, _HEADER)
        writer.writeheader()
        writer.writerows(rows)


def _write_table(path: Path, rows: list[dict], *, ids: bool) -> None:
    """The same events as a plain table (no ACLED signature), with or without an id column."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow((["id"] if ids else []) + ["date", "latitude", "longitude", "fatalities"])
        for r in rows:
            cells = [r["event_date"], r["latitude"], r["longitude"], r["fatalities"]]
            writer.writerow(([r["event_id_cnty"]] if ids else []) + cells)


def _raw(path: Path) -> pd.DataFrame:
    """A version as plain pandas reads it: text cells, indexed by the stripped id."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw.index = pd.Index(raw["event_id_cnty"].str.strip(), name="event_id")
    return raw


def _plain_in_filter(raw: pd.DataFrame, spec: MapSpec) -> pd.Series:
    day = pd.to_datetime(raw["event_date"], format="%Y-%m-%d")
    keep = pd.Series(True, index=raw.index)
    if spec.date_from:
        keep &= day >= pd.Timestamp(spec.date_from)
    if spec.date_to:
        keep &= day <= pd.Timestamp(spec.date_to)
    if spec.event_types:
        kind = raw["event_type"].str.strip().map(acled.EVENT_TYPES).fillna("other")
        keep &= kind.isin(spec.event_types)
    if spec.min_fatalities:
        keep &= raw["fatalities"].astype(int) >= spec.min_fatalities
    return keep


def _plain_fields(a: pd.Series, b: pd.Series, region: str) -> set[str]:
    """The compared fields that differ between two raw rows of one event."""
    out = set()
    if pd.Timestamp(a["event_date"]) != pd.Timestamp(b["event_date"]):
        out |= {"date_start", "date_end"}
    for col in ("sub_event_type", "actor1", "actor2", "location", "admin1", "admin2", "admin3"):
        if a[col].strip() != b[col].strip():
            out.add(col)
    kind = {
        k: acled.EVENT_TYPES.get(r["event_type"].strip(), "other") for k, r in (("a", a), ("b", b))
    }
    if kind["a"] != kind["b"]:
        out.add("event_type")
    for col, field, names in (("time_precision", "date_precision", acled.TIME_PRECISION),
                              ("geo_precision", "geo_precision", acled.GEO_PRECISION)):  # fmt: skip
        if names[a[col]] != names[b[col]]:
            out.add(field)
    if int(a["fatalities"]) != int(b["fatalities"]):
        out.add("fatalities")
    moved = max(abs(float(b["latitude"]) - float(a["latitude"])),
                abs(float(b["longitude"]) - float(a["longitude"])))  # fmt: skip
    places = [Point(float(r["longitude"]), float(r["latitude"])) for r in (a, b)]
    crossed = _region_shape(region).covers(places[0]) != _region_shape(region).covers(places[1])
    if moved > 0.001 or crossed:  # a hair's move across the region's edge counts
        out.add("coordinates")
    return out


_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_GEOD = pyproj.Geod(ellps="WGS84")


def _check_refusal(a: Path, b: Path, old: list, new: list, mode: str, spec: MapSpec) -> None:
    with pytest.raises(InputError) as info:
        diff_files(a, b, spec, _regions())
    message = str(info.value)
    if mode == "duplicate":
        name, rows = (
            ("old.csv", old)
            if len(old) > len({r["event_id_cnty"].strip() for r in old})
            else ("new.csv", new)
        )
        assert message.startswith(f"{name}: 1 rows repeat an event id"), message
        ids = [r["event_id_cnty"].strip() for r in rows]
        twin = next(i for i in ids if ids.count(i) > 1)
        assert repr(twin) in message, (twin, message)  # the id is listed
    elif mode == "blank_id":
        name = "old.csv" if any(not r["event_id_cnty"].strip() for r in old) else "new.csv"
        assert message.startswith(f"{name}: 1 row has no event id"), message
    elif mode.startswith("source"):
        kinds = ("table", "acled") if mode == "source:old" else ("acled", "table")
        assert f"old.csv was read as {kinds[0]} and new.csv as {kinds[1]}" in message, message
    else:
        assert message.startswith("old.csv: no event id column"), message


def _check_diff(old: list[dict], new: list[dict], mode: str, spec: MapSpec) -> None:
    with tempfile.TemporaryDirectory(prefix="atlas-fuzz-diff-") as tmp:
        a, b = Path(tmp) / "old.csv", Path(tmp) / "new.csv"
        if mode in ("valid", "duplicate", "blank_id"):
            _write_acled(a, old)
            _write_acled(b, new)
        elif mode.startswith("source"):
            (_write_table if mode == "source:old" else _write_acled)(
                a, old, **({"ids": True} if mode == "source:old" else {})
            )
            (_write_table if mode == "source:new" else _write_acled)(
                b, new, **({"ids": True} if mode == "source:new" else {})
            )
        else:
            _write_table(a, old, ids=False)
            _write_table(b, new, ids=False)
        if mode != "valid":
            _check_refusal(a, b, old, new, mode, spec)
            return
        old_frame, old_info = read_version(a)
        new_frame, new_info = read_version(b)
        changes, totals = diff_incidents(old_frame, new_frame, spec, _regions())
        back, _ = diff_incidents(new_frame, old_frame, spec, _regions())
        result = DiffResult(old_info, new_info, changes, totals, spec)
        raw_a, raw_b = _raw(a), _raw(b)
        text = result.to_csv()

    # every id exactly once, with the status its presence says
    ids_a, ids_b = set(raw_a.index), set(raw_b.index)
    assert changes["event_id"].is_unique and set(changes["event_id"]) == ids_a | ids_b
    status = dict(zip(changes["event_id"], changes["status"], strict=True))
    assert {i for i, s in status.items() if s == "added"} == ids_b - ids_a
    assert {i for i, s in status.items() if s == "removed"} == ids_a - ids_b
    assert {i for i, s in status.items() if s in ("changed", "unchanged")} == ids_a & ids_b
    counts = result.counts()
    assert sum(counts.values()) == len(ids_a | ids_b)
    assert counts["removed"] + counts["changed"] + counts["unchanged"] == len(old)
    assert counts["added"] + counts["changed"] + counts["unchanged"] == len(new)
    assert (old_info.rows_read, old_info.rows_kept, new_info.rows_kept) == (
        len(old),
        len(old),
        len(new),
    )

    # swapping the versions swaps added and removed and keeps every revision (reversed)
    flip = {"added": "removed", "removed": "added", "changed": "changed", "unchanged": "unchanged"}
    rows = changes.set_index("event_id")
    back = back.set_index("event_id").loc[rows.index]
    assert back["status"].tolist() == rows["status"].map(flip).tolist()
    assert back["fields_changed"].tolist() == rows["fields_changed"].tolist()
    up_down = {"up": "down", "down": "up", "": ""}
    assert back["fatalities_revision"].tolist() == rows["fatalities_revision"].map(up_down).tolist()
    assert (back["days_moved"].fillna(0) == -rows["days_moved"].fillna(0)).all()
    assert np.allclose(back["km_moved"].fillna(-1), rows["km_moved"].fillna(-1), atol=1e-3)

    # the revisions equal a plain recomputation from the raw cells
    for event_id in ids_a & ids_b:
        ra, rb, got = raw_a.loc[event_id], raw_b.loc[event_id], rows.loc[event_id]
        fields = _plain_fields(ra, rb, spec.region)
        assert set(filter(None, got["fields_changed"].split(";"))) == fields, (
            event_id,
            got["fields_changed"],
        )
        assert got["status"] == ("changed" if fields else "unchanged")
        fo, fn = int(ra["fatalities"]), int(rb["fatalities"])
        assert (got["fatalities_old"], got["fatalities_new"]) == (fo, fn)
        assert got["fatalities_revision"] == ("up" if fn > fo else "down" if fn < fo else "")
        days = (pd.Timestamp(rb["event_date"]) - pd.Timestamp(ra["event_date"])).days
        assert got["days_moved"] == days
        _, _, metres = _GEOD.inv(float(ra["longitude"]), float(ra["latitude"]),
                                 float(rb["longitude"]), float(rb["latitude"]))  # fmt: skip
        assert got["km_moved"] == pytest.approx(metres / 1000, abs=1e-3)
    for event_id, got in rows.iterrows():  # text kept verbatim (blanks around it aside)
        for tag, raw in (("old", raw_a), ("new", raw_b)):
            if event_id in raw.index:
                assert got[f"location_{tag}"] == raw.loc[event_id, "location"].strip()
                assert got[f"actor1_{tag}"] == raw.loc[event_id, "actor1"].strip()
            else:
                assert pd.isna(got[f"location_{tag}"])

    # totals: every cell adds up, and the whole-file cells count what the filter keeps
    for row in totals.itertuples(index=False):
        assert row.events_new == (row.events_old + row.added - row.removed + row.revised_in
                                  - row.revised_out), row  # fmt: skip
    everything = totals[totals["region"] == "all"]
    for tag, raw, col in (("old", raw_a, "events_old"), ("new", raw_b, "events_new")):
        keep = _plain_in_filter(raw, spec)
        assert everything[col].sum() == int(keep.sum())
        fat = raw.loc[keep, "fatalities"].astype(int).sum()
        assert everything[f"fatalities_{tag}"].sum() == fat

    # the changes CSV: no cell a spreadsheet would run, nothing lost to the neutralising
    table = list(csv.reader(io.StringIO(text)))
    assert len(table) == len(changes) + 1
    for cells in table:
        for cell in cells:
            if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
                assert _PLAIN_NUMBER.match(cell), cell
    header = table[0]
    for cells in table[1:]:
        cell = dict(zip(header, cells, strict=True))
        got = rows.loc[_unneutralise(cell["event_id"])]
        for col in ("location_new", "actor1_new"):
            value = "" if pd.isna(got[col]) else got[col]
            assert _unneutralise(cell[col]) == value


def _unneutralise(cell: str) -> str:
    """What a neutralised cell held: one apostrophe comes off, before a formula or before
    the cell's own apostrophe (atlas.safety.neutralise_formula)."""
    if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@", "\t", "\r", "'"):
        return cell[1:]
    return cell


@SHORT
@given(_versions())
def test_generated_versions_diff_by_id_or_are_refused(versions) -> None:
    _check_diff(*versions)


@pytest.mark.fuzz
@FUZZ
@given(_versions())
def test_fuzz_diff(versions) -> None:
    _check_diff(*versions)
