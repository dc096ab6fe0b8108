"""Classroom tools in real Chromium: a lesson built from two views, downloaded, uploaded again and walked;
the link box restores a view; presenter mode at a projector's 1280×720."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_idle
from ui import catalog

#: Presenter screenshots, one per topic page, to look at after a run (git-ignored: `.gitignore` has `screenshots/`).
PRESENTER_SHOTS = Path(__file__).resolve().parent / "screenshots"


def open_classroom(page) -> None:
    tools = page.get_by_test_id("stSidebar").get_by_text("Classroom", exact=True)
    if not page.locator(".st-key-ui_presenter").is_visible():
        tools.click()
    page.locator(".st-key-ui_presenter").wait_for()


def add_view(page, title: str) -> None:
    field = page.locator(".st-key-lesson_new_title input")
    field.fill(title)
    field.press("Enter")
    wait_idle(page)
    page.locator(".st-key-lesson_add button").click()
    wait_idle(page)


def test_a_lesson_round_trips_save_upload_walk(server, page, tmp_path):
    page.goto(f"{server}/softmax?sm_num_classes=4")
    wait_idle(page)
    open_classroom(page)
    add_view(page, "Four classes")
    # Go to another page inside the same session (the sidebar link), change a control, add it too.
    page.get_by_test_id("stSidebarNav").get_by_text("Convolution arithmetic").click()
    wait_idle(page)
    stride = page.locator(".st-key-conv_stride").get_by_role("slider")
    stride.press("ArrowRight")
    wait_idle(page)
    expect(stride).to_have_value("2")
    open_classroom(page)
    add_view(page, "Stride two")
    with page.expect_download() as info:
        page.locator(".st-key-lesson_download button").click()
    saved = tmp_path / "lesson.json"
    info.value.save_as(saved)
    lesson = json.loads(saved.read_text())
    assert [s["title"] for s in lesson["steps"]] == ["Four classes", "Stride two"]
    assert lesson["steps"][1]["query"]["conv_stride"] == "2"

    # A new session: upload the file, and the lesson opens at its first step.
    page.goto(f"{server}/")
    wait_idle(page)
    open_classroom(page)
    page.locator(".st-key-lesson_file input[type=file]").set_input_files(str(saved))
    page.get_by_text("step 1 of 2").wait_for(timeout=60_000)
    wait_idle(page)
    assert "/softmax" in page.url
    expect(page.locator(".st-key-sm_num_classes").get_by_role("slider")).to_have_value("4")
    page.locator(".st-key-lesson_next button").click()
    page.get_by_text("step 2 of 2").wait_for(timeout=60_000)
    wait_idle(page)
    assert "/conv-arithmetic" in page.url
    expect(page.locator(".st-key-conv_stride").get_by_role("slider")).to_have_value("2")
    assert page.get_by_test_id("stException").count() == 0


def test_a_malformed_lesson_file_gets_a_message(server, page, tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"title": "x", "steps": [{"page": "../../etc"}]}')
    page.goto(f"{server}/")
    wait_idle(page)
    open_classroom(page)
    page.locator(".st-key-lesson_file input[type=file]").set_input_files(str(bad))
    page.get_by_text("This lesson file cannot be used").wait_for(timeout=30_000)
    assert page.get_by_test_id("stException").count() == 0


def test_the_link_box_restores_the_view_in_a_new_session(server, page, browser):
    page.goto(f"{server}/conv-arithmetic")
    wait_idle(page)
    page.locator(".st-key-conv_kernel").get_by_role("slider").press("ArrowRight")
    wait_idle(page)
    link = page.get_by_test_id("stSidebar").get_by_test_id("stCode").inner_text().strip()
    assert "conv_kernel=4" in link
    other = browser.new_context(viewport={"width": 1440, "height": 2000}).new_page()
    other.goto(link)
    wait_idle(other)
    expect(other.locator(".st-key-conv_kernel").get_by_role("slider")).to_have_value("4")
    other.context.close()


# Every piece of text in the main area with a visible character, and the size it is set in: its own computed size,
# except that a sub- or superscript (KaTeX's, or Plotly's <sub>/<sup> tspans and log-axis exponents) counts at the size
# of the formula or label it belongs to, as typesetting shrinks those by design.
TEXT_SIZES = r"""
() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  const seen = new Set(), out = [];
  const px = el => parseFloat(getComputedStyle(el).fontSize);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || seen.has(el) || !/[^\s\u200b]/.test(node.textContent)) continue;
    seen.add(el);
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const chart = el.closest('.js-plotly-plot') !== null, formula = el.closest('.katex');
    let size = px(el);
    if (formula) size = px(formula);
    else if (chart && el.tagName === 'tspan' && el.closest('text')) size = Math.max(size, px(el.closest('text')));
    out.push({size, chart, text: node.textContent.trim().slice(0, 30)});
  }
  return out;
}
"""
MIN_TEXT_PX = 14  # page text (markdown, metrics, code, alerts, widget labels, formulas) at a projector's 1280×720
#: Chart text (tick labels, legends, annotations, colour bars, cell numbers): ui.classroom._for_projector sets each size.
MIN_CHART_TEXT_PX = 14  # axis, legend, colour-bar and cell text drawn by plotly


@pytest.mark.parametrize("info", catalog.topic_pages(), ids=lambda p: p.url_path)
def test_presenter_mode_at_a_projector_size(server, browser, info):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{server}/{info.url_path}?ui_presenter=true")
        wait_idle(page, timeout=240_000)  # some pages train small models on their first load
        if info.chart_on_load:
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # charts and tables fill in after the script ends
        PRESENTER_SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(PRESENTER_SHOTS / f"presenter-{info.url_path}.png"))
        assert page.get_by_test_id("stException").count() == 0
        size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
        assert size == "20px"

        texts = page.evaluate(TEXT_SIZES)
        assert len(texts) >= 5, "the page shows its content"
        small = sorted((t["size"], t["text"]) for t in texts if not t["chart"] and t["size"] < MIN_TEXT_PX)
        assert not small, f"text below {MIN_TEXT_PX}px in presenter mode: {small[:8]}"
        chart_sizes = [t["size"] for t in texts if t["chart"]]
        if info.chart_on_load:
            assert chart_sizes, "the first chart has drawn its text"
        small = sorted((t["size"], t["text"]) for t in texts if t["chart"] and t["size"] < MIN_CHART_TEXT_PX)
        assert not small, f"chart text below {MIN_CHART_TEXT_PX}px in presenter mode: {small[:8]}"
    finally:
        context.close()
