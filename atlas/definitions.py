"""Region definitions shipped as data (geodata/definitions/): which districts make a region.

``index.toml`` lists every definition the atlas knows, including the ones it does NOT have
(``available = false``, no codes): a definition we do not have is absent, never guessed.
:func:`load_definitions` returns the available ones as
:class:`atlas.regions.RegionDefinition`; :func:`definition_index` returns all entries, so
the UI can say what is missing and why.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from atlas.errors import InputError
from atlas.regions import RegionDefinition

GEODATA = Path(__file__).resolve().parents[1] / "geodata"
DEFINITIONS_DIR = GEODATA / "definitions"
INDEX = DEFINITIONS_DIR / "index.toml"


@dataclass(frozen=True)
class DefinitionInfo:
    """One index entry: what the definition is, where it comes from, whether we have it."""

    id: str
    name: str
    kind: str
    layer: str
    available: bool
    source: str
    notes: str = ""
    file: str = ""
    code_field: str = ""
    subzone_field: str = ""
    boundary_vintage: str = ""


def definition_index(index: Path = INDEX) -> list[DefinitionInfo]:
    """Every entry of the index, available or not, in file order."""
    try:
        with open(index, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{index}: definitions index not found; restore geodata/") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{index}: not valid TOML ({exc}); fix the file") from None
    out = []
    for raw in doc.get("definition", []):
        missing = [
            k for k in ("id", "name", "kind", "layer", "available", "source") if k not in raw
        ]
        if missing:
            raise InputError(f"{index}: entry {raw.get('id', '?')!r} lacks {', '.join(missing)}")
        known = set(DefinitionInfo.__dataclass_fields__)
        out.append(DefinitionInfo(**{k: v for k, v in raw.items() if k in known}))
    return out


def _read_codes(info: DefinitionInfo, folder: Path) -> RegionDefinition:
    path = folder / info.file
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"{path}: listed in the definitions index but missing") from None
    if info.code_field not in table.columns:
        raise InputError(f"{path}: no code column {info.code_field!r}; fix index.toml")
    codes = table[info.code_field].str.strip()
    bad = codes[~codes.str.fullmatch(r"\d{6}")]
    if len(bad):
        raise InputError(
            f"{path}: codes must be 6-digit INEI ubigeo text (leading zeros kept); "
            f"bad: {', '.join(bad.head(5))}"
        )
    if codes.duplicated().any():
        raise InputError(f"{path}: duplicate codes {', '.join(codes[codes.duplicated()])}")
    subzones = None
    if info.subzone_field:
        subzones = dict(zip(codes, table[info.subzone_field].str.strip(), strict=True))
    return RegionDefinition(
        region_id=info.id,
        name=info.name,
        codes=tuple(codes),
        subzones=subzones,
        source=info.source,
        layer=info.layer,
    )


def load_definitions(index: Path = INDEX) -> dict[str, RegionDefinition]:
    """The available definitions by id (codes as 6-digit text, subzones when given)."""
    folder = index.parent
    return {i.id: _read_codes(i, folder) for i in definition_index(index) if i.available}
