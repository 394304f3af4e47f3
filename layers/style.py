"""One style table for both renderers, plus the small text helpers layers share.

Event colours: five at most, checked under simulated deuteranopia, protanopia, tritanopia
and greyscale by tests/test_printmap.py (Machado et al. 2009 matrices, CIELAB distance):
the three violent types in distinct hues and lightness (vermillion, dark purple, amber),
riots and protests one muted blue told apart by shape (square, triangle), strategic and
other grey (diamond). The choropleth uses a single-hue sequential ramp (ColorBrewer
YlOrRd, 5 classes). Point size grows with the square root of fatalities so area, not
radius, tracks the count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from atlas import i18n
from atlas.safety import escape_text
from atlas.schema import EVENT_TYPE_LABELS, EVENT_TYPES
from layers.base import Style

#: One colour per canonical event type; riots/protests share a muted hue (shape differs).
EVENT_COLORS: dict[str, str] = {
    "armed_clash": "#D55E00",  # vermillion
    "violence_against_civilians": "#5E2A84",  # dark purple
    "explosion_remote": "#E6A800",  # amber
    "riot": "#7E9CB8",  # muted blue, square
    "protest": "#7E9CB8",  # muted blue, triangle
    "strategic": "#9A9A9A",  # grey, diamond
    "other": "#9A9A9A",  # grey, diamond
}
#: matplotlib marker per event type on the print page (shape is the second channel).
EVENT_MARKERS: dict[str, str] = {
    "armed_clash": "o",
    "violence_against_civilians": "o",
    "explosion_remote": "o",
    "riot": "s",
    "protest": "^",
    "strategic": "D",
    "other": "D",
}
assert set(EVENT_COLORS) == set(EVENT_TYPES), "one colour per canonical event type"
#: On the screen map every incident is a circle, so the shape cannot tell riots from
#: protests (one muted hue): protests are drawn as rings (white fill, their colour as a
#: thick outline), riots filled, in the map and its legend alike.
SCREEN_RINGS: frozenset[str] = frozenset({"protest"})
#: How a ring is drawn (Leaflet path options; the legend's swatch uses the same).
RING_STYLE: dict[str, object] = {"fillColor": "#ffffff", "weight": 2.5}

#: ColorBrewer YlOrRd, 5 classes (sequential, colour-blind safe).
CHOROPLETH_RAMP: tuple[str, ...] = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")

#: Fatality classes on the print page: (lowest, highest or None) and the dot's diameter in
#: points. 0 and 1 killed differ (3 pt vs 5 pt); each step's area is over twice the last.
FATALITY_CLASSES: tuple[tuple[int, int | None, float], ...] = (
    (0, 0, 3.0),
    (1, 4, 5.0),
    (5, 19, 7.5),
    (20, None, 11.0),
)


def fatality_diameter_pt(fatalities: pd.Series | np.ndarray) -> np.ndarray:
    """Print dot diameter (points) for each fatality count, by :data:`FATALITY_CLASSES`."""
    f = pd.to_numeric(pd.Series(np.atleast_1d(fatalities)), errors="coerce")
    f = f.astype("float64").fillna(0.0).clip(lower=0.0).to_numpy()
    lows = np.array([lo for lo, _, _ in FATALITY_CLASSES], dtype=float)
    sizes = np.array([d for _, _, d in FATALITY_CLASSES])
    return sizes[np.searchsorted(lows, f, side="right") - 1]


#: Fatality counts shown in the size legend.
SIZE_LEGEND_FATALITIES: tuple[int, ...] = (0, 1, 10, 50)

STYLES: dict[str, Style] = {
    "basemap": Style(color="#9e9e9e", fill="#f4f1ea", fill_opacity=1.0, weight=0.8),
    "regions": Style(color="#1b3a5c", weight=2.0),
    "regions_approx": Style(color="#1b3a5c", weight=2.0, dashed=True),
    "points": Style(color="#222222", opacity=0.9, fill_opacity=0.75, weight=0.6),
    "clusters": Style(color="#444444", fill="#7a7a7a", fill_opacity=0.6),
    "heat": Style(color="#bd0026", extra={"radius": 18, "blur": 15, "cmap": "YlOrRd"}),
    "choropleth": Style(color="#555555", fill_opacity=0.7, weight=0.8),
    "hexbins": Style(color="#ffffff", opacity=0.8, fill_opacity=0.65, weight=0.6),
    "coca": Style(color="#2f6b1f", fill="#e8f3dc", opacity=1.0, weight=1.0),
    "reference": Style(color="#000000", fill="#FFD400", weight=1.2, extra={"size": 22}),
}


#: HTML-escape any value for popups, tooltips and labels (one mechanism: atlas.safety).
esc = escape_text


def event_label(event_type: str, lang: str) -> str:
    """Display label of a canonical event type."""
    labels = EVENT_TYPE_LABELS.get(event_type)
    if labels is None:
        return event_type
    return labels.get(lang) or labels["en"]


def event_colors(event_types: pd.Series) -> np.ndarray:
    """Colour per incident (vectorised); unknown types get the 'other' colour."""
    return event_types.map(EVENT_COLORS).fillna(EVENT_COLORS["other"]).to_numpy()


def radius_px(fatalities: pd.Series | np.ndarray | float) -> np.ndarray:
    """Circle radius in pixels: 3 px for 0/unknown, growing with sqrt(fatalities), max 24."""
    f = pd.to_numeric(pd.Series(np.atleast_1d(fatalities)), errors="coerce")
    f = f.astype("float64").fillna(0.0).clip(lower=0.0).to_numpy()
    return np.minimum(3.0 + 2.2 * np.sqrt(f), 24.0)


def mpl_marker_area(fatalities: pd.Series | np.ndarray | float, dpi: float = 100.0) -> np.ndarray:
    """matplotlib ``scatter`` size (points²) matching :func:`radius_px` on screen."""
    r_pt = radius_px(fatalities) * 72.0 / 96.0  # CSS px -> typographic points
    return (2.0 * r_pt) ** 2 * 0.785  # area of a circle of diameter 2r in pt²


def choropleth_bins(values: Iterable[float], k: int = 5) -> list[float]:
    """Up to ``k`` class edges (k+1 numbers) from quantiles, rounded to 'nice' values."""
    arr = np.asarray(pd.to_numeric(pd.Series(list(values)), errors="coerce").dropna(), float)
    if arr.size == 0:
        return [0.0, 1.0]
    lo, hi = float(arr.min()), float(arr.max())
    if hi <= lo:
        return [lo, lo + 1.0]
    qs = np.quantile(arr, np.linspace(0, 1, k + 1))
    edges = sorted({_nice(q) for q in qs[1:-1]} | {lo, hi})
    edges = [e for e in edges if lo <= e <= hi]
    if edges[0] > lo:
        edges.insert(0, lo)
    if edges[-1] < hi:
        edges.append(hi)
    return edges


def _nice(x: float) -> float:
    if x <= 0:
        return 0.0
    mag = 10 ** math.floor(math.log10(x))
    return round(x / mag * 2) / 2 * mag


def bin_colors(values: pd.Series, edges: list[float]) -> np.ndarray:
    """Ramp colour per value for the class edges (NA -> light grey)."""
    arr = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    idx = np.clip(np.searchsorted(edges, arr, side="right") - 1, 0, len(edges) - 2)
    ramp = ramp_for(len(edges) - 1)
    out = np.asarray(ramp, dtype=object)[idx]
    out[np.isnan(arr)] = "#dddddd"
    return out


def ramp_for(n_classes: int) -> tuple[str, ...]:
    """``n_classes`` colours spread over :data:`CHOROPLETH_RAMP`."""
    if n_classes >= len(CHOROPLETH_RAMP):
        return CHOROPLETH_RAMP
    idx = np.linspace(0, len(CHOROPLETH_RAMP) - 1, max(n_classes, 1)).round().astype(int)
    return tuple(CHOROPLETH_RAMP[i] for i in idx)


def fmt_number(x: float, lang: str) -> str:
    """Numbers as the rest of the atlas writes them (atlas.i18n: "35,709" in en and es-PE)."""
    if float(x).is_integer():
        return i18n.fmt_int(x, lang)
    return i18n.fmt_number(x, lang, 1)


__all__ = [
    "CHOROPLETH_RAMP",
    "EVENT_COLORS",
    "EVENT_MARKERS",
    "RING_STYLE",
    "SCREEN_RINGS",
    "FATALITY_CLASSES",
    "STYLES",
    "bin_colors",
    "choropleth_bins",
    "esc",
    "event_colors",
    "event_label",
    "fatality_diameter_pt",
    "fmt_number",
    "mpl_marker_area",
    "radius_px",
    "ramp_for",
]
