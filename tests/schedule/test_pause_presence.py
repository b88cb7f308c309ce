"""Someone who left the server is not named: before a duty that names people runs (a
job's moment, and the start-up catch-up) the scheduler asks the front end's presence
check about the people the duty is about to name (not every member), and those gone
leave the group as with ``/member leave``; whoever is named in their place is asked about
in turn. A check that fails, or a front end without one (the console), changes nothing."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, time

from sqlalchemy import select

from bot.replies import reply_from_json
from bot.schedule.scheduler import DutyScheduler
from bot.services.duty_runs import DEADLINE_DUTY, REVIEW_DUTY
from db.models import Member, ModAssignment, OutboxMessage
from tests.conftest import GUILD_ID, Harness

MONDAY = date(2026, 12, 7)


class FakeGuild:
    """The server as the presence check sees it: who has left, or that it cannot tell."""

    def __init__(self, left: Collection[int] = (), broken: bool = False) -> None:
        self.left = set(left)
        self.broken = broken
        self.asked: list[tuple[int, list[int]]] = []

    async def gone(self, guild_id: int, user_ids: Sequence[int]) -> set[int]:
        self.asked.append((guild_id, list(user_ids)))
        if self.broken:
            raise RuntimeError("Discord is down")
        return self.left & set(user_ids)


def named_in_reviews(harness: Harness) -> list[str]:
    with harness.transaction() as session:
        bodies = session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id)).all()
    return [
        reply_from_json(body).params["name"].name for body in bodies if body["key"] == "duty.review"
    ]


def active(harness: Harness) -> dict[str, bool]:
    with harness.transaction() as session:
        rows = session.execute(select(Member.user_id, Member.active)).all()
    names = {actor.user_id: name for name, actor in harness.actors.items()}
    return {names[user_id]: is_active for user_id, is_active in rows}


def monday_moderator(harness: Harness) -> str | None:
    with harness.transaction() as session:
        member_id = session.scalar(
            select(ModAssignment.member_id).where(
                ModAssignment.group_id == harness.group_id, ModAssignment.day == MONDAY
            )
        )
        user_id = session.scalar(select(Member.user_id).where(Member.id == member_id))
    names = {actor.user_id: name for name, actor in harness.actors.items()}
    return None if user_id is None else names[user_id]


async def test_a_member_who_left_is_not_named_when_the_review_fires(harness: Harness) -> None:
    alice, bob = harness.join("alice", "bob")
    assert harness.invoke("carol", "mod today").params["name"].name == "alice"  # fixed at 08:00
    guild = FakeGuild(left={alice.user_id})
    scheduler = DutyScheduler(harness.core, presence_check=guild.gone)
    harness.at("2026-12-07 09:30")

    await scheduler.fire(harness.group_id, REVIEW_DUTY)

    # the day's moderator is asked about; alice left, so the turn is bob's: he is asked next
    assert guild.asked == [(GUILD_ID, [alice.user_id]), (GUILD_ID, [bob.user_id])]
    assert named_in_reviews(harness) == ["bob"]
    assert active(harness) == {"alice": False, "bob": True}
    assert monday_moderator(harness) == "bob"  # alice's turn was released, like /member leave
    with harness.transaction() as session:
        left_at = session.scalar(select(Member.left_at).where(Member.user_id == alice.user_id))
    assert left_at == harness.clock.now()


async def test_duties_that_name_nobody_do_not_ask(harness: Harness) -> None:
    alice, _bob = harness.join("alice", "bob")
    guild = FakeGuild(left={alice.user_id})
    scheduler = DutyScheduler(harness.core, presence_check=guild.gone)
    harness.at("2026-12-07 19:00")
    await scheduler.fire(harness.group_id, DEADLINE_DUTY)  # announces a problem, names nobody
    assert guild.asked == []
    assert active(harness) == {"alice": True, "bob": True}


async def test_a_failing_check_keeps_everyone(harness: Harness) -> None:
    harness.join("alice", "bob")
    guild = FakeGuild(broken=True)
    scheduler = DutyScheduler(harness.core, presence_check=guild.gone)
    harness.at("2026-12-07 09:30")
    await scheduler.fire(harness.group_id, REVIEW_DUTY)
    assert len(guild.asked) == 1
    assert named_in_reviews(harness) == ["alice"]  # the duty ran as without a check
    assert active(harness) == {"alice": True, "bob": True}


async def test_the_check_cannot_remove_someone_it_was_not_asked_about(harness: Harness) -> None:
    harness.join("alice")
    stranger = harness.actor("mallory")  # not a member of the group
    guild = FakeGuild()

    async def gone(guild_id: int, user_ids: Sequence[int]) -> set[int]:
        await guild.gone(guild_id, user_ids)
        return {stranger.user_id}

    scheduler = DutyScheduler(harness.core, presence_check=gone)
    harness.at("2026-12-07 09:30")
    assert await scheduler.check_presence(harness.group_id, REVIEW_DUTY) == []
    assert active(harness) == {"alice": True}


async def test_a_paused_group_is_not_checked(harness: Harness) -> None:
    alice, _bob = harness.join("alice", "bob")
    guild = FakeGuild(left={alice.user_id})
    scheduler = DutyScheduler(harness.core, presence_check=guild.gone)
    harness.core.pause_guild_sync(GUILD_ID)
    harness.at("2026-12-07 09:30")
    await scheduler.fire(harness.group_id, REVIEW_DUTY)
    assert guild.asked == []
    assert named_in_reviews(harness) == []


async def test_the_start_up_catch_up_checks_first(harness: Harness) -> None:
    alice, bob = harness.join("alice", "bob")
    guild = FakeGuild(left={alice.user_id})
    scheduler = DutyScheduler(harness.core, presence_check=guild.gone)
    harness.at("2026-12-07 10:00")  # down at 09:30: the review is caught up now
    await scheduler.start()
    try:
        assert guild.asked == [(GUILD_ID, [alice.user_id]), (GUILD_ID, [bob.user_id])]
        assert named_in_reviews(harness) == ["bob"]
        assert active(harness) == {"alice": False, "bob": True}
    finally:
        scheduler.shutdown()


async def test_without_a_check_the_catch_up_is_as_before(harness: Harness) -> None:
    harness.join("alice", "bob")
    scheduler = DutyScheduler(harness.core)  # the console's way: no presence check
    harness.at("2026-12-07 10:00")
    await scheduler.start()
    try:
        assert named_in_reviews(harness) == ["alice"]
    finally:
        scheduler.shutdown()


async def test_only_the_people_a_duty_would_name_are_asked_about(harness: Harness) -> None:
    alice, _bob, _carol, _dave = harness.join("alice", "bob", "carol", "dave")
    guild = FakeGuild()
    scheduler = DutyScheduler(harness.core, presence_check=guild.gone)
    harness.at("2026-12-07 09:30")
    await scheduler.fire(harness.group_id, REVIEW_DUTY)
    assert guild.asked == [(GUILD_ID, [alice.user_id])]  # the moderator, nobody else
    assert named_in_reviews(harness) == ["alice"]


async def test_everyone_who_left_is_caught_down_the_rotation(harness: Harness) -> None:
    alice, bob, carol, _dave = harness.join("alice", "bob", "carol", "dave")
    guild = FakeGuild(left={alice.user_id, bob.user_id})
    scheduler = DutyScheduler(harness.core, presence_check=guild.gone)
    harness.at("2026-12-07 09:30")
    await scheduler.fire(harness.group_id, REVIEW_DUTY)
    assert guild.asked == [
        (GUILD_ID, [alice.user_id]),
        (GUILD_ID, [bob.user_id]),
        (GUILD_ID, [carol.user_id]),
    ]
    assert named_in_reviews(harness) == ["carol"]
    assert active(harness) == {"alice": False, "bob": False, "carol": True, "dave": True}


async def test_a_firing_moment_asks_about_each_groups_moderator_only(harness: Harness) -> None:
    alice, bob, _carol = harness.join("alice", "bob", "carol")
    guild = FakeGuild(left={alice.user_id})
    scheduler = DutyScheduler(harness.core, presence_check=guild.gone)
    scheduler.build_jobs()
    harness.at("2026-12-07 09:30")
    await scheduler.fire_moment(REVIEW_DUTY, "Asia/Seoul", time(9, 30))
    assert guild.asked == [(GUILD_ID, [alice.user_id]), (GUILD_ID, [bob.user_id])]
    assert named_in_reviews(harness) == ["bob"]


async def test_a_day_without_study_asks_nobody(harness: Harness) -> None:
    alice, _bob = harness.join("alice", "bob")
    guild = FakeGuild(left={alice.user_id})
    scheduler = DutyScheduler(harness.core, presence_check=guild.gone)
    harness.at("2026-12-12 09:30")  # a Saturday: no review post names anyone
    await scheduler.fire(harness.group_id, REVIEW_DUTY)
    assert guild.asked == []
    assert active(harness) == {"alice": True, "bob": True}


async def test_the_review_also_asks_about_who_its_thread_names(harness: Harness) -> None:
    """The thread under the review post names who solved the day's problem already."""
    _alice, bob, carol = harness.join("alice", "bob", "carol")
    harness.at("2026-12-07 10:00")  # Monday (alice's turn): the pick for Tuesday (bob's)
    assert harness.invoke("alice", "problem pick", problem="12899").key == "problem.picked"
    harness.at("2026-12-08 08:00")
    assert harness.invoke("carol", "problem solved").key == "problem.solved"
    guild = FakeGuild()
    scheduler = DutyScheduler(harness.core, presence_check=guild.gone)
    harness.at("2026-12-08 09:30")
    await scheduler.fire(harness.group_id, REVIEW_DUTY)
    assert guild.asked == [(GUILD_ID, [bob.user_id, carol.user_id])]  # moderator, solver
