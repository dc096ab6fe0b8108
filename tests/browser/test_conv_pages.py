"""The convolution pages in real Chromium: cold-server deep links, Play moving the window, a typed stack."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import free_port, start_server, wait_idle


def test_cold_server_deep_link_to_an_address_that_is_no_file_name(page):
    """/conv-arithmetic is pages/conv_arithmetic.py: the very first visit to a fresh server must still land there.

    (Streamlit's legacy pages/ mode still shows a closable "page not found" note on that one visit: it runs
    before any of the app's code; ui/__init__.py then reruns to the right page.)"""
    port = free_port()
    proc = start_server(port)
    try:
        page.goto(f"http://127.0.0.1:{port}/conv-arithmetic?conv_stride=2&conv_position=100")
        wait_idle(page)
        assert page.locator("h1").first.inner_text() == "Convolution arithmetic"
        expect(page.locator(".st-key-conv_stride").get_by_role("slider")).to_have_value("2")
        assert page.get_by_test_id("stException").count() == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_play_moves_the_window_and_the_link(server, page):
    page.goto(server)  # a server's very first visit may carry a "page not found" note (see the test above)
    wait_idle(page)
    page.goto(f"{server}/conv-arithmetic")
    wait_idle(page)
    play = page.locator(".st-key-conv_play label").first
    play.click()
    expect(page).to_have_url(re.compile(r"conv_position=25(&|$)"), timeout=15_000)  # one cell per step: 12.5, 25, ...
    play.click()
    wait_idle(page)
    paused = re.search(r"conv_position=([\d.]+)", page.url).group(1)
    page.wait_for_timeout(2_000)
    assert re.search(r"conv_position=([\d.]+)", page.url).group(1) == paused and "conv_play" not in page.url
    assert page.get_by_test_id("stException").count() == 0


def test_cnn_builder_link_restores_a_typed_stack(server, page):
    page.goto(f"{server}/cnn-builder?cnn_layers=conv%208%203%3B%20relu%3B%20maxpool%202&cnn_input_size=20")
    wait_idle(page)
    assert page.get_by_test_id("stException").count() == 0
    expect(page.locator(".st-key-cnn_layers input")).to_have_value("conv 8 3; relu; maxpool 2")
    plot = page.locator(".st-key-cnn_field_chart .js-plotly-plot")
    plot.wait_for(timeout=30_000)
    z = plot.evaluate("g => g._fullData[2].z.length")
    assert z == 20
