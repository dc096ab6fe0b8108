"""Every page in real headless Chromium: renders, no exception, main chart has data, links restore state."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, free_port, start_server, wait_idle
from ui import catalog


@pytest.mark.parametrize("info", catalog.all_pages(), ids=lambda p: p.url_path)
def test_page_renders(server, page, info):
    address = "" if info is catalog.HOME else info.url_path  # the default page lives at "/"
    page.goto(f"{server}/{address}")
    wait_idle(page)
    assert page.get_by_test_id("stException").count() == 0
    assert page.get_by_text("Page not found").count() == 0
    if info is not catalog.HOME and info.chart_on_load:
        plot = page.locator(".js-plotly-plot").first
        plot.wait_for(timeout=30_000)
        traces = plot.evaluate("g => g._fullData.map(t => (t.y || t.z || (t.source ? [t.source] : [])).length)")  # an image trace carries its pixels in source
        assert traces and max(traces) > 0, "the main chart has no data"
    SCREENSHOTS.mkdir(exist_ok=True)
    page.wait_for_timeout(1500)  # tables and images fill in after the script ends
    page.screenshot(path=str(SCREENSHOTS / f"{info.url_path}.png"), full_page=True)


@pytest.mark.parametrize("plain", [False, True], ids=["make run", "streamlit run app.py"])
def test_cold_server_deep_link_runs_through_app_navigation(page, plain):
    """A fresh server's very first visit goes straight to a page: it must get app.py's navigation
    (`make run` also without Streamlit's "Page not found" note; plain `streamlit run` shows it once)."""
    port = free_port()
    proc = start_server(port, plain=plain)
    try:
        page.goto(f"http://127.0.0.1:{port}/activations?act_depth=7")
        wait_idle(page)
        nav = page.get_by_test_id("stSidebarNav").inner_text()
        assert "Vanishing & exploding gradients" in nav and "app" not in nav.split()
        depth = page.locator(".st-key-act_depth").get_by_role("slider")
        expect(depth).to_have_value("7")
        if not plain:
            assert page.get_by_text("Page not found").count() == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_deep_link_restores_activations(server, page):
    page.goto(f"{server}/activations?act_depth=12&act_functions=Sigmoid&act_functions=ELU")
    wait_idle(page)
    assert page.get_by_test_id("stException").count() == 0
    depth = page.locator(".st-key-act_depth").get_by_role("slider")
    expect(depth).to_have_value("12")
    plot = page.locator(".st-key-act_chart .js-plotly-plot")  # by key: the charts draw in no fixed order
    plot.wait_for(timeout=30_000)
    names = plot.evaluate("g => g.data.map(t => t.name)")
    assert "Sigmoid" in names and "ELU" in names and "ReLU" not in names


def test_bad_link_falls_back_with_note(server, page):
    page.goto(f"{server}/activations?act_depth=%3Cscript%3Ealert(1)%3C/script%3E")
    wait_idle(page)
    assert page.get_by_test_id("stException").count() == 0
    depth = page.locator(".st-key-act_depth").get_by_role("slider")
    expect(depth).to_have_value("10")
    note = page.get_by_test_id("stAlert").filter(has_text="act_depth")
    assert note.count() == 1 and "<script>" in note.inner_text()
    assert page.locator("script:has-text('alert(1)')").count() == 0
