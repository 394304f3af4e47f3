"""Callouts from the app: the click-to-place control (app._callout_panel) and its
streamlit-free helpers (atlas.ui_state.add_callout, clicked_point). AppTest cannot click
inside the map's component, so the click's point is put where the panel keeps it
(K.CALLOUT_AT), as st_folium's ``last_clicked`` would; the browser test clicks for real
(tests/browser/test_callouts_browser.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from atlas.errors import InputError
from atlas.spec import Callout, MapSpec
from atlas.ui_state import K, add_callout, clicked_point

APP = str(Path(__file__).resolve().parents[1] / "app.py")
HOSTILE = "<img src=x onerror=alert(1)> {{ 7*7 }}"


def test_clicked_point_reads_st_folium_last_clicked():
    assert clicked_point({"last_clicked": {"lat": -12.2, "lng": -74.0}}) == (-74.0, -12.2)
    assert clicked_point({"last_clicked": None}) is None
    assert clicked_point(None) is None
    assert clicked_point({"last_clicked": {"lat": "x", "lng": 1}}) is None
    assert clicked_point({"last_clicked": {"lat": 95.0, "lng": 1.0}}) is None


def test_add_callout_checks_the_specs_limits():
    carried = {"title": "kept"}
    out = add_callout(carried, "  San Miguel del Ene  ", (-74.027091, -12.186019))
    assert out["title"] == "kept"
    assert out["callouts"] == (Callout("San Miguel del Ene", lon=-74.02709, lat=-12.18602),)
    with pytest.raises(InputError, match="needs text"):
        add_callout(carried, "   ", (-74.0, -12.0))
    with pytest.raises(InputError, match="200"):
        add_callout(carried, "x" * 201, (-74.0, -12.0))
    full = {"callouts": tuple(Callout("c", lon=-74.0, lat=-12.0) for _ in range(20))}
    with pytest.raises(InputError, match="at most 20"):
        add_callout(full, "one more", (-74.0, -12.0))


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_reader_places_a_callout_and_the_map_and_link_carry_it():
    at = AppTest.from_file(APP, default_timeout=60)
    _run(at)
    at.session_state[K.CALLOUT_MODE] = True
    at.session_state[K.CALLOUT_AT] = (-74.02709, -12.186019)  # where the reader clicked
    _run(at)
    assert any("latitude -12.1860, longitude -74.0271" in c.value for c in at.caption)
    at.text_input(key=K.CALLOUT_TEXT).input(HOSTILE)
    next(b for b in at.button if b.label == "Add callout").click()
    _run(at)
    spec = MapSpec.from_query(dict(at.query_params))
    assert spec.callouts == (Callout(HOSTILE, lon=-74.02709, lat=-12.18602),)
    # the map's script holds the callout as an escaped JS string, never as markup
    comps = list(at.get("component_instance"))
    script = json.dumps(json.loads(comps[0].proto.json_args))
    assert "AtlasCallouts" in script or "atlas-callout" in script
    assert "<img src=x" not in script and "{{ 7*7 }}" not in script
    assert "\\\\u003cimg src=x onerror=alert(1)\\\\u003e \\\\u007b\\\\u007b 7*7" in script
    # listed under the map as plain text, with a remove button
    assert any(t.value == HOSTILE for t in at.text)
    next(b for b in at.button if b.label == "Remove").click()
    _run(at)
    assert MapSpec.from_query(dict(at.query_params)).callouts == ()


def test_an_empty_callout_is_refused_with_the_reason():
    at = AppTest.from_file(APP, default_timeout=60)
    _run(at)
    at.session_state[K.CALLOUT_MODE] = True
    at.session_state[K.CALLOUT_AT] = (-74.0, -12.0)
    _run(at)
    at.text_input(key=K.CALLOUT_TEXT).input("   ")
    next(b for b in at.button if b.label == "Add callout").click()
    _run(at)
    assert any("needs text" in e.value for e in at.error)
    assert MapSpec.from_query(dict(at.query_params)).callouts == ()
