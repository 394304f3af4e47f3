"""atlas.i18n: one table (UI and map labels), every key in every language, placeholders
agree, es-PE formats (CLDR)."""

from __future__ import annotations

import datetime as dt
import string

import pytest

from atlas.errors import InputError
from atlas.i18n import LANGS, STRINGS, fmt_date, fmt_int, fmt_number, t


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def table_problems(table: dict[str, dict[str, str]]) -> list[str]:
    """One line per key that lacks a language, has an empty or extra entry, or whose
    ``{placeholders}`` differ between languages."""
    problems = []
    for key, entry in table.items():
        for lang in LANGS:
            if not str(entry.get(lang) or "").strip():
                problems.append(f"{key}: no {lang!r} text")
        problems += [
            f"{key}: unknown language {lang!r}" for lang in sorted(set(entry) - set(LANGS))
        ]
        fields = {lang: _fields(entry[lang]) for lang in LANGS if entry.get(lang)}
        if len({frozenset(f) for f in fields.values()}) > 1:
            shown = ", ".join(f"{lang} {sorted(f)}" for lang, f in fields.items())
            problems.append(f"{key}: placeholders differ ({shown})")
    return problems


def test_one_table_every_key_in_every_language_with_same_placeholders() -> None:
    problems = table_problems(STRINGS)
    assert not problems, "atlas.i18n.STRINGS:\n" + "\n".join(problems)


def test_table_check_catches_gaps() -> None:
    broken = {
        "ok": {"en": "{n} rows", "es": "{n} filas"},
        "no_es": {"en": "Legend"},
        "blank_es": {"en": "Legend", "es": "  "},
        "extra": {"en": "Legend", "es": "Leyenda", "fr": "Légende"},
        "fields": {"en": "{n} rows in {name}", "es": "{count} filas"},
    }
    assert table_problems(broken) == [
        "no_es: no 'es' text",
        "blank_es: no 'es' text",
        "extra: unknown language 'fr'",
        "fields: placeholders differ (en ['n', 'name'], es ['count'])",
    ]


def test_spanish_differs_from_english_for_sentences() -> None:
    # A missing translation copied from English would show up here.
    same = [k for k, v in STRINGS.items() if v["en"] == v["es"] and len(v["en"]) > 12]
    assert same == []


def test_t_fills_placeholders_and_names_bad_keys() -> None:
    assert t("counts", "en", incidents="312", deaths="1,047", inside="281", region="VRAEM") == (
        "312 incidents, 1,047 deaths (best estimate), 281 inside the VRAEM"
    )
    assert t("counts", "es", incidents="312", deaths="1,047", inside="281", region="VRAEM") == (
        "312 incidentes, 1,047 muertes (mejor estimación), 281 dentro del VRAEM"
    )
    with pytest.raises(InputError, match="no_such_key"):
        t("no_such_key", "en")
    with pytest.raises(InputError, match="'fr'"):
        t("filters", "fr")


def test_map_labels_live_in_the_same_table() -> None:
    # layers/style.TEXT was merged in; keys that clashed with UI keys got a map_ prefix.
    assert t("map_sample_banner", "es") == "DATOS DE MUESTRA — incidentes sintéticos"
    assert t("map_fatalities", "en") == "fatalities"
    assert t("fatalities", "en") == "Deaths (best estimate)"
    assert t("sample_banner", "en").startswith("SAMPLE DATA: the incidents on this page")


def test_numbers_follow_cldr_es_pe() -> None:
    # CLDR es_PE (checked with Babel 2.19 format_decimal): group ",", decimal ".".
    assert fmt_int(1047, "es") == "1,047"
    assert fmt_int(1234567, "es") == "1,234,567"
    assert fmt_int(5, "es") == "5"
    assert fmt_int(1047, "en") == "1,047"
    assert fmt_number(1234567.5, "es") == "1,234,567.5"
    assert fmt_number(2.25, "en", 2) == "2.25"
    assert fmt_int(None, "es") == "–"


def test_dates_es_pe_and_english() -> None:
    d = dt.date(2021, 5, 23)
    assert fmt_date(d, "es") == "23/05/2021"
    assert fmt_date(d, "es", "long") == "23 de mayo de 2021"
    assert fmt_date(d, "es", "month") == "mayo 2021"
    assert fmt_date(d, "en") == "2021-05-23"
    assert fmt_date(d, "en", "long") == "23 May 2021"
    assert fmt_date(dt.date(2020, 9, 1), "es", "month") == "septiembre 2020"
    assert fmt_date(dt.datetime(2021, 1, 2, 13, 0), "es") == "02/01/2021"
    with pytest.raises(InputError):
        fmt_date(d, "es", "roman")


def test_every_rejection_reason_speaks_both_languages() -> None:
    from atlas.schema import REJECTION_REASONS

    missing = [r for r in REJECTION_REASONS if f"reason_{r}" not in STRINGS]
    assert not missing, f"add reason_<code> entries to atlas.i18n.STRINGS: {missing}"
    for code, text in REJECTION_REASONS.items():
        assert STRINGS[f"reason_{code}"]["en"] == text  # the CLI's words and the page's agree


def test_load_report_sentence_in_spanish() -> None:
    from atlas.schema import LoadReport
    from atlas.ui_state import report_sentence

    report = LoadReport(source="mi.csv", kind="incidents", rows_read=1204)
    report.reject(4, "no_coordinates")
    report.reject(9, "no_coordinates")
    report.reject(12, "out_of_range", "lat 95")
    report.rows_kept = 1201
    es = report_sentence(report, "es")
    assert es.startswith("mi.csv: 1,204 filas leídas, 1,201 conservadas, 3 excluidas.")
    assert "2 sin coordenadas (filas 4, 9)" in es and "coordenadas fuera del mundo" in es
    assert "rows" not in es
    assert report_sentence(report, "en").startswith("mi.csv: 1,204 rows read, 1,201 kept")
