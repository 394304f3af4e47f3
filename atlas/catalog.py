"""Catalogue of the open data the atlas can download for its users.

Facts (addresses, pinned commits, checksums, licences) come from ../shared/data/SOURCES.md
and PROVENANCE.md. ``sha256`` is None where no checksum is known yet (trust on first
download: :mod:`atlas.fetch` records the hash it saw in the cache and warns).
"""

from __future__ import annotations

from dataclasses import dataclass

from atlas.errors import FetchError

_JUANELADIO = (
    "https://raw.githubusercontent.com/juaneladio/peru-geojson/"
    "3213eeb1bbe537f88dead45a2aadaa276fa9451d/"
)
_JOSEDANIEL = (
    "https://raw.githubusercontent.com/josedaniel-cb/limites-peru-geojson/"
    "3a6785ba145250c645cd8080d1c59833d40e9273/"
)
_UCDP_CITE = (
    "UCDP Georeferenced Event Dataset (GED). Cite Sundberg & Melander (2013), "
    "Journal of Peace Research 50(4); and Davies et al., UCDP yearly release article."
)
#: Peru's UCDP/Gleditsch-Ward country id.
PERU_COUNTRY_ID = 135


@dataclass(frozen=True)
class CatalogEntry:
    """One downloadable source: where it is, how to check it, how to credit it."""

    id: str
    title: str
    url: str
    sha256: str | None
    licence: str
    attribution: str
    vintage: str
    kind: str  # "districts" / "provinces" / "departments" / "ucdp-ged"
    id_field: str
    notes: str = ""

    @property
    def filename(self) -> str:
        """The file name at the end of the URL (also the mirror path's last part)."""
        return self.url.rstrip("/").rsplit("/", 1)[-1]


CATALOG: dict[str, CatalogEntry] = {
    e.id: e
    for e in (
        CatalogEntry(
            id="pe-districts-2007",
            title="Peru districts, INEI 2007 (juaneladio/peru-geojson)",
            url=_JUANELADIO + "peru_distrital_simple.geojson",
            sha256="1eba0da33464b0818f05bfcf066672e6c9cf979ddc0549c8c2e9ca4d0122ac73",
            licence="MPL-2.0",
            attribution='juaneladio/peru-geojson, from MINAM Geoservidor, "Fuente: INEI-2007"',
            vintage="2007",
            kind="districts",
            id_field="IDDIST",
            notes=(
                "1,834 districts; IDDIST is the 6-digit INEI ubigeo; 8 null geometries; "
                "lacks every district created after 2007 (e.g. 120609 Vizcatán del Ene)."
            ),
        ),
        CatalogEntry(
            id="pe-provinces-2007",
            title="Peru provinces, INEI 2007 (juaneladio/peru-geojson)",
            url=_JUANELADIO + "peru_provincial_simple.geojson",
            sha256="3663a2b58e52a6bba9c43acabe33e7d9bb065e54551edd9aa375a411fd0c7fa1",
            licence="MPL-2.0",
            attribution='juaneladio/peru-geojson, from MINAM Geoservidor, "Fuente: INEI-2007"',
            vintage="2007",
            kind="provinces",
            id_field="FIRST_IDPR",
            notes="197 provinces; FIRST_IDPR is the 4-digit ubigeo.",
        ),
        CatalogEntry(
            id="pe-departments-2007",
            title="Peru departments, INEI 2007 (juaneladio/peru-geojson)",
            url=_JUANELADIO + "peru_departamental_simple.geojson",
            sha256="3d34d5450a1b1f059eebdf7386e5b5d071a5063bf3679fcbbbc5314493791290",
            licence="MPL-2.0",
            attribution='juaneladio/peru-geojson, from MINAM Geoservidor, "Fuente: INEI-2007"',
            vintage="2007",
            kind="departments",
            id_field="FIRST_IDDP",
            notes="25 departments; FIRST_IDDP is the 2-digit ubigeo.",
        ),
        CatalogEntry(
            id="pe-departments-2019",
            title="Peru departments, INEI 2019 (josedaniel-cb/limites-peru-geojson)",
            url=_JOSEDANIEL + "LIM_DEPARTAMENTAL_PERU_MIN.json",
            sha256="bdb434847533bfd650fd03d7a2166470491abb401d4da6276aaaa955ed735290",
            licence="MIT",
            attribution="josedaniel-cb/limites-peru-geojson, from geogpsperu.com (INEI 2019)",
            vintage="2019",
            kind="departments",
            id_field="CCDD",
            notes="25 departments; simplified (Visvalingam 5%, mapshaper).",
        ),
        CatalogEntry(
            id="pe-provinces-2019",
            title="Peru provinces, INEI 2019 (josedaniel-cb/limites-peru-geojson)",
            url=_JOSEDANIEL + "LIM_PROVINCIAL_PERU_MIN.json",
            sha256="df35b86347d2d5c3e074b3fa0e0edf2a79b4766d94a02b0372cdcd688ac9c6ff",
            licence="MIT",
            attribution="josedaniel-cb/limites-peru-geojson, from geogpsperu.com (INEI 2019)",
            vintage="2019",
            kind="provinces",
            id_field="IDPROV",
            notes="196 provinces incl. 1608 Putumayo (created 2014).",
        ),
        CatalogEntry(
            id="pe-districts-2023",
            title="Peru districts, INEI 2023 light (lincolneulogio/peru-geojson)",
            url=(
                "https://raw.githubusercontent.com/lincolneulogio/peru-geojson/"
                "9737c032793bd30cad1013b43ca8aaeaa3875218/data/variants/light/distritos.geojson"
            ),
            sha256=None,
            licence="CC-BY-4.0",
            attribution="INEI. Límites ... IDE-INEI, actualización 2023 (via lincolneulogio/peru-geojson)",
            vintage="2023",
            kind="districts",
            id_field="ubigeo",
            notes=(
                "1,890 districts, property `ubigeo`; simplified per polygon (neighbours "
                "overlap by up to ~3.5 km²). sha256 unknown: trusted on first download."
            ),
        ),
        CatalogEntry(
            id="ucdp-ged-25.1",
            title="UCDP Georeferenced Event Dataset 25.1 (global, 1989-2024)",
            url="https://ucdp.uu.se/downloads/ged/ged251-csv.zip",
            sha256=None,
            licence="CC BY 4.0",
            attribution=_UCDP_CITE,
            vintage="25.1",
            kind="ucdp-ged",
            id_field="id",
            notes=(
                "One CSV of 49 columns, tens of MB zipped; streamed and filtered to "
                f"country_id {PERU_COUNTRY_ID} (Peru), cached as GeoParquet. UCDP counts "
                "organised lethal violence only (>= 25 battle deaths per dyad-year)."
            ),
        ),
        CatalogEntry(
            id="ucdp-ged-26.1",
            title="UCDP Georeferenced Event Dataset 26.1 (global)",
            url="https://ucdp.uu.se/downloads/ged/ged261-csv.zip",
            sha256=None,
            licence="CC BY 4.0",
            attribution=_UCDP_CITE,
            vintage="26.1",
            kind="ucdp-ged",
            id_field="id",
            notes="Newer yearly release, same columns; filtered and cached like 25.1.",
        ),
    )
}


def get_entry(entry_id: str) -> CatalogEntry:
    """Return the catalogue entry or raise FetchError listing the known ids."""
    try:
        return CATALOG[entry_id]
    except KeyError:
        known = ", ".join(CATALOG)
        raise FetchError(
            f"{entry_id!r}: not in the catalogue; known ids: {known} "
            "(run `conflict-atlas fetch --list`)"
        ) from None
