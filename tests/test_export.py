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
    assert text.startswith("Map of Test zone (synthetic fixture) showing 6 violent incidents")
    assert "from 2021-01-15 to 2021-08-20" in text
    assert "Most are in La Mar (83%) and Satipo (17%)." in text  # 5 and 1 of 6 drawn
    assert "2 events known only to department or country level are not drawn." in text
    assert "SAMPLE DATA" in text
    assert "approximate" in text


def test_alt_text_spanish_and_real_data_has_no_sample_caveat():
    data = tiny_data(sample=False, approximate=False)
    text = alt_text(MapSpec(lang="es"), data, None)
    assert text.startswith("Mapa de Test zone (synthetic fixture) con 6 incidentes violentos")
    assert "MUESTRA" not in text and "aproximado" not in text


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
BASELINES = {
    "web_sample": (MapSpec(title="Baseline: web", source_line="Source: fixture"), True),
    "column1_real": (MapSpec(title="Baseline: column").with_size("column1"), False),
    "portrait_sample": (MapSpec(title="Baseline: portrait", dek="Dek").with_size("portrait"), True),
}


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a.astype(float) - b.astype(float)) ** 2)))


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_images(name, tmp_path):
    spec, sample = BASELINES[name]
    data = tiny_data(sample=sample, approximate=sample)
    out = export(spec, data, tmp_path / f"{name}.png").path
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
    assert "showing 0 violent incidents (all types) from 2030-01-01 on" in result.alt_text
    from layers.printmap import build_page

    fig = build_page(spec, tiny_data())
    method = next(t for t in fig.texts if t.get_gid() == "method").get_text()
    assert method.startswith("Editor's note: test\n")


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
    """NAME.sources.txt: datasets, caveats (the rivers not drawn among them) and the view."""
    from atlas.data import load_shipped
    from layers.export import export, sources_text_path

    out = tmp_path / "vraem.png"
    spec = MapSpec(title="Sidecar test", bbox=(-75.0, -13.5, -73.0, -11.0))
    export(spec, load_shipped(), out)
    text = sources_text_path(out).read_text(encoding="utf-8")
    assert text.startswith("Sidecar test\n")
    assert "Mantaro, Perené and Urubamba themselves are not drawn" in text
    assert "SYNTHETIC" in text  # the sample's caveat
    assert MapSpec.from_json(text.split("View (MapSpec):\n", 1)[1]) == spec
