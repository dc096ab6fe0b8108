"""Classroom tools every page gets from app.py: presenter mode, predict-then-reveal, copy link, chart
export, and lessons (a teacher's walk through saved views).

app.py calls `sidebar()`, `link_box()` and `lesson_bar()` before the page and writes the link after it; pages call
`chart()` for every figure and `predict()` where a student can guess a number before seeing it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import lessons
from core.charts import theme
from ui import catalog, controls

PRESENTER, PREDICT, IMAGE_FORMAT = "ui_presenter", "ui_predict", "ui_image_format"
LESSON_PICK, LESSON_STEP, LESSON_FILE = "lesson_pick", "lesson_step", "lesson_file"
_OWN = re.compile(r"^(ui|lesson)_")
#: Address-bar entries that describe this session's moment, not the view (a run in progress): left out of links.
TRAINING_MARK = "train_running"  # the Training studio's run in progress, to explain a lost run after a server restart
EPHEMERAL: frozenset[str] = frozenset({TRAINING_MARK})
_UPLOADED = "Uploaded lesson"
_NO_LESSON = "None"

# Presenter mode: larger type everywhere; the prose under the visuals folded away (captions and
# paragraphs outside the panels), the visuals, controls, alerts and the panels kept.
_PRESENTER_CSS = """
<style>
html { font-size: 20px; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] { display: none; }
[data-testid="stMain"] [data-testid="stMarkdown"] [data-testid="stMarkdownContainer"] p { font-size: 1.1rem; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 2.6rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1rem !important; white-space: normal !important; }
[data-testid="stMain"] [data-testid="stElementContainer"]:has(> [data-testid="stMarkdown"]):not([data-testid="stExpander"] *) { display: none; }
[data-testid="stMain"] [data-testid="stExpander"] [data-testid="stCaptionContainer"] { display: none; }
[data-testid="stSidebar"] [data-testid="stWidgetLabel"] p { font-size: 1rem; }
h1 { font-size: 2.4rem !important; padding-top: 0 !important; }
[data-testid="stMainBlockContainer"] { padding-top: 4rem; padding-left: 2rem; padding-right: 2rem; max-width: none; }
</style>
"""


def is_app_wide(key: str) -> bool:
    """Keys of the classroom controls, which app.py shows on every page (not a page's own controls)."""
    return bool(_OWN.match(key))


def presenter() -> bool:
    return bool(st.session_state.get(PRESENTER, False))


def predicting() -> bool:
    return bool(st.session_state.get(PREDICT, False))


def _pages() -> dict[str, catalog.PageInfo]:
    return {p.url_path: p for p in catalog.topic_pages()}


# ---------------------------------------------------------------- sidebar, before the page runs
def sidebar() -> None:
    """The classroom controls at the top of the sidebar, kept in the link like every control."""
    with st.sidebar:
        with st.expander("Classroom", expanded=False, icon=":material/co_present:"):
            controls.toggle("Presenter mode", PRESENTER, help="Large type and thick lines for a projector; the prose under the charts is folded away.")
            controls.toggle("Predict, then reveal", PREDICT, help="Where a page computes a number a student can work out, it asks for a guess before showing it.")
            controls.radio("Chart download format", IMAGE_FORMAT, ("PNG", "SVG"), "PNG",
                           help="The camera button in each chart's toolbar (hover over the chart) saves it in this format.")
            _lesson_controls()
    if presenter():
        st.html(_PRESENTER_CSS)


def _bundled() -> dict[str, lessons.Lesson]:
    @st.cache_resource(show_spinner=False)
    def load(pages: tuple[str, ...]) -> dict[str, lessons.Lesson]:
        return lessons.bundled(pages)

    return load(tuple(_pages()))


def current_lesson() -> tuple[str, lessons.Lesson] | None:
    pick = st.session_state.get(LESSON_PICK, _NO_LESSON)
    if pick == _UPLOADED:
        uploaded = st.session_state.get("_lesson_uploaded")
        return (pick, uploaded) if uploaded else None
    titles = {lesson.title: lesson for lesson in _bundled().values()}
    return (pick, titles[pick]) if pick in titles else None


def _lesson_controls() -> None:
    st.markdown("**Lesson**")
    bundled = _bundled()
    options = [_NO_LESSON, *(lesson.title for lesson in bundled.values())]
    if st.session_state.get("_lesson_uploaded"):
        options.append(_UPLOADED)
    controls.selectbox("Walk through", LESSON_PICK, options, _NO_LESSON, help="Example lessons follow the course chapters; or upload your own below.")
    upload = st.file_uploader("Open a lesson file (.json)", type=["json"], key=LESSON_FILE, help="A lesson saved with 'Download lesson'.")
    if upload is not None and st.session_state.get("_lesson_file_id") != upload.file_id:
        try:
            lesson = lessons.parse(upload.getvalue(), _pages())
        except lessons.LessonError as err:
            st.error(f"This lesson file cannot be used: {err}", icon=":material/error:")
        else:
            st.session_state["_lesson_uploaded"], st.session_state["_lesson_file_id"] = lesson, upload.file_id
            st.session_state["_lesson_go"] = (_UPLOADED, 1)
            st.rerun()
    st.markdown("**Build a lesson from this view**")
    title = st.text_input("Step title", key="lesson_new_title", max_chars=lessons.MAX_TEXT, placeholder="e.g. Stride 2 halves the map")
    note = st.text_area("Note for the class", key="lesson_new_note", max_chars=lessons.MAX_TEXT, height=68)
    st.session_state["_lesson_draft_text"] = (title, note)
    draft: lessons.Lesson | None = st.session_state.get("_lesson_draft")
    left, right = st.columns(2)
    left.button("Add this view", key="lesson_add", on_click=_add_view, width="stretch")
    if draft:
        right.download_button("Download lesson", draft.to_json(), file_name="lesson.json", mime="application/json",
                              key="lesson_download", width="stretch", on_click="ignore")
        st.caption(f"{len(draft.steps)} step{'s' if len(draft.steps) != 1 else ''}: " + " · ".join(s.title for s in draft.steps[-3:]))
        if st.button("Start over", key="lesson_clear", type="tertiary"):
            st.session_state.pop("_lesson_draft", None)
            st.rerun()
    if note := st.session_state.pop("_lesson_message", None):
        st.warning(note)


def _view_query() -> dict[str, str | list[str]]:
    """The current page's link values (its own controls, not the classroom ones)."""
    return {k: (v if len(v) != 1 else v[0]) for k in st.query_params if not _OWN.match(k) and k not in EPHEMERAL
            for v in [st.query_params.get_all(k)]}


def _add_view() -> None:
    page = st.session_state.get("_current_page")
    if page not in _pages():
        st.session_state["_lesson_message"] = "Open a topic page first: Home is not a step of a lesson."
        return
    title, note = st.session_state.get("_lesson_draft_text", ("", ""))
    title = title.strip() or _pages()[page].title
    try:
        step = lessons.Step(title, page, _view_query(), note.strip())
        st.session_state["_lesson_draft"] = lessons.add_step(st.session_state.get("_lesson_draft"), step)
    except lessons.LessonError as err:
        st.session_state["_lesson_message"] = str(err)
        return
    st.session_state["lesson_new_title"], st.session_state["lesson_new_note"] = "", ""


# ---------------------------------------------------------------- lesson bar, above the page
def begin(url_path: str) -> None:
    """Before any widget: follow a lesson step that was asked for (Previous, Next, the step slider, a
    newly chosen or uploaded lesson), by opening its page with exactly its link's values."""
    st.session_state["_current_page"] = url_path
    if go := st.session_state.pop("_lesson_go", None):
        _open(*go)
    pick = st.session_state.get(LESSON_PICK, st.query_params.get(LESSON_PICK, _NO_LESSON))
    raw_step = st.session_state.get(LESSON_STEP, st.query_params.get(LESSON_STEP))
    step = int(raw_step) if str(raw_step).isdigit() else None
    if pick == _NO_LESSON:
        st.session_state["_lesson_name"] = None
        return
    if LESSON_PICK not in st.session_state:  # a link opened the lesson: its step's view is what the link shows
        st.session_state["_lesson_name"], st.session_state["_lesson_at"] = pick, step or 1
        return
    if pick != st.session_state.get("_lesson_name"):
        _open(pick, 1)
    elif step is not None and step != st.session_state.get("_lesson_at"):
        _open(pick, step)


def _open(name: str, k: int) -> None:
    """Open step k of the lesson `name`: its page, with exactly its link's values."""
    if name == _UPLOADED:
        lesson = st.session_state.get("_lesson_uploaded")
    else:
        lesson = {l.title: l for l in _bundled().values()}.get(name)
    if lesson is None:
        return
    k = min(max(k, 1), len(lesson.steps))
    step = lesson.steps[k - 1]
    # Controls keep their values between reruns; forget the ones of the current view and the step's,
    # so the page rebuilds them from the step's link (defaults for everything the link leaves out).
    for key in {*st.query_params, *step.query}:
        if not _OWN.match(key):
            st.session_state.pop(key, None)
    st.session_state.update({LESSON_PICK: name, LESSON_STEP: k, "_lesson_name": name, "_lesson_at": k})
    query = {**step.query, **{q: st.query_params[q] for q in (PRESENTER, PREDICT, IMAGE_FORMAT) if q in st.query_params}}
    if name != _UPLOADED:
        query[LESSON_PICK] = name
    query[LESSON_STEP] = str(k)
    controls.unbind(query)
    st.switch_page(_pages()[step.page].path, query_params=query)


def lesson_bar(page_path: str) -> None:
    """The current lesson's step: its title and note, Previous / Next, and a step slider."""
    found = current_lesson()
    if not found:
        return
    name, lesson = found
    n = len(lesson.steps)
    k = min(max(int(st.session_state.get("_lesson_at") or 1), 1), n)
    step = lesson.steps[k - 1]
    with st.container(border=True, key="lesson_bar"):
        cols = st.columns([5, 3, 1, 1], vertical_alignment="center")
        cols[0].markdown(f"**{_plain(lesson.title)}** · step {k} of {n}: {_plain(step.title)}")
        with cols[1]:
            if n > 1:
                if int(st.session_state.get(LESSON_STEP) or k) > n:
                    st.session_state[LESSON_STEP] = n
                controls.slider("Step", LESSON_STEP, 1, n, k)
        cols[2].button("Previous", key="lesson_prev", disabled=k <= 1, on_click=_queue, args=(name, k - 1), width="stretch")
        cols[3].button("Next", key="lesson_next", disabled=k >= n, on_click=_queue, args=(name, k + 1), width="stretch")
        if step.note:
            st.markdown(_plain(step.note))
        if page_path != step.page:
            st.caption(f"This step is on the page “{_pages()[step.page].title}”.")
            st.button("Open this step", key="lesson_open", on_click=_queue, args=(name, k))


def _plain(text: str) -> str:
    """Lesson text shown as plain text: markdown and HTML characters escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


def _queue(name: str, k: int) -> None:
    st.session_state["_lesson_go"] = (name, k)


# ---------------------------------------------------------------- link, before the page runs
def link_box() -> Callable[[], None]:
    """Reserve the sidebar's place for the address that restores this exact view; returns the function that
    writes it, which app.py calls after the page has run.

    Every control writes its value into the address bar as it changes, and each rerun brings the address's
    query string with it; written after the page ran, the link also leaves out the values the page's
    controls refused (a bad link value is dropped and noted before its widget is built)."""
    with st.sidebar:
        slot = st.container()

    def write() -> None:
        base = (st.context.url or "").split("?", 1)[0]
        query = urlencode([(k, v) for k in st.query_params if k not in EPHEMERAL for v in st.query_params.get_all(k)])
        with slot:
            st.markdown("**Link to this view**", help="Copy it with the button at its right; it opens this page with every "
                        "control where it is now.")
            st.code(base + ("?" + query if query else ""), language=None, wrap_lines=True)

    return write


# ---------------------------------------------------------------- charts
_PRESENTER_COLORS = dict(zip(theme.PALETTE, ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#6E6E6E")))


def _for_projector(fig: go.Figure) -> go.Figure:
    """Thicker lines, larger markers and type, and the palette reordered so the first series differ most."""
    d = fig.to_dict()
    traces = [*d.get("data", []), *(t for frame in d.get("frames", []) or [] for t in frame.get("data", []))]
    for trace in traces:  # animation frames too, so a series keeps one colour while it plays
        line = trace.get("line")
        if isinstance(line, dict):
            line["width"] = max(2 * (line.get("width") or theme.LINE_WIDTH), 5)
            if line.get("color") in _PRESENTER_COLORS:
                line["color"] = _PRESENTER_COLORS[line["color"]]
        marker = trace.get("marker")
        if isinstance(marker, dict):
            if isinstance(marker.get("size"), (int, float)):
                marker["size"] = marker["size"] * 1.5
            color = marker.get("color")
            if isinstance(color, str):
                marker["color"] = _PRESENTER_COLORS.get(color, color)
            elif isinstance(color, (list, tuple)):  # one colour per point (the race's current positions)
                marker["color"] = [_PRESENTER_COLORS.get(c, c) if isinstance(c, str) else c for c in color]
            if isinstance(marker.get("colorbar"), dict):
                marker["colorbar"].setdefault("tickfont", {})["size"] = round(theme.FONT_SIZE * 1.3)
        if isinstance(trace.get("colorbar"), dict) or trace.get("type") in ("heatmap", "contour"):
            trace.setdefault("colorbar", {}).setdefault("tickfont", {})["size"] = round(theme.FONT_SIZE * 1.3)
        if trace.get("texttemplate") or trace.get("text") is not None:  # numbers written in cells or beside points
            trace.setdefault("textfont", {})["size"] = theme.FONT_SIZE  # larger would not fit small cells
    layout = d.setdefault("layout", {})
    layout.setdefault("font", {})["size"] = round(theme.FONT_SIZE * 1.4)
    # Set explicitly: Streamlit's theme otherwise sizes legends in rem, read before the presenter CSS applies.
    layout.setdefault("legend", {}).setdefault("font", {})["size"] = round(theme.FONT_SIZE * 1.2)
    for key, value in layout.items():
        if key.startswith("coloraxis") and isinstance(value, dict):
            value.setdefault("colorbar", {}).setdefault("tickfont", {})["size"] = round(theme.FONT_SIZE * 1.3)
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            axis.setdefault("tickfont", {})["size"] = round(theme.FONT_SIZE * 1.3)
            axis.setdefault("title", {}).setdefault("font", {})["size"] = round(theme.FONT_SIZE * 1.4)
            axis["gridwidth"] = 2
    for note in layout.get("annotations", []) or []:
        note.setdefault("font", {})["size"] = round(theme.FONT_SIZE * 1.4)
    if isinstance(layout.get("height"), (int, float)):
        layout["height"] = layout["height"] * 1.15
    if isinstance(layout.get("margin"), dict):  # room for the larger labels, so the chart is still drawn once
        layout["margin"] = {side: round(v * 1.35) if isinstance(v, (int, float)) and v >= 20 else v
                            for side, v in layout["margin"].items()}
    return go.Figure(d, _validate=False)


def chart_data(fig: go.Figure) -> pd.DataFrame:
    """The numbers behind a chart, one row per point: trace name, x, y (and z for heatmaps)."""
    frames = []
    for i, trace in enumerate(fig.data):
        name = getattr(trace, "name", None) or f"trace {i + 1}"
        z = getattr(trace, "z", None)
        if z is not None and trace.type in ("heatmap", "contour", "surface"):
            grid = pd.DataFrame(z)
            xs = list(trace.x) if getattr(trace, "x", None) is not None else list(range(grid.shape[1]))
            ys = list(trace.y) if getattr(trace, "y", None) is not None else list(range(grid.shape[0]))
            grid.columns, grid.index = xs[: grid.shape[1]], ys[: grid.shape[0]]
            long = grid.stack().rename("z").rename_axis(["y", "x"]).reset_index()
            frames.append(long.assign(trace=name)[["trace", "x", "y", "z"]])
            continue
        x, y = getattr(trace, "x", None), getattr(trace, "y", None)
        if y is None and x is None:
            continue
        y = list(y) if y is not None else [None] * len(x)
        x = list(x) if x is not None else list(range(len(y)))
        n = min(len(x), len(y))
        frames.append(pd.DataFrame({"trace": name, "x": x[:n], "y": y[:n]}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["trace", "x", "y"])


def chart(fig: go.Figure, key: str, csv: bool = True, where: Any = None, **kwargs: Any) -> Any:
    """Show a figure (in `where`, a column or container, if given): projector styling in presenter mode,
    its toolbar saving PNG or SVG, and the data behind it as CSV (built only when the button is pressed)."""
    where = where if where is not None else st
    shown = _for_projector(fig) if presenter() else fig
    fmt = "svg" if st.session_state.get(IMAGE_FORMAT) == "SVG" else "png"
    config = {"displaylogo": False, "toImageButtonOptions": {"format": fmt, "filename": key, "scale": 2}}
    result = where.plotly_chart(shown, key=key, config=config, **kwargs)
    if csv and not presenter():
        where.download_button("Data as CSV", lambda: chart_data(fig).to_csv(index=False), file_name=f"{key}.csv",
                           mime="text/csv", key=f"{key}_csv", type="tertiary", icon=":material/download:", on_click="ignore")
    return result


# ---------------------------------------------------------------- predict, then reveal
def predict(prefix: str, question: str, answer: float | str, *, choices: Sequence[str] | None = None,
            tolerance: float = 0.0, shown: Callable[[Any], str] = lambda a: f"{a:g}" if isinstance(a, float) else str(a)) -> bool:
    """In predict mode, ask for a guess before the page shows `answer`; True when it may be shown.

    The answer hides again whenever the question changes (a control moved), so each new view is a new
    question. Outside predict mode this shows nothing and returns True.
    """
    if not predicting():
        return True
    token = f"{question}|{answer}"
    with st.container(border=True, key=f"{prefix}_predict_box"):
        st.markdown(f":material/psychology: **Predict first.** {question}")
        if choices is not None:
            guess = st.selectbox("Your guess", list(choices), index=None, key=f"{prefix}_guess", placeholder="Choose…")
        else:
            guess = st.number_input("Your guess", value=None, key=f"{prefix}_guess", format="%g", step=1.0)
        if st.button("Reveal", key=f"{prefix}_reveal", disabled=guess is None, type="primary"):
            st.session_state[f"_{prefix}_revealed"] = token
        if st.session_state.get(f"_{prefix}_revealed") != token or guess is None:
            st.caption("The answer stays hidden until you reveal it.")
            return False
        right = guess == answer if choices is not None else abs(float(guess) - float(answer)) <= tolerance + 1e-12
        if right:
            st.success(f"Right: {shown(answer)}.", icon=":material/check_circle:")
        else:
            st.error(f"Not quite: you said {guess if choices is not None else shown(float(guess))}; the answer is {shown(answer)}.", icon=":material/cancel:")
        return True
