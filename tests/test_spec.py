"""MapSpec schema version 2: every key round-trips through URL, JSON and TOML; old
centre/zoom links still open; bad values raise InputError naming the key; the nested URL
parameter is bounded; hypothesis round-trips and attacks the parser.

The generated-input tests run a short profile by default; ``pytest --fuzz`` runs the
marked ``fuzz`` profile (10,000 examples per test), recorded in tests/fixtures/hostile/README.md.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas.errors import InputError
from atlas.fonts import HOUSE_FONT, configured_fonts
from atlas.spec import (
    BUCKETS,
    MAX_NESTED_CHARS,
    NESTED_PARAM,
    SCHEMA_VERSION,
    Callout,
    MapSpec,
    decode_nested,
    encode_nested,
    legacy_bbox,
)
from atlas.ui_state import spec_from_params

D = dt.date
#: One non-default value for every key of the schema (a test fails when a key is added
#: without a round-trip example here).
EVERY_KEY = MapSpec(
    date_from=D(2021, 1, 1),
    date_to=D(2021, 12, 31),
    event_types=("armed_clash", "violence_against_civilians"),
    actor="Militarizado Partido Comunista del Perú",
    min_fatalities=2,
    datasets=("acled", "ucdp"),
    precisions=("exact",),
    region="120609",
    region_layer="district",
    layers=("basemap", "choropleth", "points"),
    metric="per_area",
    bucket="quarter",
    step_mode="window",
    title="Killings in the VRAEM, 2021",
    dek="Sixteen people were killed in San Miguel del Ene on 23 May.",
    notes="Counts are ACLED's best estimates.",
    source_line="ACLED; DEVIDA",
    byline="A. Reporter",
    size="custom",
    width=1400,
    height=900,
    dpi=200,
    scale=2,
    basemap="osm",
    bbox=(-74.75, -12.5, -73.5, -11.25),
    focus="120609",
    callouts=(
        Callout("San Miguel del Ene: 16 killed", lon=-74.03, lat=-12.14, leader=True),
        Callout("Pichari", region_id="050410", leader=False),
    ),
    generalise="grid:10",
    suppress_below=5,
    periods=((D(2020, 5, 23), D(2021, 5, 22)), (D(2021, 5, 23), D(2022, 5, 22))),
    small_multiples="quarter",
    font=HOUSE_FONT,
    coca_year=2020,
    north_arrow=True,
    density="hexagons",
    lang="es",
)


def test_every_key_has_a_round_trip_example() -> None:
    default = MapSpec()
    unchanged = [k for k, v in EVERY_KEY.to_dict().items() if getattr(default, k) == v]
    assert unchanged == ["schema_version"], unchanged


@pytest.mark.parametrize("via", ["url", "json", "toml"])
def test_every_key_round_trips(via: str) -> None:
    if via == "url":
        back = MapSpec.from_query(EVERY_KEY.to_query())
    elif via == "json":
        back = MapSpec.from_json(EVERY_KEY.to_json())
    else:
        back = MapSpec.from_toml(EVERY_KEY.to_toml())
    assert back == EVERY_KEY


def test_url_keeps_flat_values_readable_and_nests_the_rest() -> None:
    q = EVERY_KEY.to_query()
    assert q["bbox"] == "-74.75,-12.5,-73.5,-11.25"
    assert q["generalise"] == "grid:10" and q["bucket"] == "quarter"
    assert "callouts" not in q and "periods" not in q
    version, _, body = q[NESTED_PARAM].partition(".")
    assert version == str(SCHEMA_VERSION)
    nested = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert set(nested) == {"callouts", "periods"}
    assert nested["periods"][1] == ["2021-05-23", "2022-05-22"]
    assert MapSpec().to_query() == {}  # the default view has a bare URL


def test_files_say_their_schema_version() -> None:
    assert json.loads(MapSpec().to_json())["schema_version"] == SCHEMA_VERSION
    assert MapSpec().to_toml().startswith(f"schema_version = {SCHEMA_VERSION}\n")
    with pytest.raises(InputError, match="newer Conflict Atlas"):
        MapSpec.from_dict({"schema_version": 3})
    with pytest.raises(InputError, match="schema_version"):
        MapSpec.from_dict({"schema_version": "two"})


def test_old_center_zoom_links_and_files_convert_to_a_bbox() -> None:
    old_url = MapSpec.from_query({"center": "-12.3,-74.0", "zoom": "9", "bucket": "year"})
    assert old_url.bbox == legacy_bbox(-12.3, -74.0, 9) and old_url.bucket == "year"
    old_file = MapSpec.from_toml("schema_version = 1\ncenter = [-12.3, -74.0]\nzoom = 9\n")
    assert old_file.bbox == old_url.bbox
    # at zoom 9 a 1000 px map spans 1000/(256*2^9)*360 = 2.7466° of longitude
    west, south, east, north = old_url.bbox
    assert east - west == pytest.approx(2.74658, abs=1e-4)
    assert south < -12.3 < north and (north - south) < (east - west)
    # a centre without zoom opens at zoom 8; a bbox given beside them wins
    assert MapSpec.from_query({"center": "-12.3,-74.0"}).bbox == legacy_bbox(-12.3, -74.0, 8)
    both = MapSpec.from_query({"center": "-12.3,-74.0", "zoom": "9", "bbox": "-75,-13,-74,-12"})
    assert both.bbox == (-75.0, -13.0, -74.0, -12.0)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"bbox": [-73.0, -13.0, -75.0, -12.0]}, "bbox"),  # inverted west/east
        ({"bbox": [-75.0, -12.0, -74.0, -13.0]}, "bbox"),  # inverted south/north
        ({"bbox": [170.0, -20.0, -170.0, -10.0]}, "bbox"),  # crosses the antimeridian
        ({"bbox": [-200.0, -13.0, -74.0, -12.0]}, "bbox"),  # outside the globe
        ({"bbox": [-75.0, -95.0, -74.0, -12.0]}, "bbox"),
        ({"bbox": [-75.0, -13.0, -74.0]}, "bbox"),
        ({"bbox": "nan,-13,-74,-12"}, "bbox"),
        ({"bbox": [-75.0, -13.0, "1e999", -12.0]}, "bbox"),
        ({"callouts": [{"text": "x"}]}, "callouts"),  # no place
        ({"callouts": [{"text": "", "lon": -74.0, "lat": -12.0}]}, "callouts"),
        ({"callouts": [{"text": "x", "lon": -74.0}]}, "callouts"),
        ({"callouts": [{"text": "x", "lon": -274.0, "lat": -12.0}]}, "callouts"),
        ({"callouts": [{"text": "x" * 201, "lon": -74.0, "lat": -12.0}]}, "callouts"),
        ({"callouts": [{"text": "x", "lon": -74.0, "lat": -12.0, "leader": "maybe"}]}, "callouts"),
        ({"callouts": [{"text": "x", "lon": -74.0, "lat": -12.0, "colour": "red"}]}, "callouts"),
        ({"callouts": [{"text": "x", "lon": -74, "lat": -12}] * 21}, "callouts"),
        ({"callouts": "San Miguel"}, "callouts"),
        ({"generalise": "grid:0"}, "generalise"),
        ({"generalise": "grid:ten"}, "generalise"),
        ({"generalise": "province"}, "generalise"),
        ({"generalise": "grid:1e9"}, "generalise"),
        ({"periods": [["2021-01-01", "2021-06-30"]]}, "periods"),  # one range
        ({"periods": [["2021-06-30", "2021-01-01"], ["2022-01-01", "2022-02-01"]]}, "periods"),
        ({"periods": [["2021-02-30", "2021-03-01"], ["2022-01-01", "2022-02-01"]]}, "periods"),
        ({"periods": [["2021-01-01"], ["2022-01-01", "2022-02-01"]]}, "periods"),
        ({"small_multiples": "month"}, "small_multiples"),
        ({"density": "heatmap"}, "density"),
        ({"density": ["points"]}, "density"),
        ({"font": "/etc/passwd"}, "font"),
        ({"font": "../../fonts/evil.ttf"}, "font"),
        ({"font": "Comic Sans"}, "font"),  # not on the operator's list
        ({"font": ["DejaVu Sans"]}, "font"),
        ({"coca_year": 1850}, "coca_year"),
        ({"coca_year": "2020.5"}, "coca_year"),
        ({"coca_year": 10**30}, "coca_year"),
        ({"bucket": "decade"}, "bucket"),
        ({"width": "1e400"}, "width"),
        ({"title": "x" * 501}, "title"),
        ({"focus": "x" * 501}, "focus"),
        ({"center": "-12.3"}, "center"),
        ({"center": "-12.3,-74", "zoom": "99"}, "zoom"),
    ],
)
def test_bad_values_raise_input_error_naming_the_key(data: dict, key: str) -> None:
    with pytest.raises(InputError) as info:
        MapSpec.from_dict(data)
    assert key in str(info.value), str(info.value)


def test_fonts_are_names_from_the_operators_list(tmp_path, monkeypatch) -> None:
    import matplotlib

    font = tmp_path / "Brand.ttf"  # a real font under the operator's name for it
    font.write_bytes((Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf").read_bytes())
    not_font = tmp_path / "notes.ttf"
    not_font.write_text("hello", encoding="utf-8")
    env = f"Brand Sans={font};Broken={not_font};Dir={tmp_path};bad entry"
    with pytest.warns(UserWarning) as caught:
        fonts = configured_fonts(env)
    assert fonts == {HOUSE_FONT: None, "Brand Sans": font}
    assert len(caught) == 3 and all("left out" in str(w.message) or "Name=" in str(w.message)
                                    for w in caught)  # fmt: skip
    monkeypatch.setenv("CONFLICT_ATLAS_FONTS", f"Brand Sans={font}")
    assert MapSpec.from_query({"font": "Brand Sans"}).font == "Brand Sans"
    with pytest.raises(InputError, match="never by file path"):
        MapSpec.from_query({"font": str(font)})


def test_nested_parameter_is_bounded_and_checked() -> None:
    assert decode_nested(encode_nested({"periods": []})) == {"periods": []}
    with pytest.raises(InputError, match="longer than"):
        decode_nested("2." + "A" * MAX_NESTED_CHARS)
    for bad in ("1.e30", "2.", "2.!!!!", "2." + base64.urlsafe_b64encode(b"[1,2]").decode(),
                "2." + base64.urlsafe_b64encode(b"\xff\xfe").decode(), "nonsense"):  # fmt: skip
        with pytest.raises(InputError, match=NESTED_PARAM):
            decode_nested(bad)
    deep = base64.urlsafe_b64encode(b"[" * 2500 + b"]" * 2500).decode()[: MAX_NESTED_CHARS - 2]
    with pytest.raises(InputError):
        decode_nested("2." + deep)
    many = tuple(Callout("x" * 200, lon=-74.0, lat=-12.0) for _ in range(20))
    with pytest.raises(InputError, match="share the spec file"):
        MapSpec(callouts=many).to_query()


def test_bad_nested_url_gives_a_warning_and_the_default_view() -> None:
    for bad in ("2." + "A" * (MAX_NESTED_CHARS + 1), "2.%%%", "9.abc"):
        spec, error = spec_from_params({NESTED_PARAM: bad, "bucket": "year"})
        assert spec == MapSpec() and error and NESTED_PARAM in error


def test_quarter_is_a_time_bucket() -> None:
    from atlas.query import steps

    assert "quarter" in BUCKETS
    assert steps(D(2021, 2, 15), D(2021, 8, 1), "quarter") == [
        (D(2021, 2, 15), D(2021, 3, 31)),
        (D(2021, 4, 1), D(2021, 6, 30)),
        (D(2021, 7, 1), D(2021, 8, 1)),
    ]


def test_deeply_nested_spec_files_are_refused(tmp_path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InputError, match="deep.json"):
        MapSpec.from_file(path)
    big = tmp_path / "big.toml"
    big.write_text('title = "' + "x" * 2_000_000 + '"\n', encoding="utf-8")
    with pytest.raises(InputError, match="at most"):
        MapSpec.from_file(big)


# ---- generated inputs ---------------------------------------------------------------------
SHORT = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))

_dates = st.dates(min_value=D(1990, 1, 1), max_value=D(2030, 12, 31))
_text = st.text(max_size=40)
#: Printed text never holds C0 control characters (refused: tests/test_hostile_corpus.py).
_printed = _text.map(lambda s: re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", s))
_lon = st.floats(-180, 180, allow_nan=False)
_lat = st.floats(-90, 90, allow_nan=False)


@st.composite
def _bbox(draw):
    w = draw(st.floats(-180, 179.9, allow_nan=False))
    e = draw(st.floats(w + 0.001, 180, allow_nan=False))
    s = draw(st.floats(-90, 89.9, allow_nan=False))
    n = draw(st.floats(s + 0.001, 90, allow_nan=False))
    return (w, s, e, n)


@st.composite
def _callout(draw):
    text = draw(st.text(min_size=1, max_size=60).filter(lambda s: s.strip()))
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
    text = text if text.strip() else "x"
    if draw(st.booleans()):
        return Callout(text, lon=draw(_lon), lat=draw(_lat), leader=draw(st.booleans()))
    rid = draw(
        st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=12)
    )
    return Callout(text, region_id=rid, leader=draw(st.booleans()))


@st.composite
def _periods(draw):
    if not draw(st.booleans()):
        return ()
    out = []
    for _ in range(2):
        a, b = sorted((draw(_dates), draw(_dates)))
        out.append((a, b))
    return tuple(out)


@st.composite
def _specs(draw):
    d1, d2 = sorted((draw(_dates), draw(_dates)))
    return MapSpec(
        date_from=draw(st.one_of(st.none(), st.just(d1))),
        date_to=draw(st.one_of(st.none(), st.just(d2))),
        actor=draw(_text),
        title=draw(_printed),
        notes=draw(_printed),
        bbox=draw(st.one_of(st.none(), _bbox())),
        focus=draw(st.sampled_from(["vraem-devida", "", "120609"])),
        callouts=tuple(draw(st.lists(_callout(), max_size=3))),
        generalise=draw(st.sampled_from(["none", "district", "grid:5", "grid:0.5", "grid:12.5"])),
        periods=draw(_periods()),
        small_multiples=draw(st.sampled_from(["none", "year", "quarter"])),
        density=draw(st.sampled_from(["auto", "points", "hexagons"])),
        bucket=draw(st.sampled_from(BUCKETS)),
        coca_year=draw(st.one_of(st.none(), st.integers(1990, 2100))),
        lang=draw(st.sampled_from(["en", "es"])),
    )


def _round_trip(spec: MapSpec) -> None:
    try:
        query = spec.to_query()
    except InputError as exc:  # callouts too long for a link: said, not truncated
        assert "share the spec file" in str(exc)
    else:
        assert MapSpec.from_query(query) == spec
    assert MapSpec.from_json(spec.to_json()) == spec
    assert MapSpec.from_toml(spec.to_toml()) == spec


_names = st.sampled_from(
    ["bbox", "focus", "callouts", "generalise", "periods", "small_multiples", "font",
     "coca_year", "center", "zoom", "date_from", "layers", "schema_version", NESTED_PARAM]
)  # fmt: skip
_junk = st.one_of(
    _text,
    st.sampled_from(
        [
            "",
            "-",
            "nan",
            "inf",
            "-1e309",
            "2021-02-30",
            "1,2,3,4",
            "-75,-13,-74,-12",
            "grid:",
            "grid:-1",
            "2.",
            "2.e30=",
            "9" * 30,
            "/etc/passwd",
        ]
    ),  # fmt: skip
    st.builds(lambda b: "2." + base64.urlsafe_b64encode(b).decode(), st.binary(max_size=200)),
)
_json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), _text),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


def _attack_query(params: dict) -> None:
    try:
        spec = MapSpec.from_query(params)
    except InputError as exc:
        assert str(exc).startswith("spec:"), str(exc)
        return
    assert MapSpec.from_query(spec.to_query()) == spec


def _attack_dict(data: dict) -> None:
    try:
        spec = MapSpec.from_dict(data)
    except InputError as exc:
        assert str(exc).startswith("spec:"), str(exc)
        return
    assert MapSpec.from_dict(json.loads(spec.to_json())) == spec


@SHORT
@given(_specs())
def test_generated_specs_round_trip(spec: MapSpec) -> None:
    _round_trip(spec)


@SHORT
@given(st.dictionaries(_names, _junk, max_size=6))
def test_generated_urls_raise_only_input_error(params: dict) -> None:
    _attack_query(params)


@SHORT
@given(st.dictionaries(_names, _json_values, max_size=6))
def test_generated_spec_files_raise_only_input_error(data: dict) -> None:
    _attack_dict(data)


@pytest.mark.fuzz
@FUZZ
@given(_specs())
def test_fuzz_specs_round_trip(spec: MapSpec) -> None:
    _round_trip(spec)


@pytest.mark.fuzz
@FUZZ
@given(st.dictionaries(_names, _junk, max_size=6))
def test_fuzz_urls(params: dict) -> None:
    _attack_query(params)


@pytest.mark.fuzz
@FUZZ
@given(st.dictionaries(_names, _json_values, max_size=6))
def test_fuzz_spec_files(data: dict) -> None:
    _attack_dict(data)


def test_readme_documents_every_key_and_the_example_spec_parses() -> None:
    from dataclasses import fields
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    table = readme.split("## View specs", 1)[1].split("\n## ", 1)[0]
    documented = {
        name.strip()
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| key")
        for name in line.split("|")[1].split(",")
    }
    assert {f.name for f in fields(MapSpec)} <= documented
    example = MapSpec.from_file(root / "docs" / "examples" / "view.toml")
    assert example.callouts and len(example.periods) == 2 and example.focus == "vraem-devida"
