"""What changed between two versions of the incident file, as a map layer.

Draws :func:`atlas.diff.changes_points` (already filtered by the spec and generalised
with it): added events as filled bluish-green circles, removed ones as hollow vermillion
rings (dashed), revised ones as filled blue circles; shape (filled / hollow) is the
second channel besides colour (Okabe-Ito, safe under colour-vision deficiency). The popup
says what changed. Not a spec layer: it is drawn when the app (or a caller) holds a
second version, passed to :func:`layers.compose.build_groups` as ``data.changes``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import pandas as pd

from atlas.i18n import fmt_int, fmt_number, t
from layers.base import LegendEntry, Style
from layers.style import esc

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from matplotlib.axes import Axes

#: One style per status; the same entries draw on screen and in print.
CHANGE_STYLES: dict[str, Style] = {
    "added": Style(color="#004d3a", fill="#009E73", fill_opacity=0.9, weight=1.0),
    "removed": Style(color="#D55E00", fill="#ffffff", fill_opacity=0.0, weight=2.5, dashed=True),
    "changed": Style(color="#003f66", fill="#0072B2", fill_opacity=0.9, weight=1.0),
}
RADIUS = 7


def legend_entries(changes: gpd.GeoDataFrame | None, lang: str) -> list[LegendEntry]:
    """One legend line per status present, with its count."""
    if changes is None or changes.empty:
        return []
    out = []
    counts = changes["status"].value_counts()
    for status, s in CHANGE_STYLES.items():
        if counts.get(status, 0):
            label = t(f"changes_{status}", lang, n=fmt_int(int(counts[status]), lang))
            out.append(LegendEntry(label=label, kind="point", color=s.fill,
                                   edgecolor=s.color, size=RADIUS * 2, dashed=s.dashed))  # fmt: skip
    return out


def change_popup(row: pd.Series, lang: str) -> str:
    """Escaped popup HTML: id, status, fields compared that differ, the revisions."""
    lines = [f"<b>{esc(row['event_id'])}</b>: {esc(t('changes_status_' + row['status'], lang))}"]
    if row["status"] == "changed" and row.get("fields_changed"):
        lines.append(f"{esc(t('changes_fields', lang))}: {esc(row['fields_changed'])}")
    fo, fn = row.get("fatalities_old"), row.get("fatalities_new")
    if row["status"] == "changed" and not pd.isna(fo) and not pd.isna(fn) and fo != fn:
        lines.append(t("changes_fatalities", lang, old=fmt_int(fo, lang), new=fmt_int(fn, lang)))
    km = row.get("km_moved")
    if row["status"] == "changed" and not pd.isna(km) and km > 0:
        lines.append(t("changes_km", lang, km=fmt_number(km, lang, 1)))
    days = row.get("days_moved")
    if row["status"] == "changed" and not pd.isna(days) and days != 0:
        lines.append(t("changes_days", lang, days=fmt_int(days, lang)))
    return "<div class='atlas-popup'>" + "<br>".join(lines) + "</div>"


def to_folium(group: folium.FeatureGroup, changes: gpd.GeoDataFrame | None, lang: str) -> None:
    """Draw the changes into ``group`` (removed first, so added and revised stay on top)."""
    if changes is None or changes.empty:
        return
    for status in ("removed", "changed", "added"):
        s = CHANGE_STYLES[status]
        for _, row in changes[changes["status"] == status].iterrows():
            pt = row.geometry
            folium.CircleMarker(
                location=(pt.y, pt.x),
                radius=RADIUS,
                color=s.color,
                weight=s.weight,
                fill=True,
                fill_color=s.fill,
                fill_opacity=s.fill_opacity,
                dash_array="3 3" if s.dashed else None,
                popup=folium.Popup(change_popup(row, lang), max_width=320),
                tooltip=esc(f"{row['event_id']}: {t('changes_status_' + status, lang)}"),
                class_name=f"atlas-change atlas-change-{status}",
            ).add_to(group)


def to_matplotlib(ax: Axes, changes: gpd.GeoDataFrame | None) -> None:
    """The same symbols on a print axes."""
    if changes is None or changes.empty:
        return
    for status in ("removed", "changed", "added"):
        s = CHANGE_STYLES[status]
        part = changes[changes["status"] == status]
        if part.empty:
            continue
        ax.scatter(
            part.geometry.x,
            part.geometry.y,
            s=(RADIUS * 1.6) ** 2,
            c="none" if status == "removed" else s.fill,
            edgecolors=s.color,
            linewidths=s.weight,
            linestyles="--" if s.dashed else "-",
            zorder=6,
        )


__all__ = ["CHANGE_STYLES", "change_popup", "legend_entries", "to_folium", "to_matplotlib"]
