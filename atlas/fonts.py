"""Fonts an operator offers for exports, chosen by name.

A spec (and so a URL) names a font; it never carries a file path. The operator lists the
fonts this installation offers in ``CONFLICT_ATLAS_FONTS`` as ``Name=/path/to/font.ttf``
entries separated by ``;``. The house font, DejaVu Sans (shipped with matplotlib), is
always offered. Entries whose file is missing, or is not a TrueType/OpenType/collection
file with a character map and glyphs (read with fontTools), are left out with a warning;
the renderer resolves names with :func:`font_path`.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from struct import error as struct_error

FONTS_ENV = "CONFLICT_ATLAS_FONTS"
HOUSE_FONT = "DejaVu Sans"
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
_NAME = re.compile(r"^[\w .+-]{1,64}$")
_MAGIC = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf")


def configured_fonts(env: str | None = None) -> dict[str, Path | None]:
    """Name -> font file (None for the house font, which matplotlib ships)."""
    raw = os.environ.get(FONTS_ENV, "") if env is None else env
    out: dict[str, Path | None] = {HOUSE_FONT: None}
    for entry in raw.split(";"):
        if not entry.strip():
            continue
        name, sep, path = entry.partition("=")
        name, path = name.strip(), path.strip()
        if not sep or not _NAME.match(name):
            warnings.warn(f"{FONTS_ENV}: entry {entry[:80]!r} is not Name=/path/to/font.ttf",
                          stacklevel=2)  # fmt: skip
            continue
        problem = _font_problem(Path(path))
        if problem:
            warnings.warn(f"{FONTS_ENV}: {name}: {problem}; left out", stacklevel=2)
            continue
        out[name] = Path(path)
    return out


def font_path(name: str) -> Path | None:
    """The file of an offered font (None: the house font); KeyError if not offered."""
    return configured_fonts()[name or HOUSE_FONT]


def font_family_name(path: str | Path) -> str:
    """The family name inside a TrueType/OpenType file; InputError naming the file when
    it is missing or not a font (why: an operator's typo must not become DejaVu)."""
    from atlas.errors import InputError

    p = Path(path)
    problem = _font_problem(p)
    if problem:
        raise InputError(f"font file {p}: {problem}; give a .ttf, .otf or .ttc font file")
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        font = TTCollection(str(p)).fonts[0] if p.suffix.lower() == ".ttc" else TTFont(str(p))
        name = font["name"].getBestFamilyName()
    except (TTLibError, KeyError, OSError, AssertionError, struct_error) as exc:
        raise InputError(f"font file {p}: not a readable font ({type(exc).__name__})") from None
    if not name or not _NAME.match(name):
        raise InputError(f"font file {p}: its family name {str(name)[:64]!r} cannot be used")
    return str(name)


def register_font_file(path: str | Path) -> str:
    """Offer the font at ``path`` in this process (as if listed in ``CONFLICT_ATLAS_FONTS``)
    and return its family name, for a spec's ``font``. The CLI's ``--font-file``."""
    name = font_family_name(path)
    entry = f"{name}={Path(path).resolve()}"
    current = os.environ.get(FONTS_ENV, "")
    os.environ[FONTS_ENV] = f"{current};{entry}" if current else entry
    return name


def _font_problem(path: Path) -> str | None:
    if path.suffix.lower() not in _FONT_SUFFIXES:
        return f"{path.name} is not a .ttf, .otf or .ttc file"
    if not path.is_file():
        return f"{path} not found (or not a file)"
    with path.open("rb") as fh:
        if fh.read(4) not in _MAGIC:
            return f"{path.name} is not a font file"
    return _tables_problem(path)


def _tables_problem(path: Path) -> str | None:
    """A font header is not a font: the renderer needs the character map and the glyphs.

    fontTools ships with matplotlib; it reads the table directory, then the tables a
    renderer looks up first (the first face of a collection).
    """
    import struct

    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        if path.suffix.lower() == ".ttc":
            fonts = TTCollection(path).fonts
            font = fonts[0]
        else:
            font = TTFont(path)
        missing = [t for t in ("cmap", "head", "name") if t not in font]
        if not missing and "glyf" not in font and "CFF " not in font and "CFF2" not in font:
            missing = ["glyf or CFF"]
        if missing:
            return f"{path.name} is not a usable font (no {', '.join(missing)} table)"
        font["cmap"].getBestCmap()
    except (TTLibError, KeyError, IndexError, ValueError, EOFError, AssertionError,
            struct.error) as exc:  # fmt: skip
        return f"{path.name} is not a usable font ({str(exc)[:80] or type(exc).__name__})"
    return None


__all__ = [
    "FONTS_ENV",
    "HOUSE_FONT",
    "configured_fonts",
    "font_family_name",
    "font_path",
    "register_font_file",
]
