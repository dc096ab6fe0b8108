"""Lesson files: the shipped examples parse, a lesson round-trips, and malformed files get a clear reason."""
import json
import re
from pathlib import Path

import pytest

from core import lessons
from ui import catalog

PAGES = {p.url_path for p in catalog.topic_pages()}
ROOT = Path(__file__).resolve().parents[2]
BUNDLED = lessons.bundled(PAGES)
#: The catalog's chapter (navigation section) of every topic page, counted in course order.
CHAPTER = {page.url_path: i for i, pages in enumerate(catalog.SECTIONS.values()) for page in pages}
GOOD = {"title": "T", "steps": [{"title": "One", "page": "softmax", "query": {"sm_num_classes": "4"}, "note": "n"}]}


def raw(obj) -> bytes:
    return json.dumps(obj).encode()


def test_bundled_lessons_parse_and_follow_the_course():
    bundled = lessons.bundled(PAGES)
    assert len(bundled) >= 4
    assert list(bundled) == sorted(bundled)  # file names give the chapter order
    for lesson in bundled.values():
        assert lesson.steps and all(step.page in PAGES for step in lesson.steps)
    assert len({lesson.title for lesson in bundled.values()}) == len(bundled)  # the sidebar picks a lesson by its title


def test_every_bundled_file_parses_on_its_own():
    files = sorted(lessons.LESSONS_DIR.glob("*.json"))
    assert [f.stem for f in files] == list(BUNDLED)
    for path in files:
        lesson = lessons.parse(path.read_bytes(), PAGES)
        assert all(step.title and step.note for step in lesson.steps), f"{path.name}: every step has a title and a note"


def test_the_bundled_lessons_together_visit_every_topic_page():
    visited = {step.page for lesson in BUNDLED.values() for step in lesson.steps}
    missing = [page.url_path for page in catalog.topic_pages() if page.url_path not in visited]
    assert not missing, f"no example lesson has a step on {missing}: add one in assets/lessons/"


def test_the_bundled_lessons_walk_the_chapters_in_course_order():
    """Read one after another, in file-name order, the steps never go back to an earlier chapter."""
    walk = [(name, k, step.page) for name, lesson in BUNDLED.items() for k, step in enumerate(lesson.steps, 1)]
    for (name_a, k_a, page_a), (name_b, k_b, page_b) in zip(walk, walk[1:]):
        assert CHAPTER[page_b] >= CHAPTER[page_a], f"{name_b} step {k_b} ({page_b}) comes after {name_a} step {k_a} ({page_a})"


def _page_source(url_path: str) -> str:
    info = next(p for p in catalog.topic_pages() if p.url_path == url_path)
    return (ROOT / info.path).read_text(encoding="utf-8")


STEPS = [(name, k, step) for name, lesson in BUNDLED.items() for k, step in enumerate(lesson.steps, 1)]


@pytest.mark.parametrize("name, k, step", STEPS, ids=[f"{name}-{k}" for name, k, _ in STEPS])
def test_every_query_key_is_a_control_of_its_page(name, k, step):
    """A fast check without running the page: each key is written as a literal key in the page's script. (Opening every
    step and comparing with the widgets AppTest sees, and that no value gets a bad-link note, is
    tests/pages/test_classroom.py::test_every_step_of_every_shipped_lesson_opens_cleanly.)"""
    source = _page_source(step.page)
    for key in step.query:
        assert re.search(rf"""["']{re.escape(key)}["']""", source), f"{name} step {k}: {key} is not a control of {step.page}"


def test_a_lesson_round_trips_through_its_json():
    lesson = lessons.parse(raw(GOOD), PAGES)
    lesson = lessons.add_step(lesson, lessons.Step("Two", "optimizers", {"opt_optimizers": ["SGD", "Adam"]}, ""))
    again = lessons.parse(lesson.to_json().encode(), PAGES)
    assert again == lesson and len(again.steps) == 2
    assert again.steps[1].query["opt_optimizers"] == ["SGD", "Adam"]


def test_numbers_and_booleans_in_a_query_become_link_text():
    step = {**GOOD["steps"][0], "query": {"sm_num_classes": 4, "sm_temperature": 0.5, "opt_fair": True}}
    lesson = lessons.parse(raw({"title": "T", "steps": [step]}), PAGES)
    assert lesson.steps[0].query == {"sm_num_classes": "4", "sm_temperature": "0.5", "opt_fair": "true"}


BAD = {
    "empty": (b"", "empty"),
    "not json": (b"{title: 1", "not valid JSON"),
    "binary": (b"\xff\xfe\x00\x00junk", "not UTF-8"),
    "a list": (raw([1, 2]), "one JSON object"),
    "no steps": (raw({"title": "T", "steps": []}), "non-empty list of 'steps'"),
    "no title": (raw({"steps": GOOD["steps"]}), "'title'"),
    "unknown page": (raw({"title": "T", "steps": [{**GOOD["steps"][0], "page": "../../etc/passwd"}]}), "not a page of this app"),
    "bad key": (raw({"title": "T", "steps": [{**GOOD["steps"][0], "query": {"<script>": "1"}}]}), "not a control key"),
    "nested value": (raw({"title": "T", "steps": [{**GOOD["steps"][0], "query": {"sm_num_classes": {"a": 1}}}]}), "short text or number"),
    "long value": (raw({"title": "T", "steps": [{**GOOD["steps"][0], "query": {"sm_num_classes": "9" * 500}}]}), "short text or number"),
    "long note": (raw({"title": "T", "steps": [{**GOOD["steps"][0], "note": "x" * 5000}]}), "the limit is 500"),
    "control chars": (raw({"title": "T\x1b[31m", "steps": GOOD["steps"]}), "control characters"),
    "too many steps": (raw({"title": "T", "steps": GOOD["steps"] * 101}), "the limit is 100"),
    "too big": (b" " * (lessons.MAX_BYTES + 1), "at most"),
    "step not an object": (raw({"title": "T", "steps": ["softmax"]}), "must be an object"),
}


@pytest.mark.parametrize("name", BAD)
def test_malformed_lesson_files_are_refused_with_a_reason(name):
    data, reason = BAD[name]
    with pytest.raises(lessons.LessonError, match=None) as err:
        lessons.parse(data, PAGES)
    assert reason in str(err.value)
