"""Reference events: real, sourced events (San Miguel del Ene, 2021) as a star marker.

The popup names the sources and says the coordinates are an INEI centro poblado point,
not the exact site.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import pandas as pd

from atlas.i18n import t
from layers.base import Layer, LegendEntry
from layers.style import STYLES, esc

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from atlas.data import AtlasData
    from atlas.spec import MapSpec

STAR_SVG = (
    "<svg width='{s}' height='{s}' viewBox='0 0 24 24'>"
    "<path d='M12 1.5l3.1 6.9 7.4.7-5.6 5 1.7 7.4L12 17.6l-6.6 3.9 1.7-7.4-5.6-5 7.4-.7z' "
    "fill='{fill}' stroke='{stroke}' stroke-width='1.2'/></svg>"
)


def _sources_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _first(row: pd.Series, *names: str) -> object:
    for name in names:
        value = row.get(name)
        if value is not None and not (not isinstance(value, str | list | tuple) and pd.isna(value)):
            return value
    return None


def reference_popup(row: pd.Series, lang: str) -> str:
    """Escaped popup HTML for one reference event: what, when, deaths, sources, caveat."""
    date = _first(row, "date")
    date_txt = pd.to_datetime(date).strftime("%Y-%m-%d") if date is not None else ""
    deaths = _first(row, "deaths_best", "fatalities")
    deaths_txt = t("unknown", lang) if deaths is None else f"{float(deaths):,.0f}"
    title = _first(row, "name", "place") or ""
    lines = [f"<b>{esc(title)}</b> ({esc(date_txt)})"]
    place = _first(row, "place")
    if place is not None and place != title:
        lines.append(esc(place))
    lines.append(f"<b>{esc(t('deaths', lang))}:</b> {esc(deaths_txt)}")
    variants = _first(row, "fatalities_reported_variants")
    if variants is not None:
        lines.append(f"<small>{esc(variants)}</small>")
    lines.append(f"<b>{esc(t('source', lang))}:</b> {esc(_sources_text(row.get('sources')))}")
    lines.append(f"<i>{esc(t('reference_caveat', lang))}</i>")
    note = _first(row, "coord_note")
    if note is not None:
        lines.append(f"<small>{esc(note)}</small>")
    return "<div class='atlas-popup'>" + "<br>".join(lines) + "</div>"


class ReferenceLayer(Layer):
    """Sourced reference events, drawn as a star distinct from incident circles."""

    name = "reference"
    reads_incidents = False
    title = {"en": "Reference events", "es": "Eventos de referencia"}
    style = STYLES["reference"]

    def legend_entries(self, data: AtlasData, spec: MapSpec) -> list[LegendEntry]:
        ref = data.reference_events
        if ref is None or ref.empty:
            return []
        return [
            LegendEntry(
                label=t("reference", spec.lang),
                kind="star",
                color=self.style.fill,
                edgecolor=self.style.color,
                size=float(self.style.extra["size"]),
            )
        ]

    def to_folium(self, fmap: folium.Map, data: AtlasData, spec: MapSpec) -> None:
        ref = data.reference_events
        if ref is None or ref.empty:
            return
        s = self.style
        size = int(s.extra["size"])
        svg = STAR_SVG.format(s=size, fill=s.fill, stroke=s.color)
        group = folium.FeatureGroup(name=self.title.get(spec.lang, self.title["en"]))
        for _, row in ref.iterrows():  # a handful of curated events
            pt = row.geometry
            folium.Marker(
                location=(pt.y, pt.x),
                icon=folium.DivIcon(
                    html=svg, icon_size=(size, size), icon_anchor=(size // 2, size // 2)
                ),
                popup=folium.Popup(reference_popup(row, spec.lang), max_width=340),
                tooltip=esc(_first(row, "name", "place") or ""),
            ).add_to(group)
        group.add_to(fmap)

    def to_matplotlib(self, ax: Axes, data: AtlasData, spec: MapSpec) -> None:
        ref = data.reference_events
        if ref is None or ref.empty:
            return
        s = self.style
        ax.scatter(
            ref.geometry.x,
            ref.geometry.y,
            marker="*",
            s=s.extra["size"] ** 2 * 0.9,
            c=s.fill,
            edgecolors=s.color,
            linewidths=s.weight,
            zorder=8,
        )
