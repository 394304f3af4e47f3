"""The HTML export's page (layers.htmlpage) and the callouts (layers.callouts), read from
the written file with the standard library's HTML parser: title, dek, note, source line,
byline, credits, page <title>, legend cap, land and sea colours, callouts placed and
inert. The page as a reader sees it: tests/browser/test_export_html_page.py."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from test_printmap import tiny_data

from atlas.i18n import t
from atlas.spec import Callout, MapSpec
from layers import basemap
from layers.callouts import js_string, place_callouts
from layers.export import export

HOSTILE = "<img src=x onerror=alert(1)> {{ 7*7 }} </script><svg onload=alert(2)> ${1+1}`"


class _Page(HTMLParser):
    """Text per element of interest, and every tag seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.texts: dict[str, str] = {}
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag not in ("meta", "link", "br", "img", "input"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] == "script":
            self.scripts.append(data)
        for tag, a in self.stack:  # the text of every open element, by tag and class
            for key in dict.fromkeys([tag, *(a.get("class") or "").split()]):
                self.texts[key] = self.texts.get(key, "") + data


def _export(spec: MapSpec, tmp_path, data=None) -> tuple[str, _Page]:
    out = tmp_path / "map.html"
    export(spec, data or tiny_data(), out)
    html = out.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    return html, page


SPEC = MapSpec(
    title="Violence in the VRAEM, 2021",
    dek="Armed clashes cluster along the Ene.",
    notes="Counts are preliminary.",
    source_line="ACLED, accessed 2026-11-01",
    byline="Ana Quispe / Conflict Atlas",
)


def test_html_export_carries_its_texts(tmp_path):
    html, page = _export(SPEC, tmp_path)
    assert page.texts["title"] == SPEC.title  # the page's <title>
    assert page.texts["h1"] == SPEC.title
    assert page.texts["atlas-dek"] == SPEC.dek
    assert page.texts["atlas-note"] == f"Note: {SPEC.notes}"
    source = page.texts["atlas-source"]
    assert source.startswith("Source: ACLED, accessed 2026-11-01; ")  # the reader's first
    assert "Test incidents (synthetic fixture)" in source  # then the datasets drawn
    assert source.count("Source:") == 1
    assert page.texts["atlas-byline"] == "Map: Ana Quispe / Conflict Atlas"
    made_with = page.texts["atlas-credits"]
    assert "Leaflet" in made_with and "folium" in made_with
    # header before the map, footer after it, in the document's order
    head = html.index("atlas-page-head'>")
    map_div = html.index('<div class="folium-map"')
    foot = html.index("<footer class='atlas-page-foot'>")
    assert head < map_div < foot


def test_html_export_in_spanish(tmp_path):
    _, page = _export(SPEC.replace(lang="es"), tmp_path)
    assert page.texts["atlas-note"].startswith("Nota: ")
    assert page.texts["atlas-source"].startswith("Fuente: ACLED")
    assert page.texts["atlas-byline"].startswith("Mapa: ")
    assert t("html_credits_title", "es") in page.texts["atlas-credits"]


def test_html_export_without_texts_has_a_page_title_and_credits(tmp_path):
    _, page = _export(MapSpec(), tmp_path)
    assert page.texts["title"] == t("html_default_title", "en")
    assert "h1" not in page.texts and "atlas-byline" not in page.texts
    assert "Leaflet" in page.texts["atlas-credits"]


def test_hostile_page_texts_stay_text(tmp_path):
    spec = MapSpec(title=HOSTILE, dek=HOSTILE, notes=HOSTILE, source_line=HOSTILE, byline=HOSTILE)
    html, page = _export(spec, tmp_path)
    assert page.texts["title"] == HOSTILE
    assert page.texts["h1"] == HOSTILE
    assert page.texts["atlas-dek"] == HOSTILE
    assert HOSTILE in page.texts["atlas-byline"]
    assert not any(tag in ("img", "svg") and "onerror" in str(a) + str(a.get("onload"))
                   for tag, a in page.tags)  # fmt: skip
    assert not any(a.get("onload") or a.get("onerror") for _, a in page.tags)
    assert "49" not in page.texts["h1"]  # the Jinja braces were not evaluated


def test_land_and_sea_are_distinct_colours(tmp_path):
    """On screen the sea is a clear light blue beside the land's warm greys: CIE76 ΔE of
    at least 15 (10 was the old pair's, 'nearly the same' to the graphics desk)."""
    html, _ = _export(MapSpec(), tmp_path)
    assert f"div.leaflet-container{{background:{basemap.SEA}}}" in html
    for land in (basemap.LAND, basemap.LAND_OTHER):
        assert _delta_e(basemap.SEA, land) >= 15, land
    # the land fill is in the page's GeoJSON (tiny_data's countries are all neighbours)
    assert f'"{basemap.LAND_OTHER}"' in html


def _delta_e(a: str, b: str) -> float:
    def lab(h: str):
        c = [int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        c = [((v + 0.055) / 1.055) ** 2.4 if v > 0.04045 else v / 12.92 for v in c]
        x = (0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2]) / 0.95047
        y = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
        z = (0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2]) / 1.08883

        def f(v: float) -> float:
            return v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116

        return (116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z)))

    la, lb = lab(a), lab(b)
    return sum((p - q) ** 2 for p, q in zip(la, lb, strict=True)) ** 0.5


def test_legend_is_capped_and_collapsible(tmp_path):
    html, page = _export(MapSpec(), tmp_path)
    css = re.search(r"div\.atlas-legend \{max-width: (\d+)px; max-height: (\d+)px;\}", html)
    assert css is not None
    w, h = int(css.group(1)), int(css.group(2))
    assert w * h <= 0.20 * 1200 * 675  # the cap itself is under a fifth of the web map
    assert "<details class=\\'atlas-legend-body\\' open>" in html or (
        "atlas-legend-body' open>" in html.replace("\\'", "'")
    )


def test_callouts_are_placed_by_coordinates_or_region():
    data = tiny_data()
    rid = str(data.regions["region_id"].iloc[0])
    spec = MapSpec(callouts=(Callout("Here", lon=-74.1, lat=-12.3),
                             Callout("Zone", region_id=rid, leader=False),
                             Callout("Nowhere", region_id="no-such-region")))  # fmt: skip
    placed, missing = place_callouts(spec, data)
    assert [(c.text, c.leader) for c in placed] == [("Here", True), ("Zone", False)]
    assert (placed[0].lon, placed[0].lat) == (-74.1, -12.3)
    geom = data.regions.geometry.iloc[0]
    from shapely.geometry import Point

    assert geom.contains(Point(placed[1].lon, placed[1].lat))
    assert missing == ["no-such-region"]


def test_callout_text_is_a_js_string_without_markup_or_braces():
    literal = js_string(HOSTILE)
    assert not set("<>&{}") & set(literal)
    assert json.loads(literal) == HOSTILE  # \\u escapes are JSON too: the text is intact


def test_callouts_in_the_html_export_stay_text(tmp_path):
    spec = MapSpec(callouts=(Callout(HOSTILE, lon=-74.0, lat=-12.2),
                             Callout("Pichari", lon=-73.93, lat=-12.52, leader=False)))  # fmt: skip
    html, page = _export(spec, tmp_path)
    script = next(s for s in page.scripts if "AtlasCallouts" in s or "var items" in s)
    items = json.loads(re.search(r"var items = (\[.*?\]);\n", script).group(1))
    assert items == [[-12.2, -74.0, HOSTILE, 1], [-12.52, -73.93, "Pichari", 0]]
    assert "textContent = c[2]" in script  # set as text, never as HTML
    assert "49" not in json.dumps(items)
    assert t("layer_callouts", "en") in html  # its own layer in the layer control


@pytest.mark.parametrize("lang", ["en", "es"])
def test_callouts_group_is_named_in_the_readers_language(lang):
    from layers.compose import build_groups

    spec = MapSpec(lang=lang, callouts=(Callout("x", lon=-74.0, lat=-12.0),))
    groups = build_groups(spec, tiny_data(), assets="cdn")
    assert groups[-1].layer_name == t("layer_callouts", lang)
