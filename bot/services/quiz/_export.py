"""/quiz export: every card as an Anki deck (``.apkg``, built with genanki), each note in
both languages, so a member who reviews in Anki keeps one habit.

Ids are fixed numbers (Anki matches a re-imported deck by them) and each note's guid comes
from its card id, so importing a newer export updates the notes instead of duplicating them.
"""

from __future__ import annotations

import html
import tempfile
from datetime import datetime
from functools import partial
from pathlib import Path

import genanki
from sqlalchemy.orm import Session

from bot.replies import Drawing, Reply
from bot.services.calendar import local_today
from bot.services.context import Actor
from bot.services.lessons import get_lesson
from bot.services.permissions import require_member
from bot.services.quiz._deck import deck
from db.models import Group
from lessons.cards import Card

MODEL_ID = 1_607_392_319  # fixed: Anki matches note types by id
DECK_ID = 2_059_400_110
DECK_NAME = "studybot::review"

_MODEL = genanki.Model(
    MODEL_ID,
    "studybot card (ko + en)",
    fields=[
        {"name": "QuestionKo"},
        {"name": "QuestionEn"},
        {"name": "AnswerKo"},
        {"name": "AnswerEn"},
        {"name": "Lesson"},
    ],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{QuestionKo}}<hr>{{QuestionEn}}",
            "afmt": "{{FrontSide}}<hr id=answer>{{AnswerKo}}<br><br>{{AnswerEn}}"
            "<br><br><small>{{Lesson}}</small>",
        }
    ],
)


def _question(card: Card, locale: str) -> str:
    text = html.escape(card.text("question", locale))
    if card.is_choice:
        items = "".join(f"<li>{html.escape(c)}</li>" for c in card.choices(locale))
        text += f"<ol>{items}</ol>"
    return text


def _answer(card: Card, locale: str) -> str:
    text = html.escape(card.text("answer", locale))
    if card.is_choice:
        assert card.correct is not None
        choice = html.escape(card.choices(locale)[card.correct - 1])
        text = f"<b>{card.correct}. {choice}</b><br>{text}"
    return text


def build_apkg(cards: list[Card] | tuple[Card, ...]) -> bytes:
    """The cards as an ``.apkg`` file's bytes."""
    anki_deck = genanki.Deck(DECK_ID, DECK_NAME)
    for card in cards:
        lesson = get_lesson(card.lesson_id)
        anki_deck.add_note(
            genanki.Note(
                model=_MODEL,
                fields=[
                    _question(card, "ko"),
                    _question(card, "en"),
                    _answer(card, "ko"),
                    _answer(card, "en"),
                    html.escape(f"{lesson.title_ko} / {lesson.title_en} ({lesson.id})"),
                ],
                guid=genanki.guid_for("studybot", card.id),
                tags=[card.lesson_id],
            )
        )
    with tempfile.TemporaryDirectory(prefix="studybot-anki-") as folder:
        path = Path(folder) / "deck.apkg"
        genanki.Package(anki_deck).write_to_file(str(path))
        return path.read_bytes()


def export_reply(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    require_member(session, group, actor)
    cards = deck()
    reply = Reply.private("quiz.export", count=len(cards))
    today = local_today(group, now)
    # built after the unit of work, like charts: the database is not held meanwhile
    name = f"studybot-quiz-{today.isoformat()}.apkg"
    reply.drawings.append(Drawing(name, partial(build_apkg, cards)))
    return reply
