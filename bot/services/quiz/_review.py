"""/quiz, reveal, grade and answer: the member's next card and what they make of it.

Only the acting member's own cards are ever read or changed. A button carries the card it
was made for (``card``): a press on a card that is no longer on the table is refused
instead of grading another card.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.replies import Action, CommandRef, Reply, Text
from bot.services import freetext
from bot.services.calendar import local_today
from bot.services.context import Actor
from bot.services.lessons import get_lesson
from bot.services.permissions import require_member
from bot.services.quiz._deck import (
    NEW_PER_DAY,
    due_rows,
    find_card,
    member_days,
    new_today,
    quiz_member,
    rows_of,
    start_card,
    state_of,
    store,
    unseen,
)
from bot.services.quiz._schedule import RECALLS_TO_LEARN, miss, recall
from db.models import Group, Member, QuizCard, QuizMember, QuizReview
from lessons.cards import Card

RESULTS = {"knew": True, "missed": False, "알았음": True, "몰랐음": False}
CHOICE_LABELS = (  # the choice buttons' labels, by number
    "quiz.button_choice_1",
    "quiz.button_choice_2",
    "quiz.button_choice_3",
    "quiz.button_choice_4",
    "quiz.button_choice_5",
)
MAX_CHOICE = len(CHOICE_LABELS)  # lessons.cards allows as many choices


def _card_reply(card: Card, actor: Actor, locale: str, revealed: bool) -> Reply:
    lesson = get_lesson(card.lesson_id)
    reply = Reply.private(
        "quiz.card",
        lesson=lesson.text("title", locale),
        question=card.text("question", locale),
    )
    reply.lines.append(
        Text("quiz.lesson_hint", {"run": CommandRef("lesson run", (("id", lesson.id),))})
    )
    if card.is_choice:
        for number, choice in enumerate(card.choices(locale), start=1):
            reply.lines.append(Text("quiz.choice_line", {"number": number, "choice": choice}))
            reply.actions.append(
                Action(
                    "quiz_choice",
                    actor.user_id,
                    CHOICE_LABELS[number - 1],
                    f"/quiz answer choice:{number} card:{card.id}",
                )
            )
        reply.lines.append(Text("quiz.choice_hint"))
    elif revealed:
        _add_answer(reply, card, actor, locale)
    else:
        reply.lines.append(Text("quiz.reveal_hint"))
        reply.actions.append(
            Action(
                "quiz_reveal", actor.user_id, "quiz.button_reveal", f"/quiz reveal card:{card.id}"
            )
        )
    return reply


def _add_answer(reply: Reply, card: Card, actor: Actor, locale: str) -> None:
    reply.lines.append(Text("quiz.answer_line", {"answer": card.text("answer", locale)}))
    reply.lines.append(Text("quiz.grade_hint"))
    for result, label in (("knew", "quiz.button_knew"), ("missed", "quiz.button_missed")):
        reply.actions.append(
            Action(
                f"quiz_{result}",
                actor.user_id,
                label,
                f"/quiz grade result:{result} card:{card.id}",
            )
        )


def _next_action(actor: Actor) -> Action:
    return Action("quiz_next", actor.user_id, "quiz.button_next", "/quiz")


def next_card(session: Session, group: Group, actor: Actor, now: datetime) -> Reply:
    """The card on the table, else the longest-waiting due card, else a new one."""
    member = require_member(session, group, actor)
    today = local_today(group, now)
    table = quiz_member(session, member, now)
    rows = rows_of(session, member)
    current = rows.get(table.current_card_id or "")
    if current is not None and state_of(current).is_due(today):
        card = find_card(current.card_id)
        assert card is not None  # rows_of keeps only known cards
        return _card_reply(card, actor, group.locale, table.revealed)
    due = due_rows(rows, today)
    if due:
        card = find_card(due[0].card_id)
        assert card is not None
    else:
        fresh = unseen(rows)
        if not fresh:
            return Reply.private("quiz.all_learned" if _all_learned(rows) else "quiz.none_due")
        if new_today(group, rows, today) >= NEW_PER_DAY:
            return Reply.private("quiz.none_due_new_tomorrow", count=NEW_PER_DAY)
        card = fresh[0]
        start_card(session, member, card, today, now)
    table.current_card_id = card.id
    table.revealed = False
    table.updated_at = now
    return _card_reply(card, actor, group.locale, False)


def _all_learned(rows: dict[str, QuizCard]) -> bool:
    return all(row.learned_on is not None for row in rows.values())


def _on_table(
    session: Session, group: Group, actor: Actor, now: datetime, card_id: str | None
) -> tuple[Member, QuizMember, QuizCard, Card, date]:
    """The member's card on the table (the one ``card_id`` names, when given)."""
    member = require_member(session, group, actor)
    today = local_today(group, now)
    table = quiz_member(session, member, now)
    if card_id is not None and card_id.strip() != table.current_card_id:
        raise InvalidInput("quiz.stale_card")  # a button of a card answered or replaced
    if table.current_card_id is None:
        raise InvalidInput("quiz.no_card")
    rows = rows_of(session, member)
    row = rows.get(table.current_card_id)
    card = find_card(table.current_card_id)
    if row is None or card is None or not state_of(row).is_due(today):
        table.current_card_id = None
        raise InvalidInput("quiz.stale_card")
    return member, table, row, card, today


def reveal(
    session: Session, group: Group, actor: Actor, now: datetime, card_id: str | None
) -> Reply:
    _member, table, _row, card, _today = _on_table(session, group, actor, now, card_id)
    if card.is_choice:
        raise InvalidInput("quiz.choice_card", count=len(card.choices_ko))
    table.revealed = True
    table.updated_at = now
    reply = Reply.private("quiz.answer", question=card.text("question", group.locale))
    _add_answer(reply, card, actor, group.locale)
    return reply


def _record(
    session: Session,
    group: Group,
    member: Member,
    table: QuizMember,
    row: QuizCard,
    today: date,
    now: datetime,
    knew: bool,
) -> Reply:
    days = member_days(session, group, member)
    before = state_of(row)
    after = recall(before, today, days) if knew else miss(before, today, days)
    store(row, after, now)
    session.add(
        QuizReview(
            member_id=member.id,
            card_id=row.card_id,
            local_date=today,
            knew=knew,
            box_after=after.box,
            created_at=now,
        )
    )
    table.current_card_id = None
    table.revealed = False
    table.updated_at = now
    if not knew:
        return Reply.private("quiz.missed", day=after.due_on)
    if after.learned:
        return Reply.private("quiz.learned", count=RECALLS_TO_LEARN)
    if after.recalls == before.recalls:  # a second "knew it" today
        return Reply.private("quiz.knew_again_today", day=after.due_on)
    return Reply.private(
        "quiz.knew", recalls=after.recalls, total=RECALLS_TO_LEARN, day=after.due_on
    )


def _finish(reply: Reply, actor: Actor) -> Reply:
    reply.lines.append(Text("quiz.next_hint"))
    reply.actions.append(_next_action(actor))
    return reply


def grade(
    session: Session,
    group: Group,
    actor: Actor,
    now: datetime,
    result: str,
    card_id: str | None,
) -> Reply:
    knew = RESULTS.get(result.strip().lower())
    if knew is None:
        raise InvalidInput("quiz.bad_result", value=freetext.echo(result))
    member, table, row, card, today = _on_table(session, group, actor, now, card_id)
    if card.is_choice:
        raise InvalidInput("quiz.choice_card", count=len(card.choices_ko))
    if not table.revealed:
        raise InvalidInput("quiz.reveal_first")
    return _finish(_record(session, group, member, table, row, today, now, knew), actor)


def answer(
    session: Session,
    group: Group,
    actor: Actor,
    now: datetime,
    choice: int,
    card_id: str | None,
) -> Reply:
    member, table, row, card, today = _on_table(session, group, actor, now, card_id)
    if not card.is_choice:
        raise InvalidInput("quiz.open_card")
    choices = card.choices(group.locale)
    if not 1 <= choice <= len(choices):
        raise InvalidInput("quiz.bad_choice", value=choice, count=len(choices))
    knew = choice == card.correct
    reply = _record(session, group, member, table, row, today, now, knew)
    assert card.correct is not None
    verdict = Text(
        "quiz.right" if knew else "quiz.wrong",
        {"number": card.correct, "choice": choices[card.correct - 1]},
    )
    reply.lines.insert(0, verdict)
    reply.lines.insert(1, Text("quiz.answer_line", {"answer": card.text("answer", group.locale)}))
    return _finish(reply, actor)
