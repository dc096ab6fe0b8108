"""The classroom tools app.py gives every page: presenter mode, copy link, chart export, predict-then-reveal
and lessons, in AppTest."""
from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from core import charts, lessons
from tests.pages.harness import keyed_widgets, link_value, open_page
from ui import catalog, classroom

PAGES = {p.url_path: p for p in catalog.topic_pages()}
BUNDLED = lessons.bundled(set(PAGES))


@pytest.mark.parametrize("info", list(PAGES.values()), ids=lambda p: p.url_path)
def test_presenter_mode_and_the_link_box_on_every_page(info):
    at = open_page(info, {"ui_presenter": "true"})
    assert not at.exception
    assert at.toggle(key="ui_presenter").value is True
    assert any("font-size: 20px" in h.proto.body for h in at.get("html"))
    link = at.sidebar.code[-1].value
    assert "ui_presenter=true" in link


def test_the_link_box_carries_every_changed_control():
    at = open_page(PAGES["softmax"], {"sm_num_classes": "5", "sm_temperature": "2.5"})
    link = at.sidebar.code[-1].value
    assert "sm_num_classes=5" in link and "sm_temperature=2.5" in link


def test_chart_data_is_the_numbers_behind_a_line_chart_and_a_heatmap():
    fig = charts.figure([charts.line([0, 1, 2], [3.0, 4.0, 5.0], "loss", "#000"),
                         {"type": "heatmap", "z": [[1, 2], [3, 4]], "x": ["a", "b"], "y": ["r", "s"], "name": "grid"}], {})
    data = classroom.chart_data(fig)
    lines = data[data.trace == "loss"]
    assert list(lines.x) == [0, 1, 2] and list(lines.y) == [3.0, 4.0, 5.0]
    grid = data[data.trace == "grid"].set_index(["y", "x"]).z
    assert grid["s", "a"] == 3 and grid["r", "b"] == 2


def test_projector_styling_thickens_lines_and_enlarges_type_and_stays_valid():
    fig = charts.figure([charts.line([0, 1], [1, 2], "a", charts.PALETTE[0])], {"xaxis": {"title": {"text": "x"}}})
    shown = go.Figure(classroom._for_projector(fig).to_dict())  # validates every property
    assert shown.data[0].line.width >= 2 * charts.LINE_WIDTH
    points = charts.figure([{"type": "scatter", "x": [0, 1], "y": [0, 1], "mode": "markers",
                             "marker": {"color": [charts.PALETTE[1], charts.PALETTE[1]]}}], {})
    line = charts.figure([charts.line([0, 1], [1, 2], "b", charts.PALETTE[1])], {})
    assert list(classroom._for_projector(points).data[0].marker.color) == [classroom._for_projector(line).data[0].line.color] * 2
    assert shown.layout.font.size > charts.FONT_SIZE and shown.layout.xaxis.tickfont.size > charts.FONT_SIZE


def test_predict_hides_the_output_size_until_a_guess_is_revealed():
    at = open_page(PAGES["conv-arithmetic"], {"ui_predict": "true", "conv_h_in": "7", "conv_w_in": "7",
                                              "conv_kernel": "3", "conv_padding": "0", "conv_stride": "2"})
    assert not at.exception
    guess = at.number_input(key="conv_guess")
    assert not any("Right" in s.value for s in at.success)
    guess.set_value(3).run()
    at.button(key="conv_reveal").click().run()
    assert any("Right" in s.value for s in at.success), [e.value for e in at.error]
    at.number_input(key="conv_guess").set_value(4).run()
    at.button(key="conv_reveal").click().run()
    assert any("Not quite" in e.value for e in at.error)


@pytest.mark.parametrize("name", list(BUNDLED))
def test_every_step_of_every_shipped_lesson_opens_cleanly(name):
    for k, step in enumerate(BUNDLED[name].steps, 1):
        query = {**step.query, "lesson_pick": BUNDLED[name].title, "lesson_step": str(k)}
        at = open_page(PAGES[step.page], query)
        assert not at.exception, (name, k)
        assert not at.warning, (name, k, [w.value for w in at.warning])  # every value in the lesson is accepted
        shown = {w.key: link_value(w, w.value) for w in keyed_widgets(at)}
        for key, value in step.query.items():
            assert shown.get(key) == value, (name, k, key, shown.get(key))
        assert f"step {k} of {len(BUNDLED[name].steps)}" in " ".join(m.value for m in at.markdown)


def test_next_opens_the_following_step_with_exactly_its_link():
    lesson = BUNDLED["03-convolutions"]
    at = open_page(PAGES["conv-arithmetic"], {"lesson_pick": lesson.title, "lesson_step": "1", **lesson.steps[0].query})
    at.slider(key="conv_stride").set_value(3).run()  # the teacher wanders off, then presses Next
    at.button(key="lesson_next").click().run()
    assert not at.exception
    step = lesson.steps[1]
    assert at.slider(key="conv_stride").value == int(step.query["conv_stride"])
    assert at.selectbox(key="conv_padding").value == step.query["conv_padding"]
    assert "step 2 of" in " ".join(m.value for m in at.markdown)
    at.button(key="lesson_prev").click().run()
    assert "step 1 of" in " ".join(m.value for m in at.markdown)
    assert at.selectbox(key="conv_padding").value == lesson.steps[0].query["conv_padding"]


def test_a_lesson_built_in_the_page_downloads_as_a_file_that_parses():
    at = open_page(PAGES["softmax"], {"sm_num_classes": "4"})
    at.text_input(key="lesson_new_title").input("Four classes").run()
    at.button(key="lesson_add").click().run()
    assert not at.exception
    draft = at.session_state["_lesson_draft"]
    lesson = lessons.parse(draft.to_json().encode(), set(PAGES))
    assert lesson.steps[0] == lessons.Step("Four classes", "softmax", {"sm_num_classes": "4"}, "")


def test_adding_home_as_a_step_is_refused_with_a_note():
    from streamlit.testing.v1 import AppTest
    from tests.pages.harness import ROOT
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.button(key="lesson_add").click().run()
    assert any("Home is not a step" in w.value for w in at.warning)


@pytest.mark.parametrize("raw, reason", [(b"", "empty"), (b"\x00\xff binary", "not UTF-8"), (b"[1, 2]", "one JSON object"),
                                         (b'{"title": "t", "steps": [{"title": "x", "page": "nowhere"}]}', "not a page of this app"),
                                         (b'{"title": "<script>alert(1)</script>", "steps": [{"title": "x", "page": "softmax", "query": {"a b": 1}}]}', "not a control key")])
def test_a_malformed_lesson_upload_gets_a_message_and_changes_nothing(raw, reason):
    at = open_page(PAGES["softmax"], {"sm_num_classes": "4"})
    at.file_uploader(key="lesson_file").set_value(("lesson.json", raw, "application/json")).run()
    assert not at.exception
    assert any("This lesson file cannot be used" in e.value and reason in e.value for e in at.error), [e.value for e in at.error]
    assert at.slider(key="sm_num_classes").value == 4 and "step 1 of" not in " ".join(m.value for m in at.markdown)
    assert "<script>" not in " ".join(m.value for m in at.markdown)


def test_a_good_lesson_upload_opens_its_first_step():
    lesson = lessons.Lesson("Mine", (lessons.Step("Five classes", "softmax", {"sm_num_classes": "5"}, "Look at class 4."),
                                     lessons.Step("Stride", "conv-arithmetic", {"conv_stride": "3"}, "")))
    at = open_page(PAGES["optimizers"])
    # The upload asks for step 1, which opens the softmax page with its link in the same run
    # (AppTest does not keep a page switched by the script for its next run, so the test reads this one).
    at.file_uploader(key="lesson_file").set_value(("mine.json", lesson.to_json().encode(), "application/json")).run()
    assert not at.exception and at.title[0].value == "Softmax & cross-entropy"
    assert at.slider(key="sm_num_classes").value == 5
    assert "step 1 of 2" in " ".join(m.value for m in at.markdown)


def test_the_link_box_leaves_out_a_link_value_the_page_refused():
    at = open_page(PAGES["datasets"], {"data_seed": "1.5", "data_batch_size": "16"})
    assert not at.exception
    link = at.sidebar.code[-1].value
    assert "data_seed" not in link and "data_batch_size=16" in link, link
    assert any("`data_seed` is not a whole number" in w.value for w in at.warning)
