"""File export: PNG size + DPI, SVG text, PDF page size, HTML offline, GIF frames, alt text,
and a few baseline images compared with a tolerance.

Baselines: tests/baseline/*.png, drawn from the synthetic bundle in test_printmap.tiny_data
(see tests/baseline/README.md). Regenerate with ``ATLAS_REGEN_BASELINES=1``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_printmap import tiny_data

from atlas.errors import InputError
from atlas.spec import MapSpec
from layers import assets
from layers.export import (
    MAX_FRAMES,
    alt_text,
    alt_text_path,
    animation_ranges,
    export,
)
from layers.printmap import compute_summary
from tests.chromium import launch

BASELINE = Path(__file__).resolve().parent / "baseline"
REGEN = os.environ.get("ATLAS_REGEN_BASELINES") == "1"
#: RMS difference (0..255 per channel) tolerated against a baseline: antialiasing and
#: FreeType versions move edges by a pixel; a moved legend or a missing layer is far above.
RMS_TOLERANCE = 6.0


def test_png_pixel_size_and_dpi(tmp_path):
    spec = MapSpec(title="PNG test").with_size("column1")
    result = export(spec, tiny_data(), tmp_path / "map.png")
    with Image.open(result.path) as im:
        assert im.size == (1063, 800)
        assert im.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert (result.width_px, result.height_px) == (1063, 800)


def test_png_scale_2x_doubles_pixels_and_dpi(tmp_path):
    spec = MapSpec(scale=2)
    result = export(spec, tiny_data(), tmp_path / "map@2x.png")
    with Image.open(result.path) as im:
        assert im.size == (2400, 1350)
        assert im.info["dpi"] == pytest.approx((200, 200), abs=0.01)


def test_svg_keeps_text_as_text(tmp_path):
    spec = MapSpec(title="Violence <& coca> in the VRAEM")
    result = export(spec, tiny_data(), tmp_path / "map.svg")
    svg = result.path.read_text(encoding="utf-8")
    assert "Violence &lt;&amp; coca&gt; in the VRAEM" in svg
    assert "SAMPLE DATA — synthetic incidents, not real events" in svg
    assert 'width="864pt"' in svg  # 1200 px at 100 dpi = 12 in = 864 pt


def _mediabox(pdf: bytes) -> tuple[float, float]:
    match = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert match, "no MediaBox"
    x0, y0, x1, y1 = (float(v) for v in match.groups())
    return x1 - x0, y1 - y0


def test_pdf_page_is_a4_for_the_a4_preset(tmp_path):
    spec = MapSpec(title="A4").with_size("a4")
    result = export(spec, tiny_data(), tmp_path / "map.pdf")
    w_pt, h_pt = _mediabox(result.path.read_bytes())
    mm = 25.4 / 72
    assert w_pt * mm == pytest.approx(210, abs=0.2)
    assert h_pt * mm == pytest.approx(297, abs=0.2)


def test_dense_points_are_rasterized_in_vector_files(tmp_path):
    """Many points go into the PDF as one image, not thousands of vector paths."""
    data = tiny_data(n=3000)
    result = export(MapSpec(), data, tmp_path / "dense.pdf")
    pdf = result.path.read_bytes()
    assert b"/Subtype /Image" in pdf


def test_gif_steps_through_time(tmp_path):
    spec = MapSpec(bucket="month", step_mode="cumulative")
    result = export(spec, tiny_data(), tmp_path / "anim.gif")
    with Image.open(result.path) as im:
        assert im.n_frames == result.frames
        assert im.size == (1200, 675)
    # tiny_data spans 2021-01-15 .. 2021-08-13 + 31 days steps: 8 events, monthly frames
    summary = compute_summary(spec, tiny_data())
    assert result.frames == len(animation_ranges(spec, summary)) > 1


def test_animation_ranges_cumulative_window_and_cap():
    data = tiny_data()
    summary = compute_summary(MapSpec(), data)
    cum = animation_ranges(MapSpec(step_mode="cumulative"), summary)
    win = animation_ranges(MapSpec(step_mode="window"), summary)
    assert all(lo == cum[0][0] for lo, _ in cum)
    assert [hi for _, hi in cum] == [hi for _, hi in win]
    assert win[1][0] == dt.date(2021, 2, 1)
    long = MapSpec(date_from=dt.date(2000, 1, 1), date_to=dt.date(2020, 12, 31), bucket="week")
    frames = animation_ranges(long, summary)
    assert len(frames) <= MAX_FRAMES
    assert frames[0][0] == dt.date(2000, 1, 1) and frames[-1][1] == dt.date(2020, 12, 31)


def test_animation_without_matching_incidents_says_what_to_do():
    summary = compute_summary(MapSpec(date_from=dt.date(2030, 1, 1)), tiny_data())
    with pytest.raises(InputError, match="widen the filters"):
        animation_ranges(MapSpec(date_from=dt.date(2030, 1, 1)), summary)


def test_unknown_extension_and_missing_folder(tmp_path):
    with pytest.raises(InputError, match="map.tiff.*png"):
        export(MapSpec(), tiny_data(), tmp_path / "map.tiff")
    with pytest.raises(InputError, match="does not exist"):
        export(MapSpec(), tiny_data(), tmp_path / "nope" / "map.png")


def test_alt_text_describes_the_view_and_is_written_beside(tmp_path):
    result = export(MapSpec(title="Alt"), tiny_data(), tmp_path / "vraem.png")
    assert result.alt_text_path == tmp_path / "vraem.alt.txt"
    text = result.alt_text_path.read_text(encoding="utf-8").strip()
    assert text == result.alt_text
    assert "\n" not in text  # one paragraph
    # tiny_data draws protests too: they are events, not violent incidents.
    assert text.startswith("Map of Test zone (synthetic fixture) showing 6 events")
    assert "from 2021-01-15 to 2021-08-20" in text
    assert "Most are in La Mar (83%) and Satipo (17%)." in text  # 5 and 1 of 6 drawn
    assert "2 events known only to department or country level are not drawn." in text
    assert "SAMPLE DATA" in text
    assert "approximate" in text


def test_alt_text_spanish_and_real_data_has_no_sample_caveat():
    data = tiny_data(sample=False, approximate=False)
    text = alt_text(MapSpec(lang="es"), data, None)
    assert text.startswith("Mapa de Test zone (synthetic fixture) con 6 eventos")
    assert "MUESTRA" not in text and "aproximado" not in text
    violent = MapSpec(lang="es", event_types=("armed_clash", "violence_against_civilians"))
    assert "con 4 incidentes violentos" in alt_text(violent, data, None)


def test_alt_text_path_naming():
    assert alt_text_path("out/map.png") == Path("out/map.alt.txt")


@pytest.mark.skipif(assets.check_assets() != [], reason="Leaflet assets not installed")
def test_html_export_is_self_contained(tmp_path):
    result = export(MapSpec(title="HTML"), tiny_data(), tmp_path / "map.html")
    html = result.path.read_text(encoding="utf-8")
    scripts = re.findall(r"<script[^>]+src=\"([^\"]+)\"", html)
    links = re.findall(r"<link[^>]+href=\"([^\"]+)\"", html)
    assert scripts == [] and links == []
    assert "L.map(" in html
    assert "SAMPLE" in html  # the sample banner travels with the HTML too
    assert result.alt_text_path.is_file()


# ---- baselines ----------------------------------------------------------------------------
_BASE_TEXTS = {
    "title": "Violence in the VRAEM, 2018–2024",
    "dek": "Clashes, attacks on civilians and explosions around the Apurímac, Ene and Mantaro",
    "notes": "Points are placed at the nearest village.",
    "byline": "Baseline desk",
}
#: name -> (spec, sample): True draws the shipped bundle (its synthetic incidents, SAMPLE);
#: False draws the shipped bundle with tiny_data's 8 made-up, non-synthetic test points.
BASELINES = {
    "web_sample": (MapSpec(**_BASE_TEXTS), True),
    "column1_real": (
        MapSpec(**{**_BASE_TEXTS, "title": "Test fixture points"}).with_size("column1"),
        False,
    ),  # fmt: skip
    "portrait_sample": (MapSpec(**_BASE_TEXTS, lang="es").with_size("portrait"), True),
}


def _baseline_data(sample: bool):
    """The shipped bundle (real basemap, VRAEM, coca, reference event); with
    ``sample=False`` its incidents are swapped for tiny_data's non-synthetic test points."""
    import dataclasses

    from atlas.data import load_shipped

    data = load_shipped()
    if sample:
        return data
    fixture = tiny_data(sample=False, approximate=False)
    return dataclasses.replace(data, incidents=fixture.incidents, sources=fixture.sources + [
        s for s in data.sources if not s.sample])  # fmt: skip


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a.astype(float) - b.astype(float)) ** 2)))


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_images(name, tmp_path):
    spec, sample = BASELINES[name]
    out = export(spec, _baseline_data(sample), tmp_path / f"{name}.png").path
    target = BASELINE / f"{name}.png"
    if REGEN:
        BASELINE.mkdir(exist_ok=True)
        shutil.copyfile(out, target)
        pytest.skip(f"regenerated {target.name}")
    if not target.is_file():
        pytest.fail(f"{target} missing: run with ATLAS_REGEN_BASELINES=1 and look at it")
    got = np.asarray(Image.open(out).convert("RGB"))
    want = np.asarray(Image.open(target).convert("RGB"))
    assert got.shape == want.shape
    rms = _rms(got, want)
    assert rms <= RMS_TOLERANCE, f"{name}: RMS {rms:.2f} > {RMS_TOLERANCE} (see {out})"


def test_baseline_check_detects_a_change(tmp_path):
    """The comparison is not vacuous: dropping the points layer moves the RMS above it."""
    spec, sample = BASELINES["web_sample"]
    data = tiny_data(sample=sample, approximate=sample)
    a = export(spec, data, tmp_path / "a.png").path
    b = export(spec.replace(title="Baseline: a different title"), data, tmp_path / "b.png").path
    rms = _rms(np.asarray(Image.open(a).convert("RGB")), np.asarray(Image.open(b).convert("RGB")))
    assert rms > 0.5
    same = export(spec, data, tmp_path / "c.png").path
    assert (
        _rms(np.asarray(Image.open(a).convert("RGB")), np.asarray(Image.open(same).convert("RGB")))
        == 0.0
    )


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium not installed")
@pytest.mark.skipif(assets.check_assets() != [], reason="Leaflet assets not installed")
def test_html_export_renders_offline_in_chromium(tmp_path):
    """Open the exported file with every non-file request blocked: the map still draws."""
    sync_api = pytest.importorskip("playwright.sync_api")
    result = export(MapSpec(title="Offline"), tiny_data(), tmp_path / "offline.html")
    requested: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()

            def block(route):
                if route.request.url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    requested.append(route.request.url)
                    route.abort()

            page.route("**/*", block)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(result.path.as_uri())
            page.wait_for_selector(".leaflet-container", timeout=15000)
            # prefer_canvas: the vectors are painted on a canvas in the overlay pane
            assert page.locator(".leaflet-overlay-pane canvas").count() >= 1
            painted = page.evaluate(
                """() => {
                  const c = document.querySelector('.leaflet-overlay-pane canvas');
                  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  let n = 0;
                  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
                  return n;
                }"""
            )
            assert painted > 100  # the region outline and the points were painted
            body = page.inner_text("body")
        finally:
            browser.close()
    assert errors == []
    assert requested == []  # nothing tried to leave the machine
    assert "SAMPLE" in body


def test_alt_text_open_ended_period_and_notes_on_the_page(tmp_path):
    spec = MapSpec(date_from=dt.date(2030, 1, 1), notes="Editor's note: test")
    result = export(spec, tiny_data(), tmp_path / "none.png")
    assert "showing 0 events (all types) from 2030-01-01 on" in result.alt_text
    from layers.printmap import build_page

    fig = build_page(spec, tiny_data())
    note = next(t for t in fig.texts if t.get_gid() == "note").get_text().replace("\n", " ")
    assert note.startswith("Note: Editor's note: test 8 events outside the chosen dates")


def test_png_says_what_it_shows_in_its_metadata(tmp_path):
    """The spec and the drawn extent travel inside the PNG (provenance off the face)."""
    import json

    from PIL import Image

    from layers.export import export

    spec = MapSpec(bbox=(-74.6, -12.6, -73.8, -11.9), title="Frame test")
    out = tmp_path / "framed.png"
    export(spec, tiny_data(), out)
    with Image.open(out) as im:
        info = dict(im.text)
    assert info["Software"] == "Conflict Atlas"
    assert json.loads(info["conflict-atlas:spec"])["bbox"] == [-74.6, -12.6, -73.8, -11.9]
    west, south, east, north = (float(v) for v in info["conflict-atlas:extent"].split(","))
    assert west <= -74.6 and east >= -73.8 and south <= -12.6 and north >= -11.9
    assert abs((west + east) / 2 + 74.2) < 1e-6 and abs((south + north) / 2 + 12.25) < 1e-6


def test_sources_sidecar_beside_every_export(tmp_path):
    """NAME.sources.md: the face's words, what gave way, datasets with versions and
    addresses, caveats (the rivers not drawn among them) and the view."""
    from atlas.data import load_shipped
    from layers.export import export, sources_text_path

    out = tmp_path / "vraem.png"
    spec = MapSpec(title="Sidecar <b>test</b>", bbox=(-75.0, -13.5, -73.0, -11.0))
    result = export(spec, load_shipped(), out)
    assert result.sources_path == tmp_path / "vraem.sources.md"
    text = sources_text_path(out).read_text(encoding="utf-8")
    assert text.startswith("# Sidecar &lt;b&gt;test&lt;/b&gt;: Sources and method\n")
    # The reader's title stays text in any Markdown viewer (the spec's JSON is fenced).
    assert "<b>" not in text.split("```json", 1)[0]
    assert "## Left off the page for lack of room\n\n- nothing\n" in text
    assert "<https://ide.inei.gob.pe/>" in text  # addresses live here, not on the face
    assert "Mantaro, Perené and Urubamba themselves are not drawn" in text
    assert "SYNTHETIC" in text  # the sample's caveat
    body = text.split("## The view (MapSpec)\n\n```json\n", 1)[1].rsplit("\n```", 1)[0]
    assert MapSpec.from_json(body) == spec


def test_sidecar_says_what_gave_way_on_a_small_page(tmp_path):
    from atlas.data import load_shipped

    spec = MapSpec(title="Column", dek="A dek that needs room", notes="One. Two.")
    result = export(spec.with_size("column1"), load_shipped(), tmp_path / "c1.png")
    assert result.dropped[:2] == (
        "the dek (no room for it at the minimum type size)",
        "the legend moved onto the map",
    )
    text = result.sources_path.read_text(encoding="utf-8")
    assert "- the dek (no room for it at the minimum type size)\n" in text
    with Image.open(result.path) as im:
        assert "the dek" in im.text["conflict-atlas:dropped"]


PRESETS = ("web", "square", "portrait", "column1", "column2", "a4")
_FACE_FORBIDDEN = re.compile(
    r"https?://|www\.|\.(csv|py|json|geojson|parquet|toml)\b|npm|seed \d|/work/|geodata/",
    re.I,
)


def _svg_texts(svg: str) -> list[tuple[float, str]]:
    """(font size in SVG user units = points, text) of every <text> in the SVG."""
    out = []
    for style, body in re.findall(r"<text[^>]*style=\"([^\"]*)\"[^>]*>([^<]*)", svg):
        size = float(re.search(r"font-size: ([\d.]+)px", style).group(1))
        out.append((size, body))
    return out


def _svg_rect(svg: str, gid: str) -> tuple[float, float]:
    """Width and height of the first path in the group ``gid`` (an axes' background)."""
    group = svg.split(f'<g id="{gid}">', 1)[1]
    path = re.search(r'<path d="([^"]*)"', group).group(1)
    nums = [float(v) for v in re.findall(r"-?[\d.]+", path)]
    xs, ys = nums[0::2], nums[1::2]
    return max(xs) - min(xs), max(ys) - min(ys)


@pytest.mark.parametrize("density", ["auto", "hexagons"])
@pytest.mark.parametrize("preset", PRESETS)
def test_svg_of_every_preset_is_publishable(preset, density, tmp_path):
    """On the SVG a reader gets: the smallest type is 7 pt (print) / 12 px (web), the map
    is at least 60% of the graphic, one "Source:" line, no address or file path on the
    face, and the sidecar beside it. The VRAEM frame, the shipped bundle; with the
    density style chosen by the page (auto) and with hexagons asked for."""
    from atlas.data import load_shipped

    spec = MapSpec(
        density=density,
        title="Violence in the VRAEM",
        dek="Clashes and attacks around the Apurímac, Ene and Mantaro valleys",
        notes="Points are placed at the nearest village.",
        source_line="Desk research",
        byline="Test desk",
    ).with_size(preset)
    result = export(spec, load_shipped(), tmp_path / f"{preset}.svg")
    svg = result.path.read_text(encoding="utf-8")
    w_pt, h_pt = spec.width / spec.dpi * 72, spec.height / spec.dpi * 72
    assert f'viewBox="0 0 {w_pt:g} {h_pt:g}"' in svg
    texts = _svg_texts(svg)
    smallest = min(size for size, body in texts if body.strip())
    if spec.dpi >= 200:
        assert smallest >= 7.0 - 1e-6, smallest
    else:
        assert smallest * spec.dpi / 72 >= 12.0 - 1e-6, smallest * spec.dpi / 72
    map_w, map_h = _svg_rect(svg, "map")
    assert map_w * map_h / (w_pt * h_pt) >= 0.60
    sources = [body for _, body in texts if body.startswith("Source:")]
    assert len(sources) == 1 and sources[0].startswith("Source: Desk research; synthetic")
    assert "INEI 2023" in " ".join(body for _, body in texts)
    face = " ".join(body for _, body in texts)
    assert not _FACE_FORBIDDEN.search(face), _FACE_FORBIDDEN.search(face).group(0)
    assert "SAMPLE DATA" in face
    # Map labels have a white halo, so the SVG holds them as outlines in named groups;
    # their wording is checked on the figure (test_printmap).
    assert 'id="reference-label"' in svg
    assert result.sources_path.is_file()
    assert "<dc:source>Source: Desk research;" in svg  # and in the file's metadata
    if density == "hexagons":  # the legend's classes and the note say what is drawn
        assert "Incidents per hexagon" in face
        # the note's sentence, unless the note gave way for room (then the page says so)
        assert "counts the events of every type" in face or any("note" in d for d in result.dropped)
        side = result.sources_path.read_text(encoding="utf-8")
        assert "Drawing: hexagons about" in side


def test_two_app_views_export_two_frames_centred_where_the_views_were(tmp_path):
    """What you see is what you export: the recorded view's centre is the map's centre,
    the view is all inside, widened only to the preset's shape."""
    from PIL import Image

    from atlas.data import load_shipped

    data = load_shipped()
    views = [(-74.6, -12.9, -73.6, -12.1), (-75.3, -13.4, -74.9, -13.0)]
    extents = []
    for i, bbox in enumerate(views):
        out = export(MapSpec(bbox=bbox), data, tmp_path / f"v{i}.png").path
        with Image.open(out) as im:
            extents.append([float(v) for v in im.text["conflict-atlas:extent"].split(",")])
    for (w, s_, e, n), (x0, y0, x1, y1) in zip(views, extents, strict=True):
        assert (x0 + x1) / 2 == pytest.approx((w + e) / 2, abs=1e-4)
        assert (y0 + y1) / 2 == pytest.approx((s_ + n) / 2, abs=1e-4)
        assert x0 <= w and x1 >= e and y0 <= s_ and y1 >= n
        # widened in one direction only: the other fits exactly
        assert x1 - x0 == pytest.approx(e - w, rel=1e-4) or y1 - y0 == pytest.approx(
            n - s_, rel=1e-4
        )
    assert extents[0] != extents[1]


def test_pdf_embeds_the_house_font_and_svg_names_it(tmp_path, monkeypatch):
    """An operator's font (here matplotlib's own DejaVu Serif file, a real TrueType font)
    is embedded in the PDF and named as the family in the SVG."""
    from pathlib import Path as _P

    import matplotlib

    from atlas.fonts import FONTS_ENV

    ttf = _P(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSerif.ttf"
    monkeypatch.setenv(FONTS_ENV, f"DejaVu Serif={ttf}")
    spec = MapSpec(title="Font test", font="DejaVu Serif")
    pdf = export(spec, tiny_data(), tmp_path / "f.pdf").path.read_bytes()
    assert b"/FontFile2" in pdf and b"DejaVuSerif" in pdf
    svg = export(spec, tiny_data(), tmp_path / "f.svg").path.read_text(encoding="utf-8")
    assert "font-family: 'DejaVu Serif'" in svg
    assert "font-family: 'DejaVu Sans'" not in svg


def test_a_missing_or_fake_font_file_is_named(tmp_path):
    from atlas.fonts import font_family_name

    with pytest.raises(InputError, match=r"font file .*nope\.ttf: .*not found"):
        font_family_name(tmp_path / "nope.ttf")
    fake = tmp_path / "fake.ttf"
    fake.write_text("<html>not a font</html>", encoding="utf-8")
    with pytest.raises(InputError, match=r"font file .*fake\.ttf: fake\.ttf is not a font"):
        font_family_name(fake)
    truncated = tmp_path / "cut.ttf"
    truncated.write_bytes(b"\x00\x01\x00\x00" + b"\x00" * 20)
    with pytest.raises(InputError, match=r"font file .*cut\.ttf: cut\.ttf is not a usable font"):
        font_family_name(truncated)


def test_hostile_title_and_callout_stay_text_in_svg(tmp_path):
    from atlas.spec import Callout

    spec = MapSpec(
        title="<script>alert(1)</script> {{ 7*7 }} $x^2$",
        callouts=(Callout(text="<svg onload=x> {% raw %} $\\alpha$", lon=-73.9, lat=-12.2),),
    )
    svg = export(spec, tiny_data(), tmp_path / "h.svg").path.read_text(encoding="utf-8")
    assert "<script" not in svg and "<svg onload" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} $x^2$" in svg
    # The callout has a halo: drawn as outlines in its group, never as markup.
    assert 'id="callout"' in svg


def test_spanish_export_is_spanish_with_accents(tmp_path):
    from atlas.data import load_shipped

    spec = MapSpec(lang="es", title="Violencia en el VRAEM", byline="Mesa de datos")
    result = export(spec, load_shipped(), tmp_path / "es.svg")
    face = " ".join(body for _, body in _svg_texts(result.path.read_text(encoding="utf-8")))
    for word in ("Fuente: incidentes sintéticos de MUESTRA", "Mapa: Mesa de datos",
                 "Enfrentamiento armado", "Muertos por evento",
                 "Coca 2022, ha por departamento"):  # fmt: skip
        assert word in face, word
    for english in ("Source:", "People killed", "Armed clash", "killed", "Note:"):
        assert english not in face, english
    assert "Junín" in result.alt_text and "Junin " not in result.alt_text
    assert "eventos" in result.alt_text and "zona de monitoreo de coca" in result.alt_text.lower()
    md = result.sources_path.read_text(encoding="utf-8")
    assert "## Conjuntos de datos" in md and "## Advertencias" in md


def test_top_places_equal_a_plain_value_counts_ties_included() -> None:
    """The alt text's "Most are in …" looks each distinct name up once; its ranking is the
    plain one (every name spelled officially, then value_counts), ties included."""
    import random

    import pandas as pd

    from atlas.i18n import place_name
    from layers.export import _fold, _top_places

    rng = random.Random(7)
    pool = ["Junin", "Junín", "Satipo", "La Convencion", "Huanta", "Pangoa", "Rio Tambo", "X"]
    official = {"junin": "Junín", "la convencion": "La Convención"}
    for trial in range(400):
        size = rng.randint(1, 40)
        names = pd.Series([rng.choice(pool[: rng.randint(1, len(pool))]) for _ in range(size)],
                          dtype="string")  # fmt: skip
        off = official if trial % 2 else None
        plain = names.map(lambda n, off=off: off.get(_fold(n), n)) if off else names
        want = plain.map(place_name).value_counts().head(3)
        got = _top_places(names, off)
        assert list(got.index) == list(want.index) and list(got) == list(want), list(names)
