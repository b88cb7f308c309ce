"""Property: over any sequence of joins, leaves, away periods and early looks at today's
moderator, every study day has one moderator who is active and not away at review time,
and nobody moderates twice before everyone eligible at their second turn has had a turn
since their first ("eligible" as of the moment the turn was fixed: a look at
``/mod today`` fixes it, and a newcomer joining later that day does not take it over)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import build_core
from bot.clock import ManualClock
from bot.config import Settings
from bot.schedule.duties import ensure_review_post
from bot.services import members, rotation
from bot.services.calendar import StudyCalendar
from bot.services.context import Actor
from bot.services.groups import get_group
from db.models import Member, ModAssignment
from tests.conftest import SEOUL, START, engine_of, fresh_sqlite

PEOPLE = [f"p{n}" for n in range(6)]
person = st.sampled_from(PEOPLE)
event = st.one_of(
    st.tuples(st.just("join"), person),
    st.tuples(st.just("leave"), person),
    # away from (today + offset) for (length + 1) calendar days
    st.tuples(st.just("away"), person, st.integers(0, 6), st.integers(0, 4)),
    # someone asks who moderates today: that fixes today's turn
    st.tuples(st.just("peek"), person),
)


@dataclass
class Model:
    """What the test did, kept independently of the bot's database."""

    active: set[str] = field(default_factory=set)
    away: dict[str, list[tuple[date, date]]] = field(default_factory=dict)
    turns: list[tuple[date, str | None, frozenset[str]]] = field(default_factory=list)
    # today's turn once fixed early: (moderator, who was eligible then)
    fixed: tuple[str, frozenset[str]] | None = None

    def eligible(self, day: date) -> frozenset[str]:
        return frozenset(
            p
            for p in self.active
            if not any(start <= day <= end for start, end in self.away.get(p, []))
        )


def actor(name: str) -> Actor:
    return Actor(1000 + PEOPLE.index(name), name)


def play(url: str, initial: list[str], days: list[list[tuple]]) -> Model:
    clock = ManualClock(START)
    core = build_core(Settings(database_url=url, _env_file=None), clock, migrate=False)  # type: ignore[call-arg]
    services = core.services
    model = Model()
    try:
        group_id = core.group_for_guild_sync(1)
        with services.transaction() as session:
            group = get_group(session, group_id)
            calendar_days = StudyCalendar(session, group).study_days(START.date(), len(days))
            for name in initial:
                members.join(session, group, actor(name), clock.now())
                model.active.add(name)
        by_id: dict[int, str] = {}
        for day, events in zip(calendar_days, days, strict=True):
            # One unit of work per day (fast): the day's changes, then the review post.
            clock.set(datetime.combine(day, time(9, 30), tzinfo=SEOUL))
            with services.transaction() as session:
                group = get_group(session, group_id)
                now = clock.now()
                model.fixed = None
                for kind, name, *span in events:
                    if kind == "join" and name not in model.active:
                        members.join(session, group, actor(name), now)
                        model.active.add(name)
                    elif kind == "leave" and name in model.active:
                        members.leave(session, group, actor(name), now)
                        model.active.discard(name)
                        if model.fixed and model.fixed[0] == name:
                            model.fixed = None  # a turn not announced yet is given back
                    elif kind == "away" and name in model.active:
                        start = day + timedelta(days=span[0])
                        end = start + timedelta(days=span[1])
                        rotation.set_away(session, group, actor(name), start, end, now)
                        model.away.setdefault(name, []).append((start, end))
                        if model.fixed and model.fixed[0] == name and start <= day:
                            model.fixed = None
                    elif kind == "peek":
                        member = rotation.moderator_for(session, group, day, now)
                        if member is not None and model.fixed is None:
                            model.fixed = (PEOPLE[member.user_id - 1000], model.eligible(day))
                assert ensure_review_post(session, group, day, now)
                by_id.update(
                    {m.id: PEOPLE[m.user_id - 1000] for m in session.scalars(select(Member))}
                )
                row = session.scalar(
                    select(ModAssignment).where(
                        ModAssignment.group_id == group_id, ModAssignment.day == day
                    )
                )
                moderator = None if row is None else by_id[row.member_id]
            eligible = model.eligible(day)  # at review time
            assert (moderator is None) == (not eligible), (day, moderator, sorted(eligible))
            assert moderator is None or moderator in eligible, (day, moderator, sorted(eligible))
            if model.fixed is not None:
                assert moderator == model.fixed[0], (day, moderator, model.fixed)
                eligible = model.fixed[1]
            model.turns.append((day, moderator, eligible))
    finally:
        engine_of(core).dispose()
    return model


def check(model: Model) -> None:
    last_turn: dict[str, date] = {}
    served_on: dict[date, str] = {}
    for day, moderator, eligible in model.turns:
        if not eligible:
            assert moderator is None, f"{day}: {moderator} moderates but nobody can"
            continue
        assert moderator in eligible, f"{day}: {moderator} is not one of {sorted(eligible)}"
        previous = last_turn.get(moderator)
        if previous is not None:
            between = {served_on[d] for d in served_on if previous < d < day}
            waiting = eligible - between - {moderator}
            assert not waiting, (
                f"{day}: {moderator} moderates again (last on {previous}) "
                f"before {sorted(waiting)} had a turn"
            )
        last_turn[moderator] = day
        served_on[day] = moderator


@settings(deadline=None, max_examples=60)
@given(
    initial=st.lists(person, unique=True, max_size=4),
    days=st.lists(st.lists(event, max_size=3), min_size=1, max_size=8),
)
def test_rotation_is_fair_and_only_picks_eligible_members(
    sqlite_template: Path, initial: list[str], days: list[list[tuple]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        model = play(fresh_sqlite(sqlite_template, Path(folder)), initial, days)
    check(model)


def test_check_catches_an_unfair_rotation() -> None:
    """The checker itself fails on a rotation that repeats someone too early."""
    everyone = frozenset({"p0", "p1"})
    monday, tuesday = date(2026, 12, 7), date(2026, 12, 8)
    unfair = Model(turns=[(monday, "p0", everyone), (tuesday, "p0", everyone)])
    with pytest.raises(AssertionError, match=re.escape("before ['p1'] had a turn")):
        check(unfair)  # an unfair rotation
    away = Model(turns=[(monday, "p0", frozenset({"p1"}))])
    with pytest.raises(AssertionError, match="not one of"):
        check(away)  # an ineligible moderator
