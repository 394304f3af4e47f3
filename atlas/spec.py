"""MapSpec: one plain, serialisable description of a view.

The app's URL query string, the export dialog and the CLI's spec file (JSON or TOML) are
all a MapSpec. Parsing is strict about types and lenient about noise: an unknown key is
ignored, a bad value raises :class:`~atlas.errors.InputError` naming the key, and
anything a URL can carry is bounded (lengths, counts, ranges), because anyone can craft a
URL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from atlas.errors import InputError
from atlas.schema import DATE_PRECISIONS, DEFAULT_DRAWN_PRECISIONS, EVENT_TYPES, GEO_PRECISIONS

#: Layers a view can switch on, in draw order (bottom to top).
LAYER_NAMES: tuple[str, ...] = (
    "basemap",
    "choropleth",
    "regions",
    "coca",
    "heat",
    "clusters",
    "points",
    "reference",
)
DEFAULT_LAYERS: tuple[str, ...] = ("basemap", "regions", "coca", "points", "reference")

#: Export size presets: name -> (width px, height px, dpi).
SIZE_PRESETS: dict[str, tuple[int, int, int]] = {
    "web": (1200, 675, 100),
    "square": (1080, 1080, 100),
    "portrait": (1080, 1350, 100),
    "column1": (1063, 800, 300),  # 90 mm single print column at 300 dpi
    "column2": (2268, 1600, 300),  # 192 mm double column at 300 dpi
    "a4": (2480, 3508, 300),  # A4 portrait at 300 dpi
    "custom": (1200, 675, 100),
}
BASEMAPS: tuple[str, ...] = ("outlines", "osm", "carto")
BUCKETS: tuple[str, ...] = ("week", "month", "year")
STEP_MODES: tuple[str, ...] = ("cumulative", "window")
METRICS: tuple[str, ...] = ("count", "per_area")
LANGS: tuple[str, ...] = ("en", "es")

_MAX_TEXT = 500
_MAX_ITEMS = 50


@dataclass(frozen=True)
class MapSpec:
    """A view: filters, layers, editorial text, size and basemap.

    Dates are inclusive calendar days; ``None`` means open-ended. Empty tuples in
    ``event_types`` / ``datasets`` mean "all".
    """

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    event_types: tuple[str, ...] = ()
    actor: str = ""
    min_fatalities: int = 0
    datasets: tuple[str, ...] = ()
    precisions: tuple[str, ...] = DEFAULT_DRAWN_PRECISIONS
    region: str = "vraem-devida"  # region_id the counts and chart compare against
    region_layer: str = "vraem"  # region layer used for choropleths and summaries
    layers: tuple[str, ...] = DEFAULT_LAYERS
    metric: str = "count"  # choropleth metric: count or per_area (per 1,000 km²)
    bucket: str = "month"
    step_mode: str = "cumulative"
    title: str = ""
    dek: str = ""
    notes: str = ""
    source_line: str = ""
    byline: str = ""
    size: str = "web"
    width: int = 1200
    height: int = 675
    dpi: int = 100
    scale: int = 1  # 1x / 2x for PNG
    basemap: str = "outlines"
    center: tuple[float, float] | None = None  # (lat, lon)
    zoom: int | None = None
    lang: str = "en"

    # ---- validation -------------------------------------------------------------------
    def __post_init__(self) -> None:
        _check_choice("event_types", self.event_types, EVENT_TYPES, many=True)
        _check_choice("precisions", self.precisions, GEO_PRECISIONS, many=True)
        _check_choice("layers", self.layers, LAYER_NAMES, many=True)
        _check_choice("bucket", self.bucket, BUCKETS)
        _check_choice("step_mode", self.step_mode, STEP_MODES)
        _check_choice("metric", self.metric, METRICS)
        _check_choice("size", self.size, tuple(SIZE_PRESETS))
        _check_choice("basemap", self.basemap, BASEMAPS)
        _check_choice("lang", self.lang, LANGS)
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise InputError(
                f"spec: date_to {self.date_to} is before date_from {self.date_from}; swap them"
            )
        if not 0 <= self.min_fatalities <= 100_000:
            raise InputError("spec: min_fatalities must be between 0 and 100000")
        if not (100 <= self.width <= 10_000 and 100 <= self.height <= 10_000):
            raise InputError("spec: width and height must be between 100 and 10000 pixels")
        if not 50 <= self.dpi <= 600:
            raise InputError("spec: dpi must be between 50 and 600")
        if self.scale not in (1, 2):
            raise InputError("spec: scale must be 1 or 2")
        if self.center is not None:
            lat, lon = self.center
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InputError("spec: center must be lat,lon within -90..90, -180..180")
        if self.zoom is not None and not 0 <= self.zoom <= 19:
            raise InputError("spec: zoom must be between 0 and 19")
        for name in (
            "actor",
            "title",
            "dek",
            "notes",
            "source_line",
            "byline",
            "region",
            "region_layer",
        ):
            if len(getattr(self, name)) > _MAX_TEXT:
                raise InputError(f"spec: {name} is longer than {_MAX_TEXT} characters")

    # ---- conveniences -----------------------------------------------------------------
    def replace(self, **changes: Any) -> MapSpec:
        return dataclasses.replace(self, **changes)

    @property
    def pixel_size(self) -> tuple[int, int]:
        """Output size in pixels, including the 1x/2x scale."""
        return self.width * self.scale, self.height * self.scale

    def with_size(self, preset: str) -> MapSpec:
        w, h, dpi = SIZE_PRESETS[preset]
        return self.replace(size=preset, width=w, height=h, dpi=dpi)

    # ---- plain dict ---------------------------------------------------------------------
    def to_dict(self, *, only_changed: bool = False) -> dict[str, Any]:
        """JSON-safe dict: dates as ISO strings, tuples as lists, None left out."""
        out: dict[str, Any] = {}
        default = MapSpec()
        for f in fields(self):
            value = getattr(self, f.name)
            if only_changed and value == getattr(default, f.name):
                continue
            if value is None:
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MapSpec:
        """Build from a dict (JSON/TOML/URL); unknown keys are ignored, bad values raise."""
        if not isinstance(data, dict):
            raise InputError("spec: expected a table of settings")
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            kwargs[f.name] = _coerce(f.name, data[f.name])
        if "size" in kwargs:
            _check_choice("size", kwargs["size"], tuple(SIZE_PRESETS))
        if "size" in kwargs and kwargs["size"] != "custom":
            w, h, dpi = SIZE_PRESETS[kwargs["size"]]
            kwargs.setdefault("width", w)
            kwargs.setdefault("height", h)
            kwargs.setdefault("dpi", dpi)
        try:
            return cls(**kwargs)
        except TypeError as exc:  # wrong shape reaching the dataclass
            raise InputError(f"spec: {exc}") from None

    # ---- JSON / TOML files ------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> MapSpec:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise InputError(f"spec: not valid JSON ({exc.msg} at line {exc.lineno})") from None

    def to_toml(self) -> str:
        lines = []
        for key, value in self.to_dict().items():
            lines.append(f"{key} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls, text: str) -> MapSpec:
        try:
            return cls.from_dict(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"spec: not valid TOML ({exc})") from None

    @classmethod
    def from_file(cls, path: str | Path) -> MapSpec:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p}: spec file not found")
        text = p.read_text(encoding="utf-8")
        if p.suffix.lower() == ".toml":
            return cls.from_toml(text)
        if p.suffix.lower() == ".json":
            return cls.from_json(text)
        raise InputError(f"{p.name}: spec files are .json or .toml")

    # ---- URL query string -------------------------------------------------------------
    def to_query(self) -> dict[str, str]:
        """Flat str -> str mapping for ``st.query_params``; only non-default values."""
        out: dict[str, str] = {}
        for key, value in self.to_dict(only_changed=True).items():
            if isinstance(value, list):
                out[key] = ",".join(str(v) for v in value) if value else "-"
            elif isinstance(value, bool):
                out[key] = "1" if value else "0"
            else:
                out[key] = str(value)
        return out

    @classmethod
    def from_query(cls, params: dict[str, str | list[str]]) -> MapSpec:
        """Parse a URL query mapping; raises InputError on a bad value."""
        data: dict[str, Any] = {}
        names = {f.name: f for f in fields(cls)}
        for key, raw in params.items():
            if key not in names:
                continue
            if isinstance(raw, list):
                raw = raw[-1] if raw else ""
            raw = str(raw)
            if len(raw) > 4 * _MAX_TEXT:
                raise InputError(f"spec: {key} is too long")
            if key in _TUPLE_FIELDS:
                data[key] = [] if raw in ("", "-") else raw.split(",")
            elif key == "center":
                data[key] = raw.split(",")
            else:
                data[key] = raw
        return cls.from_dict(data)


_TUPLE_FIELDS = {"event_types", "datasets", "precisions", "layers"}
_INT_FIELDS = {"min_fatalities", "width", "height", "dpi", "scale", "zoom"}
_DATE_FIELDS = {"date_from", "date_to"}


def _coerce(name: str, value: Any) -> Any:
    try:
        if name in _DATE_FIELDS:
            if value in (None, ""):
                return None
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            return dt.date.fromisoformat(str(value)[:10])
        if name in _TUPLE_FIELDS:
            if isinstance(value, str):
                value = [v for v in value.split(",") if v]
            if not isinstance(value, list | tuple):
                raise TypeError("expected a list")
            if len(value) > _MAX_ITEMS:
                raise ValueError(f"more than {_MAX_ITEMS} items")
            return tuple(str(v).strip() for v in value)
        if name in _INT_FIELDS:
            if value in (None, "") and name == "zoom":
                return None
            if isinstance(value, bool):
                raise TypeError("expected a whole number")
            number = float(value)
            if number != int(number):
                raise ValueError("expected a whole number")
            return int(number)
        if name == "center":
            if value in (None, "", []):
                return None
            lat, lon = (float(v) for v in value)
            if lat != lat or lon != lon:  # NaN
                raise ValueError("not a number")
            return (lat, lon)
        if not isinstance(value, str | int | float):
            raise TypeError("expected text")
        return str(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"spec: bad value for {name!r}: {exc}") from None


def _check_choice(name: str, value: Any, allowed: tuple[str, ...], many: bool = False) -> None:
    values = value if many else (value,)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InputError(
            f"spec: {name} has unknown value {bad[0]!r}; choose from {', '.join(allowed)}"
        )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML string


__all__ = [
    "BASEMAPS",
    "BUCKETS",
    "DATE_PRECISIONS",
    "DEFAULT_LAYERS",
    "LAYER_NAMES",
    "SIZE_PRESETS",
    "MapSpec",
]
