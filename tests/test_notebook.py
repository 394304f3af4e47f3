"""Run notebooks/vraem_story.ipynb top to bottom and check the numbers it prints.

The notebook runs in a real Jupyter kernel (nbclient + ipykernel) on this interpreter
(a kernelspec pointing at ``sys.executable`` is written to a temporary JUPYTER_PATH).
Its ``KEY_NUMBERS`` line is compared with the same quantities computed here through
other package functions (``join_incidents`` instead of the query's region mask,
``within_km`` instead of thresholds on ``distance_to_regions``, a pandas crosstab
instead of ``time_series``), so a wrong pipeline in the notebook shows up as a mismatch.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient
from PIL import Image

from atlas.data import VRAEM_ID, load_bundle, load_shipped
from atlas.schema import DEFAULT_DRAWN_PRECISIONS
from atlas.spatial import aggregate, join_incidents, within_km
from atlas.spec import MapSpec

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK = NOTEBOOKS / "vraem_story.ipynb"
SAMPLE_LABEL = "SAMPLE (synthetic) — not real events"
#: A number standing alone (not part of an id such as pe-districts-2023).
NUMBER = re.compile(r"(?<![\w-])\d")
ENV_KEYS = (
    "CONFLICT_ATLAS_INCIDENTS",
    "CONFLICT_ATLAS_DISTRICTS",
    "CONFLICT_ATLAS_DISTRICTS_VINTAGE",
    "CONFLICT_ATLAS_CACHE",
    "CONFLICT_ATLAS_NOTEBOOK_OUT",
    "JUPYTER_PATH",
)

pytestmark = pytest.mark.slow


def _build_module():
    spec = importlib.util.spec_from_file_location("build_notebook", NOTEBOOKS / "build_notebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_notebook(tmp: Path, env: dict[str, str]) -> tuple[nbformat.NotebookNode, dict]:
    """Execute the notebook with ``env`` set; return it with outputs and its KEY_NUMBERS."""
    kernel_dir = tmp / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True, exist_ok=True)
    (kernel_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (test)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    cache = tmp / "empty-cache"  # no downloaded boundaries unless the test gives them
    cache.mkdir(exist_ok=True)
    out = tmp / "out"
    out.mkdir(exist_ok=True)
    settings = {
        "JUPYTER_PATH": str(tmp / "jupyter"),
        "CONFLICT_ATLAS_CACHE": str(cache),
        "CONFLICT_ATLAS_NOTEBOOK_OUT": str(out),
        # the kernel imports this checkout's package, not another installed copy
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(NOTEBOOK.parents[1]), os.environ.get("PYTHONPATH", "")) if p
        ),
        **env,
    }
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as mp:
        for key in ENV_KEYS:
            mp.delenv(key, raising=False)
        # importing streamlit (the app tests) sets MPLBACKEND=Agg for the whole process;
        # the kernel must choose its own inline backend to show figures
        mp.delenv("MPLBACKEND", raising=False)
        for key, value in settings.items():
            mp.setenv(key, value)
        client = NotebookClient(
            nb,
            kernel_name="python3",
            timeout=240,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        client.execute()
    return nb, key_numbers(nb)


def stream_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def key_numbers(nb: nbformat.NotebookNode) -> dict:
    lines = [
        line
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in stream_text(cell).splitlines()
        if line.startswith("KEY_NUMBERS = ")
    ]
    assert len(lines) == 1, "the notebook must print exactly one KEY_NUMBERS line"
    return json.loads(lines[0][len("KEY_NUMBERS = ") :])


def all_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            parts.append(o.get("text", ""))
            parts.append(o.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def expected_numbers(data, vraem) -> dict:
    """The notebook's key numbers, recomputed here through other package functions."""
    inc = data.incidents[data.incidents["country"].astype(str) == "Peru"]
    placed = inc[inc["geo_precision"].isin(DEFAULT_DRAWN_PRECISIONS)]
    joined = join_incidents(placed, vraem)
    inside_ids = set(joined.loc[joined["region_id"] == VRAEM_ID, "event_id"])
    is_in = placed["event_id"].isin(inside_ids)
    deaths = pd.to_numeric(placed["fatalities"], errors="coerce").fillna(0)
    year = pd.to_datetime(placed["date_start"]).dt.year
    by_year = {}
    for y in range(year.min(), year.max() + 1):  # quiet years are rows of zeros
        sel = year == y
        by_year[str(y)] = {
            "incidents VRAEM": int((sel & is_in).sum()),
            "incidents rest of Peru": int((sel & ~is_in).sum()),
            "deaths VRAEM": int(deaths[sel & is_in].sum()),
            "deaths rest of Peru": int(deaths[sel & ~is_in].sum()),
        }
    all_deaths = pd.to_numeric(inc["fatalities"], errors="coerce").fillna(0)
    out = {
        "incidents_total": len(inc),
        "incidents_placed": len(placed),
        "incidents_inside": int(is_in.sum()),
        "deaths_total": int(all_deaths.sum()),
        "deaths_inside": int(deaths[is_in].sum()),
        "by_year": by_year,
        "share_inside": round(float(is_in.mean()), 4),
    }
    for km in (10, 25, 50):
        out[f"share_within_{km}km"] = round(float(within_km(placed, vraem, km).mean()), 4)
    coca = data.coca[(data.coca["zone"] == "VRAEM") & data.coca["hectares"].notna()]
    out["coca_vraem_ha"] = {
        str(int(y)): int(h) for y, h in zip(coca["year"], coca["hectares"], strict=True)
    }
    ref = join_incidents(data.reference_events.iloc[[0]], vraem)
    out["reference_event_in_vraem"] = bool((ref["region_id"] == VRAEM_ID).any())
    return out


def assert_labelled(nb: nbformat.NotebookNode) -> None:
    """In cells tagged as printing incident numbers, every number carries the SAMPLE label.

    A printed line with a number must contain the label, or be an indented line under
    one that does; a table's plain text must contain it (shown in the table's corner).
    """
    tag = _build_module().SAMPLE_TAG
    tagged = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    assert len(tagged) >= 3
    for cell in tagged:
        labelled = False
        for line in stream_text(cell).splitlines():
            if SAMPLE_LABEL in line:
                labelled = True
            elif NUMBER.search(line):
                assert labelled and line.startswith(" "), f"unlabelled number: {line!r}"
            elif not line.startswith(" "):
                labelled = False
        for o in cell.outputs:
            data = o.get("data", {})
            if "text/html" in data:  # a table
                assert SAMPLE_LABEL in data["text/plain"], data["text/plain"][:200]


# ---- the stored notebook ---------------------------------------------------------------
def test_notebook_is_built_from_the_script_without_outputs() -> None:
    build = _build_module()
    assert NOTEBOOK.read_text(encoding="utf-8") == build.render(), (
        "notebooks/vraem_story.ipynb differs from notebooks/build_notebook.py; run "
        ".venv/bin/python notebooks/build_notebook.py"
    )
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


# ---- shipped data ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[nbformat.NotebookNode, dict]:
    return run_notebook(tmp_path_factory.mktemp("nb-shipped"), {})


def test_shipped_key_numbers_match_the_package(shipped_run) -> None:
    nb, numbers = shipped_run
    data = load_shipped()
    vraem = data.regions[data.regions["region_id"] == VRAEM_ID]
    expected = expected_numbers(data, vraem)
    assert {k: numbers[k] for k in expected} == expected
    assert numbers["sample"] is True and numbers["label"] == SAMPLE_LABEL
    assert numbers["boundary_exact"] is True and numbers["boundary_vintage"] == "2023"
    placed = data.incidents[data.incidents["geo_precision"].isin(DEFAULT_DRAWN_PRECISIONS)]
    per = aggregate(placed, data.districts, snap_km=1.0).sort_values(
        ["incidents", "fatalities"], ascending=False
    )
    assert numbers["top_district"] == per["region_id"].iloc[0]
    assert numbers["reference_event_district"] == "120609"  # shipped 2023 districts
    # the coca series the notebook shows is the cited one (DEVIDA/UNODC via the press)
    assert numbers["coca_vraem_ha"] == {"2017": 20304, "2020": 27994, "2022": 35709}


def test_notebook_numbers_for_the_article_are_the_packages(shipped_run) -> None:
    """The notebook's last section prints layers.facts.article_facts for its view: the
    same numbers as the app's panel and `conflict-atlas facts`."""
    from layers.facts import article_facts

    nb, _numbers = shipped_run
    lines = [
        line
        for cell in nb.cells
        if cell.cell_type == "code"
        for line in stream_text(cell).splitlines()
        if line.startswith("FACTS = ")
    ]
    assert len(lines) == 1
    printed = json.loads(lines[0][len("FACTS = ") :])
    expected = article_facts(MapSpec(region=VRAEM_ID), load_shipped())
    assert printed == json.loads(expected.to_json())
    assert "Numbers for the article" in all_text(nb)
    assert printed["sample"] is True


def test_shipped_run_says_sample_and_exact(shipped_run) -> None:
    nb, numbers = shipped_run
    text = all_text(nb)
    assert "exact outline" in numbers["boundary"]
    assert "APPROXIMATE" not in text
    assert "District on 2023 boundaries: 120609 Vizcatan del Ene" in text
    assert "ojo-publico.com" in text
    assert "method change: not comparable" in text  # 2017 UNODC -> 2020 DEVIDA
    assert_labelled(nb)
    assert re.search(r"^\[" + re.escape(SAMPLE_LABEL) + r"\] alt text: .*SAMPLE DATA", text, re.M)


def test_shipped_export_is_the_cli_image(shipped_run) -> None:
    nb, numbers = shipped_run
    png = Path(numbers["export_png"])
    assert png.is_file() and png.with_name(png.stem + ".alt.txt").is_file()
    size = MapSpec().with_size("web").pixel_size
    with Image.open(png) as img:
        assert img.size == size
    assert numbers["export_px"] == list(size)
    shown = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(shown) >= 2  # the distance histogram and the exported map


# ---- the user's incident files ------------------------------------------------------------
def test_incident_files_replace_the_sample(tmp_path: Path, fixtures_dir: Path) -> None:
    files = [
        fixtures_dir / "ucdp" / "ged_sample.csv",
        fixtures_dir / "acled" / "acled_current_columns.csv",
    ]
    nb, numbers = run_notebook(
        tmp_path, {"CONFLICT_ATLAS_INCIDENTS": os.pathsep.join(str(f) for f in files)}
    )
    data = load_bundle(incidents=files, use_cache=False)
    assert not data.is_sample
    vraem = data.regions[data.regions["region_id"] == VRAEM_ID]
    expected = expected_numbers(data, vraem)
    assert {k: numbers[k] for k in expected} == expected
    assert numbers["sample"] is False
    assert numbers["label"] == "incidents from ged_sample.csv, acled_current_columns.csv"
    text = all_text(nb)
    assert SAMPLE_LABEL not in text
    for report in data.reports:  # every input's load report is shown, rejections included
        assert report.summary() in text


# ---- real district boundaries -------------------------------------------------------------
@pytest.mark.realdata
@pytest.mark.parametrize(
    ("filename", "vintage", "district", "exact"),
    [
        ("inei2023_light_distritos_vraem_provinces.geojson", "2023", "120609", True),
        # the file is a district layer; the VRAEM stays the shipped exact 2023 zone
        ("juaneladio_peru_distrital_simple.geojson", "2007", "120606", True),
    ],
)
def test_real_districts_place_the_massacre_by_vintage(
    real_data: Path, tmp_path: Path, filename: str, vintage: str, district: str, exact: bool
) -> None:
    path = real_data / "boundaries" / filename
    nb, numbers = run_notebook(
        tmp_path,
        {"CONFLICT_ATLAS_DISTRICTS": str(path), "CONFLICT_ATLAS_DISTRICTS_VINTAGE": vintage},
    )
    assert numbers["reference_event_district"] == district
    assert numbers["boundary_exact"] is exact
    assert numbers["boundary_vintage"] == vintage
    data = load_bundle(districts=path, districts_vintage=vintage, use_cache=False)
    vraem = data.regions[data.regions["region_id"] == VRAEM_ID]
    expected = expected_numbers(data, vraem)
    assert {k: numbers[k] for k in expected} == expected
    placed = data.incidents[data.incidents["geo_precision"].isin(DEFAULT_DRAWN_PRECISIONS)]
    layer = data.districts[data.districts["layer"] == f"district-{vintage}"]
    per = aggregate(placed, layer, snap_km=1.0).sort_values(
        ["incidents", "fatalities"], ascending=False
    )
    assert numbers["top_district"] == per["region_id"].iloc[0]
    assert_labelled(nb)
    if vintage == "2007":
        assert "13 of 24 district codes found" in all_text(nb)  # the 2007 file lacks 11
