"""Property-based checks: any bytes or text give (frame, report) or an InputError."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas.errors import InputError
from atlas.readers import read_incidents
from atlas.schema import INCIDENT_COLUMNS

TODAY = dt.date(2026, 1, 1)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(data: bytes, filename: str) -> None:
    try:
        gdf, report = read_incidents(data, filename=filename, today=TODAY)
    except InputError as exc:
        assert str(exc).startswith(filename)
        return
    assert report.rows_read == report.rows_kept + report.rows_rejected
    assert len(gdf) == report.rows_kept > 0
    assert list(gdf.columns) == list(INCIDENT_COLUMNS)


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from(["x.csv", "x.tsv", "x.txt", "x.xlsx"]))
def test_arbitrary_bytes(data, filename):
    outcome(data, filename)


CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "0", "-12,5", "12°30'S", "nan", "inf", "-1e400", "31/02/2021",
                     "2021-05-23", "=1+1", '"', "\r", ";", "\t"]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)  # fmt: skip
HEADER = st.lists(
    st.sampled_from(["lat", "lon", "latitud", "longitud", "fecha", "date", "id", "muertos",
                     "tipo", "coordinates", "date_end", "synthetic", "x", "y", "notes"]),
    min_size=1,
    max_size=7,
)  # fmt: skip


@SETTINGS
@given(HEADER, st.lists(st.lists(CELL, min_size=1, max_size=7), max_size=8),
       st.sampled_from([",", ";", "\t", "|"]))  # fmt: skip
def test_arbitrary_tables(header, rows, sep):
    width = len(header)
    frame = pd.DataFrame([(r + [""] * width)[:width] for r in rows], columns=header)
    text = frame.to_csv(index=False, sep=sep)
    outcome(text.encode("utf-8"), "t.csv")


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.floats(-200, 200, allow_nan=False),
            st.floats(-200, 200, allow_nan=False),
            st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_coordinates_are_kept_exactly_when_valid(points):
    lines = ["latitude,longitude,date"] + [f"{a!r},{b!r},{d.isoformat()}" for a, b, d in points]
    try:
        gdf, report = read_incidents("\n".join(lines).encode(), filename="p.csv", today=TODAY)
    except InputError:
        gdf, report = None, None
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    good = (np.abs(lat) <= 90) & (np.abs(lon) <= 180) & ~((lat == 0) & (lon == 0))
    if not good.any():
        assert gdf is None
        return
    assert report.rows_kept == int(good.sum())
    assert np.allclose(gdf.geometry.y.to_numpy(), lat[good])
    assert np.allclose(gdf.geometry.x.to_numpy(), lon[good])


@pytest.mark.slow
def test_million_row_acled_csv(tmp_path):
    n = 1_000_000
    rng = np.random.default_rng(7)
    days = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")
    frame = pd.DataFrame(
        {
            "event_id_cnty": "PER" + pd.Series(np.arange(n)).astype(str),
            "event_date": days.strftime("%d %B %Y"),
            "year": days.year,
            "time_precision": rng.integers(1, 4, n),
            "event_type": rng.choice(["Battles", "Riots", "Protests"], n),
            "sub_event_type": "Armed clash",
            "actor1": "Sample actor",
            "actor2": "",
            "country": "Peru",
            "admin1": "Junin",
            "location": "Sample place",
            "latitude": rng.uniform(-13, -11, n).round(4),
            "longitude": rng.uniform(-75, -73, n).round(4),
            "geo_precision": rng.integers(1, 4, n),
            "source": "Synthetic",
            "notes": "SYNTHETIC TEST ROW",
            "fatalities": rng.integers(0, 4, n),
            "civilian_targeting": "",
        }
    )
    frame.loc[::100_000, "latitude"] = 0.0
    frame.loc[::100_000, "longitude"] = 0.0
    path = tmp_path / "acled_1m.csv"
    frame.to_csv(path, index=False)
    import time

    start = time.monotonic()
    gdf, report = read_incidents(path, today=TODAY)
    elapsed = time.monotonic() - start
    assert report.rows_read == n
    assert report.by_reason() == {"null_island": 10}
    assert len(gdf) == n - 10
    assert elapsed < 60, elapsed
