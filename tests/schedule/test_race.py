"""Two bot processes on one database run the same duty at the same moment: one post."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bot.commands import Call
from db.models import DutyRun, ModAssignment, OutboxMessage
from tests.conftest import Harness
from tests.racing import race_processes
from tests.schedule.race_worker import race, race_batch

DAYS = [date(2026, 12, d) for d in (7, 8, 9, 10, 11)]
PROCESSES = 2


def test_two_processes_racing_post_once_per_day(harness: Harness) -> None:
    harness.join("alice", "bob", "carol")
    url = harness.core.services.settings.database_url
    exit_codes, outcomes = race_processes(race, url, harness.group_id, DAYS, PROCESSES)
    assert exit_codes == [0] * PROCESSES
    assert [error for _, _, error in outcomes if error] == []
    assert len(outcomes) == PROCESSES * len(DAYS)
    for day in DAYS:
        posted = [ok for d, ok, _ in outcomes if d == day]
        assert sorted(posted) == [False, True], day  # exactly one process posted
    with harness.transaction() as session:
        runs = session.execute(
            select(DutyRun.local_date, func.count()).group_by(DutyRun.local_date)
        )
        assert dict(runs.all()) == dict.fromkeys(DAYS, 1)
        posts = session.scalars(select(OutboxMessage.body)).all()
        assert len(posts) == len(DAYS)
        names = [body["params"]["name"]["$mention"][1] for body in posts]
        assert names == ["alice", "bob", "carol", "alice", "bob"]
        assert session.scalar(select(func.count()).select_from(ModAssignment)) == len(DAYS)


def test_two_processes_racing_a_batch_post_once_per_group_and_day(harness: Harness) -> None:
    """Both processes run the same batch of groups at once: the bulk claims split the
    groups between them, every group posts once a day, and each turn is fixed once."""
    guilds = [660_000_000_000_000_000 + i for i in range(11)]
    ids = [harness.group_id]
    ids += [harness.core.group_for_guild_sync(g, channel_id=i + 100) for i, g in enumerate(guilds)]
    for group_id in ids:
        for name in ("alice", "bob", "carol"):
            call = Call(group_id, harness.actor(name))
            assert harness.core.invoke_sync(("member", "join"), call, {}).key == "member.joined"
    url = harness.core.services.settings.database_url
    plan = [(day, ids) for day in DAYS[:3]]
    exit_codes, outcomes = race_processes(race_batch, url, 0, plan, PROCESSES)
    assert exit_codes == [0] * PROCESSES
    assert [error for _, _, error in outcomes if error] == []
    for day in DAYS[:3]:
        posted = [set(ok) for d, ok, _ in outcomes if d == day]
        assert len(posted) == PROCESSES
        assert set.union(*posted) == set(ids) and not set.intersection(*posted), day
    with harness.transaction() as session:
        runs = session.scalar(select(func.count()).select_from(DutyRun))
        assert runs == len(ids) * 3
        assert len(session.scalars(select(OutboxMessage.id)).all()) == len(ids) * 3
        assignments = session.scalar(select(func.count()).select_from(ModAssignment))
        assert assignments == len(ids) * 3
