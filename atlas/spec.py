"""MapSpec: one plain, serialisable description of a view (schema version 2).

The app's URL query string, the export dialog and the CLI's spec file (JSON or TOML) are
all a MapSpec. Parsing is strict about types and lenient about noise: an unknown key is
ignored, a bad value raises :class:`~atlas.errors.InputError` naming the key, and
anything a URL can carry is bounded (lengths, counts, ranges), because anyone can craft a
URL.

The frame is ``bbox`` (west, south, east, north in degrees) or, when no bbox is set,
``focus`` (a region id, padded to fit). Version 1 specs and links carried ``center`` and
``zoom`` (web-map zoom levels) instead; they still open, converted to the bbox a
1000×620 px map showed at that centre and zoom.

In a URL, flat values stay readable (``bucket=year&bbox=-75.2,-13.9,-73,-11``); nested
values (``callouts``, ``periods``) travel together in one parameter, :data:`NESTED_PARAM`,
as ``2.`` + base64url(JSON), at most :data:`MAX_NESTED_CHARS` characters.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import math
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from atlas.errors import InputError
from atlas.fonts import configured_fonts
from atlas.schema import DATE_PRECISIONS, DEFAULT_DRAWN_PRECISIONS, EVENT_TYPES, GEO_PRECISIONS

SCHEMA_VERSION = 2

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
BUCKETS: tuple[str, ...] = ("week", "month", "quarter", "year")
STEP_MODES: tuple[str, ...] = ("cumulative", "window")
METRICS: tuple[str, ...] = ("count", "per_area")
LANGS: tuple[str, ...] = ("en", "es")
#: Small multiples: one panel per year or per quarter ("none": a single map).
SMALL_MULTIPLES: tuple[str, ...] = ("none", "year", "quarter")
#: Location generalising: exact places, the district's representative point, or the
#: centre of a square grid cell of the given size (``grid:<km>``, 0.5..500 km).
GENERALISE_CHOICES: tuple[str, ...] = ("none", "district", "grid:<km>")
GRID_KM_RANGE: tuple[float, float] = (0.5, 500.0)
#: How the print page draws the points layer: "auto" (hexagons when the markers pile up,
#: see layers.density.AUTO_MAX), always "points", or always "hexagons" (counts per area;
#: the app's map then shows hexagons at every zoom too).
DENSITIES: tuple[str, ...] = ("auto", "points", "hexagons")
#: The frame when a spec gives none: the DEVIDA VRAEM zone.
DEFAULT_FOCUS = "vraem-devida"
#: URL parameter that carries the nested values (version prefix + base64url JSON).
NESTED_PARAM = "nested"
MAX_NESTED_CHARS = 4000
#: Map size a version-1 centre/zoom link is read against (the app's map, in CSS px).
LEGACY_VIEWPORT_PX: tuple[int, int] = (1000, 620)

_MAX_TEXT = 500
_MAX_ITEMS = 50
_MAX_CALLOUTS = 20
_MAX_CALLOUT_TEXT = 200
_MAX_ID = 200
_MIN_SPAN_DEG = 1e-4  # a frame narrower than ~10 m is a mistake, not a view
_FONT_NAME = re.compile(r"^[\w .+-]{1,64}$")
#: C0 control characters other than tab and line breaks: no SVG/PDF text can carry them
#: (an SVG holding one is not XML), so printed text refuses them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Text printed on the page (and callouts): checked for control characters.
_PRINTED_TEXT = ("title", "dek", "notes", "source_line", "byline")


@dataclass(frozen=True)
class Callout:
    """A short label on the map: at ``lon``/``lat``, or on region ``region_id``'s
    representative point when no coordinates are given; ``leader`` draws a line from the
    text to the place."""

    text: str
    lon: float | None = None
    lat: float | None = None
    leader: bool = True
    region_id: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise InputError("spec: callouts: each callout needs text")
        if len(self.text) > _MAX_CALLOUT_TEXT:
            raise InputError(f"spec: callouts: text is longer than {_MAX_CALLOUT_TEXT} characters")
        if len(self.region_id) > _MAX_ID:
            raise InputError(f"spec: callouts: region_id is longer than {_MAX_ID} characters")
        _check_printable("callouts", self.text)
        if (self.lon is None) != (self.lat is None):
            raise InputError("spec: callouts: give both lon and lat, or neither")
        if self.lon is None and not self.region_id:
            raise InputError("spec: callouts: give lon and lat, or a region_id to place it on")
        if self.lon is not None and not (-180 <= self.lon <= 180 and -90 <= self.lat <= 90):
            raise InputError("spec: callouts: lon must be in -180..180 and lat in -90..90")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.lon is not None:
            out["lon"], out["lat"] = self.lon, self.lat
        out["leader"] = self.leader
        if self.region_id:
            out["region_id"] = self.region_id
        return out

    @classmethod
    def from_value(cls, value: Any) -> Callout:
        if isinstance(value, Callout):
            return value
        if not isinstance(value, dict):
            raise TypeError("each callout is a table with text, lon, lat, leader, region_id")
        unknown = set(value) - {"text", "lon", "lat", "leader", "region_id"}
        if unknown:
            raise ValueError(f"unknown callout key {sorted(unknown)[0]!r}")
        text = value.get("text")
        if not isinstance(text, str):
            raise TypeError("callout text must be text")
        leader = value.get("leader", True)
        if isinstance(leader, str) and leader.lower() in ("true", "false", "1", "0"):
            leader = leader.lower() in ("true", "1")
        if not isinstance(leader, bool):
            raise TypeError("callout leader must be true or false")
        region_id = value.get("region_id", "")
        if not isinstance(region_id, str):
            raise TypeError("callout region_id must be text")
        return cls(
            text=text,
            lon=_finite(value.get("lon")),
            lat=_finite(value.get("lat")),
            leader=leader,
            region_id=region_id,
        )


@dataclass(frozen=True)
class MapSpec:
    """A view: filters, frame, layers, editorial text, size and basemap.

    Dates are inclusive calendar days; ``None`` means open-ended. Empty tuples in
    ``event_types`` / ``datasets`` mean "all". The frame is ``bbox`` when set, else the
    region ``focus`` (see :mod:`atlas.frame`).
    """

    schema_version: int = SCHEMA_VERSION
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    event_types: tuple[str, ...] = ()
    actor: str = ""
    min_fatalities: int = 0
    datasets: tuple[str, ...] = ()
    precisions: tuple[str, ...] = DEFAULT_DRAWN_PRECISIONS
    region: str = DEFAULT_FOCUS  # region_id the counts and chart compare against
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
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    focus: str = DEFAULT_FOCUS  # region id framed (padded) when bbox is None; "" = the data
    callouts: tuple[Callout, ...] = ()
    generalise: str = "none"  # none | district | grid:<km>
    suppress_below: int = 0  # 0 = off; k >= 2: areas with 1..k-1 events show "< k"
    periods: tuple[tuple[dt.date, dt.date], ...] = ()  # () or two ranges to compare
    small_multiples: str = "none"  # none | year | quarter
    font: str = ""  # "" = the house font; else a name from atlas.fonts.configured_fonts()
    coca_year: int | None = None  # None = the latest year with figures
    north_arrow: bool = False  # print pages are north-up: an arrow only when asked
    density: str = "auto"  # auto | points | hexagons: how dense incidents are drawn
    lang: str = "en"

    # ---- validation -------------------------------------------------------------------
    def __post_init__(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise InputError(
                f"spec: schema_version {self.schema_version} is not {SCHEMA_VERSION}; "
                "read older specs with MapSpec.from_dict, which converts them"
            )
        _check_choice("event_types", self.event_types, EVENT_TYPES, many=True)
        _check_choice("precisions", self.precisions, GEO_PRECISIONS, many=True)
        _check_choice("layers", self.layers, LAYER_NAMES, many=True)
        _check_choice("bucket", self.bucket, BUCKETS)
        _check_choice("step_mode", self.step_mode, STEP_MODES)
        _check_choice("metric", self.metric, METRICS)
        _check_choice("size", self.size, tuple(SIZE_PRESETS))
        _check_choice("basemap", self.basemap, BASEMAPS)
        _check_choice("small_multiples", self.small_multiples, SMALL_MULTIPLES)
        _check_choice("density", self.density, DENSITIES)
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
        if self.bbox is not None:
            check_bbox(self.bbox)
            # ~1 m: a link carries exactly what the spec holds
            object.__setattr__(self, "bbox", tuple(round(float(v), 5) for v in self.bbox))
            check_bbox(self.bbox)
        if len(self.callouts) > _MAX_CALLOUTS:
            raise InputError(f"spec: callouts: at most {_MAX_CALLOUTS}")
        if not all(isinstance(c, Callout) for c in self.callouts):
            raise InputError("spec: callouts must be Callout values")
        parse_generalise(self.generalise)
        if self.suppress_below != 0 and not 2 <= self.suppress_below <= 1000:
            raise InputError("spec: suppress_below must be 0 (off) or 2 to 1000 events")
        if self.periods:
            if len(self.periods) != 2:
                raise InputError("spec: periods takes exactly two date ranges (or none)")
            for lo, hi in self.periods:
                if not (isinstance(lo, dt.date) and isinstance(hi, dt.date)):
                    raise InputError("spec: periods: each range is two dates")
                if hi < lo:
                    raise InputError(f"spec: periods: {hi} is before {lo}; swap them")
        if self.font:
            fonts = configured_fonts()
            if not _FONT_NAME.match(self.font) or self.font not in fonts:
                raise InputError(
                    f"spec: font {self.font[:64]!r} is not one of the fonts this atlas offers "
                    f"({', '.join(fonts)}); fonts are chosen by name, never by file path"
                )
        if self.coca_year is not None and not 1990 <= self.coca_year <= 2100:
            raise InputError("spec: coca_year must be a year between 1990 and 2100")
        for name in (
            "actor",
            "title",
            "dek",
            "notes",
            "source_line",
            "byline",
            "region",
            "region_layer",
            "focus",
        ):
            if len(getattr(self, name)) > _MAX_TEXT:
                raise InputError(f"spec: {name} is longer than {_MAX_TEXT} characters")
        for name in _PRINTED_TEXT:
            _check_printable(name, getattr(self, name))

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

    @property
    def grid_km(self) -> float | None:
        """The grid size of ``generalise = grid:<km>``, else None."""
        return parse_generalise(self.generalise)[1]

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
            out[f.name] = _plain(value)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MapSpec:
        """Build from a dict (JSON/TOML/URL); unknown keys are ignored, bad values raise.

        Version 1 (no ``schema_version``, or 1) ``center``/``zoom`` become a ``bbox``.
        """
        if not isinstance(data, dict):
            raise InputError("spec: expected a table of settings")
        data = dict(data)
        version = data.pop("schema_version", None)
        if version is not None:
            version = _coerce_int("schema_version", version)
            if version > SCHEMA_VERSION:
                raise InputError(
                    f"spec: schema_version {version} was written by a newer Conflict Atlas "
                    f"(this one reads up to {SCHEMA_VERSION})"
                )
            if version < 1:
                raise InputError("spec: schema_version must be 1 or 2")
        legacy = _legacy_bbox(data.pop("center", None), data.pop("zoom", None))
        if legacy is not None and data.get("bbox") in (None, "", []):
            data["bbox"] = legacy
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data or f.name == "schema_version":
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
        except RecursionError:
            raise InputError("spec: nested too deeply") from None

    def to_toml(self) -> str:
        lines = []
        tables = []
        for key, value in self.to_dict().items():
            if key == "callouts":  # an array of tables reads better than inline tables
                for item in value:
                    body = "\n".join(f"{k} = {_toml_value(v)}" for k, v in item.items())
                    tables.append(f"[[callouts]]\n{body}")
                continue
            lines.append(f"{key} = {_toml_value(value)}")
        return "\n".join(lines) + "\n" + "".join(f"\n{t}\n" for t in tables)

    @classmethod
    def from_toml(cls, text: str) -> MapSpec:
        try:
            return cls.from_dict(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"spec: not valid TOML ({exc})") from None
        except RecursionError:
            raise InputError("spec: nested too deeply") from None

    @classmethod
    def from_file(cls, path: str | Path, *, max_bytes: int = 1_000_000) -> MapSpec:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"{p}: spec file not found")
        if p.stat().st_size > max_bytes:
            raise InputError(f"{p.name}: a spec file is at most {max_bytes:,} bytes")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{p.name}: a spec file is UTF-8 text") from None
        try:
            if p.suffix.lower() == ".toml":
                return cls.from_toml(text)
            if p.suffix.lower() == ".json":
                return cls.from_json(text)
        except InputError as exc:
            raise InputError(f"{p.name}: {exc}") from None
        raise InputError(f"{p.name}: spec files are .json or .toml")

    # ---- URL query string -------------------------------------------------------------
    def to_query(self) -> dict[str, str]:
        """Flat str -> str mapping for ``st.query_params``; only non-default values.

        Nested values go into the single :data:`NESTED_PARAM` parameter.
        """
        out: dict[str, str] = {}
        nested: dict[str, Any] = {}
        for key, value in self.to_dict(only_changed=True).items():
            if key in _NESTED_FIELDS:
                nested[key] = value
            elif key == "bbox":
                out[key] = format_bbox(value)
            elif isinstance(value, list):
                out[key] = ",".join(str(v) for v in value) if value else "-"
            elif isinstance(value, bool):
                out[key] = "1" if value else "0"
            else:
                out[key] = str(value)
        if nested:
            out[NESTED_PARAM] = encode_nested(nested)
        return out

    @classmethod
    def from_query(cls, params: dict[str, str | list[str]]) -> MapSpec:
        """Parse a URL query mapping; raises InputError on a bad value."""
        data: dict[str, Any] = {}
        names = {f.name for f in fields(cls)} | {"center", "zoom"}
        for key, raw in params.items():
            if isinstance(raw, list):
                raw = raw[-1] if raw else ""
            raw = str(raw)
            if key == NESTED_PARAM:
                nested = decode_nested(raw)
                data.update({k: v for k, v in nested.items() if k in _NESTED_FIELDS})
                continue
            if key not in names or key in _NESTED_FIELDS:
                continue
            if len(raw) > 4 * _MAX_TEXT:
                raise InputError(f"spec: {key} is too long")
            if key in _TUPLE_FIELDS:
                data[key] = [] if raw in ("", "-") else raw.split(",")
            elif key in ("center", "bbox"):
                data[key] = raw.split(",")
            else:
                data[key] = raw
        return cls.from_dict(data)


_TUPLE_FIELDS = {"event_types", "datasets", "precisions", "layers"}
_INT_FIELDS = {"min_fatalities", "width", "height", "dpi", "scale", "coca_year",
               "suppress_below"}  # fmt: skip
_DATE_FIELDS = {"date_from", "date_to"}
_NESTED_FIELDS = {"callouts", "periods"}
_BOOL_FIELDS = {"north_arrow"}
_TEXT_FIELDS = {
    "actor", "title", "dek", "notes", "source_line", "byline", "region", "region_layer",
    "metric", "bucket", "step_mode", "size", "basemap", "focus", "generalise",
    "small_multiples", "font", "density", "lang",
}  # fmt: skip


# ---- the nested URL parameter ----------------------------------------------------------
def encode_nested(values: dict[str, Any]) -> str:
    """``2.`` + unpadded base64url of compact JSON."""
    raw = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text = f"{SCHEMA_VERSION}." + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    if len(text) > MAX_NESTED_CHARS:
        raise InputError(
            f"spec: callouts and periods take {len(text):,} characters in a link, over the "
            f"{MAX_NESTED_CHARS:,} a link may carry; share the spec file instead"
        )
    return text


def decode_nested(text: str) -> dict[str, Any]:
    """The dict :func:`encode_nested` made; InputError for anything else."""
    if len(text) > MAX_NESTED_CHARS:
        raise InputError(
            f"spec: the {NESTED_PARAM} parameter is longer than {MAX_NESTED_CHARS:,} characters"
        )
    version, _, body = text.partition(".")
    if version != str(SCHEMA_VERSION) or not body:
        raise InputError(f"spec: the {NESTED_PARAM} parameter has an unknown version")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise InputError(f"spec: the {NESTED_PARAM} parameter cannot be read") from None
    if not isinstance(value, dict):
        raise InputError(f"spec: the {NESTED_PARAM} parameter cannot be read")
    return value


# ---- values -----------------------------------------------------------------------------
def check_bbox(bbox: tuple[float, float, float, float]) -> None:
    """Raise InputError unless ``bbox`` is west < east, south < north, inside the globe."""
    if len(bbox) != 4 or not all(isinstance(v, float | int) and math.isfinite(v) for v in bbox):
        raise InputError("spec: bbox is four numbers: west, south, east, north (degrees)")
    west, south, east, north = bbox
    if not (
        -180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90
    ):
        raise InputError("spec: bbox must lie within longitude -180..180 and latitude -90..90")
    if west >= east:
        raise InputError(
            f"spec: bbox west {west} is not less than east {east} (inverted, or crossing the "
            "antimeridian, which this atlas does not draw)"
        )
    if south >= north:
        raise InputError(f"spec: bbox south {south} is not less than north {north}")
    if east - west < _MIN_SPAN_DEG or north - south < _MIN_SPAN_DEG:
        raise InputError("spec: bbox is too small to draw (under 0.0001°)")


def parse_generalise(value: str) -> tuple[str, float | None]:
    """``("none"|"district", None)`` or ``("grid", km)``; InputError otherwise."""
    if value in ("none", "district"):
        return value, None
    if isinstance(value, str) and value.startswith("grid:"):
        try:
            km = float(value[5:])
        except ValueError:
            km = math.nan
        lo, hi = GRID_KM_RANGE
        if math.isfinite(km) and lo <= km <= hi:
            return "grid", km
        raise InputError(f"spec: generalise grid size must be {lo:g} to {hi:g} km (grid:<km>)")
    raise InputError(
        f"spec: generalise has unknown value {str(value)[:40]!r}; choose none, district or "
        "grid:<km>"
    )


def legacy_bbox(
    lat: float, lon: float, zoom: float, viewport: tuple[int, int] = LEGACY_VIEWPORT_PX
) -> tuple[float, float, float, float]:
    """The (W, S, E, N) a web-mercator map of ``viewport`` px shows at a centre and zoom."""
    width, height = viewport
    world = 256.0 * 2.0**zoom  # the world's width in px at this zoom
    half_lon = 180.0 * width / world
    y = math.log(math.tan(math.pi / 4 + math.radians(max(-85.0, min(85.0, lat))) / 2))
    half_y = math.pi * height / world
    south = math.degrees(2 * math.atan(math.exp(y - half_y)) - math.pi / 2)
    north = math.degrees(2 * math.atan(math.exp(y + half_y)) - math.pi / 2)
    west, east = max(-180.0, lon - half_lon), min(180.0, lon + half_lon)
    return (round(west, 5), round(south, 5), round(east, 5), round(north, 5))


def _legacy_bbox(center: Any, zoom: Any) -> list[float] | None:
    if center in (None, "", []):
        return None
    try:
        if isinstance(center, str):
            center = center.split(",")
        lat, lon = (float(v) for v in center)
    except (TypeError, ValueError):
        raise InputError("spec: center is lat,lon (an old link); it could not be read") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError("spec: center must be lat,lon within -90..90, -180..180")
    z = 8 if zoom in (None, "") else _coerce_int("zoom", zoom)
    if not 0 <= z <= 19:
        raise InputError("spec: zoom must be between 0 and 19")
    return list(legacy_bbox(lat, lon, z))


def _coerce(name: str, value: Any) -> Any:
    try:
        if name in _DATE_FIELDS:
            return _date(value)
        if name in _TUPLE_FIELDS:
            if isinstance(value, str):
                value = [v for v in value.split(",") if v]
            if not isinstance(value, list | tuple):
                raise TypeError("expected a list")
            if len(value) > _MAX_ITEMS:
                raise ValueError(f"more than {_MAX_ITEMS} items")
            if not all(isinstance(v, str | int | float) for v in value):
                raise TypeError("expected a list of names")
            return tuple(str(v).strip() for v in value)
        if name in _INT_FIELDS:
            if value in (None, "") and name == "coca_year":
                return None
            return _coerce_int(name, value)
        if name == "bbox":
            if value in (None, "", []):
                return None
            if isinstance(value, str):
                value = value.split(",")
            if not isinstance(value, list | tuple) or len(value) != 4:
                raise ValueError("expected four numbers: west, south, east, north")
            return tuple(_finite(v, required=True) for v in value)
        if name in _BOOL_FIELDS:
            if isinstance(value, str) and value.strip().lower() in ("1", "true", "0", "false"):
                return value.strip().lower() in ("1", "true")
            if not isinstance(value, bool):
                raise TypeError("expected true or false")
            return value
        if name == "callouts":
            if not isinstance(value, list | tuple):
                raise TypeError("expected a list of callouts")
            if len(value) > _MAX_CALLOUTS:
                raise ValueError(f"at most {_MAX_CALLOUTS} callouts")
            return tuple(Callout.from_value(v) for v in value)
        if name == "periods":
            if value in (None, "", []):
                return ()
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise ValueError("expected two date ranges")
            out = []
            for pair in value:
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise ValueError("each period is [from, to]")
                lo, hi = _date(pair[0]), _date(pair[1])
                if lo is None or hi is None:
                    raise ValueError("each period needs both dates")
                out.append((lo, hi))
            return tuple(out)
        if name in _TEXT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise TypeError("expected text")
            return str(value)
        raise TypeError("unexpected value")
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"spec: bad value for {name!r}: {exc}") from None


def _coerce_int(name: str, value: Any) -> int:
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise TypeError("expected a whole number")
        if isinstance(value, str) and len(value) > 20:
            raise ValueError("too long for a number")
        number = float(value)
        if not math.isfinite(number) or number != int(number):
            raise ValueError("expected a whole number")
        if abs(number) > 1e9:
            raise ValueError("out of range")
        return int(number)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"spec: bad value for {name!r}: {exc}") from None


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise TypeError("expected a date (YYYY-MM-DD)")
    return dt.date.fromisoformat(value[:10])


def _finite(value: Any, *, required: bool = False) -> float | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError("expected a number")
    if isinstance(value, str) and len(value) > 40:
        raise ValueError("too long for a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Callout):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def format_bbox(bbox: tuple[float, ...] | list[float]) -> str:
    """``W,S,E,N`` as a link carries it: at most 5 decimals, no trailing zeros."""
    return ",".join(f"{v:.5f}".rstrip("0").rstrip(".") for v in bbox)


def _check_choice(name: str, value: Any, allowed: tuple[str, ...], many: bool = False) -> None:
    values = value if many else (value,)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InputError(
            f"spec: {name} has unknown value {str(bad[0])[:40]!r}; choose from {', '.join(allowed)}"
        )


def _check_printable(name: str, text: str) -> None:
    found = _CONTROL.search(text)
    if found:
        raise InputError(
            f"spec: {name} holds a control character (U+{ord(found.group()):04X}) that no "
            "export can print; remove it"
        )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # a JSON string is a TOML basic string once DEL (allowed raw in JSON) is escaped too
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


__all__ = [
    "BASEMAPS",
    "BUCKETS",
    "DATE_PRECISIONS",
    "DEFAULT_FOCUS",
    "DEFAULT_LAYERS",
    "DENSITIES",
    "GENERALISE_CHOICES",
    "LAYER_NAMES",
    "NESTED_PARAM",
    "SCHEMA_VERSION",
    "SIZE_PRESETS",
    "SMALL_MULTIPLES",
    "Callout",
    "MapSpec",
    "check_bbox",
    "decode_nested",
    "encode_nested",
    "format_bbox",
    "legacy_bbox",
    "parse_generalise",
]
