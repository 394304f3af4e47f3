"""Numbers for the article: the key figures of a view, each with what produced it.

:func:`article_facts` reads the same filters as the map (``atlas.query.filter_incidents``)
and returns :class:`Facts`: incidents and deaths (UCDP's low–high range where the data
has one; events without a death figure counted apart), inside and outside the focus
region, the change against the previous period of the same length, the top districts,
incidents per 1,000 ha of coca by department, and the basis every figure rests on (the
filters, the boundary vintage, the input files' SHA-256). :meth:`Facts.markdown` is text
to paste (every name from the data escaped for Markdown and HTML); :meth:`Facts.to_json`
the same numbers for a script. The CLI (``conflict-atlas facts``), the app's panel and the
notebook call this one function.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from atlas.i18n import fmt_date, fmt_int, fmt_number, place_name, t
from atlas.query import filter_incidents

if TYPE_CHECKING:  # pragma: no cover
    from atlas.data import AtlasData
    from atlas.spec import MapSpec

#: Districts listed in "top districts".
TOP_DISTRICTS = 5

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~%])")


def md_text(value: object) -> str:
    """Text from the data made inert in Markdown and HTML: ``<``, ``>`` and ``&`` as
    entities, Markdown's punctuation backslash-escaped, line breaks as spaces. ``%`` is
    escaped too, so no ``{%`` survives for a Jinja/Liquid site the text is pasted into."""
    text = " ".join(str(value).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


@dataclass
class Facts:
    """The figures (``numbers``, for JSON) and their sentences (``lines``, in ``lang``)."""

    lang: str
    numbers: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    basis: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        out = [f"### {t('facts_title', self.lang)}", ""]
        out += [f"- {line}" for line in self.lines]
        out += ["", f"**{t('facts_basis', self.lang)}**", ""]
        out += [f"- {line}" for line in self.basis]
        return "\n".join(out) + "\n"

    def to_json(self) -> str:
        return json.dumps(self.numbers, ensure_ascii=False, indent=2, default=str)


def article_facts(
    spec: MapSpec, data: AtlasData, *, inputs: list[tuple[str, str]] | None = None
) -> Facts:
    """The view's key numbers. ``inputs``: (file name, SHA-256) of the incident files the
    figures come from (the shipped sample's is computed here when it is what is shown)."""
    lang = spec.lang
    facts = Facts(lang=lang)
    inc = data.incidents
    counted = spec.replace(generalise="none")  # counts do not depend on where dots are drawn
    drawn, summary = filter_incidents(inc, counted, data.regions)
    lo = spec.date_from or summary.date_min
    hi = spec.date_to or summary.date_max
    n = facts.numbers
    n["period"] = {"from": lo, "to": hi}
    n["incidents"] = summary.incidents
    n["deaths"] = summary.deaths
    n["events_without_death_figure"] = summary.deaths_unknown
    facts.lines.append(t("facts_counts", lang, n=fmt_int(summary.incidents, lang),
                         deaths=fmt_int(summary.deaths, lang),
                         start=fmt_date(lo, lang) if lo else "?",
                         end=fmt_date(hi, lang) if hi else "?"))  # fmt: skip
    matched = inc[_matched_mask(inc, counted)]
    if {"fatalities_low", "fatalities_high"} <= set(matched.columns):
        low = pd.to_numeric(matched["fatalities_low"], errors="coerce")
        high = pd.to_numeric(matched["fatalities_high"], errors="coerce")
        if low.notna().any() and high.notna().any():
            n["deaths_low"], n["deaths_high"] = int(low.sum()), int(high.sum())
            facts.lines.append(t("facts_range", lang, low=fmt_int(n["deaths_low"], lang),
                                 high=fmt_int(n["deaths_high"], lang)))  # fmt: skip
    if summary.deaths_unknown:
        facts.lines.append(t("facts_unknown", lang, n=fmt_int(summary.deaths_unknown, lang)))
    if summary.hidden_by_precision:
        n["not_placed_precisely"] = summary.hidden_by_precision
        facts.lines.append(t("facts_imprecise", lang,
                             n=fmt_int(summary.hidden_by_precision, lang)))  # fmt: skip
    if summary.inside_region is not None:
        name = _region_name(data, spec.region)
        outside = summary.drawn - summary.inside_region
        n["inside_region"] = {"region": spec.region, "incidents": summary.inside_region,
                              "deaths": summary.deaths_inside, "outside": outside}  # fmt: skip
        facts.lines.append(t("facts_inside", lang, region=md_text(name),
                             n=fmt_int(summary.inside_region, lang),
                             deaths=fmt_int(summary.deaths_inside or 0, lang),
                             outside=fmt_int(outside, lang)))  # fmt: skip
    if lo and hi:
        _previous_period(facts, spec, counted, data, lo, hi, summary)
    _top_districts(facts, data, drawn, spec)
    _coca(facts, data, drawn, spec)
    _basis(facts, spec, data, inputs)
    return facts


def _matched_mask(inc: pd.DataFrame, spec: MapSpec) -> pd.Series:
    from atlas.query import match_mask

    return match_mask(inc, spec).astype(bool)


def _region_name(data: AtlasData, region_id: str) -> str:
    rows = data.regions[data.regions["region_id"] == region_id]
    return str(rows["name"].iloc[0]) if len(rows) else region_id


def _previous_period(facts, spec, counted, data, lo, hi, summary) -> None:
    lang = spec.lang
    p_lo, p_hi = previous_period(lo, hi)
    _drawn, before = filter_incidents(data.incidents, counted.replace(date_from=p_lo,
                                                                      date_to=p_hi))  # fmt: skip
    first = data.incidents["date_start"].min()
    covered = pd.notna(first) and pd.Timestamp(first).date() <= p_lo
    facts.numbers["previous_period"] = {"from": p_lo, "to": p_hi, "incidents": before.incidents,
                                        "deaths": before.deaths, "data_covers_it": covered}  # fmt: skip
    when = {"start": fmt_date(p_lo, lang), "end": fmt_date(p_hi, lang)}
    if not covered:
        facts.lines.append(t("facts_previous_uncovered", lang, **when))
        return
    change = _change(summary.incidents, before.incidents, lang)
    facts.lines.append(t("facts_previous", lang, **when,
                         n=fmt_int(before.incidents, lang), deaths=fmt_int(before.deaths, lang),
                         change=change))  # fmt: skip


def previous_period(lo: dt.date, hi: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length just before [lo, hi]: whole calendar years or
    months when the period is made of them (2021 -> 2020; Mar-May -> Dec-Feb), else the
    same number of days."""
    months = (hi.year - lo.year) * 12 + hi.month - lo.month + 1
    month_end = (hi + dt.timedelta(days=1)).day == 1
    if lo.day == 1 and month_end:
        first = _add_months(lo, -months)
        return first, lo - dt.timedelta(days=1)
    days = (hi - lo).days + 1
    return lo - dt.timedelta(days=days), lo - dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _change(now: int, before: int, lang: str) -> str:
    if before == 0:
        return t("facts_change_new", lang) if now else "±0"
    pct = (now - before) / before * 100
    sign = "+" if pct > 0 else "−" if pct < 0 else "±"
    return f"{sign}{abs(pct):.0f} %"


def _top_districts(facts: Facts, data: AtlasData, drawn: gpd.GeoDataFrame, spec: MapSpec) -> None:
    from atlas.spatial import assign_region

    districts = data.districts
    if districts is None or districts.empty or drawn.empty:
        return
    ids = assign_region(drawn, districts[["region_id", "geometry"]])
    counts = ids.dropna().value_counts().head(TOP_DISTRICTS)
    if counts.empty:
        return
    names = districts.set_index("region_id")["name"].astype(str)
    k = int(getattr(spec, "suppress_below", 0) or 0)
    rows = []
    for rid, count in counts.items():
        shown = f"< {k}" if k and count < k else fmt_int(int(count), spec.lang)
        rows.append({"district": place_name(names.get(rid, rid)), "ubigeo": rid,
                     "incidents": None if k and count < k else int(count)})  # fmt: skip
        rows[-1]["text"] = f"{md_text(rows[-1]['district'])} ({md_text(rid)}): {shown}"
    facts.numbers["top_districts"] = [{k_: v for k_, v in r.items() if k_ != "text"} for r in rows]
    facts.lines.append(t("facts_top", spec.lang, n=len(rows),
                         items="; ".join(r["text"] for r in rows)))  # fmt: skip


def _coca(facts: Facts, data: AtlasData, drawn: gpd.GeoDataFrame, spec: MapSpec) -> None:
    from layers.coca import incidents_per_1000_ha

    table = incidents_per_1000_ha(dataclasses.replace(data, incidents=drawn))
    table = table[table["incidents"] > 0]
    if table.empty:
        return
    year = int(table["year"].max())
    rows = table[table["year"] == year].sort_values("incidents", ascending=False).head(3)
    items = "; ".join(
        t("facts_coca_item", spec.lang, name=md_text(place_name(r["name"])), n=fmt_int(int(r["incidents"]),
          spec.lang), ha=fmt_int(round(r["hectares"]), spec.lang),
          rate=fmt_number(r["incidents_per_1000ha"], spec.lang))
        for _, r in rows.iterrows()
    )  # fmt: skip
    facts.numbers["coca"] = {"year": year, "departments": rows.to_dict("records")}
    facts.lines.append(t("facts_coca", spec.lang, year=year, items=items,
                         caveat=t("coca_per_ha_caveat", spec.lang)))  # fmt: skip


def _basis(facts: Facts, spec: MapSpec, data: AtlasData, inputs) -> None:
    lang = spec.lang
    filters = {
        "event_types": list(spec.event_types) or "all",
        "actor": spec.actor or "",
        "min_fatalities": spec.min_fatalities,
        "datasets": list(spec.datasets) or "all",
        "precisions": list(spec.precisions),
        "region": spec.region,
    }
    facts.numbers["filters"] = filters
    shown = ", ".join(f"{k_}={md_text(v if isinstance(v, str) else ','.join(map(str, v)) if isinstance(v, list) else v)}"
                      for k_, v in filters.items() if v not in ("", 0, "all"))  # fmt: skip
    facts.basis.append(t("facts_filters", lang, filters=shown or t("facts_no_filter", lang)))
    vintage = data.boundary_vintage or "?"
    facts.numbers["boundary_vintage"] = vintage
    facts.basis.append(t("facts_vintage", lang, vintage=md_text(vintage)))
    files = list(inputs or [])
    if not files and data.is_sample:
        from atlas.data import SAMPLE_INCIDENTS
        from atlas.fetch import sha256_of

        files = [(SAMPLE_INCIDENTS.name, sha256_of(SAMPLE_INCIDENTS))]
    facts.numbers["inputs"] = [{"file": name, "sha256": sha} for name, sha in files]
    for name, sha in files:
        facts.basis.append(t("facts_input", lang, name=md_text(name), sha=sha))
    if data.is_sample:
        facts.basis.append(t("facts_sample", lang))
        facts.numbers["sample"] = True
    if spec.generalise != "none":
        facts.basis.append(t("facts_generalised", lang, setting=md_text(spec.generalise)))


__all__ = ["Facts", "article_facts", "md_text", "previous_period"]
