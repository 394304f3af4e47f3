"""UCDP GED reader: the 49-column export, precisions, low/high, date windows."""

from __future__ import annotations

import datetime as dt

from atlas.readers import read_incidents
from atlas.readers.ucdp import CROSSWALK

TODAY = dt.date(2026, 1, 1)


def test_ged_sample(fixtures_dir):
    gdf, report = read_incidents(fixtures_dir / "ucdp/ged_sample.csv", today=TODAY)
    assert report.kind == "ucdp"
    # row 6 (id 900005) ends before it starts
    assert (report.rows_read, report.rows_kept) == (5, 4)
    assert report.by_reason() == {"end_before_start": 1}
    assert report.rows_for("end_before_start") == [6]
    assert set(gdf["dataset"]) == {"ucdp"}
    assert gdf["event_id"].tolist() == ["900001", "900002", "900003", "900004"]
    assert gdf["fatalities"].tolist() == [16.0, 2.0, 0.0, 1.0]
    assert gdf["fatalities_low"].tolist() == [14.0, 2.0, 0.0, 1.0]
    assert gdf["fatalities_high"].tolist() == [18.0, 3.0, 1.0, 1.0]
    assert gdf["geo_precision"].tolist() == ["exact", "near", "admin1", "country"]
    assert gdf["date_precision"].tolist() == ["day", "week", "month", "year"]
    assert gdf["event_type"].tolist() == [
        "violence_against_civilians",
        "armed_clash",
        "armed_clash",
        "armed_clash",
    ]
    assert gdf["source_event_type"].tolist() == ["3", "1", "2", "1"]
    assert gdf["sub_event_type"].iloc[0] == "one-sided violence"
    assert gdf["civilian_targeting"].tolist() == [True, False, False, False]
    assert gdf["actor1"].iloc[0] == "Sample side A"
    assert gdf["actor2"].iloc[0] == "Sample side B"
    assert gdf["location"].iloc[0] == "Sample village"
    assert gdf["admin1"].iloc[0] == "Junin department"
    # the window UCDP gives is kept, time of day dropped
    assert gdf["date_start"].iloc[1].strftime("%Y-%m-%d") == "2021-06-01"
    assert gdf["date_end"].iloc[1].strftime("%Y-%m-%d") == "2021-06-07"
    assert gdf["date_end"].iloc[3].strftime("%Y-%m-%d") == "2021-12-31"
    # source_article verbatim, not truncated
    assert gdf["source"].iloc[0] == '"Sample Agency,2021-05-24,""Sample headline"""'


def test_where_prec_3_and_date_prec_3(fixtures_dir):
    text = (fixtures_dir / "ucdp/ged_sample.csv").read_text(encoding="utf-8")
    text = text.replace("2021-08-10,2021-08-01", "2021-08-01,2021-08-10")
    gdf, report = read_incidents(text.encode(), filename="ged.csv", today=TODAY)
    assert report.rows_rejected == 0
    last = gdf.iloc[-1]
    assert (last["geo_precision"], last["date_precision"]) == ("admin2", "week")


def test_crosswalk_names_real_ged_columns(fixtures_dir):
    header = (fixtures_dir / "ucdp/ged_sample.csv").read_text().splitlines()[0].split(",")
    assert len(header) == 49
    assert set(CROSSWALK.values()) - {"synthetic"} <= set(header)
