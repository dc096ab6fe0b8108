"""Every chart's margins already hold its labels, legend and colour bars, so Plotly draws it once per update.

Every axis keeps `automargin` (a label never clips), but Plotly.react starts each update from the figure's own
margins: when labels need more, it draws the whole figure a second time with wider ones. On the Backpropagation
page that second draw was a third of Plotly's time on a slider move (bench/README.md, "Charts drawn once").
Here, each page's default view in Chromium: every chart's laid-out margins (`_fullLayout._size`) must equal the
margins its builder asked for; a failure names the chart and the margins it needed."""
from __future__ import annotations

import pytest

from tests.browser.conftest import wait_idle
from ui import catalog

MARGINS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(g => g._fullLayout && g._fullLayout._size)
  .map(g => {
    const key = ((g.closest('[class*="st-key-"]') || {}).className || '').match(/st-key-(\\S+)/);
    const asked = g._fullLayout.margin, laid = g._fullLayout._size;
    return {key: key ? key[1] : '?', asked: [asked.l, asked.r, asked.t, asked.b], laid: [laid.l, laid.r, laid.t, laid.b]};
  })"""


@pytest.mark.parametrize("info", catalog.topic_pages(), ids=lambda p: p.url_path)
def test_every_chart_is_drawn_with_the_margins_it_asked_for(server, page, info):
    page.goto(f"{server}/{info.url_path}")
    wait_idle(page)
    page.wait_for_timeout(1500)  # charts finish drawing after the script ends
    charts = page.evaluate(MARGINS)
    assert charts or not info.chart_on_load, "no chart drawn"
    redrawn = [f"{c['key']}: asked l, r, t, b = {c['asked']}, needed {c['laid']}" for c in charts if c["laid"] != c["asked"]]
    assert not redrawn, "charts drawn twice for their margins:\n" + "\n".join(redrawn)
