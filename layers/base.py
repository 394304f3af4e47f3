"""Layer base class, shared style and the explicit registry.

Each layer kind lives in its own module with one class. A layer draws itself both ways
from the same :class:`Style` entry, so an exported image shows what the map shows.
Layers never reproject: they receive EPSG:4326 frames and metric work is done in atlas.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    import folium
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec


@dataclass(frozen=True)
class LegendEntry:
    """One legend line: ``kind`` is 'point', 'star', 'line', 'patch', 'gradient' or
    'heading' (a label without a symbol)."""

    label: str
    kind: str
    color: str
    edgecolor: str = ""
    size: float = 8.0
    dashed: bool = False
    #: On the live map only: "out" / "in" = shown when zoomed out / in (see
    #: layers.choropleth.ZoomSwitch); "" = always.
    zoom: str = ""
    #: A point drawn as a ring (white fill, ``color`` as a thick outline): style.SCREEN_RINGS.
    ring: bool = False


@dataclass(frozen=True)
class Style:
    """Colours and sizes one layer uses on both renderers."""

    color: str = "#333333"
    fill: str = ""
    opacity: float = 1.0
    fill_opacity: float = 0.0
    weight: float = 1.5
    dashed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Layer:
    """Base class: subclasses set ``name`` / ``title`` and implement the three methods."""

    name: ClassVar[str] = ""
    title: ClassVar[dict[str, str]] = {"en": "", "es": ""}
    #: False when the layer draws nothing from ``data.incidents``: its map group is then
    #: kept across filter changes (``layers.compose.plan_groups``).
    reads_incidents: ClassVar[bool] = True

    def __init__(self, **options: Any) -> None:
        self.options = options

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        raise NotImplementedError

    def live_legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        """The legend lines of what :meth:`to_folium` draws (by default the print ones)."""
        return self.legend_entries(data, spec)

    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        raise NotImplementedError

    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        raise NotImplementedError


#: name -> Layer class, in draw order. Filled explicitly by layers/registry.py.
REGISTRY: dict[str, type[Layer]] = {}


class FrameMemo:
    """A few answers per set of long-lived frames (the shared data's regions, districts):
    keyed by the frames' identity and ``extra``, and only while those very frames live (a
    weak reference to each; a new frame, even with the same content, is a new key). The
    oldest of ``size`` answers goes first. Callers must not change the frames they pass
    or what they get back. Sessions run in threads: two runs computing the same answer at
    once compute the same thing."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()

    def get(self, frames: tuple[Any, ...], extra: str, compute: Callable[[], Any]) -> Any:
        import weakref

        key = (tuple(id(f) for f in frames), extra)
        hit = self._items.get(key)
        if hit is not None and all(r() is f for r, f in zip(hit[0], frames, strict=True)):
            return hit[1]
        value = compute()
        refs = tuple(weakref.ref(f) if f is not None else (lambda: None) for f in frames)
        self._items[key] = (refs, value)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def answers(self) -> list[Any]:
        """The answers kept now, oldest first (for tests)."""
        return [value for _refs, value in self._items.values()]

    def clear(self) -> None:
        self._items.clear()


class PointsMemo:
    """A few answers per point set: the map layer and its legend (or a panel) ask the same
    question of the same view in one page run. Keyed by the points' coordinates and
    ``extra`` (what else the answer depends on); the oldest of ``size`` answers goes first.
    Callers must not change what they get back."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[str, Any] = OrderedDict()
        # id(geometry array) -> (a weak reference to it, its coordinates' digest)
        self._coords: OrderedDict[int, tuple[Any, str]] = OrderedDict()

    def _coords_digest(self, points: Any) -> str:
        """The digest of the points' coordinates, worked out once per geometry array (the
        layer and its legend ask about the same array in one run: at 1M points reading the
        coordinates and hashing them again took ~0.15 s). Arrays are read only here."""
        import weakref

        import numpy as np

        array = getattr(points, "array", None)
        known = self._coords.get(id(array)) if array is not None else None
        if known is not None and known[0]() is array:
            return known[1]
        xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
        digest = hashlib.sha1(xy.tobytes()).hexdigest()
        if array is not None:
            self._coords[id(array)] = (weakref.ref(array), digest)
            while len(self._coords) > 2 * self.size:
                self._coords.popitem(last=False)
        return digest

    def get(self, points: Any, extra: str, compute: Callable[[], Any]) -> Any:
        digest = hashlib.sha1(f"{self._coords_digest(points)}|{extra}".encode()).hexdigest()
        hit = self._items.get(digest)
        if hit is None:
            hit = self._items[digest] = compute()
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return hit
