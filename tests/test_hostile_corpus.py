"""The second-wave hostile corpus: spec files, URL parameters, printed text, fonts, column
headers and geodata build sources (tests/fixtures/hostile/{spec,url,text,fonts,columns,
geodata}/), each with its asserted outcome; the index (tests/fixtures/hostile/README.md)
must list every file in the folder and name a test that exists.

The rule every case checks: bad input raises InputError (or BuildError for the geodata
build) naming the file or the key, nothing is written, and accepted hostile text is
kept verbatim and stays text wherever it is shown.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import urllib.parse
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from atlas.errors import InputError
from atlas.fonts import HOUSE_FONT, configured_fonts
from atlas.readers import read_incidents
from atlas.spec import MAX_NESTED_CHARS, NESTED_PARAM, MapSpec
from atlas.ui_state import spec_from_params

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "fixtures" / "hostile"
INDEX = HOSTILE / "README.md"
SVG_NS = "{http://www.w3.org/2000/svg}"
TEN_MB = 10 * 2**20

# ---- spec files: refused, naming the file and the key -----------------------------------
SPEC_FILES: dict[str, str] = {
    "wrong_type_min_fatalities.json": "'min_fatalities'",
    "wrong_type_layers_object.json": "'layers'",
    "wrong_type_bbox_text.toml": "'bbox'",
    "wrong_type_title_list.json": "'title'",
    "wrong_type_width_bool.json": "'width'",
    "wrong_type_event_types_table.toml": "'event_types'",
    "huge_number_overflow.json": "'min_fatalities'",
    "huge_number_digits.json": "'dpi'",
    "huge_number_int64.toml": "'width'",
    "huge_number_negative.toml": "min_fatalities must be between",
    "huge_coca_year.json": "'coca_year'",
    "unknown_layer.json": "layers has unknown value 'satellite'",
    "unknown_layer_markup.toml": "layers has unknown value '<script>",
    "unknown_event_type.json": "event_types has unknown value 'battles'",
    "impossible_date_feb30.json": "'date_from': day is out of range",
    "impossible_date_month13.toml": "'date_to': month must be in 1..12",
    "impossible_date_year0.json": "'date_from'",
    "impossible_dates_reversed.json": "date_to 2021-01-01 is before date_from",
    "impossible_period.json": "'periods'",
    "deep_nesting.json": "nested too deeply",
    "deep_nesting.toml": "nested too deeply",
    "deep_nesting_in_callouts.json": "nested too deeply",
    "bbox_inverted.json": "bbox west -73.0 is not less than east -75.0",
    "bbox_antimeridian.toml": "crossing the antimeridian",
    "bbox_outside_globe.json": "bbox must lie within",
    "bbox_zero_area.json": "bbox west -74.0 is not less than east -74.0",
    "bbox_nan.json": "'bbox': not a finite number",
    "callouts_not_a_list.json": "'callouts': expected a list",
    "callouts_too_many.json": "at most 20 callouts",
    "callout_without_place.json": "give lon and lat, or a region_id",
    "schema_version_future.json": "newer Conflict Atlas",
    "not_json.json": "not valid JSON",
    "not_toml.toml": "not valid TOML",
    "latin1_bytes.json": "a spec file is UTF-8 text",
    "top_level_list.json": "expected a table of settings",
    "font_as_path.toml": "never by file path",
    "font_traversal.json": "never by file path",
    "wrong_suffix.yaml": "spec files are .json or .toml",
}


@pytest.mark.parametrize("name", sorted(SPEC_FILES))
def test_hostile_spec_files_are_refused_naming_file_and_key(name: str) -> None:
    with pytest.raises(InputError) as info:
        MapSpec.from_file(HOSTILE / "spec" / name)
    message = str(info.value)
    assert message.startswith(f"{name}: "), message
    assert SPEC_FILES[name] in message, message
    assert len(message) < 400, "a refusal names the problem, it does not echo the input"


def test_hostile_spec_files_stop_the_export_command_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli import main

    out = tmp_path / "out"
    out.mkdir()
    for name in sorted(SPEC_FILES):
        code = main(["export", "--spec", str(HOSTILE / "spec" / name), "--out",
                     str(out / "map.png")])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2, (name, err)
        assert name in err and "Traceback" not in err, (name, err)
        assert list(out.iterdir()) == [], (name, list(out.iterdir()))


def test_ten_megabyte_strings_are_refused_by_size(tmp_path: Path) -> None:
    """Generated: a 10 MB title in a spec file, a JSON text, a URL value and the nested
    parameter, and a 10 MB unknown key (never committed)."""
    big = "x" * TEN_MB
    path = tmp_path / "ten_mb.json"
    path.write_text(json.dumps({"title": big}), encoding="utf-8")
    with pytest.raises(InputError, match=r"^ten_mb\.json: a spec file is at most 1,000,000 bytes"):
        MapSpec.from_file(path)
    with pytest.raises(InputError, match="title is longer than 500 characters"):
        MapSpec.from_json(json.dumps({"title": big}))
    with pytest.raises(InputError, match="callouts: text is longer than 200"):
        MapSpec.from_json(json.dumps({"callouts": [{"text": big, "lon": -74, "lat": -12}]}))
    for key in ("title", "actor", "bbox", "date_from", "width"):
        spec, error = spec_from_params({key: big})
        assert spec == MapSpec() and error == f"spec: {key} is too long"
    spec, error = spec_from_params({NESTED_PARAM: "2." + big})
    assert spec == MapSpec() and f"longer than {MAX_NESTED_CHARS:,}" in error
    assert MapSpec.from_json(json.dumps({big: 1, "bucket": "year"})) == MapSpec(bucket="year")


# ---- URL parameters: the app opens the default view with a warning naming the key -----------
URL_FILES: dict[str, str | None] = {
    "overlong_actor.txt": "actor is too long",
    "overlong_nested.txt": "nested parameter is longer than 4,000",
    "nested_not_base64.txt": "nested parameter cannot be read",
    "nested_undecodable_utf8.txt": "nested parameter cannot be read",
    "nested_unknown_version.txt": "nested parameter has an unknown version",
    "nested_deep.txt": "nested parameter cannot be read",
    "nested_not_an_object.txt": "nested parameter cannot be read",
    "bbox_antimeridian.txt": "crossing the antimeridian",
    "bbox_nan.txt": "'bbox': not a finite number",
    "date_feb30.txt": "'date_from'",
    "zoom_99.txt": "zoom must be between 0 and 19",
    "repeated_key.txt": "bucket has unknown value 'decade'",
    # accepted: held verbatim and round-tripped
    "percent_undecodable.txt": None,
    "nested_callout_markup.txt": None,
}


def _url_params(name: str) -> dict[str, list[str]]:
    raw = (HOSTILE / "url" / name).read_text(encoding="utf-8").strip()
    return urllib.parse.parse_qs(raw, keep_blank_values=True, errors="replace")


@pytest.mark.parametrize("name", sorted(URL_FILES))
def test_hostile_url_parameters(name: str) -> None:
    params = _url_params(name)
    expected = URL_FILES[name]
    last = {k: v[-1] for k, v in params.items()}  # what st.query_params hands the app
    spec, error = spec_from_params(last)
    if expected is not None:
        with pytest.raises(InputError, match=re.escape(expected)):
            MapSpec.from_query(params)
        assert spec == MapSpec(), "a bad link opens the default view"
        assert error is not None and expected in error and error.startswith("spec:")
        return
    assert error is None
    assert MapSpec.from_query(spec.to_query()) == spec  # accepted: exactly what a link carries
    if name == "percent_undecodable.txt":
        assert spec.title == "\ufffd\ufffd\ufffd(\ufffd" and spec.bucket == "year"
    else:
        (callout,) = spec.callouts
        assert callout.text == "<script>alert(1)</script>{{7*7}}"
        assert "<" not in spec.to_query()[NESTED_PARAM]  # travels as base64url, not markup


# ---- printed text: title, dek, notes, byline, source line and callouts ------------------------
TEXT_FILES = ["callouts_markup.json", "long_unbroken.toml", "title_jinja.json",
              "title_script.json", "title_svg.toml"]  # fmt: skip


def test_control_characters_in_printed_text_are_refused_naming_the_key() -> None:
    """An SVG holding U+0000 or U+0007 is not XML (the export broke before this check)."""
    with pytest.raises(InputError, match=r"dek holds a control character \(U\+0007\)"):
        MapSpec.from_file(HOSTILE / "text" / "control_characters.json")
    with pytest.raises(InputError, match=r"callouts holds a control character \(U\+0000\)"):
        MapSpec.from_dict({"callouts": [{"text": "a\x00b", "lon": -74, "lat": -12}]})
    ok = MapSpec(title="RTL \u202etxt and zero\u200bwidth", notes="tab\tand\nline")
    assert MapSpec.from_toml(ok.to_toml()) == ok  # tab, newline and format characters pass


@pytest.mark.parametrize("name", TEXT_FILES)
def test_hostile_printed_text_is_kept_verbatim_through_every_spec_form(name: str) -> None:
    spec = MapSpec.from_file(HOSTILE / "text" / name)
    raw = (HOSTILE / "text" / name).read_text(encoding="utf-8")
    if name.endswith(".json"):
        given = json.loads(raw)
        for key, value in given.items():
            if key == "callouts":
                assert [c.text for c in spec.callouts] == [c["text"] for c in value]
            else:
                assert getattr(spec, key) == value, key
    assert MapSpec.from_json(spec.to_json()) == spec
    assert MapSpec.from_toml(spec.to_toml()) == spec
    assert MapSpec.from_query(spec.to_query()) == spec


@pytest.fixture(scope="module")
def shipped():
    from atlas.data import load_shipped

    return load_shipped()


def _svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()  # well-formed: nothing broke out of a text node
    tags = {el.tag.removeprefix(SVG_NS) for el in root.iter()}
    assert not tags & {"script", "img", "foreignObject", "iframe", "animate", "a"}, tags
    assert not any(k.lower().startswith("on") for el in root.iter() for k in el.attrib)
    assert not any("javascript:" in v for el in root.iter() for v in el.attrib.values())
    return " ".join("".join(el.itertext()) for el in root.iter(f"{SVG_NS}text"))


@pytest.mark.parametrize("name", ["title_script.json", "title_svg.toml", "title_jinja.json",
                                  "long_unbroken.toml"])  # fmt: skip
def test_hostile_printed_text_stays_text_in_the_svg_export(name, shipped, tmp_path) -> None:
    from layers.export import export

    spec = MapSpec.from_file(HOSTILE / "text" / name).with_size("web")
    out = tmp_path / "page.svg"
    result = export(spec, shipped, out)
    texts = _svg_text(out)
    if name != "long_unbroken.toml":  # the long ones may be wrapped or shortened to fit
        for key in ("title", "dek", "notes", "byline"):
            value = getattr(spec, key)
            if key == "dek" and any("dek" in d for d in result.dropped):
                continue  # the page gave way on it, and said so
            assert value and value.split()[0] in texts, (key, value)
    sidecar = (tmp_path / "page.sources.md").read_text(encoding="utf-8")
    assert json.dumps(spec.title, ensure_ascii=False) in sidecar  # the spec, as JSON text


def test_hostile_printed_text_in_the_pdf_and_html_exports(shipped, tmp_path) -> None:
    """PDF: no script, action or link objects; HTML (self-contained folium page): no
    element or Jinja evaluation from the text."""
    from layers.export import export

    spec = MapSpec.from_file(HOSTILE / "text" / "title_script.json").with_size("web")
    pdf = tmp_path / "page.pdf"
    export(spec, shipped, pdf)
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF") and body.rstrip().endswith(b"%%EOF")
    for marker in (b"/JavaScript", b"/JS ", b"/OpenAction", b"/Launch", b"/URI", b"/AA "):
        assert marker not in body, marker
    jinja = MapSpec.from_file(HOSTILE / "text" / "title_jinja.json")
    for source in (spec, jinja.replace(callouts=MapSpec.from_file(
            HOSTILE / "text" / "callouts_markup.json").callouts)):  # fmt: skip
        html_path = tmp_path / "page.html"
        export(source.with_size("web"), shipped, html_path)
        html = html_path.read_text(encoding="utf-8")
        for payload in ("<script>alert('", "<img src=x onerror", "<iframe src=\"http",
                        "<b onmouseover", "</text><script>", 'href="javascript:',
                        "href='javascript:"):  # fmt: skip
            assert payload not in html, payload  # shown as escaped text at most
        # the byline's template text is shown (braces literal or as entities), never run
        assert html.count("__globals__") == html.count("self.__init__.__globals__")
        assert "__builtins__" not in html


# ---- fonts -------------------------------------------------------------------------------------
FONT_FILES: dict[str, str] = {
    "not_a_font.ttf": "not_a_font.ttf is not a font file",
    "empty.otf": "empty.otf is not a font file",
    "html_named.ttf": "html_named.ttf is not a font file",
    "truncated_magic.ttf": "truncated_magic.ttf is not a font file",
    "magic_header_only.ttf": "magic_header_only.ttf is not a usable font (no cmap",
    "web_font.woff2": "web_font.woff2 is not a .ttf, .otf or .ttc file",
    "a_directory.ttf/placeholder.txt": "a_directory.ttf not found (or not a file)",
}


@pytest.mark.parametrize("name", sorted(FONT_FILES))
def test_hostile_font_files_are_left_out_with_a_warning(name: str, monkeypatch) -> None:
    path = HOSTILE / "fonts" / name
    if name.endswith("placeholder.txt"):
        path = path.parent  # the directory itself is offered as the font
    with pytest.warns(UserWarning, match=re.escape(FONT_FILES[name])):
        fonts = configured_fonts(f"Hostile={path}")
    assert fonts == {HOUSE_FONT: None}
    monkeypatch.setenv("CONFLICT_ATLAS_FONTS", f"Hostile={path}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(InputError, match="font 'Hostile' is not one of the fonts"):
            MapSpec.from_dict({"font": "Hostile"})
        assert MapSpec.from_dict({"font": HOUSE_FONT}).font == HOUSE_FONT  # the house font stays


def test_missing_and_truncated_real_fonts_are_left_out(tmp_path: Path) -> None:
    """Generated: a path that does not exist, and a real font cut after its table
    directory (header magic right, tables missing)."""
    import matplotlib

    real = (Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf").read_bytes()
    cut = tmp_path / "cut.ttf"
    cut.write_bytes(real[:2048])
    whole = tmp_path / "whole.ttf"
    whole.write_bytes(real)
    env = f"Gone={tmp_path / 'gone.ttf'};Cut={cut};Whole={whole}"
    with pytest.warns(UserWarning) as caught:
        fonts = configured_fonts(env)
    assert fonts == {HOUSE_FONT: None, "Whole": whole}
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    assert "Cut: cut.ttf is not a usable font" in messages[0], messages
    assert "gone.ttf not found" in messages[1], messages


# ---- column headers with markup -------------------------------------------------------------
COLUMN_FILES: dict[str, tuple[int, int] | str] = {
    # file -> (rows read, rows kept) when it loads, or the InputError text
    "script_header.csv": (2, 2),
    "formula_headers.csv": (2, 2),
    "jinja_headers.csv": (2, 2),
    "markdown_headers.csv": (1, 1),
    "duplicate_headers.csv": (1, 1),
    "zero_width_headers.csv": (1, 1),
    "markup_no_coordinates.csv": "no coordinate columns found",
    "long_header.csv": "no coordinate columns found",
}


@pytest.mark.parametrize("name", sorted(COLUMN_FILES))
def test_hostile_column_headers(name: str) -> None:
    path = HOSTILE / "columns" / name
    expected = COLUMN_FILES[name]
    if isinstance(expected, str):
        with pytest.raises(InputError) as info:
            read_incidents(path)
        message = str(info.value)
        assert message.startswith(f"{name}: {expected}"), message
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        assert info.value.columns == header  # the column picker gets them verbatim
        assert len(message) < 1000, "each column name is shortened in the message"
        return
    frame, report = read_incidents(path)
    assert (report.rows_read, report.rows_kept) == expected, report.summary()
    assert frame.geometry.iloc[0].y == pytest.approx(-12.2)  # the first lat column, not -99
    assert frame.geometry.iloc[0].x == pytest.approx(-73.9)


def test_markup_headers_through_the_column_picker_mapping() -> None:
    """The picker hands the readers the raw header text as ``mapping``."""
    path = HOSTILE / "columns" / "markup_no_coordinates.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    mapping = {"latitude": header[0], "longitude": header[1], "date_start": header[2]}
    frame, report = read_incidents(path, mapping=mapping)
    assert report.rows_kept == 1
    assert (frame.geometry.iloc[0].y, frame.geometry.iloc[0].x) == (-12.2, -73.9)
    with pytest.raises(InputError, match="mapping says latitude is in column"):
        read_incidents(path, mapping={"latitude": "<svg onload=alert(1)>", "longitude": "x"})


def test_ten_megabyte_header_gives_a_short_error(tmp_path: Path) -> None:
    """Generated: one 10 MB column name; the error names it in at most 80 characters."""
    path = tmp_path / "wide.csv"
    path.write_text("<b>" + "H" * TEN_MB + ",x\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_incidents(path)
    assert len(str(info.value)) < 600 and "…" in str(info.value)


# ---- facts output: names from the data made inert in Markdown, verbatim in JSON ----------------
FACTS_DISTRICTS = HOSTILE / "text" / "facts_districts.geojson"
FACTS_INCIDENTS = HOSTILE / "text" / "facts_incidents.csv"
FACTS_SPEC = HOSTILE / "text" / "facts_actor.toml"
#: What a Markdown renderer or a Jinja/Liquid site would act on; none may survive unescaped.
_LIVE_MARKUP = ("<", ">", "](", "![", "`", "|", "{{", "}}", "{%", "%}", "{#", "~~", "**", "__")
_MD_LINE = re.compile(r"^(### .+|- .+|\*\*[^*]+\*\*|)$")


def _assert_inert_markdown(md: str) -> None:
    """Every line is one the facts write (a newline in a name opens no heading, list or
    table), and with the backslash escapes taken out no live markup is left."""
    lines = md.split("\n")
    assert all(_MD_LINE.fullmatch(line) for line in lines), [
        line for line in lines if not _MD_LINE.fullmatch(line)
    ]
    for line in lines:
        # a backslash keeps Markdown quiet but not a template engine: no pair may touch
        assert not [m for m in ("{{", "{%", "{#", "}}", "%}", "#}") if m in line], line
        if line.startswith("- "):
            bare = re.sub(r"\\[\\`*_{}\[\]()#+\-.!|>~%]", "", line)
            assert not [m for m in _LIVE_MARKUP if m in bare], line


def _hostile_facts_data():
    import dataclasses

    import geopandas as gpd
    import pandas as pd

    from atlas.data import load_bundle
    from atlas.regions import read_regions

    data = load_bundle(incidents=[FACTS_INCIDENTS], districts=FACTS_DISTRICTS,
                       districts_vintage="2099", use_cache=False)  # fmt: skip
    # the same polygons as a user's region file: the focus region's name is hostile too
    regions, _ = read_regions(FACTS_DISTRICTS, id_field="ubigeo", name_field="name", layer="user")
    both = pd.concat([data.regions, regions], ignore_index=True)
    return dataclasses.replace(data, regions=gpd.GeoDataFrame(both, crs=data.regions.crs))


@pytest.mark.parametrize("lang", ["en", "es"])
def test_hostile_names_in_the_facts_are_inert_in_markdown_and_verbatim_in_json(lang) -> None:
    """District and region names with Markdown links and images, ``<img onerror>``, table
    rows, backticks, Jinja blocks and newlines (`text/facts_districts.geojson`), and an
    actor filter of the same (`text/facts_actor.toml`)."""
    from layers.facts import article_facts, md_text

    names = {f["properties"]["ubigeo"]: f["properties"]["name"]
             for f in json.loads(FACTS_DISTRICTS.read_text("utf-8"))["features"]}  # fmt: skip
    spec = MapSpec.from_file(FACTS_SPEC).replace(region="990103", lang=lang)
    facts = article_facts(spec, _hostile_facts_data(), inputs=[("<b>in</b>.csv", "0" * 64)])
    md = facts.markdown()
    _assert_inert_markdown(md)
    # every name is there, escaped (ranked 6, 5, 4, 3, 2 incidents: the sixth is cut)
    for ubigeo in ("990106", "990105", "990104", "990103", "990102"):
        assert f"{md_text(names[ubigeo])} ({ubigeo})" in md
    assert md_text(names["990103"]) in md.split("\n")[3]  # the focus region's line
    assert md_text(spec.actor) in md and md_text("<b>in</b>.csv") in md
    numbers = json.loads(facts.to_json())  # data, not markup: verbatim
    assert [(d["ubigeo"], d["district"], d["incidents"]) for d in numbers["top_districts"]] == [
        (u, names[u], n) for u, n in (("990106", 6), ("990105", 5), ("990104", 4),
                                      ("990103", 3), ("990102", 2))]  # fmt: skip
    assert numbers["filters"]["actor"] == spec.actor
    assert numbers["inputs"] == [{"file": "<b>in</b>.csv", "sha256": "0" * 64}]
    assert numbers["inside_region"] == {"region": "990103", "incidents": 3, "deaths": 3,
                                        "outside": 18}  # fmt: skip


def test_the_facts_command_keeps_a_hostile_file_name_and_actor_inert(tmp_path: Path) -> None:
    """`conflict-atlas facts` on a file whose name is markup (copied to tmp_path: such a
    name is not committed) with the hostile actor filter, in Markdown and JSON."""
    from cli import main

    name = "[a](javascript:alert(1)) <img src=x onerror=alert(1)> {{ 7*7 }} |`x`|.csv"
    src = tmp_path / name
    shutil.copyfile(FACTS_INCIDENTS, src)
    md_out, json_out = tmp_path / "facts.md", tmp_path / "facts.json"
    args = ["facts", "--incidents", str(src), "--spec", str(FACTS_SPEC)]
    assert main([*args, "--out", str(md_out)]) == 0
    assert main([*args, "--format", "json", "--out", str(json_out)]) == 0
    md = md_out.read_text("utf-8")
    _assert_inert_markdown(md)
    assert "21 incidents" in md  # every row matches the actor filter
    numbers = json.loads(json_out.read_text("utf-8"))
    assert numbers["inputs"] == [
        {"file": name, "sha256": hashlib.sha256(src.read_bytes()).hexdigest()}
    ]
    assert numbers["filters"]["actor"] == "<b>[x](javascript:alert(1))</b> | `x` {{ 7*7 }}"
    assert numbers["incidents"] == 21


# ---- geodata build: altered or truncated sources are refused by hash, nothing written ---------
GEODATA_FILES = [
    "geodata/boundaries/inei2023_light_distritos.geojson",  # truncated
    "geodata/vraem/devida_zona_vraem_24_distritos.csv",  # one zone renamed
    "geodata/basemap/rivers_peru_naturalearth.geojson",  # emptied
    "geodata/basemap/lakes_peru_naturalearth.geojson",  # one byte more
    "geodata/gazetteer/castagnetto_ubigeo_ccpp_from_rds.csv",  # CRLF line ends
    "geodata/basemap/places_peru_naturalearth.geojson",  # markup in names
]


@pytest.fixture(scope="module")
def build_geodata():
    from tests.test_build_geodata import FIXTURE_PINS, FIXTURE_SOURCES, bg

    return bg, FIXTURE_PINS, FIXTURE_SOURCES


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip


@pytest.mark.parametrize("rel", GEODATA_FILES)
def test_hostile_geodata_source_is_refused_by_hash(rel: str, tmp_path, build_geodata) -> None:
    bg, pins, sources = build_geodata
    src = tmp_path / "src"
    shutil.copytree(sources, src)
    source_rel = rel.removeprefix("geodata/")
    hostile = (HOSTILE / rel).read_bytes()
    assert hostile != (sources / source_rel).read_bytes()
    (src / source_rel).write_bytes(hostile)
    geodata = tmp_path / "geodata"
    (geodata / "peru").mkdir(parents=True)
    (geodata / "peru" / "old.txt").write_text("previous build")
    with pytest.raises(bg.BuildError) as err:
        bg.build(src, geodata, sources=pins)
    text = str(err.value)
    key = next(k for k, s in pins.items() if s.path == source_rel)
    got = hashlib.sha256(hostile).hexdigest()
    assert f"{source_rel}: altered: sha256 is {got}, expected {pins[key].sha256}" in text
    assert "nothing was written" in text
    assert _tree(geodata) == {"peru/old.txt": b"previous build"}
    assert [p.name for p in geodata.iterdir()] == ["peru"]  # no temporary folder left


def test_geodata_source_replaced_by_a_folder_or_a_link(tmp_path, build_geodata) -> None:
    """Generated: a source that is a directory is missing; a symlink to another file is
    altered (its target's hash)."""
    bg, pins, sources = build_geodata
    src = tmp_path / "src"
    shutil.copytree(sources, src)
    lakes = src / "basemap" / "lakes_peru_naturalearth.geojson"
    lakes.unlink()
    lakes.mkdir()
    rivers = src / "basemap" / "rivers_peru_naturalearth.geojson"
    rivers.unlink()
    rivers.symlink_to(HOSTILE / "spec" / "not_json.json")
    with pytest.raises(bg.BuildError) as err:
        bg.build(src, tmp_path / "geodata", sources=pins)
    assert "basemap/lakes_peru_naturalearth.geojson: missing" in str(err.value)
    assert "basemap/rivers_peru_naturalearth.geojson: altered" in str(err.value)
    assert not (tmp_path / "geodata").exists() or not any((tmp_path / "geodata").iterdir())


# ---- the index ---------------------------------------------------------------------------------
def _corpus_files() -> set[str]:
    return {str(p.relative_to(HOSTILE)) for p in HOSTILE.rglob("*")
            if p.is_file() and p.name != "README.md"}  # fmt: skip


def _index_rows() -> list[tuple[str, str]]:
    """(first cell, last cell) of every table row in the index."""
    rows = []
    for line in INDEX.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) >= 3 and not set(cells[0]) <= set("-: "):
            rows.append((cells[0], cells[-1]))
    return rows


def test_the_index_lists_every_corpus_file_and_only_those() -> None:
    folders = {p.name for p in HOSTILE.iterdir() if p.is_dir()}
    listed = set()
    for first, _ in _index_rows():
        for path in re.findall(r"`([^`]+)`", first):
            if path.split("/")[0] in folders and not path.endswith("/"):
                listed.add(path)
    files = _corpus_files()
    assert files - listed == set(), "files in the corpus but not in the index"
    assert listed - files == set(), "index rows naming files that do not exist"
    assert len(files) >= 60, len(files)


def test_every_index_row_names_a_test_that_exists() -> None:
    for first, last in _index_rows():
        if first in ("input", "file") or last in ("same",) or last.startswith("*reserved"):
            continue
        refs = re.findall(r"`([\w/]*?\.py)::(test_\w+)\*?`", last)
        bare = re.findall(r"`(test_\w+)\*?`", last)
        assert refs or bare, (first, last)
        for file, name in refs:
            path = ROOT / file if file.startswith("tests/") else ROOT / "tests" / file
            body = path.read_text(encoding="utf-8")
            assert re.search(rf"def {name}", body), (first, file, name)


def test_corpus_files_are_tiny() -> None:
    """Big inputs are generated at test time, never committed."""
    for rel in _corpus_files():
        assert (HOSTILE / rel).stat().st_size < 64_000, rel


def test_hostile_nested_parameter_built_from_bytes_never_raises_other_errors() -> None:
    """Every committed file's bytes, as the nested parameter's body: InputError only."""
    for rel in sorted(_corpus_files()):
        body = base64.urlsafe_b64encode((HOSTILE / rel).read_bytes()[:2900]).decode()
        spec, error = spec_from_params({NESTED_PARAM: "2." + body.rstrip("=")})
        assert error is None or error.startswith("spec:"), (rel, error)
