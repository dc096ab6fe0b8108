"""The Optimizers page in real Chromium: Play animates the race in the chart, a link restores the race."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import wait_idle

MARKERS = "g => { const m = g.data.filter(t => (t.name || '').startsWith('step ')); return m.length ? Array.from(m[0].x) : null; }"


def test_play_moves_the_markers_along_the_race(server, page):
    page.goto(f"{server}/optimizers?opt_step=0&opt_optimizers=SGD&opt_optimizers=Adam")
    wait_idle(page)
    assert page.get_by_test_id("stException").count() == 0
    plot = page.locator(".st-key-opt_chart .js-plotly-plot")  # by key: the charts draw in no fixed order
    plot.wait_for(timeout=30_000)
    start = plot.evaluate(MARKERS)
    assert start is not None and len(start) == 2 and start[0] == start[1]  # both at the start point
    assert plot.evaluate("g => (g._transitionData._frames || []).length") > 10
    plot.locator(".updatemenu-button").first.click()  # ▶ Play
    moved = ("([sel, before]) => { const g = document.querySelector(sel); const now = (MARKERS)(g);"
             " return now !== null && now.some((v, i) => v !== before[i]); }").replace("MARKERS", MARKERS)
    page.wait_for_function(moved, arg=[".st-key-opt_chart .js-plotly-plot", start], timeout=15_000)


def test_link_restores_the_race(server, page):
    page.goto(f"{server}/optimizers?opt_surface=Himmelblau&opt_start_x=1&opt_optimizers=Adam&opt_optimizers=Nesterov&opt_lr_adam=0.2")
    wait_idle(page)
    assert page.get_by_test_id("stException").count() == 0
    expect(page.locator(".st-key-opt_start_x").get_by_role("slider")).to_have_value("1")
    plot = page.locator(".st-key-opt_chart .js-plotly-plot")
    plot.wait_for(timeout=30_000)
    names = plot.evaluate("g => g.data.map(t => t.name)")
    assert "Adam" in names and "Nesterov" in names and "SGD" not in names
    assert "0.2" in page.locator(".st-key-opt_lr_adam").inner_text()
