"""The lesson catalogue, read without importing or running any lesson.

Every lesson file starts with a module-level ``LESSON = {...}`` made of literals only. This
module parses each file with :mod:`ast` and evaluates that one assignment with
:func:`ast.literal_eval`, so loading the catalogue never imports torch (the bot process must
not) and never executes lesson code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

LESSONS_DIR = Path(__file__).resolve().parent
METADATA_NAME = "LESSON"
TEXT_FIELDS = (
    "title_ko",
    "title_en",
    "question_ko",
    "question_en",
    "explanation_ko",
    "explanation_en",
)
REQUIRED_FIELDS = ("id", "day", *TEXT_FIELDS, "tags", "draws")
DAYS = range(1, 6)  # the group's study week: DAY01 .. DAY05
ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class LessonError(ValueError):
    """A lesson file whose metadata is missing or malformed, or a clash between files."""


@dataclass(frozen=True)
class LessonInfo:
    id: str
    day: int
    title_ko: str
    title_en: str
    question_ko: str
    question_en: str
    explanation_ko: str
    explanation_en: str
    tags: tuple[str, ...]
    draws: bool
    path: Path

    def text(self, field: str, locale: str) -> str:
        """A localised field, e.g. ``text("title", "ko")``; English unless ``locale`` is ko."""
        suffix = "ko" if locale.lower().startswith("ko") else "en"
        value: str = getattr(self, f"{field}_{suffix}")
        return value

    def source(self) -> str:
        """The lesson's code, for showing it (read as text, never imported)."""
        return self.path.read_text(encoding="utf-8")


def _metadata_node(tree: ast.Module) -> ast.expr | None:
    """The value assigned to ``LESSON`` at module level (plain or annotated assignment)."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if METADATA_NAME in names:
                return node.value
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == METADATA_NAME
            and node.value is not None
        ):
            return node.value
    return None


def _validate(meta: object, path: Path) -> LessonInfo:
    where = path.name
    if not isinstance(meta, dict):
        raise LessonError(f"{where}: {METADATA_NAME} must be a dict, not {type(meta).__name__}")
    missing = [key for key in REQUIRED_FIELDS if key not in meta]
    if missing:
        raise LessonError(f"{where}: {METADATA_NAME} lacks {', '.join(missing)}")
    unknown = sorted(str(key) for key in meta if key not in REQUIRED_FIELDS)
    if unknown:
        raise LessonError(f"{where}: {METADATA_NAME} has unknown keys {', '.join(unknown)}")

    lesson_id = meta["id"]
    if not isinstance(lesson_id, str) or not ID_PATTERN.fullmatch(lesson_id):
        raise LessonError(f"{where}: id must be lowercase words joined by '-', got {lesson_id!r}")
    day = meta["day"]
    if isinstance(day, bool) or not isinstance(day, int) or day not in DAYS:
        raise LessonError(f"{where}: day must be an integer from 1 to 5, got {day!r}")
    for key in TEXT_FIELDS:
        value = meta[key]
        if not isinstance(value, str) or not value.strip():
            raise LessonError(f"{where}: {key} must be a non-empty string")
    tags = meta["tags"]
    if not isinstance(tags, list | tuple) or not all(
        isinstance(tag, str) and tag.strip() for tag in tags
    ):
        raise LessonError(f"{where}: tags must be a list of non-empty strings")
    if not isinstance(meta["draws"], bool):
        raise LessonError(f"{where}: draws must be True or False")

    return LessonInfo(
        id=lesson_id,
        day=day,
        **{key: meta[key].strip() for key in TEXT_FIELDS},
        tags=tuple(tags),
        draws=meta["draws"],
        path=path,
    )


def read_lesson(path: Path) -> LessonInfo | None:
    """The metadata of one file, or None when the file has no ``LESSON`` assignment."""
    path = Path(path)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as err:
        raise LessonError(f"{path.name}: not valid Python ({err.msg}, line {err.lineno})") from err
    node = _metadata_node(tree)
    if node is None:
        return None
    try:
        meta = ast.literal_eval(node)
    except ValueError as err:
        raise LessonError(f"{path.name}: {METADATA_NAME} must contain literals only") from err
    return _validate(meta, path)


def load_lessons(directory: Path | str = LESSONS_DIR) -> list[LessonInfo]:
    """Every lesson in ``directory`` (not its subfolders), sorted by (day, id).

    Python files without a ``LESSON`` assignment (this module, ``__init__.py``) are skipped.
    Raises :class:`LessonError` for malformed metadata or an id used twice.
    """
    lessons: list[LessonInfo] = []
    seen: dict[str, Path] = {}
    for path in sorted(Path(directory).glob("*.py")):
        lesson = read_lesson(path)
        if lesson is None:
            continue
        if lesson.id in seen:
            raise LessonError(
                f"lesson id {lesson.id!r} is used by both {seen[lesson.id].name} and {path.name}"
            )
        seen[lesson.id] = path
        lessons.append(lesson)
    return sorted(lessons, key=lambda lesson: (lesson.day, lesson.id))


def find_lesson(lessons: list[LessonInfo], lesson_id: str) -> LessonInfo | None:
    """The lesson with this id, or None."""
    return next((lesson for lesson in lessons if lesson.id == lesson_id), None)
