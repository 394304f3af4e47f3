"""The page in Spanish, as a reader sees it: no English string from our table anywhere
(sidebar, main page with every panel open, the map's frame)."""

from __future__ import annotations

import re

import pytest

from atlas.i18n import STRINGS, t

from .conftest import MAP_IFRAME, page_runs, wait_for_app

pytestmark = pytest.mark.browser

#: Keys whose English words are meant to show in Spanish too.
BILINGUAL = {"language"}


def english_fragments() -> dict[str, list[str]]:
    """key -> the English pieces (between placeholders) that Spanish does not share."""
    out: dict[str, list[str]] = {}
    for key, entry in STRINGS.items():
        if key in BILINGUAL or entry["en"] == entry["es"]:
            continue
        frags = [f.strip(" .:,()·–-") for f in re.split(r"\{[^}]+\}", entry["en"])]
        frags = [f for f in frags if len(f) >= 6 and f not in entry["es"]]
        if frags:
            out[key] = frags
    return out


def test_every_string_the_spanish_reader_sees_is_spanish(app_page, app_server):
    page = app_page.page
    page.goto(f"{app_server.url}/?lang=es", wait_until="domcontentloaded")
    wait_for_app(page)
    for summary in page.locator("[data-testid=stExpander] summary").all():
        summary.click()
        page.wait_for_timeout(300)
    # folded panels are made when opened (a rerun each): wait until the runs settle and
    # the last panel's content is drawn
    page.get_by_role("button", name=t("fetch_districts", "es")).wait_for(timeout=60_000)
    runs = -1
    for _ in range(40):
        if page_runs(page) == runs:
            break
        runs = page_runs(page)
        page.wait_for_timeout(1500)
    text = page.evaluate("() => document.body.innerText")
    frame = page.query_selector(MAP_IFRAME).content_frame()
    text += "\n" + frame.evaluate("() => document.body.innerText")
    # the time chart's words: its labels, each step's tooltip and its description
    text += "\n" + page.evaluate(
        """() => [...document.querySelectorAll('.atlas-chart text, .atlas-chart title')]
          .map(e => e.textContent).concat([...document.querySelectorAll('.atlas-chart svg')]
          .map(s => s.getAttribute('aria-label'))).join('\\n')"""
    )
    assert "muertes; fuera:" in text  # the chart's tooltips were read
    assert "Atlas de conflictos" in text and "Restablecer filtros" in text
    found = [
        (key, frag)
        for key, frags in english_fragments().items()
        for frag in frags
        # a whole phrase, not part of a file name or another word (sample_incidents.csv)
        if re.search(rf"(?<![\w_]){re.escape(frag)}(?![\w])", text)
    ]
    assert not found, f"English on the Spanish page: {found}"
    for builtin in ("Drag and drop", "200MB per file", "Browse files"):
        assert builtin not in text  # Streamlit's own uploader words are replaced ...
    shown = page.evaluate(
        """() => [
          getComputedStyle(document.querySelector('[data-testid=stFileUploaderDropzone] button '
            + '[data-testid=stMarkdownContainer]'), '::after').content,
          getComputedStyle(document.querySelector(
            '[data-testid=stFileUploaderDropzoneInstructions] > div'), '::after').content]"""
    )
    assert shown[0] == '"Elegir un archivo"' and shown[1].startswith('"Hasta ')  # ... by ours
