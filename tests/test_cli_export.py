"""`conflict-atlas export` end to end: spec file + flags -> files, LoadReports printed."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from atlas.spec import MapSpec
from cli import build_parser, main
from cli.export import spec_from_args


def _spec(argv: list[str]) -> MapSpec:
    return spec_from_args(build_parser().parse_args(["export", *argv]))


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
    assert "acled_current_columns" in svg or "ACLED" in svg  # the dataset is credited
    assert "SAMPLE DATA — synthetic incidents" not in svg  # user data is not sample data


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
