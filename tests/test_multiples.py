"""Periods side by side: the period arithmetic (atlas.periods), the small-multiples page
(layers.multiples) on its matplotlib artists, its export and CLI, and the two synced maps
(layers.dualmap) on their folium objects.

Data: test_printmap.tiny_data(n=30): incident i on 2021-01-15 + 31*i days, fatalities
i % 3, the last two known only to department / country level (counted, not drawn). The
expected counts per year and quarter are computed below with plain pandas on the fixture
table, not with atlas.query.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from test_printmap import tiny_data

from atlas.errors import InputError
from atlas.periods import MAX_PANELS, default_periods, filter_periods, max_panels, panel_ranges
from atlas.spec import MapSpec
from layers.export import export
from layers.multiples import build_multiples, period_label

D = dt.date
N = 30


@pytest.fixture(scope="module")
def data():
    return tiny_data(n=N)


def _by(freq: str) -> pd.DataFrame:
    """Incidents and deaths per year ("Y") or quarter ("Q") of the fixture, by hand."""
    dates = pd.date_range("2021-01-15", periods=N, freq="31D")
    table = pd.DataFrame({"period": dates.to_period(freq), "fat": [i % 3 for i in range(N)]})
    return table.groupby("period").agg(incidents=("fat", "size"), deaths=("fat", "sum"))


# ---- atlas.periods ------------------------------------------------------------------------
def test_default_periods_are_the_year_before_and_after_the_reference_day():
    assert default_periods(D(2018, 1, 1), D(2024, 12, 31)) == (
        (D(2020, 5, 23), D(2021, 5, 22)),
        (D(2021, 5, 23), D(2022, 5, 22)),
    )


def test_default_periods_fall_back_to_the_datas_two_halves():
    # data after the reference day: the range cut in two, the earlier half first
    assert default_periods(D(2023, 1, 1), D(2023, 1, 10)) == (
        (D(2023, 1, 1), D(2023, 1, 5)),
        (D(2023, 1, 6), D(2023, 1, 10)),
    )
    assert default_periods(D(2023, 1, 1), D(2023, 1, 1)) == ((D(2023, 1, 1),) * 2,) * 2


def test_panel_ranges_by_year_quarter_or_the_two_periods():
    spec = MapSpec(small_multiples="year")
    assert panel_ranges(spec, D(2021, 3, 1), D(2022, 2, 1)) == [
        (D(2021, 1, 1), D(2021, 12, 31)),  # open start: the first event's whole year
        (D(2022, 1, 1), D(2022, 2, 1)),
    ]
    spec = MapSpec(small_multiples="quarter", date_from=D(2021, 1, 1), date_to=D(2021, 12, 31))
    assert len(panel_ranges(spec, D(2000, 1, 1), D(2030, 1, 1))) == 4
    two = ((D(2020, 1, 1), D(2020, 6, 30)), (D(2021, 1, 1), D(2021, 6, 30)))
    assert panel_ranges(MapSpec(periods=two), D(2000, 1, 1), D(2030, 1, 1)) == list(two)
    assert panel_ranges(MapSpec(), D(2000, 1, 1), D(2030, 1, 1)) == []


def test_limits_per_preset():
    assert (max_panels("web"), max_panels("a4")) == (4, 6)
    assert MAX_PANELS == {"web": 4, "a4": 6}


def test_filter_periods_counts_each_period(data):
    expected = _by("Y")
    ranges = [(D(y, 1, 1), D(y, 12, 31)) for y in (2021, 2022, 2023)]
    periods = filter_periods(MapSpec(), data, ranges)
    for period, year in zip(periods, (2021, 2022, 2023), strict=True):
        row = expected.loc[pd.Period(str(year), "Y")]
        assert (period.summary.incidents, period.summary.deaths) == (
            row["incidents"],
            row["deaths"],
        )


def test_period_labels():
    assert period_label(D(2021, 1, 1), D(2021, 12, 31), "year", "en") == "2021"
    assert period_label(D(2021, 4, 1), D(2021, 6, 30), "quarter", "en") == "Q2 2021"
    assert period_label(D(2021, 10, 1), D(2021, 12, 31), "quarter", "es") == "T4 2021"
    # a clipped year or quarter says its days
    assert period_label(D(2021, 3, 1), D(2021, 12, 31), "year", "en") == "2021-03-01 – 2021-12-31"
    assert period_label(D(2021, 4, 1), D(2021, 5, 2), "quarter", "es") == "01/04/2021 – 02/05/2021"


# ---- the page ---------------------------------------------------------------------------------
def _panels(fig):
    return sorted((a for a in fig.axes if (a.get_gid() or "").startswith("panel-")),
                  key=lambda a: int(a.get_gid().split("-")[1]))  # fmt: skip


def test_one_panel_per_year_titled_with_its_counts(data):
    page = build_multiples(MapSpec(small_multiples="year"), data)
    panels = _panels(page.figure)
    assert len(panels) == len(page.periods) == page.total == 3
    expected = _by("Y")
    for ax, year in zip(panels, expected.index, strict=True):
        title = ax.get_title(loc="left").replace("\n", " ")
        row = expected.loc[year]
        # the last year ends with the data (2023-07-xx): it is titled with its days
        assert title.startswith(f"{year.year}: " if year.year < 2023 else "2023-01-01 – 2023-07-03")
        assert f"{row['incidents']} incidents, {row['deaths']} deaths" in title, title
    legends = [a for a in page.figure.axes if a.get_gid() == "legend"]
    assert len(legends) == 1  # one legend for every panel
    assert "One symbol scale for all panels." == page.note


def test_more_periods_than_fit_draw_the_latest_and_say_so(data):
    quarters = _by("Q")
    assert len(quarters) == 11
    page = build_multiples(MapSpec(small_multiples="quarter"), data)
    assert (len(_panels(page.figure)), page.total) == (4, 11)
    shown = [f"Q{q.quarter} {q.year}" for q in quarters.index[-4:]]
    titles = [a.get_title(loc="left") for a in _panels(page.figure)]
    assert [t.split(":")[0] for t in titles[:3]] == shown[:3]  # the latest, oldest first
    assert "Showing the latest 4 of 11 periods" in page.note
    on_page = " ".join(t.get_text() for t in page.figure.texts).replace("\n", " ")
    assert "latest 4 of 11" in on_page  # the page's note says it
    a4 = MapSpec(small_multiples="quarter").with_size("a4")
    page = build_multiples(a4, data)
    assert (len(_panels(page.figure)), page.total) == (6, 11)
    assert "latest 6 of 11" in page.note


def test_one_marker_scale_across_panels(data):
    """The same fatalities give the same marker area in every panel."""
    page = build_multiples(MapSpec(small_multiples="year"), data)
    fatal = {
        (round(p.x, 6), round(p.y, 6)): f
        for p, f in zip(data.incidents.geometry, data.incidents["fatalities"], strict=True)
    }
    seen: dict[float, set[float]] = {}
    for ax in _panels(page.figure):
        points = [c for c in ax.collections if c.get_zorder() == 6]  # one per marker shape
        assert sum(len(c.get_offsets()) for c in points) > 0
        for coll in points:
            offsets, sizes = coll.get_offsets(), coll.get_sizes()
            for (x, y), size in zip(offsets, np.broadcast_to(sizes, len(offsets)), strict=True):
                f = float(fatal[(round(x, 6), round(y, 6))])
                seen.setdefault(f, set()).add(round(size, 6))
    assert set(seen) == {0.0, 1.0, 2.0}
    for f, sizes in seen.items():  # one size per fatality count, whichever the panel
        assert len(sizes) == 1, (f, sizes)
    assert max(seen[0.0]) < max(seen[2.0])  # and the classes grow


def test_two_periods_side_by_side(data):
    two = ((D(2021, 1, 1), D(2021, 12, 31)), (D(2022, 1, 1), D(2022, 12, 31)))
    page = build_multiples(MapSpec(periods=two, title="Before and after"), data)
    titles = [a.get_title(loc="left").replace("\n", " ") for a in _panels(page.figure)]
    assert titles == [
        "2021-01-01 – 2021-12-31: 12 incidents, 12 deaths",
        "2022-01-01 – 2022-12-31: 12 incidents, 12 deaths",
    ]
    # the view's other filters apply to both panels
    page = build_multiples(MapSpec(periods=two, min_fatalities=2), data)
    titles = [a.get_title(loc="left").replace("\n", " ") for a in _panels(page.figure)]
    assert all(": 4 incidents, 8 deaths" in t for t in titles), titles


def test_tile_basemap_is_a_clear_error(data):
    with pytest.raises(InputError, match="outlines"):
        build_multiples(MapSpec(small_multiples="year", basemap="osm"), data)


# ---- export -------------------------------------------------------------------------------------
def test_export_png_with_panels_alt_text_and_sidecar(tmp_path, data):
    result = export(MapSpec(small_multiples="year"), data, tmp_path / "years.png")
    assert result.path.stat().st_size > 10_000
    text = result.alt_text
    assert "Panels: 2021: 12 incidents, 12 deaths; 2022: 12 incidents, 12 deaths" in text
    assert result.sources_path.read_text(encoding="utf-8").count("small_multiples")


def test_export_formats_that_cannot_hold_panels(tmp_path, data):
    with pytest.raises(InputError, match="not as an animation"):
        export(MapSpec(small_multiples="year"), data, tmp_path / "y.gif")
    with pytest.raises(InputError, match="PNG, SVG or PDF"):
        export(MapSpec(small_multiples="quarter"), data, tmp_path / "y.html")


def test_two_periods_as_one_offline_html_page(tmp_path, data):
    two = ((D(2021, 1, 1), D(2021, 12, 31)), (D(2022, 1, 1), D(2022, 12, 31)))
    result = export(MapSpec(periods=two), data, tmp_path / "two.html")
    html = result.path.read_text(encoding="utf-8")
    assert "L.Sync = function" in html  # Leaflet.Sync inlined from the vendored copy
    assert "cdn.jsdelivr" not in html and "<script src=" not in html
    assert html.count("atlas-period-heading") == 2
    assert "2022-01-01 – 2022-12-31: 12 incidents, 12 deaths" in html
    assert "Periods: 2021-01-01 – 2021-12-31: 12 incidents" in result.alt_text


# ---- the CLI ------------------------------------------------------------------------------------
def _spec(argv):
    from cli import build_parser, glue_signed_values
    from cli.export import spec_from_args

    return spec_from_args(build_parser().parse_args(glue_signed_values(["export", *argv])))


def test_cli_flags_set_the_spec():
    spec = _spec(["--out", "x.png", "--small-multiples", "quarter"])
    assert (spec.small_multiples, spec.periods) == ("quarter", ())
    spec = _spec(["--out", "x.png", "--periods", "2020-05-23..2021-05-22,2021-05-23..2022-05-22"])
    assert spec.periods == ((D(2020, 5, 23), D(2021, 5, 22)), (D(2021, 5, 23), D(2022, 5, 22)))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2021-01-01..2021-02-01", "give two ranges"),
        ("2021-01-01..2021-02-01,2022-01-01", "give two ranges"),
        ("2021-01-01..2021-02-30,2022-01-01..2022-02-01", "not a date"),
        ("2021-02-01..2021-01-01,2022-01-01..2022-02-01", "swap them"),
    ],
)
def test_cli_bad_periods_say_what_to_write(value, message, capsys):
    from cli import main

    assert main(["export", "--out", "x.png", "--periods", value]) == 2
    assert message in capsys.readouterr().err


def test_cli_small_multiples_end_to_end(tmp_path, capsys):
    from cli import main

    out = tmp_path / "q.png"
    code = main(["export", "--out", str(out), "--small-multiples", "year",
                 "--from", "2021-01-01", "--to", "2022-12-31"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    alt = (tmp_path / "q.alt.txt").read_text(encoding="utf-8")
    assert "Panels: 2021: " in alt and "; 2022: " in alt


# ---- the two synced maps ------------------------------------------------------------------------
def test_dual_map_two_periods_local_assets(data):
    from folium.plugins import DualMap

    from layers.dualmap import build_dual_map

    class_js = list(DualMap.default_js)
    two = [(D(2021, 1, 1), D(2021, 12, 31)), (D(2022, 1, 1), D(2023, 12, 31))]
    periods = filter_periods(MapSpec(), data, two)
    dual = build_dual_map(MapSpec(), data, periods, assets="local")
    assert dual.default_js == [
        ("Leaflet.Sync", "/app/static/vendor/leaflet.sync@0.2.4/L.Map.Sync.js")
    ]
    assert DualMap.default_js == class_js  # the class list is never changed
    html = dual.get_root().render()
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html
    # each map holds its own period's drawn incidents, and only the right one the legend
    for fmap, period in zip((dual.m1, dual.m2), periods, strict=True):
        points = _find(fmap, "_DomPoints")
        assert len(points) == 1
        rows = json.loads(points[0].payload)["rows"]  # "<\\/" is JSON for "</"
        assert len(rows) == period.summary.drawn > 0
    assert (len(_find(dual.m1, "Legend")), len(_find(dual.m2, "Legend"))) == (0, 1)
    headings = [json.loads(c.text_json) for m in (dual.m1, dual.m2)
                for c in _find(m, "PeriodHeading")]  # fmt: skip
    assert headings == [
        "2021-01-01 – 2021-12-31: 12 incidents, 12 deaths",
        "2022-01-01 – 2023-12-31: 18 incidents, 18 deaths",
    ]


def _find(element, cls_name: str) -> list:
    """Every descendant of a folium element whose class is named ``cls_name``."""
    out = []
    for child in element._children.values():
        if type(child).__name__ == cls_name:
            out.append(child)
        out += _find(child, cls_name)
    return out


def test_dual_map_needs_two_periods(data):
    from layers.dualmap import build_dual_map

    periods = filter_periods(MapSpec(), data, [(D(2021, 1, 1), D(2021, 12, 31))])
    with pytest.raises(InputError, match="two periods"):
        build_dual_map(MapSpec(), data, periods)


def test_a_panel_before_the_reference_event_does_not_show_it():
    """The year before 23 May 2021 has no San Miguel del Ene star; the year after has it."""
    from atlas.data import load_shipped
    from atlas.periods import filter_periods

    data = load_shipped()
    two = [(D(2020, 5, 23), D(2021, 5, 22)), (D(2021, 5, 23), D(2022, 5, 22))]
    before, after = filter_periods(MapSpec(), data, two)
    assert len(data.reference_events) >= 1
    assert len(before.data.reference_events) == 0
    assert len(after.data.reference_events) == len(data.reference_events)
