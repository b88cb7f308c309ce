"""When duties fall due: in UTC, across groups in different zones, within (after, until]."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.schedule.planner import DueDuty, due_at, due_between
from bot.services.duty_runs import REVIEW_DUTY
from db.models import Group
from tests.conftest import Harness

pytestmark = pytest.mark.sqlite_only

LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def groups(harness: Harness) -> tuple[int, int]:
    """The harness's Seoul group and a London group reviewing at 10:00 local time, both
    created long ago (duties due before a group existed are never due)."""
    london = harness.core.group_for_guild_sync(2)
    with harness.transaction() as session:
        for group_id in (harness.group_id, london):
            group = session.get(Group, group_id)
            assert group is not None
            group.created_at = LONG_AGO
            if group_id == london:
                group.timezone = "Europe/London"
                group.review_time = time(10, 0)
    return harness.group_id, london


def due(harness: Harness, after: str, until: str) -> list[DueDuty]:
    """The review duties due in (after, until] (other duties have their own times)."""
    with harness.transaction() as session:
        found = due_between(session, utc(after), utc(until))
    assert found == sorted(found)
    assert all(utc(after) < item.due_at <= utc(until) for item in found)
    return [item for item in found if item.duty == REVIEW_DUTY]


def test_due_order_across_zones(harness: Harness, groups: tuple[int, int]) -> None:
    seoul, london = groups
    assert due(harness, "2026-12-06 12:00", "2026-12-08 12:00") == [
        DueDuty(utc("2026-12-07 00:30"), seoul, REVIEW_DUTY, date(2026, 12, 7)),
        DueDuty(utc("2026-12-07 10:00"), london, REVIEW_DUTY, date(2026, 12, 7)),
        DueDuty(utc("2026-12-08 00:30"), seoul, REVIEW_DUTY, date(2026, 12, 8)),
        DueDuty(utc("2026-12-08 10:00"), london, REVIEW_DUTY, date(2026, 12, 8)),
    ]


def test_bounds_exclude_after_and_include_until(harness: Harness, groups: tuple[int, int]) -> None:
    seoul, london = groups
    assert due(harness, "2026-12-07 00:30", "2026-12-07 10:00") == [
        DueDuty(utc("2026-12-07 10:00"), london, REVIEW_DUTY, date(2026, 12, 7))
    ]
    assert due(harness, "2026-12-07 00:29:59", "2026-12-07 00:30") == [
        DueDuty(utc("2026-12-07 00:30"), seoul, REVIEW_DUTY, date(2026, 12, 7))
    ]
    assert due(harness, "2026-12-07 00:30", "2026-12-07 00:30") == []
    assert due(harness, "2026-12-07 00:30", "2026-12-07 09:59:59") == []


def test_local_dates_across_midnight(harness: Harness, groups: tuple[int, int]) -> None:
    seoul, london = groups
    with harness.transaction() as session:
        session.get(Group, seoul).review_time = time(0, 15)  # type: ignore[union-attr]
        session.get(Group, london).review_time = time(23, 45)  # type: ignore[union-attr]
    assert due(harness, "2026-12-07 12:00", "2026-12-08 12:00") == [
        DueDuty(utc("2026-12-07 15:15"), seoul, REVIEW_DUTY, date(2026, 12, 8)),
        DueDuty(utc("2026-12-07 23:45"), london, REVIEW_DUTY, date(2026, 12, 7)),
    ]


def test_summer_time_is_followed(harness: Harness, groups: tuple[int, int]) -> None:
    _, london = groups
    with harness.transaction() as session:
        group = session.get(Group, london)
        assert group is not None
        assert due_at(group, REVIEW_DUTY, date(2026, 7, 1)) == utc("2026-07-01 09:00")  # BST
        assert due_at(group, REVIEW_DUTY, date(2026, 12, 1)) == utc("2026-12-01 10:00")  # GMT
    # The day the clocks go forward (29 March 2026) still has exactly one review.
    got = due(harness, "2026-03-28 12:00", "2026-03-29 12:00")
    assert [d.due_at for d in got if d.group_id == london] == [utc("2026-03-29 09:00")]


def test_a_long_window_has_one_instance_per_group_and_day(
    harness: Harness, groups: tuple[int, int]
) -> None:
    start = utc("2026-12-01 00:00")
    with harness.transaction() as session:
        found = due_between(session, start, start + timedelta(days=14))
    got = [item for item in found if item.duty == REVIEW_DUTY]
    assert len(got) == 28
    assert len({(d.group_id, d.local_date) for d in got}) == 28
    assert found == sorted(found)


def test_nothing_is_due_before_the_group_existed(harness: Harness) -> None:
    # The harness's group was created on Monday 2026-12-07 at 08:00 in Seoul.
    got = due(harness, "2026-12-01 00:00", "2026-12-08 00:00")
    assert got == [
        DueDuty(utc("2026-12-07 00:30"), harness.group_id, REVIEW_DUTY, date(2026, 12, 7))
    ]
