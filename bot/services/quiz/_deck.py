"""A member's deck: the cards from the lessons, their schedule rows, the card on the table.

The cards come from the lessons' metadata (``lessons.cards``); the database keeps only
each member's place in the schedule (``QuizCard``), every answer (``QuizReview``) and the
card last given out (``QuizMember``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.calendar import StudyCalendar, local_today
from bot.services.quiz._schedule import CardState, new_state
from db.models import Away, Group, Member, QuizCard, QuizMember
from lessons.cards import Card, load_cards
from lessons.catalogue import LESSONS_DIR

NEW_PER_DAY = 5  # cards seen for the first time, per member and local day


@cache
def deck() -> tuple[Card, ...]:
    """Every lesson's cards, in lesson order."""
    return tuple(load_cards(LESSONS_DIR))


@cache
def _by_id() -> dict[str, Card]:
    return {card.id: card for card in deck()}


def find_card(card_id: str) -> Card | None:
    return _by_id().get(card_id.strip())


def order_of(card_id: str) -> int:
    ids = list(_by_id())
    return ids.index(card_id) if card_id in _by_id() else len(ids)


def member_days(session: Session, group: Group, member: Member) -> Callable[[date], bool]:
    """Whether a day counts for this member's schedule: a study day of the group (weekends,
    holidays and days off excluded) on which the member is not away."""
    calendar = StudyCalendar(session, group)
    periods = [
        (row.start, row.end)
        for row in session.scalars(
            select(Away).where(Away.member_id == member.id, Away.cancelled_at.is_(None))
        )
    ]

    def is_study_day(day: date) -> bool:
        return calendar.is_study_day(day) and not any(s <= day <= e for s, e in periods)

    return is_study_day


def state_of(row: QuizCard) -> CardState:
    return CardState(
        box=row.box,
        recalls=row.recalls,
        due_on=row.due_on,
        last_answered_on=row.last_answered_on,
        learned_on=row.learned_on,
    )


def store(row: QuizCard, state: CardState, now: datetime) -> None:
    row.box = state.box
    row.recalls = state.recalls
    row.due_on = state.due_on
    row.last_answered_on = state.last_answered_on
    row.learned_on = state.learned_on
    row.updated_at = now


def rows_of(session: Session, member: Member) -> dict[str, QuizCard]:
    """The member's schedule rows by card id (cards no longer in any lesson left out)."""
    known = _by_id()
    return {
        row.card_id: row
        for row in session.scalars(select(QuizCard).where(QuizCard.member_id == member.id))
        if row.card_id in known
    }


def new_today(group: Group, rows: dict[str, QuizCard], today: date) -> int:
    return sum(1 for row in rows.values() if local_today(group, row.created_at) == today)


def due_rows(rows: dict[str, QuizCard], today: date) -> list[QuizCard]:
    """Cards due today or earlier, the longest waiting first (then lower boxes first)."""
    due = [row for row in rows.values() if state_of(row).is_due(today)]
    return sorted(due, key=lambda r: (r.due_on, r.box, order_of(r.card_id)))


def unseen(rows: dict[str, QuizCard]) -> list[Card]:
    return [card for card in deck() if card.id not in rows]


def waiting(group: Group, rows: dict[str, QuizCard], today: date) -> int:
    """Cards the member could review today: those due and the new ones still allowed."""
    fresh = min(len(unseen(rows)), max(0, NEW_PER_DAY - new_today(group, rows, today)))
    return len(due_rows(rows, today)) + fresh


def start_card(
    session: Session, member: Member, card: Card, today: date, now: datetime
) -> QuizCard:
    state = new_state(today)
    row = QuizCard(
        member_id=member.id,
        card_id=card.id,
        box=state.box,
        recalls=state.recalls,
        due_on=state.due_on,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def quiz_member(session: Session, member: Member, now: datetime) -> QuizMember:
    row = session.get(QuizMember, member.id)
    if row is None:
        row = QuizMember(member_id=member.id, revealed=False, updated_at=now)
        session.add(row)
        session.flush()
    return row
