"""The Training studio in Chromium: the curves grow while a run trains, Stop ends it, no exception."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, wait_idle
from tests.browser.test_chart_margins import MARGINS

POINTS = "() => { const g = document.querySelector('.st-key-train_chart .js-plotly-plot');" \
         " return g ? g._fullData.reduce((n, t) => n + (t.x ? t.x.length : 0), 0) : 0; }"


def test_curves_update_while_training_and_stop_works(server, page):
    page.goto(f"{server}/training?train_task=Sky%20pictures%20(images%2C%207%20classes)&train_epochs=20")
    wait_idle(page)
    page.locator(".st-key-train_start button").click()
    page.wait_for_function(f"({POINTS})() > 0", timeout=60_000)
    first = page.evaluate(POINTS)
    page.wait_for_function(f"({POINTS})() > {first}", timeout=30_000)  # grew without any user action
    assert page.get_by_test_id("stException").count() == 0
    page.locator(".st-key-train_stop button").click()
    expect(page.get_by_text("Stopped at step")).to_be_visible(timeout=15_000)
    wait_idle(page)
    assert page.get_by_test_id("stException").count() == 0
    expect(page.get_by_text("Results of run 1")).to_be_visible(timeout=15_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.wait_for_timeout(1500)  # tables and images fill in after the script ends
    page.screenshot(path=str(SCREENSHOTS / "training-run.png"), full_page=True)
    # The curves are redrawn three times a second while a run trains: each redraw must be a single draw.
    charts = {c["key"]: c for c in page.evaluate(MARGINS)}
    assert charts["train_chart"]["laid"] == charts["train_chart"]["asked"], charts["train_chart"]
