"""The HTML export as its reader sees it (Debian's chromium, every non-file request
blocked): the page's texts and <title>, the map at 1200x675 with a legend under a fifth
of it that folds, callouts shown as their letters (markup, script and Jinja braces
inert), land and sea apart."""

from __future__ import annotations

import pytest

from atlas.data import load_shipped
from atlas.spec import Callout, MapSpec
from layers import basemap
from layers.export import export
from layers.htmlpage import LEGEND_MAX_SHARE

from .conftest import frame_dialogs

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)> {{ 7*7 }} </script><svg onload=alert(2)> ${1+1}`"
SPEC = MapSpec(
    title="Violence in the VRAEM (sample data)",
    dek="Clashes and attacks on civilians, 2018-2024, on synthetic sample incidents.",
    notes="The incidents are synthetic.",
    source_line="Conflict Atlas sample",
    byline="Ana Quispe / Conflict Atlas",
    callouts=(
        Callout("San Miguel del Ene: 16 killed, 23 May 2021", lon=-74.02709, lat=-12.186019),
        Callout(HOSTILE, lon=-73.93, lat=-12.52, leader=False),
    ),
)

#: What the page shows: texts, boxes, the legend and the callouts as rendered.
PROBE = """
() => {
  const box = el => { const r = el.getBoundingClientRect();
                      return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const q = s => document.querySelector(s);
  return {
    title: document.title,
    h1: q('.atlas-page-head h1').innerText,
    dek: q('.atlas-dek').innerText,
    note: q('.atlas-note').innerText,
    source: q('.atlas-source').innerText,
    byline: q('.atlas-byline').innerText,
    credits: q('.atlas-credits summary').innerText,
    head: box(q('.atlas-page-head')),
    foot: box(q('.atlas-page-foot')),
    map: box(q('.folium-map')),
    legend: box(q('.atlas-legend')),
    callouts: Array.from(document.querySelectorAll('.atlas-callout')).map(e => e.innerText),
    callout_children: document.querySelectorAll('.atlas-callout span *').length,
    sea: getComputedStyle(q('.leaflet-container')).backgroundColor,
  };
}
"""


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i : i + 2], 16) for i in (0, 2, 4)))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "vraem.html"
    export(SPEC, load_shipped(), out)
    return out


def test_html_export_page_texts_legend_and_callouts(offline_page, exported):
    page = offline_page.page
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(exported.as_uri(), wait_until="load")
    page.wait_for_selector(".atlas-legend")
    page.wait_for_selector(".atlas-callout")
    first = page.evaluate(PROBE)
    # size the window so the map itself is the web preset, 1200x675
    chrome = first["head"]["h"] + first["foot"]["h"]
    page.set_viewport_size({"width": 1200, "height": round(675 + chrome)})
    page.wait_for_timeout(300)
    shown = page.evaluate(PROBE)

    assert shown["title"] == SPEC.title
    assert shown["h1"] == SPEC.title and shown["dek"] == SPEC.dek
    assert shown["note"] == f"Note: {SPEC.notes}"
    assert shown["source"].startswith("Source: Conflict Atlas sample; Sample incidents")
    assert shown["byline"] == f"Map: {SPEC.byline}"
    assert shown["credits"] == "Credits and data"
    assert shown["head"]["y"] + shown["head"]["h"] <= shown["map"]["y"] + 1
    assert shown["map"]["y"] + shown["map"]["h"] <= shown["foot"]["y"] + 1
    assert abs(shown["map"]["w"] - 1200) <= 1 and abs(shown["map"]["h"] - 675) <= 2, shown["map"]

    legend = shown["legend"]["w"] * shown["legend"]["h"]
    area = shown["map"]["w"] * shown["map"]["h"]
    assert 0 < legend <= LEGEND_MAX_SHARE * area, (shown["legend"], legend / area)
    # collapsible: the summary folds the entries, the SAMPLE banner stays
    page.locator(".atlas-legend summary").click()
    folded = page.evaluate(PROBE)["legend"]
    assert folded["h"] < shown["legend"]["h"] / 2, (folded, shown["legend"])
    assert page.locator(".atlas-legend-banner").first.is_visible()
    page.locator(".atlas-legend summary").click()

    # callouts: both drawn, the hostile one as its letters, nothing injected
    assert shown["callouts"] == [SPEC.callouts[0].text, HOSTILE], shown["callouts"]
    assert shown["callout_children"] == 0  # each text is one text node in its span
    assert page.locator("img[src=x]").count() == 0
    assert "49" not in " ".join(shown["callouts"])
    page.wait_for_timeout(500)  # an onerror/onload handler would have fired by now
    assert offline_page.dialogs == [] and frame_dialogs(page) == []

    # land and sea apart: the container (the sea) is the screen's sea colour
    assert shown["sea"] == _rgb(basemap.SEA)
    assert offline_page.errors == [], offline_page.errors
    assert offline_page.blocked == [], offline_page.blocked


def test_html_export_page_in_spanish(offline_page, tmp_path):
    out = tmp_path / "vraem_es.html"
    export(SPEC.replace(lang="es", callouts=()), load_shipped(), out)
    page = offline_page.page
    page.goto(out.as_uri(), wait_until="load")
    page.wait_for_selector(".atlas-legend")
    shown = page.evaluate(
        """() => ({note: document.querySelector('.atlas-note').innerText,
                   source: document.querySelector('.atlas-source').innerText,
                   byline: document.querySelector('.atlas-byline').innerText,
                   credits: document.querySelector('.atlas-credits summary').innerText,
                   legend: document.querySelector('.atlas-legend').innerText})"""
    )
    assert shown["note"].startswith("Nota: ")
    assert shown["source"].startswith("Fuente: ")
    assert shown["byline"].startswith("Mapa: ")
    assert shown["credits"] == "Créditos y datos"
    assert "DATOS DE MUESTRA" in shown["legend"]
    assert offline_page.errors == [] and offline_page.blocked == []
