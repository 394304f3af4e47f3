"""Export benchmark: PNG and PDF files of the map."""

from __future__ import annotations

from pathlib import Path

from bench.core import UNDER_TEST_ERRORS, Recorder, resolve
from bench.data import synthetic_incidents
from bench.map import make_data

#: Small multiples (issue 16): name, size preset, format, small_multiples.
MULTIPLES_CASES = [
    ("PNG 1200x675, small multiples by year (4 panels)", "web", "png", "year"),
    ("PDF A4 300 dpi, small multiples by quarter (6 panels)", "a4", "pdf", "quarter"),
]


def bench_export(rec: Recorder, workdir: Path) -> None:
    plan = rec.plan
    export, status, note = resolve("layers.export", "export")
    cases = [("PNG 1200x675", "web", "png", "none"), ("PDF A4 300 dpi", "a4", "pdf", "none"),
             *MULTIPLES_CASES]  # fmt: skip
    for n in plan.export_sizes:
        if export is None:
            for name, *_ in cases:
                rec.skip("export", name, n, "ours", status, note)
            continue
        from atlas.spec import MapSpec

        incidents = synthetic_incidents(n)
        try:
            data = make_data(incidents)
        except UNDER_TEST_ERRORS as exc:
            for name, *_ in cases:
                rec.skip("export", name, n, "ours", "error",
                         f"atlas.data.load_shipped: {type(exc).__name__}: {exc}"[:400])  # fmt: skip
            continue
        for name, preset, ext, multiples in cases:
            spec = MapSpec(small_multiples=multiples).with_size(preset)
            path = workdir / f"export_{n}.{ext}"
            res, _ = rec.time(
                "export",
                name,
                n,
                "ours",
                lambda spec=spec, data=data, path=path: export(spec, data, path),
                under_test=True,
            )
            if res.status == "ok" and path.is_file():
                res.extra["bytes"] = path.stat().st_size
