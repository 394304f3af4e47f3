"""Build geodata/basemap_south_america.geojson from Natural Earth via npm ``world-atlas``.

Source: npm package ``world-atlas@2.0.2`` (Natural Earth 4.1.0 admin-0 countries, public
domain; package ISC-style licence by Michael Bostock), file ``countries-50m.json``.
Tarball checks (``npm pack world-atlas@2.0.2``):

* sha512 (npm integrity) ``IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ==``
* sha1 (npm shasum) ``4bca4a578f3a413bd409c3f07f2054fe7375824f``
* sha256 ``032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97``

Usage::

    cd /tmp && npm pack world-atlas@2.0.2
    python scripts/make_basemap.py /tmp/world-atlas-2.0.2.tgz

The TopoJSON decoder below is our own: arcs are delta-decoded (cumulative sums of the
quantised positions), then scaled and translated by the topology's ``transform``; a
negative arc index ``~i`` means arc ``i`` reversed. Countries whose outline crosses the
antimeridian are dropped *before* clipping to the South America box, because their
rings wrap around the world and would clip into garbage.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tarfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

PACKAGE = "world-atlas"
VERSION = "2.0.2"
MEMBER = "package/countries-50m.json"
SHA1 = "4bca4a578f3a413bd409c3f07f2054fe7375824f"
#: lon/lat box kept: South America with the Galápagos, Falklands and South Georgia.
BBOX = (-93.0, -60.0, -25.0, 13.5)
DECIMALS = 4
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "geodata" / "basemap_south_america.geojson"


def decode_arcs(topology: dict) -> list[np.ndarray]:
    """Return every arc as an (n, 2) array of lon/lat (delta-decoded, transformed)."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        xy = np.asarray(arc, dtype="float64")[:, :2]
        if transform:
            xy = np.cumsum(xy, axis=0)
            xy = xy * np.asarray(transform["scale"]) + np.asarray(transform["translate"])
        arcs.append(xy)
    return arcs


def _ring(indexes: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    """Stitch arcs into one ring; each arc after the first drops its shared first point."""
    parts = []
    for k, i in enumerate(indexes):
        xy = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(xy if k == 0 else xy[1:])
    return np.concatenate(parts)


def _polygon(rings: list[list[int]], arcs: list[np.ndarray]) -> Polygon:
    coords = [_ring(r, arcs) for r in rings]
    return Polygon(coords[0], coords[1:])


def decode_geometry(geom: dict, arcs: list[np.ndarray]) -> Polygon | MultiPolygon | None:
    """Decode one TopoJSON Polygon/MultiPolygon object (others return None)."""
    if geom.get("type") == "Polygon":
        return _polygon(geom["arcs"], arcs)
    if geom.get("type") == "MultiPolygon":
        return MultiPolygon([_polygon(p, arcs) for p in geom["arcs"]])
    return None


def crosses_antimeridian(geom: Polygon | MultiPolygon) -> bool:
    """True when any ring jumps by more than 180° of longitude between two vertices."""
    polys = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            x = np.asarray(ring.coords)[:, 0]
            if np.any(np.abs(np.diff(x)) > 180):
                return True
    return False


def build(topology: dict) -> gpd.GeoDataFrame:
    """Decode the countries object, drop antimeridian crossers, clip to ``BBOX``."""
    arcs = decode_arcs(topology)
    rows = []
    for obj in topology["objects"]["countries"]["geometries"]:
        geom = decode_geometry(obj, arcs)
        if geom is None or crosses_antimeridian(geom):
            continue
        rows.append(
            {
                "name": str(obj.get("properties", {}).get("name", "")),
                "iso_n3": str(obj.get("id", "")),
                "geometry": shapely.make_valid(geom),
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf = gdf[gdf.intersects(box(*BBOX))].copy()
    gdf["geometry"] = gdf.geometry.intersection(box(*BBOX))
    gdf["geometry"] = shapely.set_precision(gdf.geometry.values, 10**-DECIMALS)
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    return gdf.sort_values("iso_n3").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help=f"{PACKAGE}-{VERSION}.tgz from npm pack")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    data = args.tarball.read_bytes()
    sha1 = hashlib.sha1(data).hexdigest()
    if sha1 != SHA1:
        print(f"{args.tarball}: sha1 {sha1} is not {SHA1}; get {PACKAGE}@{VERSION} with npm pack")
        return 2
    with tarfile.open(args.tarball) as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            print(f"{args.tarball}: no {MEMBER} inside")
            return 2
        topology = json.load(member)
    gdf = build(topology)
    args.out.write_text(gdf.to_json(drop_id=True, to_wgs84=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(gdf)} countries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
