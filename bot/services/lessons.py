"""Lesson list and show: reply data from the lesson catalogue (torch-free, never runs code).

The catalogue is read with :mod:`ast` (``lessons.catalogue``), so this module is safe to
import in the bot process.
"""

from __future__ import annotations

from functools import cache
from itertools import groupby

from bot.errors import NotFound
from bot.replies import Attachment, Reply, Text
from lessons.catalogue import LESSONS_DIR, LessonInfo, find_lesson, load_lessons

MAX_INLINE_CODE = 1500  # longer sources go out as an attached .py file
FENCE = "```"
ZWSP = "\u200b"


@cache
def catalogue() -> tuple[LessonInfo, ...]:
    """Every lesson in the repository's ``lessons/`` folder, by (day, id)."""
    return tuple(load_lessons(LESSONS_DIR))


def get_lesson(lesson_id: str) -> LessonInfo:
    lesson = find_lesson(list(catalogue()), lesson_id.strip())
    if lesson is None:
        raise NotFound("lessons.unknown", id=lesson_id)
    return lesson


def choices(current: str, locale: str, limit: int = 25) -> list[tuple[str, str]]:
    """(label, id) pairs for autocomplete: lessons whose id or title contains ``current``."""
    needle = current.strip().lower()
    found = []
    for lesson in catalogue():
        title = lesson.text("title", locale)
        if needle in lesson.id or needle in title.lower():
            found.append((f"DAY{lesson.day:02d} {title}"[:100], lesson.id))
    return found[:limit]


def fence(code: str, language: str = "") -> str:
    """A code block whose content cannot close it early."""
    return f"{FENCE}{language}\n{code.replace(FENCE, '`' + ZWSP + '``')}\n{FENCE}"


def list_reply(locale: str) -> Reply:
    reply = Reply.private("lessons.list", count=len(catalogue()))
    for day, lessons in groupby(catalogue(), key=lambda lesson: lesson.day):
        reply.lines.append(Text("lessons.list_day", {"day": day}))
        for lesson in lessons:
            reply.lines.append(
                Text("lessons.list_line", {"id": lesson.id, "title": lesson.text("title", locale)})
            )
    return reply


def show_reply(lesson_id: str, locale: str) -> Reply:
    lesson = get_lesson(lesson_id)
    reply = Reply.public(
        "lessons.show",
        day=lesson.day,
        id=lesson.id,
        title=lesson.text("title", locale),
        question=lesson.text("question", locale),
        explanation=lesson.text("explanation", locale),
    )
    source = lesson.source().rstrip()
    if len(source) <= MAX_INLINE_CODE:
        reply.lines.append(Text("lessons.code_inline", {"code": fence(source, "python")}))
    else:
        name = lesson.path.name
        reply.lines.append(Text("lessons.code_attached", {"file": name}))
        reply.attachments.append(Attachment(name, source.encode("utf-8") + b"\n"))
    reply.lines.append(Text("lessons.run_hint", {"id": lesson.id}))
    return reply
