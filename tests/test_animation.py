"""GIF and MP4 (layers.animation): the page drawn once, only the time-bound layers per
frame; one GIF palette that keeps the basemap's colours; reference events from their
date; MP4 through imageio-ffmpeg's own binary, read back frame by frame.

The shipped bundle (real basemap, the San Miguel del Ene reference event of 23 May 2021)
with the sample incidents of 2021, stepped by quarter: four frames, the first one
(January-March) before the reference event.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from PIL import Image

from atlas.data import load_shipped
from atlas.spec import MapSpec
from layers import animation
from layers.basemap import LAND, LAND_OTHER, SEA
from layers.export import export
from layers.style import STYLES

SPEC = MapSpec(date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 12, 31), bucket="quarter")
REFERENCE_DATE = dt.date(2021, 5, 23)


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.int16)


@pytest.fixture(scope="module")
def shipped():
    return load_shipped()


@pytest.fixture(scope="module")
def frames(shipped):
    return animation.render_frames(SPEC, shipped)


@pytest.fixture(scope="module")
def gif(shipped, tmp_path_factory):
    out = tmp_path_factory.mktemp("anim") / "vraem.gif"
    result = export(SPEC, shipped, out)
    images = []
    with Image.open(out) as im:
        for i in range(im.n_frames):
            im.seek(i)
            images.append(np.asarray(im.convert("RGB")))
    return result, images


def test_the_page_is_drawn_once_and_only_the_map_changes(frames):
    """Outside the map every frame is the base page pixel for pixel (title, legend,
    inset, text are drawn once); inside it, the frames differ from each other."""
    assert [hi for _, hi in frames.ranges] == [
        dt.date(2021, 3, 31), dt.date(2021, 6, 30), dt.date(2021, 9, 30), dt.date(2021, 12, 31)
    ]  # fmt: skip
    x0, y0, x1, y1 = frames.map_box
    outside = np.ones(frames.base.shape[:2], dtype=bool)
    outside[y0:y1, x0:x1] = False
    assert outside.sum() > 0.2 * outside.size  # the panel and the header are outside
    for img in frames.images:
        assert np.array_equal(img[outside], frames.base[outside])
    inside = [img[y0:y1, x0:x1] for img in frames.images]
    assert not np.array_equal(inside[0], inside[-1])  # incidents accumulate
    # the base itself has no incidents: the last frame adds many pixels to it
    added = np.any(inside[-1] != frames.base[y0:y1, x0:x1], axis=2).mean()
    assert added > 0.01


def _map_colours(frames, n: int) -> list[np.ndarray]:
    """The ``n`` commonest colours of the base page's map: land, coca shades, sea..."""
    x0, y0, x1, y1 = frames.map_box
    pixels = frames.base[y0:y1, x0:x1].reshape(-1, 3)
    values, counts = np.unique(pixels, axis=0, return_counts=True)
    return [values[i].astype(np.int16) for i in np.argsort(-counts)[:n]]


def test_gif_keeps_the_basemap_colours(frames, gif):
    """Every pixel of the map's ten commonest base colours (the coca greens, land, the
    focus zone, sea) that no incident covers keeps its exact colour in every GIF frame
    (the old adaptive palette turned the land pink)."""
    result, images = gif
    assert result.frames == len(images) == len(frames.images) == 4
    x0, y0, x1, y1 = frames.map_box
    base = frames.base.astype(np.int16)
    checked = 0
    for colour in _map_colours(frames, 10):
        is_colour = np.all(base == colour, axis=2)
        for rendered, shown in zip(frames.images, images, strict=True):
            untouched = is_colour & np.all(rendered == frames.base, axis=2)
            assert np.all(shown[untouched] == colour), colour
            checked += int(untouched[y0:y1, x0:x1].sum())
    assert checked > 0.5 * 4 * (x1 - x0) * (y1 - y0)  # most of the map, in every frame
    # and the land colours of the style are among the GIF's colours where drawn
    for colour in (LAND, LAND_OTHER, SEA):
        where = np.all(base == _rgb(colour), axis=2)
        if where.any():
            assert np.all(images[0][where & np.all(frames.images[0] == frames.base, axis=2)]
                          == _rgb(colour))  # fmt: skip


def test_gif_frames_are_close_to_what_was_drawn(frames, gif):
    """The palette serves the incidents too: the GIF is within a few levels of the
    drawn frames on average, also where incidents were drawn."""
    _, images = gif
    x0, y0, x1, y1 = frames.map_box
    for rendered, shown in zip(frames.images, images, strict=True):
        diff = np.abs(rendered.astype(np.int16) - shown.astype(np.int16))
        assert diff.mean() < 2.0
        changed = np.any(rendered != frames.base, axis=2)
        if changed.any():
            assert diff[changed].mean() < 12.0


def _star_pixels(img: np.ndarray, box: tuple[int, int, int, int]) -> int:
    x0, y0, x1, y1 = box
    fill = _rgb(STYLES["reference"].fill)
    near = np.abs(img[y0:y1, x0:x1].astype(np.int16) - fill).sum(axis=2) < 40
    return int(near.sum())


def test_reference_event_appears_only_from_its_date(frames, gif):
    """The star of San Miguel del Ene (23 May 2021) is not on the map in January-March
    and is there from the frame that reaches its date, in the GIF as drawn."""
    _, images = gif
    assert frames.ranges[0][1] < REFERENCE_DATE <= frames.ranges[1][1]
    drawn = [_star_pixels(img, frames.map_box) for img in frames.images]
    shown = [_star_pixels(img, frames.map_box) for img in images]
    assert drawn[0] == 0 and shown[0] == 0, (drawn, shown)
    assert all(n > 20 for n in drawn[1:]), drawn
    assert all(n > 20 for n in shown[1:]), shown
    assert _star_pixels(frames.base, frames.map_box) == 0  # not in the base either
    # its label ("San Miguel del Ene, 23 May 2021: 16 killed", dark text on a halo) too:
    # every frame carries its date stamp; from the event's frame on, the label adds ~600
    # dark pixels
    dark = [_dark_pixels(img, frames.map_box) for img in frames.images]
    assert all(n - dark[0] > 300 for n in dark[1:]), dark
    assert max(dark[1:]) - min(dark[1:]) < 200, dark


def _dark_pixels(image: np.ndarray, box: tuple[int, int, int, int]) -> int:
    x0, y0, x1, y1 = box
    return int(np.all(image[y0:y1, x0:x1] < 40, axis=2).sum())


def test_mp4_is_written_and_readable(shipped, frames, tmp_path):
    """H.264 through imageio-ffmpeg's bundled binary, read back with the same package:
    even frame size, every frame held FRAME_MS (the last one longer), the map's land in
    its colour up to the encoder's rounding."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    out = tmp_path / "vraem.mp4"
    result = export(SPEC, shipped, out)
    assert result.format == "mp4" and result.frames == 4
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    w, h = meta["size"]
    assert (w, h) == (1200, 676)  # 675 padded to an even height
    assert meta["codec"] == "h264"
    decoded = [np.frombuffer(buf, np.uint8).reshape(h, w, 3) for buf in reader]
    repeat = round(animation.FRAME_MS * animation.MP4_FPS / 1000)
    assert len(decoded) == repeat * (3 + animation.HOLD_LAST)
    common = _map_colours(frames, 1)[0]
    land = np.all(frames.base == common.astype(np.uint8), axis=2)
    last = decoded[-1][:675]
    untouched = land & np.all(frames.images[-1] == frames.base, axis=2)
    err = np.abs(last[untouched].astype(np.int16) - common).mean()
    assert untouched.sum() > 1000 and err < 6.0, err
    first = decoded[0][:675].astype(np.int16)
    assert np.abs(first - frames.images[0]).mean() < 6.0
