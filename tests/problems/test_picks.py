"""`/problem pick`: who may pick, which study day it is for, how the problem is found,
repeats, SQL problems and re-picks around the deadline."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.i18n import render
from bot.replies import Text, Visibility
from bot.services import problems
from bot.services.calendar import holiday_name
from tests.conftest import Harness
from tests.problems.helpers import (
    CLOTHES,
    GAME_MAP,
    MONDAY,
    NARA,
    SQL_MIN,
    TUESDAY,
    add_past_picks,
    advance,
    events,
    moderator_today,
    params,
    picks,
    posts,
    seoul,
)

URL_42578 = "https://school.programmers.co.kr/learn/courses/30/lessons/42578?language=python3"


# --- permissions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "platform_admin", "allowed"),
    [
        ("alice", False, True),  # today's moderator
        ("admin", False, True),  # a group-granted admin (not even a member)
        ("owner", True, True),  # Manage Server / the admin role
        ("bob", False, False),  # a member, but not today's moderator
        ("dave", False, False),  # not a member at all
    ],
)
def test_who_may_pick(study: Harness, who: str, platform_admin: bool, allowed: bool) -> None:
    assert moderator_today(study) == "alice"
    actor = study.actor(who, platform_admin=platform_admin)
    reply = study.invoke(actor, "problem pick", problem="12899")
    if not allowed:
        assert reply.key == "error.pick_not_moderator"
        assert reply.visibility is Visibility.PRIVATE
        assert picks(study) == {}
        assert events(study) == []
        return
    assert reply.key == "problem.picked"
    assert reply.visibility is Visibility.PUBLIC  # announced in the channel at once
    assert reply.params == {"name": who, "day": TUESDAY, **params(NARA)}
    assert reply.lines == []
    assert picks(study) == {TUESDAY: (NARA[0], False, actor.user_id)}
    assert events(study) == [(TUESDAY, "pick", None, NARA[0], actor.user_id)]


def test_only_an_admin_may_pick_on_a_day_without_study(study: Harness) -> None:
    study.at("2026-12-12 10:00")  # Saturday: nobody moderates
    for name in ("alice", "bob", "carol"):
        assert study.invoke(name, "problem pick", problem="12899").key == "error.pick_not_moderator"
    reply = study.invoke("admin", "problem pick", problem="12899")
    assert (reply.key, reply.params["day"]) == ("problem.picked", date(2026, 12, 14))
    assert list(picks(study)) == [date(2026, 12, 14)]


# --- which day ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "day_off", "target"),
    [
        ("2026-12-07 08:00", None, TUESDAY),  # Monday before its review
        ("2026-12-07 18:59", None, TUESDAY),  # Monday, just before the deadline
        ("2026-12-11 10:00", None, date(2026, 12, 14)),  # Friday -> Monday
        ("2026-12-24 10:00", None, date(2026, 12, 28)),  # Thursday -> Monday over 기독탄신일
        ("2026-12-07 10:00", "2026-12-08", date(2026, 12, 9)),  # over a declared day off
    ],
    ids=["monday-morning", "monday-evening", "weekend", "holiday", "day-off"],
)
def test_the_pick_is_for_the_next_study_day(
    study: Harness, now: str, day_off: str | None, target: date
) -> None:
    if day_off is not None:
        added = study.invoke("admin", "schedule dayoff", date=day_off, reason="워크숍")
        assert added.key == "schedule.day_off_added"
    study.at(now)
    moderator = moderator_today(study)
    reply = study.invoke(moderator, "problem pick", problem="42578")
    assert reply.key == "problem.picked", reply
    assert reply.params["day"] == target
    assert picks(study) == {target: (CLOTHES[0], False, study.actor(moderator).user_id)}
    pick_day = seoul(study.today(), time(19, 0))
    with study.group() as (session, group):
        # The pick for the target falls due at 19:00 on the day it was made.
        assert problems.deadline_for(session, group, target) == pick_day
    today = study.invoke("carol", "problem today")
    assert Text("problem.next_line", {"day": target, **params(CLOTHES)}) in today.lines


def test_a_korean_holiday_is_skipped_and_no_duty_runs_on_it(study: Harness) -> None:
    assert holiday_name(date(2026, 12, 25), "ko") == "기독탄신일"
    study.at("2026-12-24 10:00")
    moderator = moderator_today(study)
    assert study.invoke(moderator, "problem pick", problem="1844").params["day"] == date(
        2026, 12, 28
    )
    ran = advance(study, "2026-12-28 10:00")
    # The reminder finds the pick and stays quiet; nothing runs on the 25th or the weekend.
    assert ran == [("problem_deadline", date(2026, 12, 24)), ("review_post", date(2026, 12, 28))]
    keys = [body["key"] for body in posts(study)]
    assert keys == ["problem.announce", "duty.review", "problem.thread_open"]
    assert posts(study)[0]["params"]["day"] == {"$date": "2026-12-28"}
    assert posts(study)[0]["params"]["id"] == GAME_MAP[0]


def test_a_friday_pick_is_announced_friday_and_reviewed_monday(study: Harness) -> None:
    study.at("2026-12-11 10:00")
    moderator = moderator_today(study)
    assert study.invoke(moderator, "problem pick", problem="12899").key == "problem.picked"
    ran = advance(study, "2026-12-14 10:00")
    assert ran == [("problem_deadline", date(2026, 12, 11)), ("review_post", date(2026, 12, 14))]
    announce, review, thread = posts(study)
    assert announce["params"] == {"day": {"$date": "2026-12-14"}, **params(NARA)}
    assert review["lines"][0] == {"$text": ["problem.review_problem", params(NARA)]}
    assert thread["params"] == params(NARA)


# --- finding the problem --------------------------------------------------------------


def test_a_problem_is_found_by_id_url_or_part_of_its_title(study: Harness) -> None:
    found = [
        ("12899", NARA[0]),
        (URL_42578, CLOTHES[0]),
        ("게임 맵", GAME_MAP[0]),  # part of the title
        ("배달", 12978),  # exact title wins over "택배 배달과 수거하기"
        ("택배 배달", 150369),  # every word must appear
        ("카카오프렌즈컬러링북", 1829),  # spaces do not matter
    ]
    for query, problem_id in found:
        reply = study.invoke("alice", "problem pick", problem=query)
        assert reply.key in ("problem.picked", "problem.repicked"), (query, reply)
        assert reply.params["id"] == problem_id, query
    assert [kind for _, kind, *_ in events(study)] == ["pick"] + ["repick"] * 5

    refused = [
        ("타일링", "error.problem_ambiguous"),
        ("999999", "error.problem_missing"),
        ("존재하지 않는 문제 제목", "error.problem_no_match"),
        ("   ", "error.problem_query_empty"),
    ]
    for query, key in refused:
        assert study.invoke("alice", "problem pick", problem=query).key == key, query
    ambiguous = study.invoke("alice", "problem pick", problem="타일링")
    assert ambiguous.params == {
        "query": "타일링",
        "candidates": "12900 2 x n 타일링, 12902 3 x n 타일링",
    }
    assert study.invoke("alice", "problem pick", problem="999999").params == {"id": 999999}
    assert picks(study) == {TUESDAY: (1829, False, study.actor("alice").user_id)}
    assert len(events(study)) == 6  # refusals wrote nothing


# --- repeats and SQL ------------------------------------------------------------------


def test_a_problem_done_before_is_refused_unless_an_admin_forces_it(study: Harness) -> None:
    add_past_picks(study, [NARA[0]], date(2026, 12, 4))
    reply = study.invoke("alice", "problem pick", problem="12899")
    assert (reply.key, reply.params) == (
        "error.problem_repeat",
        {"title": NARA[1], "day": date(2026, 12, 4)},
    )
    assert study.invoke("alice", "problem pick", problem="12899", force=True).key == (
        "error.admin_only"
    )
    assert study.invoke("admin", "problem pick", problem="12899").key == (
        "error.problem_repeat_admin"
    )
    assert TUESDAY not in picks(study)
    forced = study.invoke("admin", "problem pick", problem="12899", force=True)
    assert (forced.key, forced.params["day"], forced.params["id"]) == (
        "problem.picked",
        TUESDAY,
        NARA[0],
    )
    assert picks(study)[TUESDAY] == (NARA[0], False, study.actor("admin").user_id)
    assert events(study) == [(TUESDAY, "pick", None, NARA[0], study.actor("admin").user_id)]


def test_an_auto_picked_problem_counts_as_done(study: Harness) -> None:
    advance(study, "2026-12-07 19:00")
    (auto_id, auto, _by) = picks(study)[TUESDAY]
    assert auto is True
    advance(study, "2026-12-08 10:00")
    moderator = moderator_today(study)
    reply = study.invoke(moderator, "problem pick", problem=str(auto_id))
    assert (reply.key, reply.params["day"]) == ("error.problem_repeat", TUESDAY)


def test_an_sql_problem_is_picked_with_a_warning(study: Harness) -> None:
    reply = study.invoke("alice", "problem pick", problem=str(SQL_MIN[0]))
    assert reply.key == "problem.picked"
    assert reply.lines == [Text("problem.sql_warning")]
    assert "SQL" in render(reply, "en")
    again = study.invoke("alice", "problem pick", problem="12899")
    assert (again.key, again.lines) == ("problem.repicked", [])


# --- re-picks and the deadline --------------------------------------------------------


def test_a_repick_before_the_deadline_replaces_the_pick_and_is_logged(study: Harness) -> None:
    alice = study.actor("alice").user_id
    study.at("2026-12-07 10:00")
    assert study.invoke("alice", "problem pick", problem="12899").key == "problem.picked"
    study.at("2026-12-07 18:59")
    reply = study.invoke("alice", "problem pick", problem="42578")
    assert (reply.key, reply.visibility) == ("problem.repicked", Visibility.PUBLIC)
    assert reply.params == {"name": "alice", "day": TUESDAY, **params(CLOTHES)}
    same = study.invoke("alice", "problem pick", problem="의상")
    assert (same.key, same.params) == ("error.pick_same", {"day": TUESDAY, "title": "의상"})
    assert picks(study) == {TUESDAY: (CLOTHES[0], False, alice)}
    assert events(study) == [
        (TUESDAY, "pick", None, NARA[0], alice),
        (TUESDAY, "repick", NARA[0], CLOTHES[0], alice),
    ]
    # The deadline announces the replacement; nothing is auto-picked.
    assert advance(study, "2026-12-07 19:00") == [("problem_deadline", MONDAY)]
    assert [(b["key"], b["params"]["id"]) for b in posts(study)] == [
        ("problem.announce", CLOTHES[0])
    ]
    assert len(events(study)) == 2


def test_after_the_deadline_only_an_admin_may_change_the_pick(study: Harness) -> None:
    study.at("2026-12-07 10:00")
    study.invoke("alice", "problem pick", problem="12899")
    advance(study, "2026-12-07 19:30")
    late = study.invoke("alice", "problem pick", problem="42578")
    assert (late.key, late.params) == ("error.pick_after_deadline", {"day": TUESDAY})
    assert picks(study)[TUESDAY][0] == NARA[0]
    admin = study.invoke("admin", "problem pick", problem="42578")
    assert (admin.key, admin.params["id"]) == ("problem.repicked", CLOTHES[0])
    assert picks(study)[TUESDAY] == (CLOTHES[0], False, study.actor("admin").user_id)
    assert events(study)[-1] == (
        TUESDAY,
        "repick",
        NARA[0],
        CLOTHES[0],
        study.actor("admin").user_id,
    )
