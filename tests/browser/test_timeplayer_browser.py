"""The in-browser time player (layers/timeplayer.py), in chromium with the network blocked.

The map is the self-contained HTML (assets inline) opened from a file. Each test presses
play (or keys), records every frame the control draws (a MutationObserver on its
``data-step``) with what Leaflet has on the map at that moment, and compares it with
the counts the server-side step filter (atlas.query.step_mask) gives. Frame rates are
printed (run with -s), not asserted: the machine is shared.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from atlas import query
from atlas.i18n import fmt_date, t
from atlas.spec import MapSpec
from layers.compose import build_folium_map, inline_html
from layers.timeplayer import step_counts

from .conftest import FIND_MAP

pytestmark = pytest.mark.browser

POINTS = ("basemap", "regions", "points")

#: Records each frame: the step, the control's count, the incident circles Leaflet has on
#: the map (markers path) and the label, with a timestamp.
RECORDER = f"""() => {{
  const map = {FIND_MAP};
  const box = document.querySelector('.atlas-player');
  window.__frames = [];
  const record = () => {{
    let circles = 0;
    map.eachLayer(l => {{ if (l instanceof L.CircleMarker) circles += 1; }});
    window.__frames.push({{step: Number(box.dataset.step), shown: Number(box.dataset.shown),
      circles: circles, cells: Number(box.dataset.cells || 0),
      label: box.querySelector('.atlas-player-range').textContent, t: performance.now()}});
  }};
  new MutationObserver(record).observe(box, {{attributes: true, attributeFilter: ['data-step']}});
}}"""


@pytest.fixture(scope="module")
def shipped():
    from atlas.data import load_shipped

    return load_shipped()


def _steps(incidents: pd.DataFrame, bucket: str = "month") -> list[tuple[dt.date, dt.date]]:
    days = pd.to_datetime(incidents["date_start"])
    return query.steps(days.min().date(), days.max().date(), bucket)


def _open(bp: Any, path: Path, html: str) -> Any:
    path.write_text(html, encoding="utf-8")
    page = bp.page
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector(".atlas-player")
    page.evaluate(RECORDER)
    return page


def _frames(page: Any) -> list[dict]:
    return page.evaluate("() => window.__frames")


def _fps(frames: list[dict]) -> float:
    span = (frames[-1]["t"] - frames[0]["t"]) / 1000
    return (len(frames) - 1) / span if span > 0 else float("nan")


def _label(steps: list, i: int, mode: str, lang: str) -> str:
    start = steps[0][0] if mode == "cumulative" else steps[i][0]
    return t("player_range", lang, start=fmt_date(start, lang), end=fmt_date(steps[i][1], lang))


def _state(page: Any) -> dict:
    return page.evaluate(
        """() => { const b = document.querySelector('.atlas-player');
        return {step: Number(b.dataset.step), shown: Number(b.dataset.shown),
                label: b.querySelector('.atlas-player-range').textContent,
                active: document.activeElement.getAttribute('aria-label'),
                outline: getComputedStyle(document.activeElement).outlineStyle}; }"""
    )


@pytest.mark.parametrize("mode", ["cumulative", "window"])
def test_play_shows_each_steps_incidents(offline_page, shipped, tmp_path, mode) -> None:
    inc = shipped.incidents
    steps = _steps(inc)
    expected = step_counts(inc, steps, mode).tolist()
    assert expected[5] == int(query.step_mask(inc, steps, 5, mode).sum())
    spec = MapSpec(layers=POINTS, step_mode=mode)
    html = inline_html(build_folium_map(spec, shipped, assets="inline", player=(steps, 0)))
    page = _open(offline_page, tmp_path / "play.html", html)
    first = _state(page)
    assert first["step"] == 0 and first["shown"] == expected[0]
    assert first["label"] == _label(steps, 0, mode, "en")

    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => window.__frames.length >= 12", timeout=30_000)
    page.get_by_role("button", name="Pause").click()
    frames = _frames(page)[:12]

    assert [f["step"] for f in frames] == list(range(1, 13))
    for f in frames:
        assert f["circles"] == f["shown"] == expected[f["step"]], f
        assert f["label"] == _label(steps, f["step"], mode, "en")
    assert len({f["shown"] for f in frames}) > 1  # the map changes as it plays
    assert len({f["label"] for f in frames}) == 12
    print(f"\n[timeplayer] sample {len(inc):,} incidents, {mode}: {_fps(frames):.2f} frames/s")
    assert offline_page.errors == [] and offline_page.blocked == []


def test_keyboard_steps_and_play_stops_at_the_end(offline_page, shipped, tmp_path) -> None:
    inc = shipped.incidents
    steps = _steps(inc)
    expected = step_counts(inc, steps, "window").tolist()
    spec = MapSpec(layers=POINTS, step_mode="window", lang="es")
    html = inline_html(build_folium_map(spec, shipped, assets="inline", player=(steps, 3)))
    page = _open(offline_page, tmp_path / "keys.html", html)
    assert _state(page)["step"] == 3
    for _ in range(12):  # the player comes first among the map's controls
        page.keyboard.press("Tab")
        if _state(page)["active"] == "Paso anterior":
            break
    state = _state(page)
    assert state["active"] == "Paso anterior", state
    assert state["outline"] == "solid"  # visible focus
    page.keyboard.press("Enter")
    assert _state(page)["step"] == 2
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert _state(page)["active"] == "Paso siguiente"
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    state = _state(page)
    assert state["step"] == 4 and state["active"] == "Paso siguiente"
    assert state["shown"] == expected[4]
    assert state["label"] == _label(steps, 4, "window", "es")
    assert state["label"].startswith("del ") and "/" in state["label"]
    page.keyboard.press("ArrowLeft")
    assert _state(page)["step"] == 3

    page.keyboard.press("Tab")  # the slider: End jumps to the last step
    page.keyboard.press("End")
    assert _state(page)["step"] == len(steps) - 1
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert _state(page)["step"] == len(steps) - 3
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert _state(page)["active"] == "Reproducir"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.atlas-player button[aria-pressed]')"
        ".getAttribute('aria-pressed') === 'false' && window.__frames.length >= 4",
        timeout=15_000,
    )
    steps_seen = [f["step"] for f in _frames(page)]
    assert steps_seen[-2:] == [len(steps) - 2, len(steps) - 1]  # played on, then stopped
    assert _state(page)["active"] == "Reproducir"
    assert offline_page.errors == [] and offline_page.blocked == []


@pytest.mark.slow
def test_100k_incidents_play_per_cell_counts(offline_page, tmp_path) -> None:
    from test_layers import make_data

    data = make_data(100_000)
    steps = _steps(data.incidents)
    expected = step_counts(data.incidents, steps, "cumulative").tolist()
    spec = MapSpec(layers=("basemap", "regions", "points"))
    html = inline_html(build_folium_map(spec, data, assets="inline", player=(steps, 0)))
    page = _open(offline_page, tmp_path / "big.html", html)
    assert page.get_attribute(".atlas-player", "data-path") == "cells"
    # the clustered markers are emptied once loaded: only the cell circles stay
    page.wait_for_function(
        f"() => {{ const m = {FIND_MAP}; return m._atlasTime.every(e => e.ready)"
        " && m._atlasTime[0].group.getLayers().length === 0; }",
        timeout=120_000,
    )
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => window.__frames.length >= 10", timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    frames = _frames(page)[:10]
    assert [f["step"] for f in frames] == list(range(1, 11))
    for f in frames:
        assert f["shown"] == expected[f["step"]], f
        assert f["circles"] == f["cells"] > 0  # one circle per non-empty cell
    print(f"\n[timeplayer] 100k incidents, cells path: {_fps(frames):.2f} frames/s")
    # known, not the player's: 100k compact points raise this once while the clusters
    # still load during the first fitBounds zoom (the same page without a player does)
    known = "Cannot read properties of undefined (reading 'lat')"
    assert [e for e in offline_page.errors if e != known] == []
    assert offline_page.blocked == []


def test_clustered_markers_are_refilled_per_step(offline_page, tmp_path) -> None:
    """Between 2,000 and PLAYER_MAX_MARKERS incidents: the MarkerClusterGroup itself is
    re-filled with the step's markers."""
    from test_layers import make_data

    data = make_data(5_000)
    steps = _steps(data.incidents)
    expected = step_counts(data.incidents, steps, "window").tolist()
    spec = MapSpec(layers=("basemap", "regions", "points"), step_mode="window")
    html = inline_html(build_folium_map(spec, data, assets="inline", player=(steps, 0)))
    page = _open(offline_page, tmp_path / "clustered.html", html)
    assert page.get_attribute(".atlas-player", "data-path") == "markers"
    in_group = f"() => {FIND_MAP}._atlasTime[0].group.getLayers().length"
    page.wait_for_function(f"() => {FIND_MAP}._atlasTime[0].ready", timeout=60_000)
    page.wait_for_function(f"() => ({in_group})() === {expected[0]}", timeout=10_000)
    for i in range(1, 4):
        page.get_by_role("button", name="Next step").click()
        assert page.evaluate(in_group) == expected[i] == _state(page)["shown"]
    assert [e for e in offline_page.errors if "reading 'lat'" not in e] == []
