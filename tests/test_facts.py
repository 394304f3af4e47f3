"""Numbers for the article (layers.facts): each figure checked against an independent
count, the basis (filters, vintage, file hash) given, names inert in Markdown."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from atlas.data import SAMPLE_INCIDENTS, load_bundle, load_shipped
from atlas.spec import MapSpec
from cli import main
from layers.facts import article_facts, md_text, previous_period

FIXTURES = Path(__file__).parent / "fixtures"
YEAR_2021 = MapSpec(date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 12, 31))


@pytest.fixture(scope="module")
def shipped():
    return load_shipped()


def _overlaps(inc: pd.DataFrame, lo: dt.date, hi: dt.date) -> pd.Series:
    start = pd.to_datetime(inc["date_start"])
    end = pd.to_datetime(inc["date_end"]).fillna(start)
    return (start <= pd.Timestamp(hi)) & (end >= pd.Timestamp(lo))


def test_counts_deaths_and_previous_year_match_a_plain_pandas_count(shipped):
    facts = article_facts(YEAR_2021, shipped)
    inc = shipped.incidents
    year = inc[_overlaps(inc, dt.date(2021, 1, 1), dt.date(2021, 12, 31))]
    before = inc[_overlaps(inc, dt.date(2020, 1, 1), dt.date(2020, 12, 31))]
    n = facts.numbers
    assert n["incidents"] == len(year)
    assert n["deaths"] == int(pd.to_numeric(year["fatalities"]).fillna(0).sum())
    prev = n["previous_period"]
    assert (prev["from"], prev["to"]) == (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert prev["incidents"] == len(before) and prev["data_covers_it"]
    pct = round((len(year) - len(before)) / len(before) * 100)
    assert f"{abs(pct)} %" in facts.markdown()
    assert f"{len(year)} incidents with {n['deaths']} deaths from 2021-01-01 to 2021-12-31" \
        in facts.markdown()  # fmt: skip


def test_inside_the_region_and_top_districts_match_point_in_polygon(shipped):
    from atlas.query import filter_incidents
    from atlas.spatial import assign_region

    facts = article_facts(YEAR_2021, shipped)
    drawn, summary = filter_incidents(shipped.incidents, YEAR_2021, shipped.regions)
    inside = facts.numbers["inside_region"]
    assert inside["incidents"] == int(drawn["inside_region"].sum())
    assert inside["outside"] == len(drawn) - inside["incidents"]
    vraem = shipped.regions[shipped.regions["region_id"] == "vraem-devida"]
    within = gpd.GeoSeries(drawn.geometry).within(vraem.geometry.iloc[0])
    assert abs(int(within.sum()) - inside["incidents"]) <= 2  # points on the border

    ids = assign_region(drawn, shipped.districts[["region_id", "geometry"]]).value_counts()
    top = facts.numbers["top_districts"]
    assert [(d["ubigeo"], d["incidents"]) for d in top] == [
        (str(k), int(v)) for k, v in ids.head(len(top)).items()
    ]


def test_previous_period_uses_calendar_units_when_the_period_is_made_of_them():
    assert previous_period(dt.date(2021, 1, 1), dt.date(2021, 12, 31)) == (
        dt.date(2020, 1, 1), dt.date(2020, 12, 31))  # fmt: skip
    assert previous_period(dt.date(2021, 3, 1), dt.date(2021, 5, 31)) == (
        dt.date(2020, 12, 1), dt.date(2021, 2, 28))  # fmt: skip
    assert previous_period(dt.date(2021, 5, 23), dt.date(2021, 6, 1)) == (
        dt.date(2021, 5, 13), dt.date(2021, 5, 22))  # fmt: skip


def test_basis_names_filters_vintage_and_the_sample_files_hash(shipped):
    facts = article_facts(YEAR_2021.replace(min_fatalities=2, actor="Sendero"), shipped)
    sha = hashlib.sha256(SAMPLE_INCIDENTS.read_bytes()).hexdigest()
    assert facts.numbers["inputs"] == [{"file": SAMPLE_INCIDENTS.name, "sha256": sha}]
    text = facts.markdown()
    assert sha in text and "min_fatalities=2" in text and "actor=Sendero" in text
    assert "Boundaries: vintage 2023" in text
    assert "SAMPLE" in text and facts.numbers["sample"] is True
    # Spanish, with the caveat that department coca is not where incidents happen
    es = article_facts(YEAR_2021.replace(lang="es"), shipped).markdown()
    assert "Cifras para la nota" in es and "incidentes con" in es
    assert "no es el lugar de los incidentes" in es


def test_ucdp_low_high_range_and_unknown_deaths(tmp_path):
    path = FIXTURES / "ucdp" / "ged_sample.csv"
    data = load_bundle(incidents=[path])
    facts = article_facts(MapSpec(), data, inputs=[(path.name, "abc")])
    inc = data.incidents
    assert facts.numbers["deaths_low"] == int(pd.to_numeric(inc["fatalities_low"]).sum())
    assert facts.numbers["deaths_high"] == int(pd.to_numeric(inc["fatalities_high"]).sum())
    assert "low to high estimate (UCDP)" in facts.markdown()


def test_generalised_view_gives_the_same_numbers(shipped):
    plain = article_facts(YEAR_2021, shipped).numbers
    safe = article_facts(YEAR_2021.replace(generalise="grid:10"), shipped)
    for key in ("incidents", "deaths", "inside_region", "top_districts", "previous_period"):
        assert safe.numbers[key] == plain[key], key
    assert "generalised (grid:10)" in safe.markdown()


def test_names_from_the_data_are_inert_in_markdown_and_html():
    hostile = "<script>alert(1)</script> *bold* [link](http://x) `code` # head | x"
    out = md_text(hostile)
    assert "<" not in out and ">" not in out
    for ch in "*[]()`#|":
        assert f"\\{ch}" in out
    assert md_text("a\nb\tc") == "a b c"


def test_facts_command_writes_json_with_the_input_hash(tmp_path, capsys):
    src = FIXTURES / "acled" / "acled_current_columns.csv"
    out = tmp_path / "facts.json"
    assert main(["facts", "--incidents", str(src), "--format", "json", "--out", str(out)]) == 0
    numbers = json.loads(out.read_text(encoding="utf-8"))
    assert numbers["inputs"] == [
        {"file": src.name, "sha256": hashlib.sha256(src.read_bytes()).hexdigest()}
    ]
    assert numbers["incidents"] >= 1
    printed = capsys.readouterr().out
    assert "rows read" in printed and "wrote" in printed
    assert main(["facts", "--from", "2021-01-01", "--to", "2021-12-31", "--lang", "es"]) == 0
    assert "Cifras para la nota" in capsys.readouterr().out
    assert main(["facts", "--incidents", str(tmp_path / "missing.csv")]) == 2
