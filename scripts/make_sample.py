"""Write geodata/sample_incidents.csv: SYNTHETIC incidents in the ACLED export shape.

Every row is made up (``synthetic`` true, ``dataset`` "sample (synthetic)", notes starting
"SYNTHETIC SAMPLE - not a real event") so the app has something to draw without ACLED's
licence-bound data. Points are drawn around named towns (anchors) with a concentration in
and near the VRAEM, and kept only where they fall inside Peru's Natural Earth outline
(geodata/basemap_south_america.geojson). Deterministic: numpy ``default_rng(seed)`` and a
fixed row order, so two runs give identical bytes.

    python scripts/make_sample.py [--seed 2024] [--n 2000] [--out geodata/sample_incidents.csv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "geodata" / "sample_incidents.csv"
BASEMAP = ROOT / "geodata" / "basemap_south_america.geojson"
SEED = 2024
N = 2000
DATASET = "sample (synthetic)"
NOTE = "SYNTHETIC SAMPLE - not a real event"
VRAEM_SHARE = 0.45

#: (town, department, lat, lon, spread in degrees): VRAEM anchors first.
VRAEM_ANCHORS = (
    ("Pichari", "Cusco", -12.52, -73.83, 0.12),
    ("San Miguel del Ene", "Junin", -12.19, -74.03, 0.12),
    ("Llochegua", "Ayacucho", -12.41, -73.91, 0.10),
    ("Santa Rosa", "Ayacucho", -12.69, -73.74, 0.10),
    ("Mazamari", "Junin", -11.33, -74.53, 0.12),
    ("Puerto Ocopa", "Junin", -11.14, -74.30, 0.15),
    ("Chungui", "Ayacucho", -13.22, -73.62, 0.10),
)
PERU_ANCHORS = (
    ("Lima", "Lima", -12.05, -77.04, 0.15),
    ("Arequipa", "Arequipa", -16.40, -71.54, 0.20),
    ("Cusco", "Cusco", -13.53, -71.97, 0.20),
    ("Trujillo", "La Libertad", -8.11, -79.03, 0.20),
    ("Chiclayo", "Lambayeque", -6.77, -79.84, 0.20),
    ("Piura", "Piura", -5.19, -80.63, 0.25),
    ("Iquitos", "Loreto", -3.75, -73.25, 0.25),
    ("Pucallpa", "Ucayali", -8.38, -74.55, 0.25),
    ("Huancayo", "Junin", -12.07, -75.21, 0.20),
    ("Ayacucho", "Ayacucho", -13.16, -74.22, 0.20),
    ("Puno", "Puno", -15.84, -70.02, 0.25),
    ("Tingo Maria", "Huanuco", -9.30, -76.00, 0.25),
    ("Tarapoto", "San Martin", -6.49, -76.37, 0.25),
    ("Puerto Maldonado", "Madre de Dios", -12.59, -69.19, 0.25),
)
#: ACLED event type -> (weight in the VRAEM, weight elsewhere, sub-types, mean fatalities).
EVENT_TYPES = {
    "Battles": (0.35, 0.05, ("Armed clash",), 0.9),
    "Violence against civilians": (0.25, 0.10, ("Attack", "Abduction/forced disappearance"), 0.6),
    "Explosions/Remote violence": (0.05, 0.02, ("Remote explosive/landmine/IED",), 0.5),
    "Riots": (0.05, 0.20, ("Violent demonstration", "Mob violence"), 0.1),
    "Protests": (0.10, 0.50, ("Peaceful protest", "Protest with intervention"), 0.0),
    "Strategic developments": (0.20, 0.13, ("Arrests", "Looting/property destruction"), 0.0),
}
ACTORS = {
    "Battles": ("Military Forces of Peru (synthetic)", "Armed group (synthetic)"),
    "Violence against civilians": ("Armed group (synthetic)", "Civilians (synthetic)"),
    "Explosions/Remote violence": (
        "Armed group (synthetic)",
        "Military Forces of Peru (synthetic)",
    ),
    "Riots": ("Rioters (synthetic)", "Police Forces of Peru (synthetic)"),
    "Protests": ("Protesters (synthetic)", ""),
    "Strategic developments": ("Police Forces of Peru (synthetic)", ""),
}
COLUMNS = (
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "civilian_targeting",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "notes",
    "fatalities",
    "synthetic",
    "dataset",
)


def _peru(basemap: Path) -> shapely.Geometry:
    world = gpd.read_file(basemap)
    peru = world.loc[world["iso_n3"].astype(str) == "604", "geometry"]
    if peru.empty:
        raise SystemExit(f"{basemap}: no Peru (iso_n3 604); run scripts/make_basemap.py first")
    return peru.iloc[0]


def _points(rng: np.random.Generator, anchors: tuple, n: int, peru) -> pd.DataFrame:
    """n points around the anchors, redrawn until every point lies inside Peru."""
    a = pd.DataFrame(anchors, columns=["town", "admin1", "lat", "lon", "sd"])
    pick = rng.integers(0, len(a), n)
    lat = np.empty(n)
    lon = np.empty(n)
    todo = np.arange(n)
    while todo.size:  # a handful of vectorised rounds; deterministic for a given seed
        lat[todo] = (
            a["lat"].to_numpy()[pick[todo]]
            + rng.normal(0, 1, todo.size) * a["sd"].to_numpy()[pick[todo]]
        )
        lon[todo] = (
            a["lon"].to_numpy()[pick[todo]]
            + rng.normal(0, 1, todo.size) * a["sd"].to_numpy()[pick[todo]]
        )
        todo = todo[~shapely.contains_xy(peru, lon[todo], lat[todo])]
    return pd.DataFrame(
        {
            "town": a["town"].to_numpy()[pick],
            "admin1": a["admin1"].to_numpy()[pick],
            "latitude": lat.round(4),
            "longitude": lon.round(4),
        }
    )


def make_sample(seed: int = SEED, n: int = N, basemap: Path = BASEMAP) -> pd.DataFrame:
    """Build the synthetic incident table (ACLED export columns plus synthetic/dataset)."""
    rng = np.random.default_rng(seed)
    peru = _peru(basemap)
    n_vraem = int(round(n * VRAEM_SHARE))
    pts = pd.concat(
        [_points(rng, VRAEM_ANCHORS, n_vraem, peru), _points(rng, PERU_ANCHORS, n - n_vraem, peru)],
        ignore_index=True,
    )
    in_vraem = np.arange(n) < n_vraem
    names = list(EVENT_TYPES)
    w_v = np.array([EVENT_TYPES[t][0] for t in names])
    w_o = np.array([EVENT_TYPES[t][1] for t in names])
    etype = np.where(
        in_vraem,
        rng.choice(names, n, p=w_v / w_v.sum()),
        rng.choice(names, n, p=w_o / w_o.sum()),
    )
    sub_pick = rng.integers(0, 2, n)
    sub = np.array(
        [
            EVENT_TYPES[t][2][s % len(EVENT_TYPES[t][2])]
            for t, s in zip(etype, sub_pick, strict=True)
        ]
    )
    mean_fat = np.array([EVENT_TYPES[t][3] for t in etype])
    fatalities = rng.poisson(mean_fat)
    start = np.datetime64("2018-01-01")
    days = int((np.datetime64("2024-12-31") - start).astype(int)) + 1
    dates = start + rng.integers(0, days, n).astype("timedelta64[D]")
    time_prec = rng.choice([1, 2, 3], n, p=[0.85, 0.10, 0.05])
    geo_prec = rng.choice([1, 2, 3], n, p=[0.70, 0.22, 0.08])
    actors = np.array([ACTORS[t] for t in etype])
    df = pd.DataFrame(
        {
            "event_date": pd.to_datetime(dates).strftime("%Y-%m-%d"),
            "year": pd.to_datetime(dates).year,
            "time_precision": time_prec,
            "event_type": etype,
            "sub_event_type": sub,
            "actor1": actors[:, 0],
            "actor2": actors[:, 1],
            "civilian_targeting": np.where(
                etype == "Violence against civilians", "Civilian targeting", ""
            ),
            "country": "Peru",
            "admin1": pts["admin1"],
            "admin2": "",
            "admin3": "",
            "location": "Synthetic place near " + pts["town"],
            "latitude": pts["latitude"],
            "longitude": pts["longitude"],
            "geo_precision": geo_prec,
            "source": "synthetic sample (scripts/make_sample.py)",
            "notes": f"{NOTE}. Generated by scripts/make_sample.py with seed {seed}.",
            "fatalities": fatalities,
            "synthetic": "true",
            "dataset": DATASET,
        }
    )
    df = df.sort_values(["event_date", "latitude", "longitude"], kind="mergesort").reset_index(
        drop=True
    )
    df.insert(0, "event_id_cnty", [f"SAMPLE-PER-{i:05d}" for i in range(1, n + 1)])
    return df[list(COLUMNS)]


def write_sample(out: Path = OUT, seed: int = SEED, n: int = N, basemap: Path = BASEMAP) -> Path:
    """Write the sample CSV (UTF-8, LF line ends, fixed float format)."""
    df = make_sample(seed, n, basemap)
    out.write_text(
        df.to_csv(index=False, lineterminator="\n", float_format="%.4f"), encoding="utf-8"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--n", type=int, default=N)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    path = write_sample(args.out, args.seed, args.n)
    print(f"wrote {path} ({args.n} synthetic incidents, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
