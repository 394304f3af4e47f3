"""Export benchmark: PNG and PDF files of the map; GIF and MP4 animations."""

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
    if export is not None:
        _bench_sample(rec, workdir, export, cases[:2])
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
    bench_animation(rec, workdir)


#: Animations: (row name, extension, goal in seconds or None); the GIF goal is issue 13's
#: "GIF <= 15 s for the sample at web".
ANIMATION_CASES: tuple[tuple[str, str, float | None], ...] = (
    ("GIF 1200x675", "gif", 15.0),
    ("MP4 1200x675", "mp4", None),
)


def bench_animation(rec: Recorder, workdir: Path) -> None:
    """GIF and MP4 at ``web`` (monthly steps, cumulative, the default spec) on the shipped
    sample (impl ``sample``) and on the plan's largest synthetic size (impl ``ours``)."""
    export, status, note = resolve("layers.export", "export")
    datasets: list[tuple[str, int | None]] = [
        ("sample", None),
        ("ours", max(rec.plan.export_sizes)),
    ]
    for impl, n in datasets:
        if export is None:
            for name, _, _ in ANIMATION_CASES:
                rec.skip("export", name, n or 0, impl, status, note)
            continue
        from atlas.data import load_shipped
        from atlas.spec import MapSpec

        try:
            data = load_shipped() if n is None else make_data(synthetic_incidents(n))
        except UNDER_TEST_ERRORS as exc:
            for name, _, _ in ANIMATION_CASES:
                rec.skip("export", name, n or 0, impl, "error",
                         f"atlas.data: {type(exc).__name__}: {exc}"[:400])  # fmt: skip
            continue
        rows = len(data.incidents)
        for name, ext, _goal in ANIMATION_CASES:
            spec = MapSpec().with_size("web")
            path = workdir / f"anim_{impl}_{rows}.{ext}"
            res, out = rec.time(
                "export",
                name,
                rows,
                impl,
                lambda spec=spec, data=data, path=path: export(spec, data, path),
                under_test=True,
                repeats=min(rec.plan.repeats, 2),
                defer=True,
            )
            if res.status == "ok" and path.is_file():
                res.extra["bytes"] = path.stat().st_size
                res.extra["frames"] = getattr(out, "frames", 0)
            rec.add(res)


#: Suffix of the rows measured on the shipped SAMPLE bundle (2,000 synthetic incidents).
SAMPLE_SUFFIX = " (shipped sample)"


def _bench_sample(rec: Recorder, workdir: Path, export, cases) -> None:
    """The same files from the shipped bundle as the app loads it (its SAMPLE incidents)."""
    from atlas.data import load_shipped
    from atlas.spec import MapSpec

    try:
        data = load_shipped()
    except UNDER_TEST_ERRORS as exc:
        for name, _, _ in cases:
            rec.skip("export", name + SAMPLE_SUFFIX, 0, "ours", "error",
                     f"atlas.data.load_shipped: {type(exc).__name__}: {exc}"[:400])  # fmt: skip
        return
    n = len(data.incidents)
    for name, preset, ext, *_ in cases:
        spec = MapSpec().with_size(preset)
        path = workdir / f"export_sample.{ext}"
        res, _ = rec.time(
            "export",
            name + SAMPLE_SUFFIX,
            n,
            "ours",
            lambda spec=spec, path=path: export(spec, data, path),
            under_test=True,
        )
        if res.status == "ok" and path.is_file():
            res.extra["bytes"] = path.stat().st_size
