"""layers.timeplayer: the in-browser time player on the folium object and its HTML.

Expected counts come from atlas.query.step_mask (the server-side step filter), so the
player's day arithmetic is checked against the one the app used before.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
from test_layers import make_data

from atlas import query
from atlas.errors import InputError
from atlas.spec import MapSpec
from layers import timeplayer
from layers.compose import build_folium_map
from layers.incidents import MAX_DOM_POINTS, compact_payload, incident_days
from layers.timeplayer import (
    TimePlayer,
    _js_json,
    add_time_player,
    cell_counts,
    step_counts,
    step_days,
    steps_key,
)

POINTS = ("basemap", "regions", "points")


def _ranged(n: int):
    """make_data with every 7th incident lasting 45 days (it spans two or three months)."""
    data = make_data(n)
    inc = data.incidents
    every = inc.index[::7]
    inc.loc[every, "date_end"] = inc.loc[every, "date_start"] + pd.Timedelta(days=45)
    return data


def _steps(data, bucket: str = "month") -> list[tuple[dt.date, dt.date]]:
    days = pd.to_datetime(data.incidents["date_start"])
    return query.steps(days.min().date(), days.max().date(), bucket)


def _players(element) -> list[TimePlayer]:
    """Every TimePlayer in the map's tree (it sits in the incident markers' layer group)."""
    found = [el for el in element._children.values() if isinstance(el, TimePlayer)]
    for child in element._children.values():
        found += _players(child)
    return found


def _config(html: str) -> dict:
    found = re.search(r"var cfg = (\{.*?\});\n", html)
    assert found, "no player config in the page"
    return json.loads(found.group(1))


def test_the_control_is_there_only_when_asked() -> None:
    data = make_data(40)
    plain = build_folium_map(MapSpec(layers=POINTS), data)
    assert _players(plain) == []
    html = plain.get_root().render()
    assert "atlas-player" not in html
    played = build_folium_map(MapSpec(layers=POINTS), data, player=(_steps(data), 0))
    assert len(_players(played)) == 1
    html = played.get_root().render()
    assert "atlas-player" in html and "_atlasTime" in html


@pytest.mark.parametrize("mode", ["cumulative", "window"])
def test_step_counts_match_the_server_side_step_filter(mode: str) -> None:
    data = _ranged(300)
    steps = _steps(data)
    expected = [
        int(query.step_mask(data.incidents, steps, i, mode).sum()) for i in range(len(steps))
    ]
    assert step_counts(data.incidents, steps, mode).tolist() == expected
    centres, per_cell = cell_counts(data.incidents, steps, mode)
    assert per_cell.sum(axis=1).tolist() == expected  # every incident in one cell
    assert centres.shape == (per_cell.shape[1], 2)
    assert ((centres[:, 0] > -14) & (centres[:, 0] < -11)).all()  # [lat, lon]
    if mode == "cumulative":
        assert expected == sorted(expected) and expected[-1] == len(data.incidents)
    else:
        assert sum(expected) > len(data.incidents)  # ranged incidents show in 2+ windows


def test_step_days_cumulative_start_at_the_first_step() -> None:
    steps = [
        (dt.date(2021, 1, 1), dt.date(2021, 1, 31)),
        (dt.date(2021, 2, 1), dt.date(2021, 2, 28)),
    ]
    first = (dt.date(2021, 1, 1) - dt.date(1970, 1, 1)).days
    assert step_days(steps, "window").tolist() == [[first, first + 30], [first + 31, first + 58]]
    assert step_days(steps, "cumulative").tolist() == [[first, first + 30], [first, first + 58]]


def test_days_are_in_both_point_payloads() -> None:
    data = _ranged(30)
    d0, d1 = incident_days(data.incidents)
    assert (d1 - d0).max() == 45 and (d1 >= d0).all()
    compact = json.loads(compact_payload(data.incidents))
    assert [r[4] for r in compact] == d0.tolist()
    assert [r[6] for r in compact] == (d1 - d0).tolist()
    html = build_folium_map(MapSpec(layers=POINTS), data).get_root().render()
    payload = json.loads(re.search(r"var P = (\{.*?\});\n", html).group(1))
    rows = payload["rows"]
    assert sorted((r[4], r[5]) for r in rows) == sorted(zip(d0, d1 - d0, strict=True))
    assert "reg.d0.push(r[4])" in html and "reg.d1.push(r[4] + r[5])" in html
    big = build_folium_map(MapSpec(layers=POINTS), make_data(MAX_DOM_POINTS + 1))
    assert "reg.d1.push(data[i][4] + data[i][6])" in big.get_root().render()


def test_undated_incidents_are_never_shown() -> None:
    data = make_data(5)
    data.incidents["date_start"] = data.incidents["date_start"].astype("datetime64[ns]")
    data.incidents.loc[data.incidents.index[0], "date_start"] = pd.NaT
    d0, d1 = incident_days(data.incidents)
    assert d0[0] == d1[0] < -900_000
    steps = [(dt.date(1900, 1, 1), dt.date(2100, 1, 1))]
    assert step_counts(data.incidents, steps, "window").tolist() == [4]


@pytest.mark.parametrize(
    ("lang", "label", "count", "play"),
    [
        ("en", "2021-01-01 to 2021-01-31", " incidents", "Play"),
        ("es", "del 01/01/2021 al 31/01/2021", " incidentes", "Reproducir"),
    ],
)
def test_labels_in_both_languages(lang: str, label: str, count: str, play: str) -> None:
    data = make_data(60)
    steps = query.steps(dt.date(2021, 1, 1), dt.date(2022, 12, 1), "month")
    html = (
        build_folium_map(MapSpec(layers=POINTS, lang=lang), data, player=(steps, 0))
        .get_root()
        .render()
    )
    cfg = _config(html)
    assert cfg["labels"][0] == label
    assert len(cfg["labels"]) == len(steps) == len(cfg["days"]) == len(cfg["counts"])
    assert cfg["counts"][-1].endswith(count)
    assert cfg["text"]["play"] == play
    assert cfg["path"] == "markers" and cfg["mode"] == "cumulative"
    assert cfg["frameMs"] <= 500


def test_window_labels_and_one_incident() -> None:
    data = make_data(1)
    day = pd.Timestamp(data.incidents["date_start"].iloc[0]).date()
    steps = query.steps(day.replace(day=1), day, "month")
    fmap = build_folium_map(
        MapSpec(layers=POINTS, step_mode="window", lang="es"), data, player=(steps, 0)
    )
    cfg = _config(fmap.get_root().render())
    assert cfg["counts"] == ["1 incidente"]
    assert cfg["mode"] == "window"


def test_text_is_set_with_textcontent_and_config_cannot_break_out() -> None:
    html = (
        build_folium_map(MapSpec(layers=POINTS), make_data(20), player=(_steps(make_data(20)), 0))
        .get_root()
        .render()
    )
    script = html[html.index("var cfg = ") :]
    script = script[: script.index("if (host._map)")]  # the player's own code
    assert "innerHTML" not in script
    assert "textContent" in script
    hostile = {"label": "</script><img src=x onerror=alert(1)>{{ 7*7 }}{% if 1 %}{# c #}"}
    text = _js_json(hostile)
    assert "</" not in text and "{{" not in text and "{%" not in text and "{#" not in text
    assert json.loads(text) == hostile  # the browser reads the same text back


def test_big_sets_take_the_cells_path(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _ranged(400)
    steps = _steps(data)
    monkeypatch.setattr(timeplayer, "PLAYER_MAX_MARKERS", 100)
    fmap = build_folium_map(
        MapSpec(layers=("points",), step_mode="window"), data, player=(steps, 2)
    )
    cfg = _config(fmap.get_root().render())
    assert cfg["path"] == "cells" and cfg["index"] == 2
    centres, per_cell = cell_counts(data.incidents, steps, "window")
    assert len(cfg["cells"]) == len(centres)
    for i, pairs in enumerate(cfg["cellCounts"]):
        got = np.zeros(len(centres), dtype=int)
        got[pairs[0::2]] = pairs[1::2]
        assert got.tolist() == per_cell[i].tolist()
    assert cfg["cellMax"] == per_cell.max()


def test_bad_arguments_are_input_errors() -> None:
    data = make_data(5)
    steps = _steps(data)
    fmap = build_folium_map(MapSpec(layers=POINTS), data)
    with pytest.raises(InputError, match="step mode 'loop'"):
        add_time_player(fmap, data.incidents, steps, mode="loop", lang="en")
    with pytest.raises(InputError, match="step 99"):
        add_time_player(fmap, data.incidents, steps, mode="window", lang="en", index=99)
    with pytest.raises(InputError, match="path 'dots'"):
        add_time_player(fmap, data.incidents, steps, mode="window", lang="en", path="dots")
    with pytest.raises(InputError, match="no steps"):
        add_time_player(fmap, data.incidents, [], mode="window", lang="en")


def test_empty_incidents_still_get_a_control() -> None:
    data = make_data(5)
    data.incidents = data.incidents.iloc[:0]
    steps = query.steps(dt.date(2021, 1, 1), dt.date(2021, 3, 31), "month")
    for path in ("markers", "cells"):
        fmap = build_folium_map(MapSpec(layers=POINTS), data)
        add_time_player(fmap, data.incidents, steps, mode="window", lang="en", path=path)
        cfg = _config(fmap.get_root().render())
        assert cfg["counts"] == ["0 incidents"] * 3


def test_the_player_names_its_steps_and_reports_into_the_step_parameter() -> None:
    """The report the player sends names the steps its index counts in (the app accepts a
    report only for the steps it drew) and the URL parameter the app reads on load."""
    from atlas.ui_state import STEP_PARAM, STEP_REPORT

    data = make_data(30)
    months, quarters = _steps(data), _steps(data, "quarter")
    cfg = _config(
        build_folium_map(MapSpec(layers=POINTS), data, player=(months, 2)).get_root().render()
    )
    assert cfg["stepsKey"] == steps_key(months) and cfg["index"] == 2
    assert cfg["param"] == STEP_PARAM == "step" and cfg["report"] == STEP_REPORT
    assert steps_key(months) == steps_key(list(months))  # the same steps, the same name
    assert steps_key(months) != steps_key(quarters)
    assert steps_key(months) != steps_key(months[:-1])
    # the window and cumulative modes count in the same steps: one name
    window = build_folium_map(MapSpec(layers=POINTS, step_mode="window"), data,
                              player=(months, 0))  # fmt: skip
    assert _config(window.get_root().render())["stepsKey"] == cfg["stepsKey"]
