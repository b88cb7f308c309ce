"""Who is still in the server, asked over HTTP (no members intent): Discord's 404 Unknown
Member (or Unknown User) means gone; anything else means "unknown" and keeps them.
Answers are remembered for a while by the injected clock."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.delivery import Pace
from bot.adapters.discord.presence import PRESENCE_TTL, MemberPresence
from bot.clock import ManualClock
from bot.replies import reply_from_json
from bot.services.duty_runs import REVIEW_DUTY
from db.models import Member, OutboxMessage
from tests.discord.fakes import (
    ALICE,
    BOB,
    CAROL,
    GUILD_ID,
    SEOUL,
    Gateway,
    http_error,
    member_payload,
)
from tests.discord.test_access import cached_guild

UNKNOWN_GUILD = 10004
UNKNOWN_MEMBER = 10007
UNKNOWN_USER = 10013
DAVE, ERIN = 104, 105


class FakeLookup:
    """``guild.fetch_member`` by user id: a member, or the error Discord would answer."""

    def __init__(self, answers: dict[int, BaseException | None]) -> None:
        self.answers = answers
        self.asked: Counter[int] = Counter()

    async def fetch(self, guild_id: int, user_id: int) -> object:
        assert guild_id == GUILD_ID
        self.asked[user_id] += 1
        answer = self.answers[user_id]
        if answer is not None:
            raise answer
        return object()


async def test_only_unknown_member_or_user_means_gone(clock: ManualClock) -> None:
    lookup = FakeLookup(
        {
            ALICE.id: None,  # still there
            BOB.id: http_error(404, UNKNOWN_MEMBER),
            CAROL.id: http_error(404, UNKNOWN_USER),  # the account was deleted
            DAVE: http_error(404, UNKNOWN_GUILD),  # says nothing about the member
            ERIN: http_error(500, 0),
        }
    )
    presence = MemberPresence(lookup.fetch, clock)
    everyone = [ALICE.id, BOB.id, CAROL.id, DAVE, ERIN]
    assert await presence.gone(GUILD_ID, everyone) == {BOB.id, CAROL.id}


async def test_answers_are_remembered_for_a_while(clock: ManualClock) -> None:
    lookup = FakeLookup({ALICE.id: None, BOB.id: http_error(404, UNKNOWN_MEMBER), CAROL.id: None})
    lookup.answers[CAROL.id] = http_error(403, 50001)  # cannot tell yet
    presence = MemberPresence(lookup.fetch, clock)
    people = [ALICE.id, BOB.id, CAROL.id]
    assert await presence.gone(GUILD_ID, people) == {BOB.id}
    clock.advance(PRESENCE_TTL - timedelta(seconds=1))
    lookup.answers[CAROL.id] = http_error(404, UNKNOWN_MEMBER)
    assert await presence.gone(GUILD_ID, people) == {BOB.id, CAROL.id}
    assert lookup.asked == {ALICE.id: 1, BOB.id: 1, CAROL.id: 2}  # unknowns are asked again

    clock.advance(timedelta(seconds=1))
    lookup.answers[ALICE.id] = http_error(404, UNKNOWN_MEMBER)
    assert await presence.gone(GUILD_ID, people) == {ALICE.id, BOB.id, CAROL.id}
    assert lookup.asked == {ALICE.id: 2, BOB.id: 2, CAROL.id: 2}  # carol: known 1 s ago


def answer_members(bot: StudyBot, monkeypatch: pytest.MonkeyPatch, gone: set[int]) -> list[int]:
    """The HTTP route behind ``guild.fetch_member``: 404 Unknown Member for ``gone``."""
    asked: list[int] = []

    async def get_member(guild_id: int, user_id: int) -> dict[str, Any]:
        asked.append(int(user_id))
        if int(user_id) in gone:
            raise http_error(404, UNKNOWN_MEMBER)
        person = ALICE if int(user_id) == ALICE.id else BOB
        return member_payload(person)

    monkeypatch.setattr(bot.http, "get_member", get_member)
    return asked


async def test_the_bot_looks_members_up_in_its_servers(
    studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = answer_members(studybot, monkeypatch, gone={BOB.id})
    assert await studybot.presence.gone(GUILD_ID, [ALICE.id, BOB.id]) == set()  # not cached yet
    assert asked == []  # a server the bot cannot see: nobody is judged
    cached_guild(studybot, GUILD_ID, "study group")
    assert await studybot.presence.gone(GUILD_ID, [ALICE.id, BOB.id]) == {BOB.id}
    assert sorted(asked) == [ALICE.id, BOB.id]


async def test_the_review_does_not_name_someone_who_left_the_server(
    studybot: StudyBot, gateway: Gateway, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await gateway.command("member join", ALICE)
    await gateway.command("member join", BOB)
    cached_guild(studybot, GUILD_ID, "study group")
    answer_members(studybot, monkeypatch, gone={ALICE.id})
    group_id = await studybot.core.group_for_guild(GUILD_ID)
    clock.set(datetime(2026, 12, 7, 9, 30, tzinfo=SEOUL))  # Monday's review time

    await studybot.scheduler.fire(group_id, REVIEW_DUTY)  # the job's moment

    with studybot.core.services.transaction() as session:
        bodies = session.scalars(select(OutboxMessage.body)).all()
        active = dict(session.execute(select(Member.user_id, Member.active)).all())
    (review,) = [reply_from_json(b) for b in bodies if b["key"] == "duty.review"]
    assert review.params["name"].user_id == BOB.id
    assert active == {ALICE.id: False, BOB.id: True}


async def test_lookups_take_their_turn_from_the_deliverers_pace(clock: ManualClock) -> None:
    """Lookups share Discord's 50 requests a second with the posts: with a pace of two a
    second, five lookups span more than two seconds of the clock."""

    async def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    pace = Pace(clock, sleep, per_second=2)
    people = [ALICE.id, BOB.id, CAROL.id, DAVE, ERIN]
    lookup = FakeLookup(dict.fromkeys(people))
    presence = MemberPresence(lookup.fetch, clock, pace=pace)
    start = clock.now()
    assert await presence.gone(GUILD_ID, people) == set()
    assert clock.now() - start >= timedelta(seconds=2)
    assert pace.waited >= timedelta(seconds=2)
    assert sum(lookup.asked.values()) == len(people)
