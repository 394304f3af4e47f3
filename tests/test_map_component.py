"""front.map_component: the same component arguments as st_folium, each part rendered once."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import folium
import pytest
import streamlit_folium as sf

from atlas.spec import MapSpec
from front.map_component import RETURNED, SHARED, MapRenderer
from layers.compose import build_base, build_group, plan_groups


@pytest.fixture(autouse=True)
def _fresh_shared_parts():
    SHARED.clear()
    yield
    SHARED.clear()


@pytest.fixture(scope="module")
def shipped():
    from atlas.data import load_shipped

    return load_shipped()


@pytest.fixture(scope="module")
def spec() -> MapSpec:
    return MapSpec(layers=("regions", "coca", "points", "reference"))


def _plans(spec, data, data_key="v1"):
    return [
        (p.key, lambda p=p: build_group(p.name, spec, data, assets="local"))
        for p in plan_groups(spec, data_key)
    ]


def _st_folium_arguments(base, groups, monkeypatch) -> dict:
    """What st_folium itself hands the component for the same map."""
    seen: dict = {}
    monkeypatch.setattr(sf, "_component_func", lambda **kw: seen.update(kw))
    sf.st_folium(
        copy.deepcopy(base),
        feature_group_to_add=copy.deepcopy(groups),
        layer_control=folium.LayerControl(collapsed=True),
        key="atlas_map",
        height=620,
        use_container_width=True,
        returned_objects=list(RETURNED),
    )
    return seen


def test_arguments_match_st_folium(spec, shipped, monkeypatch):
    base = build_base(spec, shipped, assets="local")
    plans = plan_groups(spec, "v1")
    groups = [build_group(p.name, spec, shipped, assets="local") for p in plans]
    theirs = _st_folium_arguments(base, groups, monkeypatch)

    renderer = MapRenderer(key="atlas_map")
    renderer.set_base("b1", lambda: base)
    ours = renderer.arguments([(p.key, lambda g=g: g) for p, g in zip(plans, groups, strict=True)],
                              height=620)  # fmt: skip
    for name in ("script", "header", "html", "id", "key", "feature_group", "layer_control",
                 "css_links", "js_links", "height", "width", "returned_objects", "default"):  # fmt: skip
        assert ours[name] == theirs[name], name
    assert set(ours) | {"on_change"} == set(theirs)


def test_filter_change_renders_only_the_groups_that_read_incidents(spec, shipped):
    renderer = MapRenderer(key="atlas_map")
    renderer.set_base("b1", lambda: build_base(spec, shipped, assets="local"))
    first = renderer.arguments(_plans(spec, shipped), height=620)
    after_first = renderer.renders  # base + 5 groups (4 layers, legend) + control
    assert after_first == 1 + 5 + 1

    # a pan: the same plans render nothing and give the same arguments
    again = renderer.arguments(_plans(spec, shipped), height=620)
    assert renderer.renders == after_first
    assert again == first

    # a filter: the regions and reference groups are kept, the others re-rendered
    narrowed = spec.replace(date_from=dt.date(2021, 1, 1), date_to=dt.date(2021, 12, 31))
    incidents = shipped.incidents
    in_2021 = incidents[incidents["date_start"].dt.year == 2021]
    view = dataclasses.replace(shipped, incidents=in_2021)
    built: list[str] = []

    def plans_for(s, d):
        out = []
        for p in plan_groups(s, "v1"):

            def build(p=p):
                built.append(p.name)
                return build_group(p.name, s, d, assets="local")

            out.append((p.key, build))
        return out

    changed = renderer.arguments(plans_for(narrowed, view), height=620)
    assert sorted(built) == ["coca", "legend", "points"]
    assert renderer.renders == after_first + 3  # the control lists the same groups: kept
    assert changed["script"] == first["script"]  # the same map component
    assert changed["key"] == first["key"]
    assert changed["feature_group"] != first["feature_group"]

    # back to the first filters: nothing is rebuilt (the last run's groups are kept)
    built.clear()
    back = renderer.arguments(plans_for(spec, shipped), height=620)
    assert built == []
    assert back["feature_group"] == first["feature_group"]


def test_new_base_key_renders_the_base_and_reuses_the_groups(spec, shipped):
    renderer = MapRenderer(key="atlas_map")
    renderer.set_base("b1", lambda: build_base(spec, shipped, assets="local"))
    renderer.arguments(_plans(spec, shipped), height=620)
    n = renderer.renders
    renderer.set_base("b1", lambda: pytest.fail("the same base key must not rebuild"))
    renderer.set_base("b2", lambda: build_base(spec.replace(basemap="outlines"), shipped))
    args = renderer.arguments(_plans(spec, shipped), height=620)
    # a group's script does not depend on the base: the shared copies serve; the
    # session's layer control is made again for the new base
    assert renderer.renders == n + 1 + 1
    assert args["feature_group"]


def test_a_second_session_reuses_the_first_sessions_parts(spec, shipped):
    first = MapRenderer(key="atlas_map")
    first.set_base("b1", lambda: build_base(spec, shipped, assets="local"), shared_key="k1")
    one = first.arguments(_plans(spec, shipped), height=620)
    second = MapRenderer(key="atlas_map")
    second.set_base("b1", lambda: pytest.fail("the shared base must serve"), shared_key="k1")
    two = second.arguments(
        [(k, lambda: pytest.fail("the shared group must serve")) for k, _ in _plans(spec, shipped)],
        height=620,
    )
    assert second.renders == 1  # its own layer control only
    assert {k: v for k, v in one.items()} == {k: v for k, v in two.items()}
    # another first view (shared key) is a base of its own
    third = MapRenderer(key="atlas_map")
    third.set_base("b1", lambda: build_base(spec, shipped, assets="local"), shared_key="k2")
    assert third.renders == 1


def test_shared_parts_stay_under_their_byte_cap():
    from front.map_component import SharedParts

    parts = SharedParts(max_bytes=100)
    for i in range(10):
        parts.put(f"k{i}", i, 30)
    assert [parts.get(f"k{i}") for i in range(10)] == [None] * 7 + [7, 8, 9]
    parts.put("huge", "x", 101)
    assert parts.get("huge") is None


def test_static_group_keys_ignore_filters_but_not_language(spec):
    keys = {p.name: p.key for p in plan_groups(spec, "v1")}
    filtered = {p.name: p.key for p in plan_groups(spec.replace(min_fatalities=3), "v1")}
    spanish = {p.name: p.key for p in plan_groups(spec.replace(lang="es"), "v1")}
    other_data = {p.name: p.key for p in plan_groups(spec, "v2")}
    for name in ("regions", "reference"):
        assert keys[name] == filtered[name]
        assert keys[name] != spanish[name]
        assert keys[name] != other_data[name]
    for name in ("coca", "points", "legend"):
        assert keys[name] != filtered[name]
