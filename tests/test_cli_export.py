"""`conflict-atlas export` end to end: spec file + flags -> files, LoadReports printed."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from atlas.spec import MapSpec
from cli import build_parser, glue_signed_values, main
from cli.export import spec_from_args


def _spec(argv: list[str]) -> MapSpec:
    return spec_from_args(build_parser().parse_args(glue_signed_values(["export", *argv])))


def test_flags_override_the_spec_file(tmp_path):
    spec_file = tmp_path / "view.toml"
    spec_file.write_text(
        MapSpec(title="From file", dek="File dek", size="square").with_size("square").to_toml(),
        encoding="utf-8",
    )
    spec = _spec(["--spec", str(spec_file), "--out", "x.png", "--title", "From flag"])
    assert spec.title == "From flag"
    assert spec.dek == "File dek"
    assert (spec.size, spec.width, spec.height) == ("square", 1080, 1080)
    spec = _spec(["--spec", str(spec_file), "--out", "x.png", "--size", "a4"])
    assert (spec.width, spec.height, spec.dpi) == (2480, 3508, 300)


def test_width_height_make_a_custom_size_and_dates_are_checked():
    spec = _spec(["--out", "x.png", "--width", "800", "--height", "600", "--from", "2021-01-01"])
    assert (spec.size, spec.width, spec.height) == ("custom", 800, 600)
    assert spec.date_from.isoformat() == "2021-01-01"
    code = main(["export", "--out", "x.png", "--from", "01/02/2021"])
    assert code == 2


def test_bad_date_message_names_the_flag(capsys):
    assert main(["export", "--out", "x.png", "--to", "soon"]) == 2
    err = capsys.readouterr().err
    assert "--to 'soon': not a date; write it as YYYY-MM-DD" in err


def test_export_shipped_data_png_end_to_end(tmp_path, capsys):
    out = tmp_path / "vraem.png"
    code = main(["export", "--out", str(out), "--title", "CLI map", "--lang", "es"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "rows read" in printed  # the shipped sample's LoadReport
    assert f"wrote {out} (png, 1200x675 px)" in printed
    assert f"wrote {tmp_path / 'vraem.alt.txt'} (alt text)" in printed
    with Image.open(out) as im:
        assert im.size == (1200, 675)
    alt = (tmp_path / "vraem.alt.txt").read_text(encoding="utf-8")
    assert alt.startswith("Mapa de ")
    assert "DATOS DE MUESTRA" in alt  # the shipped incidents are synthetic


def test_export_user_incidents_and_regions(tmp_path, capsys, fixtures_dir):
    out = tmp_path / "acled.svg"
    code = main(
        [
            "export",
            "--out",
            str(out),
            "--incidents",
            str(fixtures_dir / "acled" / "acled_current_columns.csv"),
            "--regions",
            str(fixtures_dir / "regions" / "synthetic_districts_grid.geojson"),
            "--from",
            "2019-01-01",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "acled_current_columns.csv: 6 rows read, 4 kept" in printed
    assert "synthetic_districts_grid.geojson" in printed
    svg = out.read_text(encoding="utf-8")
    # ACLED is credited in the one source line; without --accessed the line says the
    # access date ACLED's terms ask for was not recorded.
    assert "Source: ACLED (access date not recorded)" in svg
    assert "SAMPLE DATA — synthetic incidents" not in svg  # user data is not sample data


def test_accessed_flag_puts_acleds_access_date_in_the_source_line(tmp_path, capsys,
                                                                  fixtures_dir):  # fmt: skip
    out = tmp_path / "acled.svg"
    argv = ["export", "--out", str(out), "--accessed", "2026-11-20", "--incidents",
            str(fixtures_dir / "acled" / "acled_current_columns.csv")]  # fmt: skip
    assert main(argv) == 0
    assert "Source: ACLED (accessed 2026-11-20)" in out.read_text(encoding="utf-8")
    md = (tmp_path / "acled.sources.md").read_text(encoding="utf-8")
    assert "accessed 2026-11-20" in md
    assert main([*argv[:-2], "--accessed", "last week"]) == 2
    assert "--accessed 'last week': not a date" in capsys.readouterr().err


def test_small_preset_says_what_gave_way(tmp_path, capsys):
    out = tmp_path / "c1.png"
    code = main(["export", "--out", str(out), "--size", "column1", "--title", "Column",
                 "--dek", "A dek", "--notes", "A note."])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert f"wrote {tmp_path / 'c1.sources.md'} (sources, caveats and the view)" in printed
    assert "left off the page for lack of room: the dek (no room for it at the minimum " in (
        printed
    )
    assert "the legend moved onto the map" in printed


def test_font_file_flag(tmp_path, capsys):
    import matplotlib

    from atlas.fonts import FONTS_ENV

    ttf = f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSerif.ttf"
    out = tmp_path / "f.svg"
    try:
        assert main(["export", "--out", str(out), "--font-file", ttf]) == 0
        assert "font-family: 'DejaVu Serif'" in out.read_text(encoding="utf-8")
    finally:
        import os

        os.environ.pop(FONTS_ENV, None)
    missing = tmp_path / "House-Regular.ttf"
    assert main(["export", "--out", str(out), "--font-file", str(missing)]) == 2
    assert f"font file {missing}: {missing} not found" in capsys.readouterr().err


def test_export_gif_prints_frames(tmp_path, capsys):
    out = tmp_path / "anim.gif"
    code = main(
        [
            "export",
            "--out",
            str(out),
            "--from",
            "2023-01-01",
            "--to",
            "2023-06-30",
            "--size",
            "custom",
            "--width",
            "480",
            "--height",
            "300",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "6 frames" in printed  # six months, one frame each
    with Image.open(out) as im:
        assert im.n_frames == 6


def test_vintage_needs_districts(tmp_path, capsys):
    assert main(["export", "--out", str(tmp_path / "x.png"), "--vintage", "2023"]) == 2
    assert "--vintage: give it together with --districts" in capsys.readouterr().err


def test_bad_spec_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"size": "poster"}), encoding="utf-8")
    assert main(["export", "--spec", str(bad), "--out", str(tmp_path / "x.png")]) == 2
    assert "size has unknown value 'poster'" in capsys.readouterr().err


@pytest.mark.parametrize("ext", ["tiff", "docx"])
def test_unknown_output_format(tmp_path, capsys, ext):
    assert main(["export", "--out", str(tmp_path / f"x.{ext}")]) == 2
    assert "use one of .png" in capsys.readouterr().err


def test_focus_bbox_and_types_flags_reach_the_spec(tmp_path):
    spec_file = tmp_path / "view.toml"
    spec_file.write_text(MapSpec(bbox=(-75.0, -13.0, -74.0, -12.0)).to_toml(), encoding="utf-8")
    spec = _spec(["--out", "x.png", "--focus", "120609", "--types", "armed_clash,riot"])
    assert (spec.focus, spec.bbox) == ("120609", None)
    assert spec.event_types == ("armed_clash", "riot")
    # --focus replaces the file's bbox; --bbox wins over both
    assert (
        _spec(["--spec", str(spec_file), "--out", "x.png", "--focus", "vraem-devida"]).bbox is None
    )
    spec = _spec(["--out", "x.png", "--focus", "x", "--bbox", "-74.5,-12.6,-73.9,-12.0"])
    assert spec.bbox == (-74.5, -12.6, -73.9, -12.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bbox", "-73,-13,-75,-12"], "bbox west -73.0 is not less than east -75.0"),
        (["--bbox", "170,-10,-170,10"], "antimeridian"),
        (["--bbox", "-75,-13,-74"], "--bbox '-75,-13,-74': give four numbers"),
        (["--types", "battles"], "event_types has unknown value 'battles'"),
        (["--focus", "nowhere"], "--focus 'nowhere': no region with that id is loaded"),
    ],
)
def test_bad_frame_and_type_flags_are_named(tmp_path, capsys, argv, message):
    assert main(["export", "--out", str(tmp_path / "x.png"), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_export_frames_the_focus_region(tmp_path):
    """The page's map shows the focus region padded, not the whole data set."""
    import matplotlib

    matplotlib.use("Agg")
    from atlas.data import load_shipped
    from atlas.frame import focus_box
    from layers.printmap import build_page

    data = load_shipped()
    spec = _spec(["--out", "x.png", "--focus", "vraem-devida", "--size", "web"])
    fig = build_page(spec, data)
    ax = next(a for a in fig.axes if a.get_gid() == "map")
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    west, south, east, north = focus_box("vraem-devida", data.regions)
    assert x0 <= west and x1 >= east and y0 <= south and y1 >= north
    # fitted around the zone: at most ~2.2x its height (web is 16:9, the zone is tall)
    # (the web map box is about 1.9:1 beside the legend column)
    assert (y1 - y0) < 1.3 * (north - south) and (x1 - x0) < 3.3 * (east - west)
    inc = data.incidents.total_bounds
    assert x0 > inc[0] or y0 > inc[1]  # the whole data set is not in the frame
