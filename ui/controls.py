"""Widgets bound to the URL query string, so a link restores the exact view.

Every control a page shows goes through these wrappers. Each one reads its value from the link
first: a value that cannot be used (text for a number, out of range, unknown option) is removed
from the link before the widget is built, so the widget shows its default, and a note under the
widget says what was ignored. Values from a link are untrusted: they are only ever shown inside
inline code, never as HTML or markdown.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import streamlit as st

T = TypeVar("T")
_SHOWN_CHARS = 40


def _shown(raw: str) -> str:
    """An untrusted link value, made safe to show inside inline code."""
    clean = "".join(ch for ch in raw if ch.isprintable()).replace("`", "'")
    return clean if len(clean) <= _SHOWN_CHARS else clean[:_SHOWN_CHARS] + "…"


def _forget(key: str) -> None:
    """Remove a link value before its widget is built, so the widget is not seeded from it.

    Deleting from `st.query_params` updates the address bar, but Streamlit seeds bound widgets from its
    own snapshot of the query string taken when the page loaded (`_initial_query_params`); a value it
    would accept (clamped, or one that crashes `number_input`, such as 1e999) has to go from there too.
    """
    from streamlit.runtime.state.session_state_proxy import get_session_state

    if key in st.query_params:
        del st.query_params[key]
    with get_session_state().query_params() as qp:
        qp._initial_query_params.pop(key, None)


def _relink(key: str, raw: str) -> None:
    """Replace a link value before its widget is built (the address bar and Streamlit's snapshot, see `_forget`)."""
    from streamlit.runtime.state.session_state_proxy import get_session_state

    st.query_params[key] = raw
    with get_session_state().query_params() as qp:
        if key in qp._initial_query_params:
            qp._initial_query_params[key] = [raw]


def unbind(keys) -> None:
    """Let the app write or delete link values of controls bound to the address bar.

    Streamlit refuses to set or delete a query parameter that a widget is bound to; a widget binds again
    (and seeds from the link) when the page builds it. Private API, pinned Streamlit.
    """
    from streamlit.runtime.state.session_state_proxy import get_session_state

    with get_session_state().query_params() as qp:
        for key in keys:
            binding = qp.get_binding_for_param(key)
            if binding is not None:
                qp.unbind_widget(binding.widget_id)


def reset(*keys: str) -> None:
    """Put widgets back to their defaults at the next run (from a callback): their state and link values go."""
    unbind(keys)
    for key in keys:
        st.session_state.pop(key, None)
        _forget(key)


def _reject(key: str, raw: str, expected: str, default: Any) -> str:
    """Drop a bad link value so the widget falls back to its default; return the note that says so."""
    _forget(key)
    return f"The link's value `{_shown(raw)}` for `{key}` is not {expected}; using the default {default}."


def _show(note: str | None) -> None:
    if note:
        st.warning(note, icon=":material/link_off:")


def _is_number(raw: str, integer: bool) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    if not math.isfinite(value) or (integer and value != int(value)):
        return None
    return value


def _check_number(key: str, min_value: float, max_value: float, value: float) -> str | None:
    """The note for a link value of `key` that is not a number from min_value to max_value (a whole number when
    all three are ints), after dropping it; None when the link has no value for `key` or a good one."""
    raw = st.query_params.get(key)
    if raw is None:
        return None
    integer = all(isinstance(v, int) for v in (min_value, max_value, value))
    number = _is_number(raw, integer)
    if number is not None and min_value <= number <= max_value:
        return None
    kind = "a whole number" if integer else "a number"
    return _reject(key, raw, f"{kind} from {min_value} to {max_value}", value)


def slider(
    label: str,
    key: str,
    min_value: float,
    max_value: float,
    value: float,
    step: float | None = None,
    help: str | None = None,
    format: str | None = None,
) -> Any:
    """`st.slider` for one number, bound to `?key=`."""
    note = _check_number(key, min_value, max_value, value)
    result = st.slider(
        label, min_value, max_value, value, step=step, key=key, help=help, format=format, bind="query-params"
    )
    _show(note)
    return result


def number_input(
    label: str, key: str, min_value: float, max_value: float, value: float, step: float | None = None, help: str | None = None
) -> Any:
    """`st.number_input` bound to `?key=`."""
    note = _check_number(key, min_value, max_value, value)
    result = st.number_input(
        label, min_value=min_value, max_value=max_value, value=value, step=step, key=key, help=help, bind="query-params"
    )
    _show(note)
    return result


def selectbox(
    label: str,
    key: str,
    options: Sequence[T],
    value: T,
    format_func: Callable[[T], str] = str,
    help: str | None = None,
    on_change: Callable[[], None] | None = None,
    renamed: dict[str, str] | None = None,
) -> T:
    """`st.selectbox` bound to `?key=`; the link carries the option as shown.

    renamed: {old label: current label} for options whose label changed, so older links still open."""
    for old, current in (renamed or {}).items():
        if st.query_params.get(key) == old:
            _relink(key, current)
    note = _check_choice(key, options, value, format_func)
    labels = _labels(options, format_func)
    shown = st.selectbox(label, list(labels), index=list(options).index(value), key=key, help=help, bind="query-params",
                         on_change=on_change)
    _show(note)
    return labels[shown]


def radio(
    label: str,
    key: str,
    options: Sequence[T],
    value: T,
    format_func: Callable[[T], str] = str,
    help: str | None = None,
    horizontal: bool = True,
) -> T:
    """`st.radio` bound to `?key=`; the link carries the option as shown."""
    note = _check_choice(key, options, value, format_func)
    labels = _labels(options, format_func)
    shown = st.radio(
        label, list(labels), index=list(options).index(value), key=key, help=help, horizontal=horizontal, bind="query-params"
    )
    _show(note)
    return labels[shown]


def select_slider(
    label: str,
    key: str,
    options: Sequence[T],
    value: T,
    format_func: Callable[[T], str] = str,
    help: str | None = None,
) -> T:
    """`st.select_slider` bound to `?key=`; the link carries the option as shown."""
    note = _check_choice(key, options, value, format_func)
    labels = _labels(options, format_func)
    shown = st.select_slider(label, list(labels), value=format_func(value), key=key, help=help, bind="query-params")
    _show(note)
    return labels[shown]


def _labels(options: Sequence[T], format_func: Callable[[T], str]) -> dict[str, T]:
    """Widgets get the shown labels as their options (so links and tests carry plain labels);
    the page gets back the values behind them."""
    labels = {format_func(o): o for o in options}
    if len(labels) != len(options):
        raise ValueError("option labels must be unique")
    return labels


def _check_choice(key: str, options: Sequence[T], value: T, format_func: Callable[[T], str]) -> str | None:
    raw = st.query_params.get(key)
    shown = [format_func(o) for o in options]
    if raw is not None and raw not in shown:
        return _reject(key, raw, "one of " + ", ".join(shown), format_func(value))
    return None


def multiselect(
    label: str,
    key: str,
    options: Sequence[T],
    value: Sequence[T],
    format_func: Callable[[T], str] = str,
    help: str | None = None,
) -> list[T]:
    """`st.multiselect` bound to `?key=a&key=b`; unknown entries in the link are dropped with a note."""
    raw, note = [r for r in st.query_params.get_all(key) if r != ""], None  # `?key=` is a cleared selection
    if raw:
        shown = [format_func(o) for o in options]
        bad = [r for r in raw if r not in shown]
        if bad:
            good = [r for r in raw if r in shown]
            expected = "one of " + ", ".join(shown)
            if good:
                st.query_params[key] = good
                note = f"The link's value `{_shown(bad[0])}` for `{key}` is not {expected}; it was left out."
            else:
                note = _reject(key, bad[0], expected, ", ".join(format_func(v) for v in value))
    labels = _labels(options, format_func)
    shown = st.multiselect(
        label, list(labels), default=[format_func(v) for v in value], key=key, help=help, bind="query-params"
    )
    _show(note)
    return [labels[s] for s in shown]


def toggle(label: str, key: str, value: bool = False, help: str | None = None) -> bool:
    """`st.toggle` bound to `?key=true|false`."""
    raw, note = st.query_params.get(key), None
    if raw is not None and raw.lower() not in ("true", "false"):
        note = _reject(key, raw, "true or false", value)
    result = st.toggle(label, value=value, key=key, help=help, bind="query-params")
    _show(note)
    return result


def text_input(label: str, key: str, value: str, max_chars: int, help: str | None = None) -> str:
    """`st.text_input` bound to `?key=`; a link value longer than `max_chars`, with control characters,
    or with `<` or `>` (markup) is ignored with a note. An empty value in a link clears the field."""
    raw, note = st.query_params.get(key), None
    if raw is not None and (len(raw) > max_chars or not raw.isprintable() or "<" in raw or ">" in raw):
        note = _reject(key, raw, f"plain text of at most {max_chars} characters", f"`{_shown(value)}`")
    result = st.text_input(label, value, max_chars=max_chars, key=key, help=help, bind="query-params")
    _show(note)
    return result if result is not None else ""
