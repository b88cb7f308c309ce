"""Review cards for ``/quiz``, read from the lessons without importing them.

Each lesson file may hold, after its ``LESSON`` metadata, a module-level ``CARDS = [...]``
of literals: a new lesson brings its cards. A card asks a question in Korean and English
and has a short answer in both. A multiple-choice card also has ``choices_ko``,
``choices_en`` (the same options in the same order), ``correct`` (the right choice,
counted from 1) and ``proof``: a part of an ``assert`` statement of the lesson that proves
the answer, so running the lesson checks the card. An open card is graded by the member
after the answer is shown. Like ``catalogue``, this reads files with :mod:`ast` only.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from lessons.catalogue import ID_PATTERN, LESSONS_DIR, LessonError, load_lessons

CARDS_NAME = "CARDS"
TEXT_FIELDS = ("question_ko", "question_en", "answer_ko", "answer_en")
CHOICE_FIELDS = ("choices_ko", "choices_en", "correct", "proof")
ALLOWED_FIELDS = frozenset({"key", *TEXT_FIELDS, *CHOICE_FIELDS})
MIN_CHOICES, MAX_CHOICES = 2, 5
MAX_CARD_ID = 60  # it travels in a Discord button's custom id (100 characters at most)
MAX_TEXT = 300


@dataclass(frozen=True)
class Card:
    id: str  # "<lesson id>.<key>"
    lesson_id: str
    key: str
    question_ko: str
    question_en: str
    answer_ko: str
    answer_en: str
    choices_ko: tuple[str, ...] = ()
    choices_en: tuple[str, ...] = ()
    correct: int | None = None  # 1-based, multiple choice only
    proof: str | None = None  # part of the lesson's assert that proves the answer

    @property
    def is_choice(self) -> bool:
        return self.correct is not None

    def text(self, field: str, locale: str) -> str:
        """``text("question", "ko")``: Korean for ko, else English."""
        value: str = getattr(self, f"{field}_{_suffix(locale)}")
        return value

    def choices(self, locale: str) -> tuple[str, ...]:
        result: tuple[str, ...] = getattr(self, f"choices_{_suffix(locale)}")
        return result


def _suffix(locale: str) -> str:
    return "ko" if locale.lower().startswith("ko") else "en"


def _cards_node(tree: ast.Module) -> ast.expr | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == CARDS_NAME for t in node.targets
        ):
            return node.value
    return None


def _text(where: str, card: dict[str, object], key: str) -> str:
    value = card.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise LessonError(f"{where}: {key} must be a non-empty string of at most {MAX_TEXT}")
    return value.strip()


def _choices(where: str, card: dict[str, object], key: str) -> tuple[str, ...]:
    value = card.get(key)
    if (
        not isinstance(value, list)
        or not MIN_CHOICES <= len(value) <= MAX_CHOICES
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise LessonError(
            f"{where}: {key} must list {MIN_CHOICES} to {MAX_CHOICES} non-empty strings"
        )
    return tuple(str(v).strip() for v in value)


def _card(meta: object, lesson_id: str, where: str) -> Card:
    if not isinstance(meta, dict):
        raise LessonError(f"{where}: each card must be a dict")
    unknown = sorted(str(k) for k in meta if k not in ALLOWED_FIELDS)
    if unknown:
        raise LessonError(f"{where}: unknown card keys {', '.join(unknown)}")
    key = meta.get("key")
    if not isinstance(key, str) or not ID_PATTERN.fullmatch(key):
        raise LessonError(f"{where}: key must be lowercase words joined by '-', got {key!r}")
    card_id = f"{lesson_id}.{key}"
    where = f"{where} card {key}"
    if len(card_id) > MAX_CARD_ID:
        raise LessonError(f"{where}: the card id {card_id!r} is longer than {MAX_CARD_ID}")
    question_ko, question_en, answer_ko, answer_en = (
        _text(where, meta, field) for field in TEXT_FIELDS
    )
    given = [field for field in CHOICE_FIELDS if field in meta]
    if not given:
        return Card(card_id, lesson_id, key, question_ko, question_en, answer_ko, answer_en)
    if len(given) != len(CHOICE_FIELDS):
        missing = sorted(set(CHOICE_FIELDS) - set(given))
        raise LessonError(f"{where}: a multiple-choice card lacks {', '.join(missing)}")
    choices_ko = _choices(where, meta, "choices_ko")
    choices_en = _choices(where, meta, "choices_en")
    if len(choices_ko) != len(choices_en):
        raise LessonError(f"{where}: choices_ko and choices_en differ in length")
    correct = meta["correct"]
    if isinstance(correct, bool) or not isinstance(correct, int):
        raise LessonError(f"{where}: correct must be a choice's number")
    if not 1 <= correct <= len(choices_ko):
        raise LessonError(f"{where}: correct must be 1 to {len(choices_ko)}, got {correct}")
    proof = _text(where, meta, "proof")
    return Card(
        card_id,
        lesson_id,
        key,
        question_ko,
        question_en,
        answer_ko,
        answer_en,
        choices_ko=choices_ko,
        choices_en=choices_en,
        correct=correct,
        proof=proof,
    )


def read_cards(path: Path, lesson_id: str) -> list[Card]:
    """The cards of one lesson file (none when it has no ``CARDS``)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    node = _cards_node(tree)
    if node is None:
        return []
    try:
        value = ast.literal_eval(node)
    except ValueError as err:
        raise LessonError(f"{Path(path).name}: {CARDS_NAME} must contain literals only") from err
    if not isinstance(value, list):
        raise LessonError(f"{Path(path).name}: {CARDS_NAME} must be a list")
    cards = [_card(item, lesson_id, Path(path).name) for item in value]
    keys = [card.key for card in cards]
    if len(set(keys)) != len(keys):
        raise LessonError(f"{Path(path).name}: two cards share a key")
    return cards


def load_cards(directory: Path | str = LESSONS_DIR) -> list[Card]:
    """Every lesson's cards, in the lessons' order (day, id), then as written."""
    return [
        card for lesson in load_lessons(directory) for card in read_cards(lesson.path, lesson.id)
    ]
