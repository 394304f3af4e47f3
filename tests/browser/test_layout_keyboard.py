"""The page as a reporter on deadline meets it: the map first (desktop and phone), the
legend whole, the phone's sidebar out of the way after a choice, and the main controls
reachable and visibly focused by keyboard."""

from __future__ import annotations

import pytest

from .conftest import MAP_IFRAME, map_frame, open_page, screenshot_path, wait_for_app

pytestmark = pytest.mark.browser


def _box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def _chart_shown(page) -> str:
    """Which of the time chart's two drawings shows; it must fit the column, carry the
    numbers in a tooltip per step on a desktop (a phone cannot hover) and keep its text
    at least 11 px tall."""
    shown = page.evaluate(
        """() => [...document.querySelectorAll('.atlas-chart svg')]
          .filter(s => getComputedStyle(s).display !== 'none')
          .map(s => { const r = s.getBoundingClientRect();
            const col = s.closest('[data-testid=stMainBlockContainer]').clientWidth;
            const text = [...s.querySelectorAll('text')].map(t => t.getBoundingClientRect().height);
            return {cls: s.getAttribute('class'), width: r.width, col: col,
                    tips: s.querySelectorAll('title').length, minText: Math.min(...text)}; })"""
    )
    assert len(shown) == 1, shown
    chart = shown[0]
    assert 0 < chart["width"] <= chart["col"], chart
    assert chart["tips"] > 12 if chart["cls"] == "wide" else chart["tips"] == 0, chart
    assert chart["minText"] >= 11, chart  # readable: SVG text scales with the drawing
    return chart["cls"]


@pytest.fixture
def sized_page(browser, app_server, request):
    pages = []

    def make(width: int, height: int):
        bp = open_page(browser, viewport={"width": width, "height": height})
        pages.append(bp)
        return bp

    yield make
    for i, bp in enumerate(pages):
        path = screenshot_path(request)
        bp.page.screenshot(path=str(path.with_name(f"{path.stem}_{i}.png")))
        bp.page.context.close()


def test_desktop_map_first_and_legend_whole(sized_page, app_server):
    bp = sized_page(1440, 900)
    page = bp.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    iframe = _box(page, MAP_IFRAME)
    column = page.evaluate(
        """() => { const m = document.querySelector('[data-testid=stMainBlockContainer]');
        const s = getComputedStyle(m);
        return m.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); }"""
    )
    assert iframe["y"] <= 250, iframe  # the map's top edge on the first screen
    assert iframe["width"] >= column - 2, (iframe, column)  # it fills the column
    frame = map_frame(page)
    legend = frame.locator(".atlas-legend").bounding_box()
    container = frame.locator(".leaflet-container").bounding_box()
    assert legend["y"] >= container["y"] and legend["y"] + legend["height"] <= (
        container["y"] + container["height"]
    ), (legend, container)  # never clipped
    scroll = frame.evaluate(
        "() => { const l = document.querySelector('.atlas-legend');"
        " return l.scrollHeight <= l.clientHeight + 1; }"
    )
    assert scroll, "the legend needs scrolling at 1440x900"
    assert _chart_shown(page) == "wide"  # the time chart's wide drawing, with a tip per step


def test_phone_map_first_and_sidebar_folds_after_a_choice(sized_page, app_server):
    bp = sized_page(390, 844)
    page = bp.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    assert _box(page, MAP_IFRAME)["y"] < 400  # the map before a screen of text
    assert _chart_shown(page) == "narrow"  # the chart drawn for a phone's width
    sidebar = page.locator("[data-testid=stSidebar]")
    assert sidebar.get_attribute("data-collapsed") == "true"
    folded = map_frame(page).evaluate("() => document.querySelector('.atlas-legend details').open")
    assert folded is False  # the legend starts folded on a phone
    page.locator(
        "[data-testid=stExpandSidebarButton], [data-testid=stSidebarCollapsedControl] button"
    ).first.click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stSidebar]')"
        ".getAttribute('data-collapsed') === 'false'"
    )
    box = page.get_by_label("Minimum deaths", exact=True)
    box.fill("1")
    box.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stSidebar]')"
        ".getAttribute('data-collapsed') === 'true'",
        timeout=30_000,
    )
    assert "min_fatalities=1" in page.url
    assert bp.errors == []


def test_main_controls_by_keyboard_with_visible_focus(sized_page, app_server):
    bp = sized_page(1440, 900)
    page = bp.page
    page.goto(app_server.url + "/", wait_until="domcontentloaded")
    wait_for_app(page)
    page.get_by_role("radio", name="English").focus()
    reached: list[str] = []
    wanted = {"Reset filters", "Minimum deaths", "Heat map", "Show one step on the map",
              "Export a publication map"}  # fmt: skip
    for _ in range(80):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => { const e = document.activeElement; if (!e) return null;
            const label = e.getAttribute('aria-label') || (e.labels && e.labels[0] &&
              e.labels[0].innerText) || e.innerText || '';
            const s = getComputedStyle(e);
            return {label: label.replace(/\\s+/g, ' ').trim(), tag: e.tagName,
                    outline: s.outlineStyle,
                    width: parseFloat(s.outlineWidth), shadow: s.boxShadow}; }"""
        )
        if not info or len(info["label"]) > 80:  # a region of the page, not a control
            continue
        name = info["label"]
        if any(w in name for w in wanted):
            reached.append(name)
            visible = (info["outline"] != "none" and info["width"] >= 2) or info["shadow"] != "none"
            assert visible, f"no visible focus on {name!r}: {info}"
        if "Export a publication map" in name:
            break
    missing = {w for w in wanted if not any(w in r for r in reached)}
    assert not missing, f"not reached by Tab: {missing} (reached {reached})"
    tag = page.evaluate("() => document.activeElement.tagName")
    assert tag == "SUMMARY", tag
    page.keyboard.press("Enter")  # open the export panel from the keyboard
    page.get_by_role("button", name="Generate export").wait_for(timeout=30_000)
    page.get_by_role("button", name="Generate export").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Download PNG").wait_for(timeout=90_000)
