"""The Streamlit page, driven by streamlit.testing.v1.AppTest, plus atlas.ui_state.

Expected counts are computed with atlas.query on the same shipped data the page loads,
never hard-coded. The map is a custom component, which AppTest shows as an
UnknownElement: its ``proto.json_args`` JSON holds the map's script.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from atlas import query
from atlas.errors import InputError, LimitError
from atlas.i18n import fmt_int, t
from atlas.spec import Callout, MapSpec, legacy_bbox
from atlas.ui_state import (
    STEP_REPORT,
    K,
    carry_step,
    check_upload_size,
    hiding_filters,
    quick_ranges,
    read_upload,
    region_layers,
    region_summary,
    report_table,
    reported_step,
    share_url,
    short_region_name,
    spec_from_params,
    step_from_params,
    widget_key,
)

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def W(name: str, lang: str = "en") -> str:
    """The key a language-following widget has in the page (``w_types@en``)."""
    return widget_key(name, lang)


BAD_CSV = (
    b"event_id,event_date,latitude,longitude,event_type,fatalities\n"
    b"u1,2021-05-23,-12.186,-74.027,Violence against civilians,16\n"
    b"u2,2021-06-01,,-74.1,Battles,2\n"  # row 3: no latitude
    b"u3,2021-06-02,-12.3,-73.9,Battles,1\n"
)


# ---- ui_state (no Streamlit) ------------------------------------------------------------
def test_spec_from_params_falls_back_on_bad_value() -> None:
    spec, err = spec_from_params({"bucket": "year", "event_types": "armed_clash"})
    assert err is None and spec.bucket == "year" and spec.event_types == ("armed_clash",)
    spec, err = spec_from_params({"bucket": "decade"})
    assert spec == MapSpec() and "bucket" in err
    assert step_from_params({"step": "3"}) == 3
    assert step_from_params({"step": "-1"}) is None
    assert step_from_params({}) is None


def test_reported_step_takes_only_a_wellformed_report_for_these_steps() -> None:
    key = "k1"
    good = {"bounds": {}, STEP_REPORT: {"index": 3, "key": key, "token": "a.1"}}
    assert reported_step(good, key) == (3, "a.1")
    assert reported_step(good, "other steps") is None  # drawn before the steps changed
    assert reported_step(None, key) is None and reported_step({"zoom": 7}, key) is None
    for bad in ({"index": -1}, {"index": True}, {"index": "3"}, {"index": 1.0},
                {"token": ""}, {"token": 7}, {"token": "x" * 65}):  # fmt: skip
        report = {"index": 3, "key": key, "token": "a.1", **bad}
        assert reported_step({STEP_REPORT: report}, key) is None, bad


def test_carry_step_keeps_the_period_on_screen() -> None:
    months = query.steps(dt.date(2021, 1, 1), dt.date(2021, 12, 31), "month")
    quarters = query.steps(dt.date(2021, 1, 1), dt.date(2021, 12, 31), "quarter")
    two_years = query.steps(dt.date(2020, 1, 1), dt.date(2021, 12, 31), "month")
    assert carry_step(None, 4, months) == 4  # the link's step, in the link's steps
    assert carry_step(None, 12, months) == 0  # out of range
    assert carry_step(months, 4, months) == 4  # same steps (another filter changed)
    assert carry_step(months, 4, quarters) == 1  # May 2021 is in the second quarter
    assert carry_step(quarters, 1, months) == 3  # the quarter's first month, April
    assert carry_step(months, 4, two_years) == 16  # May 2021 again
    assert carry_step(two_years, 3, months) == 0  # April 2020 is no longer in the range
    assert carry_step(months, "4", months) == 0 and carry_step(months, True, months) == 0
    assert carry_step(months, 4, []) == 0


def test_quick_ranges() -> None:
    r = quick_ranges(dt.date(2019, 3, 5), dt.date(2021, 6, 30))
    assert r["custom"] is None
    assert r["all"] == (dt.date(2019, 3, 5), dt.date(2021, 6, 30))
    assert r["last12"] == (dt.date(2020, 7, 1), dt.date(2021, 6, 30))
    assert r["y2019"] == (dt.date(2019, 3, 5), dt.date(2019, 12, 31))
    assert r["y2020"] == (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert list(r)[2:] == ["last12", "y2021", "y2020", "y2019"]


def test_share_url_round_trips() -> None:
    spec = MapSpec(event_types=("armed_clash", "riot"), actor="Sendero Luminoso & co",
                   bbox=(-74.6, -12.7, -73.4, -11.9))  # fmt: skip
    url = share_url("http://localhost:8501/", spec.to_query())
    assert url.startswith("http://localhost:8501/?") and "event_types=armed_clash,riot" in url
    assert "bbox=-74.6,-12.7,-73.4,-11.9" in url
    from urllib.parse import parse_qs, urlsplit

    back = {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}
    assert MapSpec.from_query(back) == spec
    assert share_url("", {}) == "?"


def test_short_region_name() -> None:
    assert short_region_name("VRAEM (DEVIDA zone), approximate outline") == "VRAEM"
    assert short_region_name("Satipo") == "Satipo"


def test_upload_size_check_names_file() -> None:
    with pytest.raises(LimitError, match="big.csv: .* over the 1 MB limit"):
        check_upload_size("big.csv", 3 * 2**20, 2**20)
    check_upload_size("ok.csv", 10, 2**20)


def test_read_upload_reports_bad_row() -> None:
    up = read_upload("mine.csv", BAD_CSV, "incidents", 2**20)
    assert up.report.rows_read == 3 and up.report.rows_kept == 2
    table = report_table(up.report)
    assert table["rows"].sum() == 1
    assert "3" in table["examples"].iloc[0]
    with pytest.raises(InputError):
        read_upload("mine.csv", BAD_CSV, "stars", 2**20)


# ---- the page -----------------------------------------------------------------------------
def _shipped():
    from atlas.data import load_shipped

    return load_shipped()


def _expected(spec: MapSpec) -> query.FilterSummary:
    data = _shipped()
    inside = query.region_mask(data.incidents, data.regions, spec.region)
    return query.filter_incidents(data.incidents, spec, inside=inside)[1]


def _region_name(spec: MapSpec) -> str:
    data = _shipped()
    rows = data.regions[data.regions["region_id"] == spec.region]
    return short_region_name(str(rows["name"].iloc[0]))


def _counts_text(summary: query.FilterSummary, lang: str, region: str) -> str:
    return t(
        "counts", lang,
        incidents=fmt_int(summary.incidents, lang), deaths=fmt_int(summary.deaths, lang),
        inside=fmt_int(summary.inside_region, lang), region=region,
    )  # fmt: skip


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def _map_script(at: AppTest) -> str:
    comps = [e for e in at.get("component_instance")]
    assert comps, "no map component on the page"
    args = json.loads(comps[0].proto.json_args)
    return json.dumps(args)


def test_default_run_shows_sample_label_counts_and_map(app: AppTest) -> None:
    at = _run(app)
    data = _shipped()
    assert data.is_sample
    assert any(w.value.startswith("SAMPLE DATA") for w in at.warning)
    expected = _expected(MapSpec())
    assert _counts_text(expected, "en", _region_name(MapSpec())) in _markdown(at)
    assert f"{fmt_int(expected.inside_region, 'en')} inside the VRAEM" in _markdown(at)
    shows_note = any("Approximate boundary" in c.value for c in at.caption)
    assert shows_note == data.approximate
    if expected.hidden_by_precision:
        assert "counted but not drawn" in " ".join(c.value for c in at.caption)
    script = _map_script(at)
    drawn, _ = query.filter_incidents(data.incidents, MapSpec())
    one = drawn.iloc[0].geometry
    assert f"{one.y:.4f}"[:7] in script and f"{one.x:.4f}"[:7] in script
    assert "L.geoJson" in script or "geo_json" in script  # region outlines


def test_changing_date_range_changes_counts(app: AppTest) -> None:
    at = _run(app)
    data = _shipped()
    dates = data.incidents["date_start"].sort_values()
    lo = dates.iloc[len(dates) // 4].date()
    hi = dates.iloc[len(dates) // 2].date()
    at.date_input(key=W(K.DATES)).set_value((lo, hi))
    _run(at)
    spec = MapSpec(date_from=lo, date_to=hi)
    expected = _expected(spec)
    assert expected.incidents < _expected(MapSpec()).incidents
    assert _counts_text(expected, "en", _region_name(spec)) in _markdown(at)
    assert at.query_params["date_from"] == lo.isoformat()


def test_type_filter_and_language_switch(app: AppTest) -> None:
    at = _run(app)
    at.multiselect(key=W(K.TYPES)).set_value(["armed_clash"])
    _run(at)
    spec = MapSpec(event_types=("armed_clash",))
    assert _counts_text(_expected(spec), "en", _region_name(spec)) in _markdown(at)
    at.radio(key=K.LANG).set_value("es")
    _run(at)
    assert at.title[0].value == t("page_title", "es")
    assert _counts_text(_expected(spec), "es", _region_name(spec)) in _markdown(at)
    assert any(w.value.startswith("DATOS DE MUESTRA") for w in at.warning)


def test_query_params_restore_a_view(app: AppTest) -> None:
    spec = MapSpec(event_types=("armed_clash", "violence_against_civilians"), lang="es",
                   bucket="year", bbox=(-74.6, -12.7, -73.4, -11.9))  # fmt: skip
    for key, value in spec.to_query().items():
        app.query_params[key] = value
    at = _run(app)
    assert at.multiselect(key=W(K.TYPES, "es")).value == [
        "armed_clash",
        "violence_against_civilians",
    ]
    assert at.radio(key=K.LANG).value == "es"
    assert at.selectbox(key=W(K.BUCKET, "es")).value == "year"
    assert _counts_text(_expected(spec), "es", _region_name(spec)) in _markdown(at)
    script = _map_script(at)  # the map opens on the link's frame, not on all its layers
    assert "fitBounds" in script and "[[-12.7, -74.6], [-11.9, -73.4]]" in script
    assert at.query_params["bbox"] == "-74.6,-12.7,-73.4,-11.9"


def test_old_center_zoom_link_opens_converted(app: AppTest) -> None:
    app.query_params["center"] = "-12.3,-74.0"
    app.query_params["zoom"] = "9"
    at = _run(app)
    assert not at.warning or not any("cannot be used" in w.value for w in at.warning)
    west, south, east, north = legacy_bbox(-12.3, -74.0, 9)
    assert west < -74.0 < east and south < -12.3 < north
    script = _map_script(at)
    assert f"[{south}, {west}]" in script.replace("\n", " "), script[-600:]
    assert "center" not in at.query_params and "zoom" not in at.query_params
    assert at.query_params["bbox"].startswith(f"{west:.5f}".rstrip("0"))


def test_bad_url_value_warns_and_uses_defaults(app: AppTest) -> None:
    app.query_params["bucket"] = "decade"
    app.query_params["zoom"] = "99"
    at = _run(app)
    assert any("cannot be used" in w.value for w in at.warning)
    assert at.selectbox(key=W(K.BUCKET)).value == "month"
    assert _counts_text(_expected(MapSpec()), "en", _region_name(MapSpec())) in _markdown(at)


def test_upload_with_bad_row_shows_rejection_before_use(app: AppTest) -> None:
    at = _run(app)
    at.file_uploader(key=K.UPLOAD_FILE).set_value(("mine.csv", BAD_CSV, "text/csv"))
    _run(at)
    page = _markdown(at) + "\n".join(str(d.value) for d in at.dataframe)
    assert "mine.csv: 3 rows read, 2 kept, 1 left out." in page
    assert "no coordinates" in page
    # not used yet: still the sample counts
    assert any(w.value.startswith("SAMPLE DATA") for w in at.warning)
    at.button(key="use_upload").click()
    _run(at)
    assert "2 incidents" in _markdown(at)
    assert not any(w.value.startswith("SAMPLE DATA") for w in at.warning)


def test_the_uploaded_file_is_hashed_once_not_at_every_run(app: AppTest, monkeypatch) -> None:
    """The uploader hands the same bytes to every run of the page: their digest (the key
    of the read upload) is worked out once per file; another file gets its own."""
    import hashlib

    real, hashed = hashlib.sha256, []

    def counting(data=b"", *args, **kwargs):
        hashed.append(bytes(data))
        return real(data, *args, **kwargs)

    at = _run(app)
    at.file_uploader(key=K.UPLOAD_FILE).set_value(("mine.csv", BAD_CSV, "text/csv"))
    monkeypatch.setattr(hashlib, "sha256", counting)
    _run(at)
    at.number_input(key=W(K.MIN_FAT)).set_value(1)
    _run(at)
    _run(at)
    assert hashed.count(BAD_CSV) == 1
    first = at.session_state[K.UPLOAD_DIGEST][2]
    assert first == real(BAD_CSV).hexdigest()
    other = BAD_CSV + b"\n"
    at.file_uploader(key=K.UPLOAD_FILE).set_value(("other.csv", other, "text/csv"))
    _run(at)
    assert hashed.count(other) == 1
    assert at.session_state[K.UPLOAD_DIGEST][2] == real(other).hexdigest() != first


def _player_config(at: AppTest) -> dict:
    args = json.loads(at.get("component_instance")[0].proto.json_args)
    group_js = args.get("feature_group") or ""
    found = re.search(r"var cfg = (\{.*?\});\n", group_js)
    assert found, "no time player on the map"
    return json.loads(found.group(1))


def test_step_switch_gives_the_map_its_player(app: AppTest) -> None:
    app.query_params["date_from"] = "2021-01-01"
    app.query_params["date_to"] = "2021-12-31"
    at = _run(app)
    at.toggle(key=W(K.STEP_ON)).set_value(True)
    _run(at)
    at.radio(key=W(K.STEP_MODE)).set_value("window")
    _run(at)
    assert at.query_params["stepping"] == "1"
    cfg = _player_config(at)
    assert cfg["mode"] == "window" and len(cfg["days"]) == 12 and cfg["index"] == 0
    assert cfg["labels"][1] == "2021-02-01 to 2021-02-28"
    # the page keeps the whole period's counts; the player says what each step shows
    expected = _expected(MapSpec(date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 12, 31)))
    assert f"{fmt_int(expected.incidents, 'en')} incidents" in _markdown(at)


def test_step_in_a_link_opens_the_player_on_it(app: AppTest) -> None:
    app.query_params["date_from"] = "2021-01-01"
    app.query_params["date_to"] = "2023-12-31"
    app.query_params["bucket"] = "year"
    app.query_params["stepping"] = "1"
    app.query_params["step"] = "2"
    at = _run(app)
    cfg = _player_config(at)
    assert cfg["index"] == 2 and len(cfg["days"]) == 3
    assert at.query_params["step"] == "2"


def test_a_step_the_map_reports_is_kept_and_written_into_the_url(app: AppTest) -> None:
    """What the browser's player sends (tests/browser/test_player_url.py drives the real
    one), set here as the component's value in session state: the next run keeps it."""
    from layers.timeplayer import steps_key

    app.query_params["date_from"] = "2021-01-01"
    app.query_params["date_to"] = "2021-12-31"
    app.query_params["stepping"] = "1"
    at = _run(app)
    assert _player_config(at)["index"] == 0 and at.query_params["step"] == "0"
    months = query.steps(dt.date(2021, 1, 1), dt.date(2021, 12, 31), "month")
    report = {"index": 5, "key": steps_key(months), "token": "t.1"}
    at.session_state[K.MAP] = {"zoom": 8, STEP_REPORT: report}
    _run(at)
    assert _player_config(at)["index"] == 5 and at.query_params["step"] == "5"
    # a report for other steps (a map drawn before the steps changed) is not taken
    stale = {**report, "index": 2, "key": "another", "token": "t.2"}
    at.session_state[K.MAP] = {STEP_REPORT: stale}
    _run(at)
    assert _player_config(at)["index"] == 5 and at.query_params["step"] == "5"
    # the component repeats its last value: an old token changes nothing
    at.session_state[K.STEP] = 7
    at.session_state[K.MAP] = {STEP_REPORT: report}
    _run(at)
    assert _player_config(at)["index"] == 7


def test_a_new_time_step_carries_the_links_step_to_the_same_period(app: AppTest) -> None:
    app.query_params["date_from"] = "2021-01-01"
    app.query_params["date_to"] = "2021-12-31"
    app.query_params["stepping"] = "1"
    app.query_params["step"] = "4"  # May 2021
    at = _run(app)
    assert _player_config(at)["index"] == 4
    at.number_input(key=W(K.MIN_FAT)).set_value(1)  # the steps stay: so does the step
    _run(at)
    assert _player_config(at)["index"] == 4 and at.query_params["step"] == "4"
    at.selectbox(key=W(K.BUCKET)).set_value("quarter")
    _run(at)
    cfg = _player_config(at)
    assert len(cfg["days"]) == 4 and cfg["index"] == 1  # the quarter holding May
    assert at.query_params["step"] == "1"
    assert cfg["labels"][1] == "2021-01-01 to 2021-06-30"


def test_export_only_when_button_pressed(app: AppTest) -> None:
    app.session_state[K.EXPORT_OPEN] = True  # the panel is made only while open
    at = _run(app)
    assert not at.session_state[K.EXPORT]  # nothing generated on a plain rerun
    at.text_input(key="export_title").set_value("Test title")
    submit = [b for b in at.button if b.label == t("export_button", "en")]
    assert submit, "no export button"
    submit[0].click()
    _run(at)
    name, blob, mime, sidecar, _dropped = at.session_state[K.EXPORT]
    assert name == "conflict_atlas.png" and mime == "image/png"
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    assert sidecar.startswith("# Test title: Sources and method\n")
    assert "## The view (MapSpec)" in sidecar
    assert any(s.value.startswith("Export ready") for s in at.success)


def test_fetch_offline_shows_clear_message(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFLICT_ATLAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CONFLICT_ATLAS_MIRROR", "http://127.0.0.1:9/")  # nothing listens
    app.session_state[K.FETCH_OPEN] = True
    at = _run(app)
    [b for b in at.button if b.label == t("fetch_districts", "en")][0].click()
    _run(at)
    errors = " ".join(e.value for e in at.error)
    assert errors.startswith("No internet:") and "shipped 2023 boundaries stay in use" in errors
    # the shipped VRAEM is exact: no approximate-boundary note, offline or not
    assert not any("Approximate boundary" in c.value for c in at.caption)


@pytest.mark.realdata
def test_fetched_districts_add_a_layer_and_the_vraem_stays(
    app: AppTest, real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Serve the real INEI 2023 subset from a local HTTP server as the mirror."""
    import functools
    import shutil
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from atlas.data import load_bundle

    src = real_data / "boundaries" / "inei2023_light_distritos_vraem_provinces.geojson"
    served = tmp_path / "mirror" / "pe-districts-2023"
    served.mkdir(parents=True)
    shutil.copyfile(src, served / "distritos.geojson")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "mirror"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("CONFLICT_ATLAS_CACHE", str(tmp_path / "cache"))
        monkeypatch.setenv("CONFLICT_ATLAS_MIRROR", f"http://127.0.0.1:{server.server_port}/")
        app.session_state[K.FETCH_OPEN] = True
        at = _run(app)
        [b for b in at.button if b.label == t("fetch_districts", "en")][0].click()
        _run(at)
    finally:
        server.shutdown()
    assert any(s.value.startswith("Downloaded district boundaries added") for s in at.success)
    cached = tmp_path / "cache" / "pe-districts-2023" / "distritos.geojson"
    data = load_bundle(districts=cached, districts_vintage="2023", use_cache=False)
    vraem = data.regions[data.regions["region_id"] == "vraem-devida"]
    assert not bool(vraem["approximate"].any())
    inside = query.region_mask(data.incidents, data.regions, "vraem-devida")
    expected = query.filter_incidents(data.incidents, MapSpec(), inside=inside)[1]
    assert f"{fmt_int(expected.inside_region, 'en')} inside the VRAEM" in _markdown(at)
    shows_note = any("Approximate boundary" in c.value for c in at.caption)
    assert shows_note == data.approximate


def test_region_summary_and_layers_on_shipped_data() -> None:
    data = _shipped()
    assert "vraem" in region_layers(data.regions, data.districts)
    table = region_summary(data.incidents, data.regions, data.districts, MapSpec())
    row = table[table["region_id"] == "vraem-devida"].iloc[0]
    inside = query.region_mask(data.incidents, data.regions, "vraem-devida")
    assert row["incidents"] == int(inside.sum())
    assert "geometry" not in table.columns


def test_all_layers_and_tile_basemap_render(app: AppTest) -> None:
    at = _run(app)
    for name in ("clusters", "heat", "choropleth"):
        at.checkbox(key=W(f"{K.LAYERS}_{name}")).check()
    at.selectbox(key=W(K.BASEMAP)).set_value("carto")
    _run(at)
    at.radio(key=W(K.METRIC)).set_value("per_area")
    _run(at)
    params = at.query_params
    assert "choropleth" in params["layers"] and params["metric"] == "per_area"
    assert "cartocdn" in _map_script(at) or "carto" in _map_script(at).lower()


def test_using_an_incident_file_keeps_the_map_and_swaps_its_layers(app: AppTest) -> None:
    """The base map (places, rivers, boundaries) shows no incidents: putting a reader's
    incident file in use keeps it, and the map component with it, and only the incident
    layers are made again; the counts and the drawn points are the file's."""
    at = _run(app)
    renderer = at.session_state[K.MAP_CACHE]
    base_key, base = renderer.base_key, renderer.base
    groups_before = {key for key, _ in renderer.groups}
    at.file_uploader(key=K.UPLOAD_FILE).set_value(("mine.csv", BAD_CSV, "text/csv"))
    _run(at)
    at.button(key="use_upload").click()
    _run(at)
    assert "2 incidents" in _markdown(at)
    renderer = at.session_state[K.MAP_CACHE]
    assert renderer.base_key == base_key and renderer.base is base
    groups_after = {key for key, _ in renderer.groups}
    points = {k for k in groups_after if k.startswith("points|")}
    assert points - groups_before  # the incident layer made again, for the file


def test_uploaded_region_file_becomes_a_layer(app: AppTest) -> None:
    geojson = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"id": "box1", "name": "Test box"},
        "geometry": {"type": "Polygon", "coordinates": [[[-74.5, -13.0], [-73.0, -13.0],
                     [-73.0, -11.5], [-74.5, -11.5], [-74.5, -13.0]]]}}]}).encode()  # fmt: skip
    at = _run(app)
    at.radio(key=K.UPLOAD_KIND).set_value("regions")
    _run(at)
    at.file_uploader(key=K.UPLOAD_FILE).set_value(("mybox.geojson", geojson,
                                                   "application/geo+json"))  # fmt: skip
    _run(at)
    assert "mybox.geojson: 1 rows read, 1 kept, 0 left out." in _markdown(at)
    at.button(key="use_upload").click()
    _run(at)
    assert at.selectbox(key=W(K.REGION_LAYER)).value == "mybox"
    assert "Test box" in _map_script(at)
    at.selectbox(key=W(K.REGION)).set_value("box1")
    _run(at)
    import geopandas as gpd
    from shapely.geometry import box

    data = _shipped()
    zone = gpd.GeoDataFrame({"region_id": ["box1"]}, geometry=[box(-74.5, -13.0, -73.0, -11.5)],
                            crs="EPSG:4326")  # fmt: skip
    inside = query.region_mask(data.incidents, zone, "box1")
    expected = query.filter_incidents(data.incidents, MapSpec(region="box1"), inside=inside)[1]
    assert f"{fmt_int(expected.inside_region, 'en')} inside the Test box" in _markdown(at)


def test_incident_files_from_the_environment_replace_the_sample(
    app: AppTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CONFLICT_ATLAS_INCIDENTS (as for the notebook) loads the operator's files for all."""
    from atlas.data import load_bundle

    path = Path(__file__).parent / "fixtures" / "ucdp" / "ged_sample.csv"
    monkeypatch.setenv("CONFLICT_ATLAS_INCIDENTS", str(path))
    at = _run(app)
    data = load_bundle(incidents=[path], use_cache=False)
    assert not data.is_sample
    inside = query.region_mask(data.incidents, data.regions, MapSpec().region)
    _, summary = query.filter_incidents(data.incidents, MapSpec(), inside=inside)
    heads = [m.value for m in at.markdown if m.value.startswith("####")]
    assert heads and f"{fmt_int(summary.incidents, 'en')} incidents" in heads[0], heads
    assert not any("SAMPLE DATA" in w.value for w in at.warning)


def test_missing_incident_file_is_a_clear_error(
    app: AppTest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONFLICT_ATLAS_INCIDENTS", str(tmp_path / "nope.csv"))
    app.run()
    assert not app.exception
    assert any("nope.csv" in e.value for e in app.error), [e.value for e in app.error]


#: Filter combinations a reader may have set before switching language.
FILTER_SETS = [
    {K.QUICK: "y2021", K.BUCKET: "quarter", K.TYPES: ["armed_clash"]},
    {K.ACTOR: "Sendero", K.MIN_FAT: 1, K.PRECISIONS: ["exact"], f"{K.LAYERS}_clusters": True},
    {
        K.QUICK: "last12",
        K.BUCKET: "week",
        f"{K.LAYERS}_choropleth": True,
        K.METRIC: "per_area",
        K.BASEMAP: "osm",
    },  # fmt: skip
]


def _set_widget(at: AppTest, name: str, value: object, lang: str) -> None:
    key = W(name, lang)
    for kind in ("selectbox", "multiselect", "text_input", "number_input", "checkbox", "radio"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            found[0].set_value(value)
            _run(at)
            return
    raise AssertionError(f"no widget {key}")


@pytest.mark.parametrize("filters", FILTER_SETS, ids=["dates-types", "actor-precision", "layers"])
def test_language_switch_keeps_every_filter(app: AppTest, filters: dict) -> None:
    at = _run(app)
    for name, value in filters.items():
        _set_widget(at, name, value, "en")
    before = {k: at.session_state[k] for k in (*filters, K.DATES)}
    counts_en = next(m.value for m in at.markdown if m.value.startswith("####"))
    params_en = dict(at.query_params)
    for lang in ("es", "en", "es"):
        at.radio(key=K.LANG).set_value(lang)
        _run(at)
        after = {k: at.session_state[k] for k in before}
        assert after == before, lang
        for name, value in filters.items():  # the widgets in the new language show them too
            assert at.session_state[W(name, lang)] == value, (name, lang)
    params_es = dict(at.query_params)
    assert params_es.pop("lang") == "es" and params_es == params_en
    counts_es = next(m.value for m in at.markdown if m.value.startswith("####"))
    digits = [c for c in counts_en if c.isdigit()]
    assert digits == [c for c in counts_es if c.isdigit()]  # the same numbers, in Spanish


def test_shared_year_link_comes_back_as_that_year(app: AppTest) -> None:
    app.query_params["date_from"] = "2021-01-01"
    app.query_params["date_to"] = "2021-12-31"
    at = _run(app)
    assert at.session_state[K.QUICK] == "y2021"
    assert at.selectbox(key=W(K.QUICK)).value == "y2021"


def test_coca_year_choice_reaches_the_map_and_the_link(app: AppTest) -> None:
    at = _run(app)
    box = at.selectbox(key=W(K.COCA_YEAR))
    assert box.options[0].startswith("Latest (2022)") and "2018" in box.options
    box.set_value(2019)
    _run(at)
    assert at.query_params["coca_year"] == "2019"
    assert "Coca 2019" in _map_script(at)  # the choropleth's legend heading
    titles = [e.label for e in at.expander]
    assert "Incidents per 1,000 ha of coca, by department and year" in titles


def test_clusters_and_points_are_one_or_the_other(app: AppTest) -> None:
    at = _run(app)
    assert at.checkbox(key=W(f"{K.LAYERS}_points")).value is True
    at.checkbox(key=W(f"{K.LAYERS}_clusters")).check()
    _run(at)
    assert at.checkbox(key=W(f"{K.LAYERS}_points")).value is False
    assert at.query_params["layers"] == "basemap,regions,coca,clusters,reference"
    at.checkbox(key=W(f"{K.LAYERS}_points")).check()
    _run(at)
    assert at.checkbox(key=W(f"{K.LAYERS}_clusters")).value is False


def test_reset_filters_keeps_layers_and_language(app: AppTest) -> None:
    app.query_params["lang"] = "es"
    app.query_params["event_types"] = "riot"
    app.query_params["min_fatalities"] = "3"
    app.query_params["date_from"] = "2021-01-01"
    app.query_params["layers"] = "basemap,clusters"
    at = _run(app)
    at.button(key="reset_filters").click()
    _run(at)
    assert at.session_state[K.TYPES] == [] and at.session_state[K.MIN_FAT] == 0
    assert at.session_state[K.QUICK] == "all"
    assert at.query_params["lang"] == "es" and at.query_params["layers"] == "basemap,clusters"
    for gone in ("event_types", "min_fatalities", "date_from"):
        assert gone not in at.query_params
    assert _counts_text(_expected(MapSpec()), "es", _region_name(MapSpec())) in _markdown(at)


def test_empty_map_names_the_filter_that_hides_everything(app: AppTest) -> None:
    app.query_params["min_fatalities"] = "100000"
    at = _run(app)
    text = " ".join(w.value for w in at.warning)
    assert "switching off one of these filters would show incidents: minimum deaths" in text


def test_hiding_filters_lists_each_filter_that_alone_hides_everything() -> None:
    from atlas.data import load_shipped

    inc = load_shipped().incidents
    both = MapSpec(min_fatalities=100_000, actor="nobody at all")
    assert hiding_filters(inc, both) == []  # neither alone brings anything back
    assert hiding_filters(inc, MapSpec(actor="nobody at all")) == ["actor"]
    assert hiding_filters(inc, MapSpec(precisions=())) == ["precisions"]


def test_link_settings_without_widgets_travel_on(app: AppTest) -> None:
    linked = MapSpec(
        generalise="grid:10",
        callouts=(Callout("San Miguel del Ene", lon=-74.02709, lat=-12.186019),),
        periods=((dt.date(2020, 5, 23), dt.date(2021, 5, 22)),
                 (dt.date(2021, 5, 23), dt.date(2022, 5, 22))),
        title="Before and after",
    )  # fmt: skip
    for key, value in linked.to_query().items():
        app.query_params[key] = value
    app.session_state[K.EXPORT_OPEN] = True
    at = _run(app)
    back = MapSpec.from_query(dict(at.query_params))
    assert (back.generalise, back.callouts, back.periods, back.title) == (
        linked.generalise, linked.callouts, linked.periods, linked.title)  # fmt: skip
    assert at.text_input(key="export_title").value == "Before and after"


def test_a_link_made_with_an_uploaded_file_says_it_needs_the_file(app: AppTest) -> None:
    app.query_params["datasets"] = "acled_peru.csv"
    at = _run(app)
    text = " ".join(i.value for i in at.info)
    assert "not loaded here: acled_peru.csv" in text and "Links never carry data" in text
    assert "datasets" not in at.query_params  # nothing filtered on data that is not here


ODD_CSV = (
    b"ref,norte,este,cuando,muertos\n"
    b"a1,-12.186,-74.027,2021-05-23,16\n"
    b"a2,-12.30,-73.90,2021-06-02,1\n"
)


def test_unrecognised_columns_get_a_column_picker(app: AppTest) -> None:
    at = _run(app)
    at.file_uploader(key=K.UPLOAD_FILE).set_value(("odd.csv", ODD_CSV, "text/csv"))
    _run(at)
    assert any("did not recognise the coordinate columns" in w.value for w in at.warning)
    assert not any("mapping=" in e.value for e in at.error)  # no Python advice on the page
    boxes = {b.label: b for b in at.selectbox}
    assert boxes["Latitude column"].options == ["ref", "norte", "este", "cuando", "muertos"]
    boxes["Latitude column"].set_value("norte")
    boxes["Longitude column"].set_value("este")
    boxes["Date column"].set_value("cuando")
    [b for b in at.button if b.label == "Read with these columns"][0].click()
    _run(at)
    _run(at)  # the picker reruns the page once it has the columns
    page = _markdown(at)
    assert "odd.csv: 2 rows read, 2 kept, 0 left out." in page
    at.button(key="use_upload").click()
    _run(at)
    assert "2 incidents" in _markdown(at)


def test_numbers_for_the_article_panel_shows_the_facts_of_the_view(app: AppTest) -> None:
    """The panel computes layers.facts.article_facts for the page's own spec when asked,
    with the sample's hash, and offers Markdown and JSON."""
    import hashlib

    from atlas.data import SAMPLE_INCIDENTS

    app.run()
    assert not app.exception
    toggle = next(w for w in app.toggle if w.key == "atlas_facts_on")
    toggle.set_value(True).run()
    assert not app.exception
    shown = " ".join(m.value for m in app.markdown)
    assert "Numbers for the article" in shown
    assert hashlib.sha256(SAMPLE_INCIDENTS.read_bytes()).hexdigest() in shown
    assert "SAMPLE" in shown


def _export(at: AppTest, **fields: object) -> tuple[str, bytes, str, str, tuple[str, ...]]:
    """Press the export panel's button with ``fields`` set (widget key -> value)."""
    for key, value in fields.items():
        widget = next(w for kind in ("text_input", "date_input", "selectbox")
                      for w in at.get(kind) if getattr(w, "key", None) == key)  # fmt: skip
        widget.set_value(value)
    [b for b in at.button if b.label == t("export_button", "en")][0].click()
    _run(at)
    return at.session_state[K.EXPORT]


def test_export_of_an_acled_upload_credits_the_file_with_its_access_date(app: AppTest) -> None:
    """The reader's ACLED upload is credited as ACLED with the day they downloaded it (the
    app's field), never as the synthetic sample it replaced."""
    app.session_state[K.EXPORT_OPEN] = True
    at = _run(app)
    raw = (ROOT / "tests" / "fixtures" / "acled" / "acled_current_columns.csv").read_bytes()
    up = read_upload("acled_current_columns.csv", raw, "incidents", 2**20)
    key = f"incidents:{up.sha256}"
    at.session_state[K.UPLOADS] = {key: up}
    at.session_state[K.UPLOAD_ACTIVE] = {"incidents": key, "regions": []}
    _run(at)
    undated = _export(at)[3]
    source = next(line for line in undated.splitlines() if line.startswith("- Source:"))
    assert "ACLED (access date not recorded)" in source
    assert "SAMPLE" not in source and "Sample incidents (SYNTHETIC)" not in undated
    dated = _export(at, **{K.ACCESSED: dt.date(2026, 11, 2)})[3]
    source = next(line for line in dated.splitlines() if line.startswith("- Source:"))
    assert "ACLED (accessed 2026-11-02)" in source
    assert "accessed 2026-11-02" in dated.split("## Datasets", 1)[1]


def test_export_panel_says_what_a_small_page_left_off(app: AppTest) -> None:
    """A column-wide page gives way (dek first) and the panel says so, as the CLI does."""
    app.session_state[K.EXPORT_OPEN] = True
    at = _run(app)
    dek = "A long standfirst that cannot fit a single newspaper column at its minimum size. " * 3
    widget = next(w for w in at.text_input if w.label == t("export_dek", "en"))
    widget.set_value(dek)
    size = next(w for w in at.selectbox if w.label == t("export_size", "en"))
    size.set_value("column1")
    *_, dropped = _export(at)
    assert dropped, "column1 with a three-sentence dek kept everything"
    shown = " ".join(c.value for c in at.caption)
    assert t("export_dropped", "en", parts="; ".join(dropped)) in shown


def test_folded_panels_are_made_only_while_open(app: AppTest) -> None:
    """A first page carries no panel tables, forms or share link (their scripts competed
    with the map in the browser); opening a panel draws its content."""
    at = _run(app)
    assert not at.dataframe and not at.code
    assert not [b for b in at.button if b.label == t("export_button", "en")]
    for key in (K.COCA_OPEN, K.SOURCES_OPEN, K.EXPORT_OPEN, K.FETCH_OPEN, K.SHARE_OPEN):
        at.session_state[key] = True
    _run(at)
    frames = [d.value for d in at.dataframe]
    assert any(t("coca_col_per_1000ha", "en") in f.columns for f in frames)  # coca
    assert any(t("src_licence", "en") in f.columns for f in frames)  # sources
    assert any("licence" in f.columns and "vintage" in f.columns for f in frames)  # fetch
    assert [b for b in at.button if b.label == t("export_button", "en")]
    assert len(at.code) == 1  # the share link (its text: tests of share_url)


def test_an_upload_wider_than_the_sample_shows_all_its_years(app: AppTest) -> None:
    """The page showed the sample's whole period (2018-2024); a reader's file reaching back
    to 2010 is shown whole too, not cut to the sample's dates. A narrowed range stays."""
    rows = ["event_id,date,latitude,longitude,event_type,fatalities,notes"]
    rows += [f"W{k},{year}-06-15,-12.{20 + k},-73.9,armed_clash,1,"
             for k, year in enumerate((2010, 2012, 2016, 2025))]  # fmt: skip
    up = read_upload("wide.csv", ("\n".join(rows) + "\n").encode(), "incidents", 2**20)
    assert up.report.rows_kept == 4
    at = _run(app)
    key = f"incidents:{up.sha256}"
    at.session_state[K.UPLOADS] = {key: up}
    at.session_state[K.UPLOAD_ACTIVE] = {"incidents": key, "regions": []}
    _run(at)
    assert "4 incidents" in _markdown(at)
    assert tuple(at.session_state[K.DATES]) == (dt.date(2010, 6, 15), dt.date(2025, 6, 15))
    # a range the reader narrowed is kept (clamped to the data), not widened
    at.session_state[K.UPLOAD_ACTIVE] = {"incidents": None, "regions": []}
    _run(at)
    year_2020 = (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    at.date_input(key=W(K.DATES)).set_value(year_2020)
    _run(at)
    at.session_state[K.UPLOAD_ACTIVE] = {"incidents": key, "regions": []}
    _run(at)
    assert tuple(at.session_state[K.DATES]) == year_2020
