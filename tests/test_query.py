"""atlas.query: each filter, precision hiding, inclusive dates, time buckets, steps.

The frame below is tiny and synthetic; each row's comment says which edge it covers,
and each expected number is counted by hand from those rows.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from atlas.errors import InputError
from atlas.query import (
    filter_incidents,
    fold_text,
    region_mask,
    step_mask,
    step_range,
    steps,
    time_series,
)
from atlas.spec import MapSpec

D = dt.date
ALL_PRECISIONS = ("exact", "near", "admin2", "admin1", "country")


def _incidents() -> gpd.GeoDataFrame:
    rows = [
        # id, dataset, start, end, type, actor1, actor2, fatalities, precision, lon, lat
        (
            "a",
            "acled",
            "2021-01-01",
            "2021-01-01",
            "armed_clash",
            "Sendero Luminoso",
            "",
            3,
            "exact",
            -74.0,
            -12.0,
        ),  # first day of 2021, inside the box
        (
            "b",
            "acled",
            "2021-01-31",
            "2021-01-31",
            "violence_against_civilians",
            "Militantes del MPCP",
            "Civilians (Peru)",
            16,
            "exact",
            -74.03,
            -12.19,
        ),  # inside
        (
            "c",
            "ucdp",
            "2021-02-01",
            "2021-02-01",
            "armed_clash",
            "Government of Peru",
            "SENDERO LUMINÓSO",
            None,
            "near",
            -73.5,
            -12.5,
        ),  # fatalities unknown, inside
        (
            "d",
            "ucdp",
            "2020-12-25",
            "2021-01-05",
            "armed_clash",
            "Policía Nacional",
            "",
            1,
            "admin2",
            -75.5,
            -11.0,
        ),  # spans the new year; outside the box
        (
            "e",
            "acled",
            "2021-03-15",
            "2021-03-15",
            "protest",
            "Cocaleros",
            "",
            0,
            "admin1",
            -74.2,
            -12.1,
        ),  # department-level only: hidden by default
        (
            "f",
            "acled",
            "2021-03-20",
            "2021-03-20",
            "riot",
            "Rioters (Peru)",
            "",
            2,
            "country",
            -75.0,
            -9.0,
        ),  # country-level only: hidden by default
    ]
    cols = [
        "event_id",
        "dataset",
        "date_start",
        "date_end",
        "event_type",
        "actor1",
        "actor2",
        "fatalities",
        "geo_precision",
        "lon",
        "lat",
    ]
    df = pd.DataFrame(rows, columns=cols)
    df["date_start"] = pd.to_datetime(df["date_start"])
    df["date_end"] = pd.to_datetime(df["date_end"])
    df["fatalities"] = df["fatalities"].astype("Float64")
    geom = [Point(x, y) for x, y in zip(df.pop("lon"), df.pop("lat"), strict=True)]
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


def _regions() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"region_id": ["zone"], "name": ["Test zone"]},
        geometry=[box(-74.5, -13.0, -73.0, -11.5)],
        crs="EPSG:4326",
    )


def test_no_filters_counts_everything_and_hides_coarse_precision() -> None:
    drawn, s = filter_incidents(_incidents(), MapSpec(region="zone"), _regions())
    assert s.total == 6 and s.incidents == 6
    assert s.hidden_by_precision == 2
    assert s.hidden_precisions == {"admin1": 1, "country": 1}
    assert s.drawn == 4 and list(drawn["event_id"]) == ["a", "b", "c", "d"]
    assert s.deaths == 3 + 16 + 0 + 1 + 0 + 2
    assert s.deaths_unknown == 1
    assert s.inside_region == 3  # a, b, c; e is inside the box but not drawn
    assert s.deaths_inside == 19
    assert list(drawn["inside_region"]) == [True, True, True, False]


def test_all_precisions_draws_all() -> None:
    drawn, s = filter_incidents(_incidents(), MapSpec(precisions=ALL_PRECISIONS))
    assert s.drawn == 6 and s.hidden_by_precision == 0
    assert s.inside_region is None  # no region geometry given


def test_drawing_every_row_leaves_the_loaded_frame_as_it_was() -> None:
    """Every row drawn: no take of the frame (a shallow copy), yet the loaded incidents
    get no ``inside_region`` column and no changed value, however the copy is used."""
    incidents = _incidents()
    before = incidents.copy()
    drawn, s = filter_incidents(incidents, MapSpec(region="zone", precisions=ALL_PRECISIONS),
                                _regions())  # fmt: skip
    assert s.drawn == len(incidents) == len(drawn)
    assert "inside_region" in drawn and "inside_region" not in incidents
    drawn.loc[drawn.index[0], "fatalities"] = 999
    drawn["event_id"] = "changed"
    pd.testing.assert_frame_equal(pd.DataFrame(incidents), pd.DataFrame(before))
    assert list(drawn["inside_region"]) == [True, True, True, False, True, False]


def test_date_range_is_inclusive_and_uses_overlap() -> None:
    spec = MapSpec(date_from=D(2021, 1, 1), date_to=D(2021, 1, 31), precisions=ALL_PRECISIONS)
    drawn, s = filter_incidents(_incidents(), spec)
    # a on the first day, b on the last day, d overlaps from 2020-12-25 to 2021-01-05
    assert sorted(drawn["event_id"]) == ["a", "b", "d"]
    spec = MapSpec(date_from=D(2021, 2, 1), date_to=D(2021, 2, 1), precisions=ALL_PRECISIONS)
    assert list(filter_incidents(_incidents(), spec)[0]["event_id"]) == ["c"]
    assert s.date_min == D(2020, 12, 25) and s.date_max == D(2021, 1, 31)


def test_event_type_filter() -> None:
    drawn, s = filter_incidents(_incidents(), MapSpec(event_types=("armed_clash",)))
    assert sorted(drawn["event_id"]) == ["a", "c", "d"] and s.incidents == 3


def test_actor_search_is_case_and_accent_insensitive_on_both_actors() -> None:
    spec = MapSpec(actor="sendero luminoso")
    drawn, _ = filter_incidents(_incidents(), spec)
    assert sorted(drawn["event_id"]) == ["a", "c"]  # c has it as actor2, with an accent
    drawn, _ = filter_incidents(_incidents(), MapSpec(actor="POLICIA"))
    assert list(drawn["event_id"]) == ["d"]
    assert list(fold_text(pd.Series(["Ñuñoa Lúcuma", None]))) == ["nunoa lucuma", ""]


def test_min_fatalities_excludes_unknown() -> None:
    drawn, s = filter_incidents(_incidents(), MapSpec(min_fatalities=2, precisions=ALL_PRECISIONS))
    assert sorted(drawn["event_id"]) == ["a", "b", "f"]
    assert s.deaths == 21


def test_dataset_filter() -> None:
    drawn, _ = filter_incidents(_incidents(), MapSpec(datasets=("ucdp",)))
    assert sorted(drawn["event_id"]) == ["c", "d"]


def test_precomputed_inside_mask_is_used_and_checked() -> None:
    inc = _incidents()
    inside = pd.Series([False, False, False, True, False, False], index=inc.index)
    _, s = filter_incidents(inc, MapSpec(), inside=inside)
    assert s.inside_region == 1 and s.deaths_inside == 1
    with pytest.raises(InputError, match="same index"):
        filter_incidents(inc, MapSpec(), inside=inside.iloc[:3])


def test_region_mask_unknown_region_names_it() -> None:
    with pytest.raises(InputError, match="'nowhere'"):
        region_mask(_incidents(), _regions(), "nowhere")


def test_missing_columns_name_the_fix() -> None:
    with pytest.raises(InputError, match="read_incidents"):
        filter_incidents(_incidents().drop(columns=["actor2"]), MapSpec())


def test_time_series_month_with_empty_buckets() -> None:
    inc = _incidents()
    mask = region_mask(inc, _regions(), "zone")
    ts = time_series(inc, mask, "month", date_from=D(2020, 12, 1), date_to=D(2021, 4, 30))
    assert list(ts.columns) == ["period", "where", "incidents", "fatalities"]
    assert len(ts) == 5 * 2  # Dec..Apr, inside and outside
    piv = ts.pivot(index="period", columns="where", values="incidents")
    assert piv.loc[pd.Timestamp("2021-01-01"), "inside"] == 2  # a, b
    assert piv.loc[pd.Timestamp("2020-12-01"), "outside"] == 1  # d, by date_start
    assert piv.loc[pd.Timestamp("2021-04-01")].sum() == 0  # empty bucket present as zero
    assert piv.loc[pd.Timestamp("2021-03-01"), "inside"] == 1  # e (admin1, but in the box)
    fat = ts.pivot(index="period", columns="where", values="fatalities")
    assert fat.loc[pd.Timestamp("2021-01-01"), "inside"] == 19
    assert ts["incidents"].sum() == 6


def test_time_series_week_and_year_buckets() -> None:
    inc = _incidents()
    weeks = time_series(inc, None, "week")
    first = weeks["period"].min()
    assert first == pd.Timestamp("2020-12-21")  # Monday of the week holding 2020-12-25
    assert first.day_of_week == 0
    assert weeks["incidents"].sum() == 6
    years = time_series(inc, None, "year")
    by_year = years.groupby("period")["incidents"].sum()
    assert by_year.to_dict() == {pd.Timestamp("2020-01-01"): 1, pd.Timestamp("2021-01-01"): 5}
    assert set(years.loc[years["where"] == "inside", "incidents"]) == {0}
    empty = time_series(inc.iloc[:0], None, "month")
    assert empty.empty
    with pytest.raises(InputError):
        time_series(inc, None, "decade")


def test_steps_tile_the_range() -> None:
    s = steps(D(2021, 1, 15), D(2021, 4, 10), "month")
    assert s == [
        (D(2021, 1, 15), D(2021, 1, 31)),
        (D(2021, 2, 1), D(2021, 2, 28)),
        (D(2021, 3, 1), D(2021, 3, 31)),
        (D(2021, 4, 1), D(2021, 4, 10)),
    ]
    w = steps(D(2021, 1, 1), D(2021, 1, 14), "week")  # Fri 1 Jan .. Thu 14 Jan
    assert w == [
        (D(2021, 1, 1), D(2021, 1, 3)),
        (D(2021, 1, 4), D(2021, 1, 10)),
        (D(2021, 1, 11), D(2021, 1, 14)),
    ]
    assert steps(D(2020, 6, 1), D(2021, 2, 1), "year") == [
        (D(2020, 6, 1), D(2020, 12, 31)),
        (D(2021, 1, 1), D(2021, 2, 1)),
    ]
    with pytest.raises(InputError, match="swap"):
        steps(D(2021, 2, 1), D(2021, 1, 1), "month")


def test_step_modes_cumulative_and_window() -> None:
    s = steps(D(2021, 1, 1), D(2021, 3, 31), "month")
    assert step_range(s, 1, "cumulative") == (D(2021, 1, 1), D(2021, 2, 28))
    assert step_range(s, 1, "window") == (D(2021, 2, 1), D(2021, 2, 28))
    inc = _incidents()
    assert list(inc.loc[step_mask(inc, s, 1, "window"), "event_id"]) == ["c"]
    assert sorted(inc.loc[step_mask(inc, s, 1, "cumulative"), "event_id"]) == ["a", "b", "c", "d"]
    with pytest.raises(InputError):
        step_range(s, 3, "window")
    with pytest.raises(InputError):
        step_range(s, 0, "sideways")
