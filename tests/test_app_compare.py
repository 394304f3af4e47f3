"""The page in compare mode (periods side by side), driven by AppTest: a link with two
periods opens two synced maps headed with each period's counts (computed here with
atlas.periods on the shipped data the page loads), the export makes the two-panel image,
and the switch turns it off again (the link loses the periods)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from atlas.data import load_shipped
from atlas.i18n import t
from atlas.periods import filter_periods
from atlas.spec import MapSpec
from atlas.ui_state import K, widget_key
from layers.dualmap import period_heading

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TWO = ((dt.date(2020, 5, 23), dt.date(2021, 5, 22)), (dt.date(2021, 5, 23), dt.date(2022, 5, 22)))


@pytest.fixture
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    for key, value in MapSpec(periods=TWO).to_query().items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_a_link_with_periods_opens_two_synced_maps(at: AppTest) -> None:
    periods = filter_periods(MapSpec(periods=TWO), load_shipped(), list(TWO))
    text = "\n".join(m.value for m in at.markdown)
    for label, period in zip(("compare_first", "compare_second"), periods, strict=True):
        assert f"{t(label, 'en')}: {period_heading(period, 'en')}" in text
    comps = list(at.get("component_instance"))
    assert len(comps) == 1
    args = json.dumps(json.loads(comps[0].proto.json_args))
    assert "map_div2" in args and ".sync(" in args  # two maps, synced
    assert "/app/static/vendor/leaflet.sync@0.2.4/L.Map.Sync.js" in args
    assert "jsdelivr" not in args
    assert at.toggle(key=widget_key(K.COMPARE, "en")).value is True


def test_export_in_compare_mode_makes_the_two_panels(at: AppTest) -> None:
    at.session_state[K.EXPORT_OPEN] = True  # the panel is made only while open
    at.run()
    submit = [b for b in at.button if b.label == t("export_button", "en")]
    submit[0].click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    name, blob, mime, sidecar, _dropped = at.session_state[K.EXPORT]
    assert (name, mime) == ("conflict_atlas.png", "image/png")
    assert blob[:8] == b"\x89PNG\r\n\x1a\n"
    # the sidecar ends with the view's MapSpec as JSON (plain, or fenced in Markdown)
    body = sidecar[sidecar.index('{\n  "schema_version"') : sidecar.rindex("}") + 1]
    assert MapSpec.from_json(body).periods == TWO


def test_switching_compare_off_drops_the_periods(at: AppTest) -> None:
    at.toggle(key=widget_key(K.COMPARE, "en")).set_value(False)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert MapSpec.from_query(dict(at.query_params)).periods == ()
    assert not any(m.value.startswith(f"#### {t('compare_first', 'en')}") for m in at.markdown)
