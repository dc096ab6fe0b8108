"""Every registered page, through app.py's navigation, in Streamlit's AppTest: it loads, survives random
values on every widget, restores its state from a link, and turns bad link values into a note."""
from __future__ import annotations

import random

import pytest

from tests.pages.harness import keyed_widgets, link_value, open_page, random_value
from ui import catalog

PAGES = catalog.all_pages()
COMBINATIONS = 20


def errors(at) -> list[str]:
    return [e.value for e in at.exception]


@pytest.mark.parametrize("info", PAGES, ids=lambda p: p.url_path)
def test_page_loads(info):
    at = open_page(info)
    assert not errors(at)
    assert at.title and at.title[0].value  # the page rendered its own content


@pytest.mark.parametrize("info", catalog.topic_pages(), ids=lambda p: p.url_path)
def test_every_widget_has_a_page_prefixed_key(info):
    at = open_page(info)
    widgets = list(keyed_widgets(at))
    assert widgets, "a topic page has controls"
    prefixes = {w.key.split("_")[0] for w in widgets}
    assert len(prefixes) == 1, f"keys share one page prefix: {sorted(w.key for w in widgets)}"


@pytest.mark.parametrize("info", catalog.topic_pages(), ids=lambda p: p.url_path)
def test_fuzz_every_widget(info):
    rng = random.Random(f"fuzz-{info.url_path}")
    at = open_page(info)
    for i in range(COMBINATIONS):
        widgets = list(keyed_widgets(at))
        rng.shuffle(widgets)
        applied = {}
        for widget in widgets:
            applied[widget.key] = value = random_value(widget, rng)
            widget.set_value(value)
        at.run()
        assert not errors(at), f"combination {i}: {applied}\n{errors(at)}"


@pytest.mark.parametrize("info", catalog.topic_pages(), ids=lambda p: p.url_path)
def test_deep_link_restores_every_widget(info):
    rng = random.Random(f"link-{info.url_path}")
    defaults = {w.key: w for w in keyed_widgets(open_page(info))}
    query, expected = {}, {}
    for key, widget in defaults.items():
        for _ in range(10):  # a value other than the default, so the link has to do the work
            value = random_value(widget, rng)
            if value != widget.value and value != []:
                break
        query[key] = link_value(widget, value)
        expected[key] = value
    at = open_page(info, query)
    assert not errors(at)
    restored = {w.key: w.value for w in keyed_widgets(at)}
    # A choice in the link may hide another control (a task without BatchNorm): check what is shown.
    shown = [key for key in expected if key in restored]
    assert len(shown) >= len(expected) / 2, f"most linked controls are shown: {sorted(set(expected) - set(shown))}"
    for key in shown:
        value, got = expected[key], restored[key]
        if isinstance(value, list):
            assert list(got) == value, key
        elif isinstance(value, float):
            assert got == pytest.approx(value), key
        else:
            assert got == value, key
    assert not at.warning, [w.value for w in at.warning]


BAD_VALUES = ["abc", "1e999", "-99999", "<script>alert(1)</script>", "x" * 5000, ""]


@pytest.mark.parametrize("info", catalog.topic_pages(), ids=lambda p: p.url_path)
@pytest.mark.parametrize("bad", BAD_VALUES, ids=["text", "huge", "negative", "html", "long", "empty"])
def test_bad_link_values_fall_back_to_defaults_with_a_note(info, bad):
    widgets = list(keyed_widgets(open_page(info)))
    # An empty multiselect in a link is a valid value: it is what a cleared selection writes there.
    defaults = {w.key: w.value for w in widgets if not (bad == "" and w.type == "multiselect")}
    at = open_page(info, {key: bad for key in defaults})
    assert not errors(at)
    now = {w.key: w.value for w in keyed_widgets(at)}
    for key, default in defaults.items():
        assert now[key] == default, f"{key}: {bad[:20]!r} gave {now[key]!r}, not the default"
    notes = " ".join(w.value for w in at.warning)
    if bad:
        for key in defaults:
            assert f"`{key}`" in notes, f"no note names {key}"
    assert "<script>" not in " ".join(m.value for m in at.markdown)
