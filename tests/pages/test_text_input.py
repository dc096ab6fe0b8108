"""ui.controls.text_input: bound to the link, and a link value it cannot use falls back with a note."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def app():
    import streamlit as st

    from ui import controls

    value = controls.text_input("Spec", "demo_spec", "conv 32 3 p1; relu", 60)
    st.markdown(f"value: `{value}`")


def run(query: dict[str, str]) -> AppTest:
    at = AppTest.from_function(app, default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def test_default_and_link_value():
    at = run({})
    assert at.text_input(key="demo_spec").value == "conv 32 3 p1; relu" and not at.warning
    at = run({"demo_spec": "conv 8 5; maxpool 2"})
    assert at.text_input(key="demo_spec").value == "conv 8 5; maxpool 2" and not at.warning


@pytest.mark.parametrize("bad", ["x" * 61, "<script>alert(1)</script>", "conv 8 3\u0000", "a > b"])
def test_unusable_link_value_falls_back_with_a_note(bad):
    at = run({"demo_spec": bad})
    assert not at.exception
    assert at.text_input(key="demo_spec").value == "conv 32 3 p1; relu"
    notes = " ".join(w.value for w in at.warning)
    assert "`demo_spec`" in notes and "plain text of at most 60 characters" in notes
    assert "<script>" not in " ".join(m.value for m in at.markdown)


def test_empty_link_value_clears_the_field():
    at = run({"demo_spec": ""})
    assert at.text_input(key="demo_spec").value == "" and not at.warning


def test_typing_a_value_is_returned():
    at = run({})
    at.text_input(key="demo_spec").input("elu; flatten").run()
    assert at.markdown[0].value == "value: `elu; flatten`"
