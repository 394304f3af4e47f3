"""Generated inputs for the parsers tests/test_spec.py does not cover: table column
detection (header → plan, with and without the column picker's mapping), dates (every
format the table, ACLED and UCDP readers accept) and callouts (through the spec's JSON,
TOML and link forms).

A short profile runs in CI; ``pytest --fuzz`` runs the marked ``fuzz`` profile of 10,000
examples per parser (counts and time in BENCHMARKS.md). Spec files and URL parameters
are fuzzed in tests/test_spec.py; the diff's matching is fuzzed by the story tools once
the diff exists (tests/fixtures/hostile/README.md, *Reserved*).
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
