"""Lessons: a teacher's sequence of page views (a page, its link's query values, a title and a note).

A lesson is a small JSON file a teacher downloads and uploads again later:

    {"title": "Convolutions in 10 minutes",
     "steps": [{"title": "Stride 1", "note": "What does padding do?", "page": "conv-arithmetic",
                "query": {"conv_stride": "1", "conv_padding": "1"}}]}

Files come from users, so `parse` checks everything and raises `LessonError` with a message for the
page. Nothing from a lesson is ever run or rendered as HTML: titles and notes are shown as plain text,
and query values go through the same link checks as any shared link.
"""
from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MAX_BYTES = 200_000
MAX_STEPS = 100
MAX_TEXT = 500  # characters in a title or a note
MAX_VALUE = 200  # characters in one query value
MAX_VALUES = 60  # query keys in one step
_KEY = re.compile(r"^[a-z][a-z0-9]*_[a-z0-9_]+$")
LESSONS_DIR = Path(__file__).resolve().parents[1] / "assets" / "lessons"


class LessonError(ValueError):
    """A lesson file the app cannot use, with the reason in words."""


@dataclass(frozen=True)
class Step:
    title: str
    page: str  # the page's URL path, e.g. "conv-arithmetic"
    query: dict[str, str | list[str]] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Lesson:
    title: str
    steps: tuple[Step, ...]

    def to_json(self) -> str:
        return dumps(self)


def _text(value: object, where: str, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise LessonError(f"{where} must be {'a non-empty' if required else 'a'} text.")
    if len(value) > MAX_TEXT:
        raise LessonError(f"{where} has {len(value)} characters; the limit is {MAX_TEXT}.")
    if not all(ch.isprintable() or ch in "\n\t" for ch in value):
        raise LessonError(f"{where} contains control characters.")
    return value.strip()


def _query(value: object, where: str) -> dict[str, str | list[str]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise LessonError(f"{where}: 'query' must be an object of control keys and values.")
    if len(value) > MAX_VALUES:
        raise LessonError(f"{where}: 'query' has {len(value)} entries; the limit is {MAX_VALUES}.")
    out: dict[str, str | list[str]] = {}
    for key, raw in value.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise LessonError(f"{where}: {str(key)[:40]!r} is not a control key (like conv_stride).")
        items = raw if isinstance(raw, list) else [raw]
        if isinstance(raw, list) and len(raw) > MAX_VALUES:
            raise LessonError(f"{where}: {key} has too many values.")
        shown = []
        for item in items:
            if isinstance(item, bool):
                item = "true" if item else "false"
            if isinstance(item, (int, float)):
                item = repr(item) if isinstance(item, float) else str(item)
            if not isinstance(item, str) or len(item) > MAX_VALUE:
                raise LessonError(f"{where}: the value of {key} must be a short text or number.")
            shown.append(item)
        out[key] = shown if isinstance(raw, list) else shown[0]
    return out


def parse(raw: bytes | str, pages: Collection[str]) -> Lesson:
    """Read a lesson file; `pages` are the URL paths a step may name."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise LessonError(f"The file is {len(raw) / 1000:.0f} kB; a lesson file is at most {MAX_BYTES // 1000} kB.")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise LessonError("The file is not UTF-8 text; a lesson is a JSON file saved by this app.") from None
    if not raw.strip():
        raise LessonError("The file is empty.")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise LessonError(f"The file is not valid JSON ({err.msg}, line {err.lineno}).") from None
    if not isinstance(data, dict):
        raise LessonError("A lesson file holds one JSON object with a 'title' and a list of 'steps'.")
    title = _text(data.get("title"), "The lesson's 'title'")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise LessonError("The lesson needs a non-empty list of 'steps'.")
    if len(steps) > MAX_STEPS:
        raise LessonError(f"The lesson has {len(steps)} steps; the limit is {MAX_STEPS}.")
    parsed = []
    for i, step in enumerate(steps, 1):
        where = f"Step {i}"
        if not isinstance(step, dict):
            raise LessonError(f"{where} must be an object with 'title', 'page', 'query' and 'note'.")
        page = step.get("page")
        if not isinstance(page, str) or page not in pages:
            raise LessonError(f"{where}: {str(page)[:40]!r} is not a page of this app.")
        parsed.append(Step(_text(step.get("title"), f"{where}'s 'title'"), page, _query(step.get("query"), where),
                           _text(step.get("note"), f"{where}'s 'note'", required=False)))
    return Lesson(title, tuple(parsed))


def dumps(lesson: Lesson) -> str:
    return json.dumps({"title": lesson.title, "steps": [
        {"title": s.title, "page": s.page, "query": s.query, "note": s.note} for s in lesson.steps]}, indent=2, ensure_ascii=False)


def add_step(lesson: Lesson | None, step: Step, title: str = "My lesson") -> Lesson:
    """The lesson with one more step at the end (a new lesson if there is none)."""
    if lesson is not None and len(lesson.steps) >= MAX_STEPS:
        raise LessonError(f"A lesson holds at most {MAX_STEPS} steps.")
    return Lesson(lesson.title if lesson else title, (*(lesson.steps if lesson else ()), step))


def bundled(pages: Collection[str], folder: Path = LESSONS_DIR) -> dict[str, Lesson]:
    """The example lessons that ship in assets/lessons, by file stem, in file-name order."""
    return {path.stem: parse(path.read_bytes(), pages) for path in sorted(folder.glob("*.json"))}
