"""The page's time chart (layers.timechart): what each drawing says, checked on the SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from atlas.query import time_series
from layers.timechart import NARROW, WIDE, nice_axis, period_label, time_chart_html, time_ticks

SVG = "{http://www.w3.org/2000/svg}"


def _frame(rows: list[tuple[str, bool, int]]) -> pd.DataFrame:
    """Incidents: (date, inside the region, fatalities)."""
    return pd.DataFrame(
        {
            "date_start": pd.to_datetime([r[0] for r in rows]),
            "inside": [r[1] for r in rows],
            "fatalities": [r[2] for r in rows],
        }
    )


def _chart(rows, bucket="month", lang="en", **kw) -> ET.Element:
    inc = _frame(rows)
    ts = time_series(inc, inc["inside"], bucket, **kw)
    html = time_chart_html(ts, bucket, lang)
    assert html is not None
    return ET.fromstring(html)


def _bars(svg: ET.Element, colour: str) -> list[tuple[float, float, float]]:
    """(x, top, height) of each bar drawn in ``colour`` (one path of M x y h w v h ... z)."""
    paths = [p for p in svg.iter(f"{SVG}path") if p.get("fill") == colour]
    if not paths:
        return []
    (path,) = paths
    found = re.findall(r"M([\d.]+) ([\d.]+)h[\d.]+v([\d.]+)h-[\d.]+z", path.get("d"))
    return [(float(x), float(y), float(h)) for x, y, h in found]


def test_bars_stack_inside_under_outside_in_proportion():
    rows = [("2021-01-05", True, 1)] * 4 + [("2021-01-20", False, 0)] * 2
    rows += [("2021-03-02", False, 5)] * 8  # February stays empty: a zero step, not a gap
    root = _chart(rows)
    wide, narrow = root.findall(f"{SVG}svg")
    assert wide.get("class") == "wide" and narrow.get("class") == "narrow"
    inside = _bars(wide, "#1b3a5c")
    outside = _bars(wide, "#a3a3a3")
    assert len(inside) == 1 and len(outside) == 2  # Jan inside; Jan and Mar outside
    unit = inside[0][2] / 4  # one incident's height
    assert outside[0][2] == pytest.approx(2 * unit, abs=0.02)
    assert outside[1][2] == pytest.approx(8 * unit, abs=0.02)
    assert outside[0][1] + outside[0][2] == pytest.approx(inside[0][1], abs=0.02)  # stacked
    bottom = WIDE.top + WIDE.panel
    assert inside[0][1] + inside[0][2] == pytest.approx(bottom, abs=0.02)
    band = (WIDE.width - WIDE.left - WIDE.right) / 3  # January, February, March
    assert outside[1][0] - inside[0][0] == pytest.approx(2 * band, abs=0.02)
    # the axis reaches at least the tallest stack (8) with whole-number ticks
    labels = [t.text for t in wide.iter(f"{SVG}text")]
    assert "0" in labels and "10" in labels and not any("." in (x or "") for x in labels)


def test_every_step_has_a_tooltip_with_its_numbers_in_the_readers_language():
    rows = [("2021-05-23", True, 16), ("2021-05-24", False, 1), ("2021-07-01", True, 0)]
    root = _chart(rows, date_from=pd.Timestamp("2021-05-01"), date_to=pd.Timestamp("2021-07-31"))
    wide = root.find(f"{SVG}svg")
    tips = [t.text for t in wide.iter(f"{SVG}title")]
    assert tips == [
        "May 2021. inside: 1 incidents, 16 deaths; outside: 1 incidents, 1 deaths",
        "June 2021. inside: 0 incidents, 0 deaths; outside: 0 incidents, 0 deaths",
        "July 2021. inside: 1 incidents, 0 deaths; outside: 0 incidents, 0 deaths",
    ]
    narrow = root.findall(f"{SVG}svg")[1]
    assert not list(narrow.iter(f"{SVG}title"))  # a phone cannot hover
    es = _chart(rows, lang="es").find(f"{SVG}svg")
    assert next(es.iter(f"{SVG}title")).text.startswith(
        "mayo 2021. dentro: 1 incidentes, 16 muertes"
    )
    assert "de mayo 2021 a julio 2021" in es.get("aria-label")


def test_all_zero_steps_get_a_whole_number_axis():
    rows = [("2021-05-23", True, 0)]
    wide = _chart(rows).find(f"{SVG}svg")
    ticks = [t.text for t in wide.iter(f"{SVG}text") if (t.text or "").isdigit()]
    assert ticks == ["0", "1", "0", "1"]  # both axes 0..1 in whole numbers, not 0.000000
    assert nice_axis(0) == (1.0, [0.0, 1.0])
    assert nice_axis(37) == (40.0, [0.0, 10.0, 20.0, 30.0, 40.0])
    assert nice_axis(3) == (3.0, [0.0, 1.0, 2.0, 3.0])
    assert nice_axis(1234)[1][1] in (500.0, 200.0)


@pytest.mark.parametrize("frame", [WIDE, NARROW])
def test_time_labels_stand_apart_and_fall_on_calendar_steps(frame):
    starts = list(pd.date_range("2018-01-01", "2024-12-31", freq="W-MON"))
    plot = frame.width - frame.left - frame.right
    xs = list(np.arange(len(starts)) * plot / len(starts) + frame.left)
    ticks = time_ticks(starts, xs, "en", frame.min_label_px)
    assert len(ticks) >= 3
    gaps = np.diff([x for x, _ in ticks])
    assert gaps.min() >= frame.min_label_px
    assert all(re.fullmatch(r"20\d\d", label) for _, label in ticks)  # years on this span
    short = list(pd.date_range("2021-01-01", "2021-06-01", freq="MS"))
    ticks = time_ticks(short, [100.0 * i for i in range(len(short))], "es", 76)
    assert [label for _, label in ticks][:3] == ["ene 2021", "feb 2021", "mar 2021"]


def test_period_labels_per_bucket():
    day = pd.Timestamp("2021-05-17")
    assert period_label(day, "week", "en") == "week of 2021-05-17"
    assert period_label(day, "week", "es") == "semana del 17/05/2021"
    assert period_label(pd.Timestamp("2021-04-01"), "quarter", "en") == "Q2 2021"
    assert period_label(pd.Timestamp("2021-04-01"), "quarter", "es") == "trimestre 2 de 2021"
    assert period_label(pd.Timestamp("2021-01-01"), "year", "es") == "2021"


def test_no_steps_no_chart():
    empty = pd.DataFrame(columns=["period", "where", "incidents", "fatalities"])
    assert time_chart_html(empty, "month", "en") is None
