"""Every registered page, through app.py's navigation, in Streamlit's AppTest: it loads, survives random
values on every widget (hypothesis), restores its state from a link, and turns bad link values into a note."""
from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_

from tests.pages.harness import keyed_widgets, link_value, open_page, random_value
from ui import catalog, classroom

PAGES = catalog.all_pages()
FUZZ_EXAMPLES = int(os.environ.get("DLX_FUZZ_EXAMPLES", "50"))


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
    prefixes = {w.key.split("_")[0] for w in widgets if not classroom.is_app_wide(w.key)}
    assert len(prefixes) == 1, f"keys share one page prefix: {sorted(w.key for w in widgets)}"


SCALE = 10**6
SLOTS = 96  # hypothesis draws a fixed list of numbers; the page's current widgets read them in turn


def widget_value(widget, x: int, y: int) -> object:
    """The value of a widget for the numbers x, y in [0, SCALE]: 0 is the minimum or first option,
    SCALE the maximum or last, so hypothesis's shrinking heads for the edges."""
    kind = widget.type
    if kind in ("slider", "number_input"):
        lo, hi, step = widget.min, widget.max, widget.step or 1
        if lo is None or hi is None:
            return widget.value
        n_steps = int(round((hi - lo) / step))
        k = round(x / SCALE * n_steps)
        return lo + k * step if isinstance(lo, int) and isinstance(step, int) else min(hi, round(lo + k * step, 10))
    options = list(getattr(widget, "options", []))
    if kind in ("selectbox", "radio", "select_slider"):
        return options[min(len(options) - 1, x * len(options) // SCALE)]
    if kind == "multiselect":
        return [o for i, o in enumerate(options) if (y >> (i % 20)) & 1]
    if kind in ("checkbox", "toggle"):
        return x >= SCALE // 2
    raise ValueError(f"no fuzzing rule for {kind}")


@pytest.mark.parametrize("info", catalog.topic_pages(), ids=lambda p: p.url_path)
def test_fuzz_every_widget(info):
    """Random values over every control's full range, applied in random orders, sometimes with reruns
    between changes: no uncaught exception. `make fuzz` runs it with DLX_FUZZ_EXAMPLES (default 50)."""
    at = open_page(info)
    defaults = {w.key: w.value for w in keyed_widgets(at)}

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(numbers=st_.lists(st_.integers(0, SCALE), min_size=3 * SLOTS, max_size=3 * SLOTS), stepwise=st_.booleans())
    def one_combination(numbers, stepwise):
        for widget in keyed_widgets(at):  # every example starts from the page's defaults
            if widget.key in defaults:
                widget.set_value(defaults[widget.key])
        at.run()
        widgets = list(keyed_widgets(at))
        order = sorted(range(len(widgets)), key=lambda i: (numbers[2 * SLOTS + i % SLOTS], i))
        applied = {}
        for i in order:
            widget = next((w for w in keyed_widgets(at) if w.key == widgets[i].key), None)
            if widget is None:  # an earlier change hid it
                continue
            applied[widget.key] = value = widget_value(widget, numbers[i % SLOTS], numbers[SLOTS + i % SLOTS])
            widget.set_value(value)
            if stepwise and len(applied) % 3 == 0:  # a rerun between some changes, as a user's clicks make
                at.run()
                assert not errors(at), f"{applied}\n{errors(at)}"
        at.run()
        assert not errors(at), f"{applied}\n{errors(at)}"

    one_combination()


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
        # App-wide controls read the link on the first run (Home, in this harness) and say so there.
        for key in [k for k in defaults if not classroom.is_app_wide(k)]:
            assert f"`{key}`" in notes, f"no note names {key}"
    assert "<script>" not in " ".join(m.value for m in at.markdown)
