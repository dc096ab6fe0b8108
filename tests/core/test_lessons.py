"""Lesson files: the shipped examples parse, a lesson round-trips, and malformed files get a clear reason."""
import json

import pytest

from core import lessons
from ui import catalog

PAGES = {p.url_path for p in catalog.topic_pages()}
GOOD = {"title": "T", "steps": [{"title": "One", "page": "softmax", "query": {"sm_num_classes": "4"}, "note": "n"}]}


def raw(obj) -> bytes:
    return json.dumps(obj).encode()


def test_bundled_lessons_parse_and_follow_the_course():
    bundled = lessons.bundled(PAGES)
    assert len(bundled) >= 4
    assert list(bundled) == sorted(bundled)  # file names give the chapter order
    for lesson in bundled.values():
        assert lesson.steps and all(step.page in PAGES for step in lesson.steps)


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
