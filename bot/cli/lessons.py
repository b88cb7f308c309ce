"""`studybot lessons list|show|run ID [--json]`: the PyTorch lessons on the command line.

``list`` and ``show`` read the catalogue (parsed, never imported: no torch here); ``run``
runs the lesson's file through the sandbox exactly as ``studybot sandbox run`` runs a file
(same options, same output, same exit codes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.parsing import Subparsers
from bot.config import Settings
from lessons.catalogue import LESSONS_DIR, LessonInfo, find_lesson, load_lessons
from sandbox.cli import add_limit_options, config_for, run_and_print
from sandbox.result import JobSpec


def add_parser(subparsers: Subparsers) -> None:
    lessons = subparsers.add_parser("lessons", help="the PyTorch lessons")
    actions = lessons.add_subparsers(dest="lessons_action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list the lessons")
    listing.add_argument("--json", action="store_true", help="one JSON object per lesson")
    listing.set_defaults(handler=list_lessons)
    show = actions.add_parser("show", help="a lesson's question, explanation and code")
    show.add_argument("lesson", metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=show_lesson)
    run = actions.add_parser("run", help="run a lesson in the sandbox")
    run.add_argument("lesson", metavar="ID")
    add_limit_options(run)
    run.set_defaults(handler=run_lesson)


def find(lesson_id: str) -> LessonInfo:
    """The lesson by id, file name (with or without ``.py``) or ``lNN`` prefix; exits
    with the known ids when there is none."""
    lessons = load_lessons(LESSONS_DIR)
    found = find_lesson(lessons, lesson_id)
    if found is None:
        wanted = lesson_id.removesuffix(".py")
        found = next(
            (
                lesson
                for lesson in lessons
                if lesson.path.stem == wanted or lesson.path.stem.split("_", 1)[0] == wanted
            ),
            None,
        )
    if found is None:
        known = ", ".join(lesson.id for lesson in lessons)
        raise SystemExit(f"studybot: no lesson {lesson_id!r} (lessons: {known})")
    return found


def lesson_json(lesson: LessonInfo) -> dict[str, Any]:
    return {
        "id": lesson.id,
        "day": lesson.day,
        "title_ko": lesson.title_ko,
        "title_en": lesson.title_en,
        "tags": list(lesson.tags),
        "draws": lesson.draws,
        "file": str(lesson.path),
    }


def list_lessons(args: argparse.Namespace, settings: Settings) -> int:
    locale = settings.default_locale
    for lesson in load_lessons(LESSONS_DIR):
        if args.json:
            print(json.dumps(lesson_json(lesson), ensure_ascii=False))
        else:
            print(f"{lesson.id}\tday {lesson.day}\t{lesson.text('title', locale)}")
    return 0


def show_lesson(args: argparse.Namespace, settings: Settings) -> int:
    lesson = find(args.lesson)
    locale = settings.default_locale
    if args.json:
        data = lesson_json(lesson)
        for field in ("question", "explanation"):
            for suffix in ("ko", "en"):
                data[f"{field}_{suffix}"] = getattr(lesson, f"{field}_{suffix}")
        data["source"] = lesson.source()
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(f"{lesson.id} (day {lesson.day}): {lesson.text('title', locale)}")
    print()
    print(lesson.text("question", locale))
    print()
    print(lesson.text("explanation", locale))
    print()
    print(f"file: {lesson.path}")
    return 0


def run_lesson(args: argparse.Namespace, settings: Settings) -> int:
    lesson = find(args.lesson)
    config = config_for(args, settings, 1)
    path = Path(lesson.path)
    jobs = [(path, JobSpec(kind="lesson", name=path.name))]
    return run_and_print(config, jobs, args, sys.stdout, settings=settings)
