"""The self-contained HTML export: the interactive map as a page a reader can be sent.

Above the map: the title and the dek. Below it: the note, one "Source: …" line (the
reader's own source text first, then the datasets drawn), "Map: byline", and the credits
(the tools and every dataset with its licence, folded in a ``<details>``). The page's
``<title>`` is the map's title. The legend stays collapsible and is capped to a fifth of
the map's area (:data:`LEGEND_MAX_SHARE`). Every text is escaped (HTML and Jinja braces):
a title made of markup shows as the markup's letters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from branca.element import Element, MacroElement
from jinja2 import Template

from atlas.i18n import t
from layers.style import esc

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from atlas.data import AtlasData
    from atlas.spec import MapSpec

#: The legend's box may cover at most this share of the map (area), checked in a browser
#: at 1200x675 (tests/browser/test_export_html_page.py).
LEGEND_MAX_SHARE = 0.20

#: Page layout: header, map, footer in one column filling the window; the legend is
#: capped at 250 x 480 px (it scrolls inside beyond that): 15 % of a 1200 x 675 map.
PAGE_CSS = """
<style>
  html, body {height: 100%; margin: 0;}
  body {display: flex; flex-direction: column; font-family: "DejaVu Sans", Verdana,
        sans-serif; color: #1a1a1a; background: #fff;}
  .atlas-page-head {order: 0; padding: 10px 16px 6px; flex: 0 0 auto;}
  .atlas-page-head h1 {font-size: 22px; line-height: 1.2; margin: 0 0 4px;}
  .atlas-page-head p {font-size: 15px; line-height: 1.35; margin: 0; color: #333;}
  .folium-map {order: 1; flex: 1 1 auto; min-height: 320px; position: relative !important;
               height: auto !important;}
  .atlas-page-foot {order: 2; padding: 6px 16px 10px; font-size: 12px; line-height: 1.4;
                    color: #333; flex: 0 0 auto;}
  .atlas-page-foot p {margin: 2px 0;}
  .atlas-page-foot .atlas-byline {font-weight: bold;}
  .atlas-page-foot details summary {cursor: pointer;}
  .atlas-page-foot details ul {margin: 4px 0; padding-left: 18px;}
  div.atlas-legend {max-width: 250px; max-height: 480px;}
</style>
"""


def html_document(spec: MapSpec, data: AtlasData) -> str:
    """The whole export: the map of ``spec`` (filtered here), its page text, every asset
    inlined (opens offline from a file)."""
    from layers import printmap
    from layers.compose import build_folium_map, inline_html

    view, _ = printmap.filter_view(spec, data)
    fmap = build_folium_map(spec, view, assets="inline")
    add_page_text(fmap, spec, data)
    return inline_html(fmap)


def add_page_text(fmap: folium.Map, spec: MapSpec, data: AtlasData) -> None:
    """Give ``fmap``'s page its title, dek, note, source line, byline and credits."""
    root = fmap.get_root()
    root.header.add_child(Element(f"<title>{esc(page_title(spec))}</title>"), name="atlas-title")
    root.header.add_child(Element(PAGE_CSS), name="atlas-page-css")
    head = page_head_html(spec)
    if head:  # before the map's own <div> (added when the page renders)
        root.html.add_child(Element(head), name="atlas-page-head")
    PageFoot(page_foot_html(spec, data)).add_to(fmap)  # after it


def page_title(spec: MapSpec) -> str:
    """The page's ``<title>``: the map's title, else the atlas' name."""
    return spec.title.strip() or t("html_default_title", spec.lang)


def page_head_html(spec: MapSpec) -> str:
    """Title and dek above the map (escaped); "" when both are empty."""
    parts = []
    if spec.title.strip():
        parts.append(f"<h1>{esc(spec.title.strip())}</h1>")
    if spec.dek.strip():
        parts.append(f"<p class='atlas-dek'>{esc(spec.dek.strip())}</p>")
    if not parts:
        return ""
    return "<header class='atlas-page-head'>" + "".join(parts) + "</header>"


def source_line(spec: MapSpec, data: AtlasData) -> str:
    """ "Source: <the reader's source text>; <datasets drawn>." as plain text."""
    names = [str(src.name) for src in getattr(data, "sources", []) or []]
    bits = [b for b in (spec.source_line.strip(), "; ".join(names)) if b]
    if not bits:
        return ""
    text = "; ".join(bits)
    return f"{t('html_source', spec.lang)}: {text}" + ("" if text.endswith(".") else ".")


def page_foot_html(spec: MapSpec, data: AtlasData) -> str:
    """Note, source line, byline and credits under the map (escaped)."""
    lang = spec.lang
    parts = []
    if spec.notes.strip():
        parts.append(
            f"<p class='atlas-note'>{esc(t('html_note', lang))}: {esc(spec.notes.strip())}</p>"
        )
    line = source_line(spec, data)
    if line:
        parts.append(f"<p class='atlas-source'>{esc(line)}</p>")
    if spec.byline.strip():
        parts.append(
            f"<p class='atlas-byline'>{esc(t('html_map_by', lang))}: {esc(spec.byline.strip())}</p>"
        )
    items = []
    for src in getattr(data, "sources", []) or []:
        bits = [str(src.name)]
        for value in (src.version, src.access_date, src.licence, src.url):
            if value:
                bits.append(str(value))
        items.append(f"<li>{esc(', '.join(bits))}</li>")
    made_with = esc(t("html_credits", lang))
    parts.append(
        f"<details class='atlas-credits'><summary>{esc(t('html_credits_title', lang))}"
        f"</summary><p>{made_with}</p><ul>{''.join(items)}</ul></details>"
    )
    return "<footer class='atlas-page-foot'>" + "".join(parts) + "</footer>"


class PageFoot(MacroElement):
    """The footer, rendered into the page's body after the map's ``<div>``."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}{{ this.html }}{% endmacro %}
        """
    )

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "AtlasPageFoot"
        self.html = html


__all__ = [
    "LEGEND_MAX_SHARE",
    "add_page_text",
    "html_document",
    "page_foot_html",
    "page_head_html",
    "page_title",
    "source_line",
]
