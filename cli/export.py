"""`conflict-atlas export`: write a publication map (PNG/SVG/PDF/HTML/GIF) from a MapSpec.

The spec comes from ``--spec FILE`` (TOML or JSON, the same settings as the app's URL)
and each flag given on the command line overrides it. Without data flags the shipped
bundle is mapped (``atlas.data.load_shipped``). Every input's LoadReport is printed, then
the paths written (the image and its ``.alt.txt``).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from atlas.errors import InputError
from atlas.schema import EVENT_TYPES
from atlas.spec import BASEMAPS, DENSITIES, LANGS, SIZE_PRESETS, MapSpec


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``export`` subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="write a map image (png/svg/pdf), a self-contained HTML map, a GIF or an MP4",
        description=(
            "Export the map described by --spec (TOML/JSON) and the flags (flags win). "
            "The format comes from --out's extension: .png .svg .pdf .html .gif .mp4. "
            "Alt text is written beside it as NAME.alt.txt."
        ),
    )
    parser.add_argument("--spec", metavar="SPEC", help="settings file (.toml or .json)")
    parser.add_argument("--out", required=True, metavar="PATH", help="output file")
    parser.add_argument(
        "--incidents", nargs="+", metavar="PATH", help="incident files (ACLED/UCDP/table)"
    )
    parser.add_argument("--regions", metavar="PATH", help="region polygons (any vector file)")
    parser.add_argument("--districts", metavar="PATH", help="district polygons (INEI ubigeo)")
    parser.add_argument("--vintage", metavar="YEAR", help="boundary vintage of --districts")
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD")
    parser.add_argument(
        "--focus",
        metavar="REGION_ID",
        help="frame this region, padded (default vraem-devida; a district ubigeo works too)",
    )
    parser.add_argument(
        "--bbox",
        metavar="W,S,E,N",
        help="frame these bounds in degrees, e.g. -75.2,-13.9,-73.0,-11.0 (wins over --focus)",
    )
    parser.add_argument(
        "--types",
        metavar="TYPE[,TYPE]",
        help=f"event types to draw, comma-separated: {', '.join(EVENT_TYPES)} (default all)",
    )
    parser.add_argument("--title", help="headline")
    parser.add_argument("--dek", help="subtitle")
    parser.add_argument("--notes", help="notes printed above the method block")
    parser.add_argument("--source-line", dest="source_line", help="source line (bottom left)")
    parser.add_argument("--byline", help="byline (bottom right)")
    parser.add_argument("--size", choices=tuple(SIZE_PRESETS), help="size preset")
    parser.add_argument("--width", type=int, help="width in pixels (implies --size custom)")
    parser.add_argument("--height", type=int, help="height in pixels (implies --size custom)")
    parser.add_argument("--dpi", type=int, help="dots per inch")
    parser.add_argument("--scale", type=int, choices=(1, 2), help="1x or 2x pixels (PNG/GIF)")
    parser.add_argument("--lang", choices=LANGS, help="language of the furniture text")
    parser.add_argument("--basemap", choices=BASEMAPS, help="outlines, or web tiles osm/carto")
    parser.add_argument(
        "--font-file",
        metavar="PATH",
        help="a .ttf/.otf house font for the page (embedded in PDF, named in SVG)",
    )
    parser.add_argument(
        "--accessed",
        metavar="DATE",
        help="the day the incident files were downloaded, YYYY-MM-DD (ACLED's terms ask for "
        "it in the source line)",
    )
    parser.add_argument(
        "--north-arrow", action="store_true", default=None, help="draw a north arrow"
    )
    parser.add_argument(
        "--density",
        choices=DENSITIES,
        help="incidents as points, as hexagons counting them (the app's binning, sized for "
        "the page), or auto (default): hexagons when more than half of the markers would "
        "have their centre covered by another; PNG/SVG/PDF pages (small multiples and "
        "GIF/MP4 frames draw points)",
    )
    parser.add_argument(
        "--small-multiples",
        dest="small_multiples",
        choices=("year", "quarter"),
        help="one panel per year or quarter of the dates (PNG/SVG/PDF; at most 4 panels on "
        "web, 6 on a4: the latest ones are drawn and the page says how many were left out)",
    )
    parser.add_argument(
        "--periods",
        metavar="A..B,C..D",
        help="two periods side by side, e.g. 2020-05-23..2021-05-22,2021-05-23..2022-05-22 "
        "(PNG/SVG/PDF panels, or two synced maps in .html)",
    )
    parser.add_argument(
        "--generalise",
        metavar="SETTING",
        help="safe locations: none, district or grid:<km> (cells in EPSG:32718)",
    )
    parser.add_argument(
        "--suppress-below",
        dest="suppress_below",
        type=int,
        metavar="K",
        help='areas with 1 to K-1 events show "< K" (0 = off)',
    )
    parser.set_defaults(run=run)
    return parser


def spec_from_args(args: argparse.Namespace) -> MapSpec:
    """The spec file's settings with every given flag applied on top."""
    settings: dict[str, Any] = {}
    if args.spec:
        settings = MapSpec.from_file(args.spec).to_dict()
    if args.size:
        settings.pop("width", None)
        settings.pop("height", None)
        settings.pop("dpi", None)
        settings["size"] = args.size
    for name in (
        "title",
        "dek",
        "notes",
        "source_line",
        "byline",
        "lang",
        "basemap",
        "scale",
        "dpi",
        "generalise",
        "suppress_below",
        "density",
    ):
        value = getattr(args, name)
        if value is not None:
            settings[name] = value
    for name in ("date_from", "date_to"):
        value = getattr(args, name)
        if value is not None:
            settings[name] = _date(value, "--from" if name == "date_from" else "--to")
    if args.focus is not None:
        settings["focus"] = args.focus
        settings.pop("bbox", None)  # the flag wins over the spec file's frame
    if args.bbox is not None:
        settings["bbox"] = _bbox(args.bbox)
    if getattr(args, "font_file", None):
        from atlas.fonts import register_font_file

        settings["font"] = register_font_file(args.font_file)
    if getattr(args, "north_arrow", None):
        settings["north_arrow"] = True
    if args.types is not None:
        settings["event_types"] = [v.strip() for v in args.types.split(",") if v.strip()]
    if args.small_multiples is not None:
        settings["small_multiples"] = args.small_multiples
        settings["periods"] = []
    if args.periods is not None:
        if args.small_multiples is not None:
            raise InputError("--periods and --small-multiples: give one of them, not both")
        settings["periods"] = _periods(args.periods)
        settings["small_multiples"] = "none"
    if args.width is not None or args.height is not None:
        settings["size"] = "custom"
        settings["width"] = args.width if args.width is not None else settings.get("width", 1200)
        settings["height"] = args.height if args.height is not None else settings.get("height", 675)
    return MapSpec.from_dict(settings)


def run(args: argparse.Namespace) -> int:
    """Load the data, print its LoadReports, export, print what was written."""
    from atlas.data import with_access_date
    from layers.export import export, sources_text_path

    spec = spec_from_args(args)
    out = Path(args.out)
    data = _load(args)
    if getattr(args, "accessed", None):
        data = with_access_date(data, _date(args.accessed, "--accessed"))
    for report in data.reports:
        print(report.summary())
    if args.focus is not None:
        _check_focus(spec, data)
    result = export(spec, data, out)
    print(
        f"wrote {result.path} ({result.format}, {result.width_px}x{result.height_px} px"
        + (f", {result.frames} frames" if result.frames > 1 else "")
        + ")"
    )
    print(f"wrote {result.alt_text_path} (alt text)")
    print(f"wrote {sources_text_path(result.path)} (sources, caveats and the view)")
    if result.dropped:
        print("left off the page for lack of room: " + "; ".join(result.dropped))
    return 0


def _load(args: argparse.Namespace) -> Any:
    """Shipped data, plus the user's incident/district files, plus an extra regions file."""
    import geopandas as gpd
    import pandas as pd

    from atlas import data as atlas_data
    from atlas.regions import REGION_COLUMNS, read_regions

    if args.vintage and not args.districts:
        raise InputError("--vintage: give it together with --districts")
    if args.incidents or args.districts:
        data = atlas_data.load_bundle(
            incidents=[Path(p) for p in args.incidents or []],
            districts=Path(args.districts) if args.districts else None,
            districts_vintage=args.vintage or "",
        )
    else:
        data = atlas_data.load_shipped()
    if args.regions:
        path = Path(args.regions)
        if not path.is_file():
            raise InputError(f"{path}: regions file not found; check the path")
        extra, report = read_regions(path, layer=path.stem)
        data.reports.append(report)
        data.regions = gpd.GeoDataFrame(
            pd.concat(
                [data.regions[list(REGION_COLUMNS)], extra[list(REGION_COLUMNS)]],
                ignore_index=True,
            ),
            geometry="geometry",
            crs=data.regions.crs,
        )
    return data


def _check_focus(spec: MapSpec, data: Any) -> None:
    """A --focus that names no loaded region is an error, not a silent other frame."""
    from atlas.frame import focus_box

    if spec.bbox is None and focus_box(spec.focus, data.regions, data.districts) is None:
        ids = sorted(data.regions["region_id"].astype(str).unique())[:8]
        raise InputError(
            f"--focus {spec.focus!r}: no region with that id is loaded (regions: "
            f"{', '.join(ids)}{', …' if len(ids) == 8 else ''}; district ubigeo codes work "
            "when districts are loaded); or give --bbox W,S,E,N"
        )


def _bbox(value: str) -> list[str]:
    parts = [v.strip() for v in value.split(",")]
    if len(parts) != 4:
        raise InputError(
            f"--bbox {value!r}: give four numbers, west,south,east,north in degrees "
            "(e.g. -75.2,-13.9,-73.0,-11.0)"
        )
    return parts


def _periods(value: str) -> list[list[str]]:
    """``A..B,C..D`` -> [[A, B], [C, D]] (ISO dates, checked)."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not all(p.count("..") == 1 for p in parts):
        raise InputError(
            f"--periods {value!r}: give two ranges as FROM..TO,FROM..TO, e.g. "
            "2020-05-23..2021-05-22,2021-05-23..2022-05-22"
        )
    return [[_date(d.strip(), "--periods") for d in p.split("..")] for p in parts]


def _date(value: str, flag: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(f"{flag} {value!r}: not a date; write it as YYYY-MM-DD") from None


__all__ = ["add_parser", "run", "spec_from_args"]
