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


# ---- what changed: a second version of the loaded file ----------------------------------
def _second_version(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """The shipped sample with 3 events deleted, 2 fatality counts revised and 1 event
    added, written as a CSV and read back by the real reader."""
    import pandas as pd

    src = Path(APP).parent / "geodata" / "sample_incidents.csv"
    table = pd.read_csv(src, dtype=str, keep_default_na=False)
    gone = table["event_id_cnty"].iloc[[10, 20, 30]].tolist()
    table = table[~table["event_id_cnty"].isin(gone)].copy()
    for i in (40, 50):
        table.loc[table.index[i], "fatalities"] = str(int(table["fatalities"].iloc[i]) + 7)
    extra = table.iloc[[60]].copy()
    extra["event_id_cnty"] = "SAMPLE-PER-99999"
    table = pd.concat([table, extra])
    out = tmp_path / "sample_v2.csv"
    table.to_csv(out, index=False)
    return out, {"added": 1, "removed": 3, "changed": 2}


def test_second_version_shows_changes_layer_and_table(tmp_path: Path) -> None:
    from atlas.ui_state import read_upload

    path, expected = _second_version(tmp_path)
    upload = read_upload(path.name, path.read_bytes(), "incidents", 50 * 2**20)
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[K.CHANGES] = upload
    _run(at)
    text = "\n".join(m.value for m in at.markdown)
    assert f"{expected['added']} added, {expected['removed']} removed, " \
           f"{expected['changed']} revised" in text  # fmt: skip
    script = _script(at)
    assert "atlas-change-removed" in script and "atlas-change-added" in script
    assert "Removed from the new version (" in script  # the legend line
    frames = [d.value for d in at.dataframe]
    assert any("fields_changed" in f.columns and set(f["status"]) <= {"added", "removed", "changed"}
               for f in frames)  # fmt: skip
    # generalised: the removed events' exact places leave the map too
    data = load_shipped()
    gone = data.incidents[~data.incidents["event_id"].isin(upload.frame["event_id"])]
    points = [(round(y, 4), round(x, 4)) for x, y in zip(gone.geometry.x, gone.geometry.y,
                                                         strict=True)]  # fmt: skip
    assert _found(_script(at), points)
    at.selectbox(key=widget_key(K.GENERALISE, "en")).set_value("grid:10")
    _run(at)
    assert not _found(_script(at), points)
    assert "atlas-change-removed" in _script(at)
