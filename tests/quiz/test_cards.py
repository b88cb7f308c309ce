"""The cards come from the lessons: every lesson has some, every card's lesson exists, and
every multiple-choice answer cites the lesson's assert that proves it (the lessons run in
tests/lessons/test_lesson_runs.py, so a wrong claim fails there)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.adapters.discord.quiz_views import custom_id
from bot.services import quiz
from lessons.cards import MAX_CARD_ID, MAX_CHOICES, Card, load_cards, read_cards
from lessons.catalogue import LessonError, load_lessons

LESSONS = load_lessons()
CARDS = load_cards()
CHOICE_CARDS = [card for card in CARDS if card.is_choice]


def assert_sources(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    return [
        ast.get_source_segment(source, node) or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.Assert)
    ]


def test_every_lesson_has_open_and_multiple_choice_cards() -> None:
    for lesson in LESSONS:
        mine = [card for card in CARDS if card.lesson_id == lesson.id]
        assert any(card.is_choice for card in mine), lesson.id
        assert any(not card.is_choice for card in mine), lesson.id


def test_every_card_points_to_a_lesson_and_ids_are_unique() -> None:
    ids = {lesson.id for lesson in LESSONS}
    assert all(card.lesson_id in ids for card in CARDS)
    assert len({card.id for card in CARDS}) == len(CARDS)
    assert all(card.id.startswith(card.lesson_id + ".") for card in CARDS)


@pytest.mark.parametrize("card", CHOICE_CARDS, ids=lambda card: card.id)
def test_a_multiple_choice_answer_cites_an_assert_of_its_lesson(card: Card) -> None:
    (lesson,) = [lesson for lesson in LESSONS if lesson.id == card.lesson_id]
    assert card.proof is not None and card.correct is not None
    assert any(card.proof in source for source in assert_sources(lesson.path)), card.proof
    assert len(card.choices_ko) == len(card.choices_en)
    assert 1 <= card.correct <= len(card.choices_en)


def test_the_cited_assert_runs_in_the_lesson_not_elsewhere() -> None:
    """An assert inside ``main`` (or a function it calls) runs when the lesson runs; the
    lessons' own tests run every lesson and fail on a broken assert."""
    for card in CHOICE_CARDS:
        (lesson,) = [lesson for lesson in LESSONS if lesson.id == card.lesson_id]
        tree = ast.parse(lesson.source())
        assert card.proof is not None
        module_level = [
            node for node in tree.body if isinstance(node, ast.Assert)
        ]  # importing a lesson runs nothing
        assert not module_level
        functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        inside = [
            fn.name
            for fn in functions
            if any(
                card.proof in (ast.get_source_segment(lesson.source(), node) or "")
                for node in ast.walk(fn)
                if isinstance(node, ast.Assert)
            )
        ]
        assert inside, card.id


def test_the_bot_offers_a_button_for_every_choice_a_card_may_have() -> None:
    assert quiz.MAX_CHOICE == MAX_CHOICES
    assert max(len(card.choices_ko) for card in CHOICE_CARDS) <= quiz.MAX_CHOICE


def test_card_ids_fit_a_button() -> None:
    for card in CARDS:
        assert len(card.id) <= MAX_CARD_ID
        assert len(custom_id(2**64 - 1, "missed", card.id)) <= 100


def test_every_card_has_korean_and_english() -> None:
    for card in CARDS:
        for field in ("question", "answer"):
            assert any("\uac00" <= ch <= "\ud7a3" for ch in card.text(field, "ko")), card.id
            assert not any("\uac00" <= ch <= "\ud7a3" for ch in card.text(field, "en")), card.id


BROKEN = {
    "no proof": ('"correct": 2,', '"correct": 2,', "proof"),
    "correct out of range": ('"correct": 2,', '"correct": 9,', "correct must be 1 to 3"),
    "unknown key": ('"key": "vector-output",', '"key": "vector-output", "hint": "x",', "unknown"),
    "choices differ": (
        '"It computes the gradient of the first output only",\n',
        "",
        "differ in length",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_malformed_cards_are_refused(case: str, tmp_path: Path) -> None:
    old, new, message = BROKEN[case]
    (lesson,) = [lesson for lesson in LESSONS if lesson.id == "backward-gradient"]
    source = lesson.source()
    if case == "no proof":
        start = source.index('        "proof": ')
        broken = source[:start] + source[source.index("\n", start) + 1 :]
    else:
        assert old in source
        broken = source.replace(old, new, 1)
    path = tmp_path / lesson.path.name
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(LessonError, match=message):
        read_cards(path, lesson.id)
