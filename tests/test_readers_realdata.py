"""Real-data check: the sourced San Miguel del Ene reference event read as a plain table."""

from __future__ import annotations

import datetime as dt

import pytest

from atlas.readers import read_incidents


@pytest.mark.realdata
def test_reference_event_table(real_data):
    path = real_data / "events" / "reference_event_san_miguel_del_ene_2021.csv"
    gdf, report = read_incidents(path, today=dt.date(2026, 1, 1))
    assert (report.rows_read, report.rows_kept, report.rows_rejected) == (1, 1, 0)
    row = gdf.iloc[0]
    assert row["event_id"] == "SMENE-2021-05-23"
    assert row["dataset"] == "reference_event_san_miguel_del_ene_2021"
    assert row["date_start"].strftime("%Y-%m-%d") == "2021-05-23"
    # coordinates as given in the file (INEI centro poblado point, not the exact site)
    assert row.geometry.y == pytest.approx(-12.186019)
    assert row.geometry.x == pytest.approx(-74.027090)
    assert row["fatalities"] == 16
    assert row["admin3"] == "VIZCATAN DEL ENE"
    assert row["admin1"] == "JUNIN"
    # the file's own type text is kept; it is not one of the words the table reader maps
    assert row["source_event_type"].startswith("one-sided violence")
    assert row["source"].startswith("https://ojo-publico.com/")
    assert not row["synthetic"]
