"""The sidebar's safe-locations control, driven by streamlit.testing.v1.AppTest.

The map component's ``proto.json_args`` holds its script; the original coordinates of the
shipped (SYNTHETIC) sample must leave it when the control is set, and counts stay.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from atlas.data import load_shipped
from atlas.generalise import note
from atlas.query import filter_incidents
from atlas.spec import MapSpec
from atlas.ui_state import K, widget_key

APP = str(Path(__file__).resolve().parents[1] / "app.py")
_NUMBER = re.compile(r"-?\d+\.\d+")


def _script(at: AppTest) -> str:
    comps = list(at.get("component_instance"))
    assert comps, "no map component on the page"
    return json.dumps(json.loads(comps[0].proto.json_args))


def _found(text: str, points: list[tuple[float, float]]) -> set[tuple[float, float]]:
    """The (lat, lon) pairs, to 4 decimals, written next to each other in ``text``."""
    numbers = [round(float(m), 4) for m in _NUMBER.findall(text)]
    pairs = set(zip(numbers, numbers[1:], strict=False))
    return {p for p in points if p in pairs or (p[1], p[0]) in pairs}


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_generalise_control_moves_every_point_and_keeps_counts() -> None:
    data = load_shipped()
    plain, _ = filter_incidents(data.incidents, MapSpec())
    points = [(round(y, 4), round(x, 4)) for x, y in zip(plain.geometry.x, plain.geometry.y,
                                                         strict=True)]  # fmt: skip
    at = _run(AppTest.from_file(APP, default_timeout=90))
    counts = [m.value for m in at.markdown if m.value.startswith("####")]
    exact = _found(_script(at), points)
    assert len(exact) > 0.9 * len(set(points))  # the points layer draws the exact places
    box = at.selectbox(key=widget_key(K.GENERALISE, "en"))
    assert box.value == "none"
    box.set_value("district")
    _run(at)
    script = _script(at)
    assert not _found(script, points)
    assert [m.value for m in at.markdown if m.value.startswith("####")] == counts
    assert any(note("district", "en") in c.value for c in at.caption)
    assert at.query_params["generalise"] in ("district", ["district"])
    moved, _ = filter_incidents(data.incidents, MapSpec(generalise="district"),
                                districts=data.districts)  # fmt: skip
    first = moved.geometry.iloc[0]
    assert _found(script, [(round(first.y, 4), round(first.x, 4))])


def test_link_with_a_grid_size_opens_with_it() -> None:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["generalise"] = "grid:2.5"
    _run(at)
    box = at.selectbox(key=widget_key(K.GENERALISE, "en"))
    assert box.value == "grid:2.5"
    assert any("2.5 km grid" in c.value for c in at.caption)
