"""Each incident row's department, worked out once per data version (atlas.spatial.RowDepartments).

The shipped departments (INEI 2023) and the shipped sample incidents, real geometry: a view
(filtered rows) reads its rows' departments, and the coca layer and table give the same
answers as when they place the view's points themselves.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from atlas.data import load_shipped, with_incidents
from atlas.spatial import RowDepartments, assign_region, departments_key, row_departments
from atlas.spec import MapSpec
from layers import coca
from layers.base import PointsMemo


@pytest.fixture(scope="module")
def shipped():
    return load_shipped()


def _placed_here(points, departments) -> pd.Series:
    regions = departments.rename(columns={"ubigeo": "region_id"})[["region_id", "geometry"]]
    return assign_region(points, regions)


def test_rows_get_the_department_their_point_lies_in(shipped) -> None:
    known = row_departments(shipped.incidents, shipped.departments)
    expected = _placed_here(shipped.incidents, shipped.departments)
    assert known.codes.index.equals(shipped.incidents.index)
    assert known.codes.astype(object).where(known.codes.notna(), None).tolist() == (
        expected.astype(object).where(expected.notna(), None).tolist()
    )
    # the sample lies around the VRAEM: Ayacucho (05), Cusco (08) and Junín (12) at least
    assert {"05", "08", "12"} <= set(known.codes.dropna())
    assert known.codes.memory_usage(deep=False, index=False) < 2 * len(known.codes)


def test_a_view_reads_its_rows_departments(shipped) -> None:
    known = row_departments(shipped.incidents, shipped.departments)
    inc = shipped.incidents
    view = inc[(inc["fatalities"] >= 2) & (inc["event_type"] != "protest")]
    assert 0 < len(view) < len(inc)
    got = known.for_rows(shipped.departments, view.index)
    placed = _placed_here(view, shipped.departments)
    assert got is not None and got.index.equals(view.index)
    assert got.astype(object).where(got.notna(), None).tolist() == (
        placed.astype(object).where(placed.notna(), None).tolist()
    )


def test_other_rows_or_other_departments_get_no_answer(shipped) -> None:
    known = row_departments(shipped.incidents, shipped.departments)
    beyond = pd.RangeIndex(len(shipped.incidents) - 2, len(shipped.incidents) + 2)
    assert known.for_rows(shipped.departments, beyond) is None  # two rows it never saw
    fewer = shipped.departments.iloc[1:]
    assert departments_key(fewer) != known.key
    assert known.for_rows(fewer, shipped.incidents.index[:10]) is None


def test_other_incidents_never_inherit_the_codes(shipped) -> None:
    data = dataclasses.replace(
        shipped, incident_departments=row_departments(shipped.incidents, shipped.departments)
    )
    report = shipped.reports[0]
    other = shipped.incidents.iloc[:5].reset_index(drop=True)
    assert with_incidents(data, other, report).incident_departments is None
    theirs = row_departments(other, shipped.departments)
    assert with_incidents(data, other, report, theirs).incident_departments is theirs


def test_the_coca_layer_and_table_read_the_rows_departments(shipped, monkeypatch) -> None:
    """Same counts whether the view's points are placed at the layer or read from the
    rows' departments; with the rows' departments known, nothing is placed."""
    inc = shipped.incidents
    view_rows = inc[inc["fatalities"] >= 1]
    placing = dataclasses.replace(shipped, incidents=view_rows)
    spec = MapSpec(coca_year=2022)
    want_frame = coca.coca_frame(placing, spec)
    want_table = coca.incidents_per_1000_ha(placing)
    assert want_frame["incidents"].sum() > 0 and want_table["incidents"].sum() > 0

    known = row_departments(inc, shipped.departments)
    reading = dataclasses.replace(placing, incident_departments=known)

    def no_placing(*_a, **_k):
        raise AssertionError("the view's points were placed again")

    monkeypatch.setattr("atlas.spatial.row_departments", no_placing)
    monkeypatch.setattr(coca, "_DEPARTMENT_MEMO", PointsMemo())  # no answer kept from above
    got_frame = coca.coca_frame(reading, spec)
    got_table = coca.incidents_per_1000_ha(reading)
    assert got_frame["incidents"].tolist() == want_frame["incidents"].tolist()
    pd.testing.assert_frame_equal(got_table, want_table)


def test_codes_are_categorical_and_name_the_departments(shipped) -> None:
    known = row_departments(shipped.incidents, shipped.departments)
    assert isinstance(known, RowDepartments)
    assert isinstance(known.codes.dtype, pd.CategoricalDtype)
    assert set(known.codes.cat.categories) <= set(shipped.departments["ubigeo"].astype(str))
