"""Classroom tools in real Chromium: a lesson built from two views, downloaded, uploaded again and walked;
the link box restores a view; presenter mode at a projector's 1280×720."""
from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, wait_idle


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


def test_presenter_mode_at_a_projector_size(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    SCREENSHOTS.mkdir(exist_ok=True)
    for path in ("optimizers", "conv-arithmetic?conv_h_in=7&conv_w_in=7", "softmax"):
        page.goto(f"{server}/{path}{'&' if '?' in path else '?'}ui_presenter=true")
        wait_idle(page)
        page.wait_for_timeout(1500)
        assert page.get_by_test_id("stException").count() == 0
        size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
        assert size == "20px"
        page.screenshot(path=str(SCREENSHOTS / f"presenter-{path.split('?')[0]}.png"))
    context.close()
