"""`/problem solved`, `/problem today`, `/problem history` and `/problem show`."""

from __future__ import annotations

from datetime import date, time

from bot.i18n import render
from bot.replies import Mention, Text, Visibility
from bot.services.problems import LANGUAGES
from tests.conftest import Harness
from tests.problems.helpers import (
    CLOTHES,
    GAME_MAP,
    MONDAY,
    NARA,
    SQL_MIN,
    TUESDAY,
    WEDNESDAY,
    add_past_picks,
    advance,
    params,
    picks,
    solves,
)

MAX_LINK = 300  # the column's length


def picked_for_tuesday(study: Harness) -> None:
    study.at("2026-12-07 10:00")
    assert study.invoke("alice", "problem pick", problem="12899").key == "problem.picked"


# --- solved ---------------------------------------------------------------------------


def test_a_link_must_be_an_https_address_that_fits(study: Harness) -> None:
    picked_for_tuesday(study)
    too_long = "https://github.com/" + "a" * (MAX_LINK - len("https://github.com/") + 1)
    for bad in (
        "http://github.com/bob/sol",  # not https
        "ftp://github.com/bob/sol",
        "github.com/bob/sol",
        "https://github.com/bob/my sol",  # a space
        "https://",
    ):
        reply = study.invoke("bob", "problem solved", link=bad)
        assert (reply.key, reply.visibility) == ("error.bad_link", Visibility.PRIVATE), bad
        assert reply.params == {"value": bad}
    reply = study.invoke("bob", "problem solved", link=too_long)  # the real reason: its length
    assert (reply.key, reply.params["max"], reply.params["length"]) == (
        "error.progress_text_too_long",
        MAX_LINK,
        MAX_LINK + 1,
    )
    for mentioning in ("https://x.com/@everyone", "https://x.com/<@123>", "<@&45>"):
        reply = study.invoke("bob", "problem solved", link=mentioning)
        assert reply.key == "input.link_mention", mentioning
    assert solves(study) == []  # nothing half-written
    longest = too_long[:-1]
    assert len(longest) == MAX_LINK
    reply = study.invoke("bob", "problem solved", link=longest)
    assert reply.key == "problem.solved"
    assert reply.lines == [Text("problem.solution_link", {"link": longest})]
    assert solves(study) == [("bob", NARA[0], None, longest)]


def test_languages_have_aliases_and_an_unknown_one_is_refused_with_the_list(
    study: Harness,
) -> None:
    picked_for_tuesday(study)
    unknown = study.invoke("bob", "problem solved", language="brainfuck")
    assert unknown.key == "error.bad_language"
    assert unknown.params == {"value": "brainfuck", "choices": ", ".join(LANGUAGES)}
    assert "python, java, cpp" in unknown.params["choices"]
    assert solves(study) == []
    for given, stored in [
        ("py", "python"),
        ("Python3", "python"),
        ("JS", "javascript"),
        ("c++", "cpp"),
        ("kt", "kotlin"),
        (" Java ", "java"),
        ("sql", "sql"),
        ("파이썬", "python"),  # as Koreans write them
        ("자바", "java"),
        ("코틀린", "kotlin"),
        ("ｐｙｔｈｏｎ", "python"),  # full-width letters
    ]:
        reply = study.invoke("bob", "problem solved", language=given)
        assert reply.params["language"] == stored, given
        assert solves(study) == [("bob", NARA[0], stored, None)]


def test_reporting_again_updates_the_one_report(study: Harness) -> None:
    picked_for_tuesday(study)
    first = study.invoke("bob", "problem solved")
    assert (first.key, first.visibility) == ("problem.solved", Visibility.PUBLIC)
    bob = study.actor("bob")
    assert first.params == {"name": Mention(bob.user_id, "bob"), "title": NARA[1], "language": "-"}
    link = "https://github.com/bob/solutions/blob/main/12899.py"
    again = study.invoke("bob", "problem solved", link=link, language="py")
    assert (again.key, again.params["language"]) == ("problem.solved_again", "python")
    assert again.lines == [Text("problem.solution_link", {"link": link})]
    third = study.invoke("bob", "problem solved", language="java")  # the link stays
    assert third.key == "problem.solved_again"
    assert third.lines == [Text("problem.solution_link", {"link": link})]
    assert solves(study) == [("bob", NARA[0], "java", link)]


def test_only_members_report_and_only_when_there_is_a_problem(study: Harness) -> None:
    assert study.invoke("bob", "problem solved").key == "error.no_current_problem"
    picked_for_tuesday(study)
    assert study.invoke("dave", "problem solved").key == "error.not_member"
    assert study.invoke("admin", "problem solved").key == "error.not_member"
    named = study.invoke("bob", "problem solved", problem="게임 맵")  # any problem, by name
    assert (named.key, named.params["title"]) == ("problem.solved", GAME_MAP[1])
    assert solves(study) == [("bob", GAME_MAP[0], None, None)]


def test_the_current_problem_switches_at_review_time(study: Harness) -> None:
    picked_for_tuesday(study)  # Monday: the current problem is Tuesday's
    assert study.invoke("carol", "problem solved").params["title"] == NARA[1]
    advance(study, "2026-12-08 09:29")  # Tuesday before its review: still Tuesday's
    assert study.invoke("alice", "problem solved").params["title"] == NARA[1]
    advance(study, "2026-12-08 10:00")  # after the review, Wednesday's is not picked yet
    assert study.invoke("bob", "problem solved").params["title"] == NARA[1]
    assert study.invoke("bob", "problem pick", problem="42578").params["day"] == WEDNESDAY
    assert study.invoke("carol", "problem solved").params["title"] == CLOTHES[1]
    assert solves(study) == [
        ("carol", NARA[0], None, None),
        ("alice", NARA[0], None, None),
        ("bob", NARA[0], None, None),
        ("carol", CLOTHES[0], None, None),
    ]


def test_on_a_weekend_the_current_problem_is_mondays(study: Harness) -> None:
    study.at("2026-12-11 10:00")
    assert study.invoke("admin", "problem pick", problem="12899").params["day"].day == 14
    study.at("2026-12-12 15:00")  # Saturday
    assert study.invoke("bob", "problem solved").params["title"] == NARA[1]


# --- today, history, show --------------------------------------------------------------


def test_today_shows_todays_and_the_next_problem(study: Harness) -> None:
    nothing = study.invoke("bob", "problem today")
    assert (nothing.key, nothing.visibility) == ("problem.today_header", Visibility.PRIVATE)
    assert nothing.lines == [
        Text("input.problem_today_none", {"day": MONDAY}),  # says so, not silence
        Text("problem.next_unpicked", {"day": TUESDAY, "deadline": time(19, 0)}),
    ]
    assert "Today (Mon 2026-12-07) has no problem to review." in render(nothing, "en")
    assert render(nothing, "en").endswith("(deadline 19:00).")
    assert render(nothing, "ko").endswith(" 19:00).")
    picked_for_tuesday(study)
    monday = study.invoke("bob", "problem today")
    assert monday.lines == [
        Text("input.problem_today_none", {"day": MONDAY}),
        Text("problem.next_line", {"day": TUESDAY, **params(NARA)}),
    ]
    advance(study, "2026-12-08 08:00")
    assert study.invoke("bob", "problem pick", problem="42578").key == "problem.picked"
    tuesday = study.invoke("carol", "problem today")
    assert tuesday.lines == [
        Text("problem.today_line", {"day": TUESDAY, **params(NARA)}),
        Text("problem.next_line", {"day": WEDNESDAY, **params(CLOTHES)}),
    ]
    study.at("2026-12-12 10:00")  # Saturday: nothing today, Monday not picked
    weekend = study.invoke("carol", "problem today")
    assert [line.key for line in weekend.lines] == [
        "input.problem_today_no_study",
        "problem.next_unpicked",
    ]
    assert weekend.lines[1].params["day"].day == 14


def test_history_lists_the_latest_picks_with_solver_counts(study: Harness) -> None:
    empty = study.invoke("bob", "problem history")
    assert (empty.key, empty.lines) == ("problem.history_empty", [])
    picked_for_tuesday(study)
    study.invoke("bob", "problem solved")
    study.invoke("carol", "problem solved")
    advance(study, "2026-12-08 19:00")  # Tuesday's deadline auto-picks Wednesday's
    auto_id = picks(study)[WEDNESDAY][0]
    history = study.invoke("bob", "problem history")
    assert (history.key, history.params) == ("problem.history", {"count": 2})
    assert [line.key for line in history.lines] == [
        "problem.history_line_auto",
        "problem.history_line",
    ]
    assert history.lines[0].params["day"] == WEDNESDAY
    assert history.lines[0].params["id"] == auto_id
    assert history.lines[0].params["solved"] == 0
    assert history.lines[1] == Text(
        "problem.history_line", {"day": TUESDAY, "solved": 2, **params(NARA)}
    )
    one = study.invoke("bob", "problem history", n=1)
    assert [line.params["day"] for line in one.lines] == [WEDNESDAY]
    for bad in (0, 51):
        refused = study.invoke("bob", "problem history", n=bad)
        assert (refused.key, refused.params["low"], refused.params["high"]) == (
            "input.out_of_range",
            "1",
            "50",
        )


def test_show_tells_a_problems_kind_use_and_solvers(study: Harness) -> None:
    add_past_picks(study, [NARA[0]], date(2026, 12, 4))
    study.invoke("carol", "problem solved", problem="12899")
    shown = study.invoke("bob", "problem show", problem="124 나라")
    assert (shown.key, shown.visibility) == ("problem.show", Visibility.PRIVATE)
    assert shown.params == {"kind": Text("problem.kind_algorithm"), **params(NARA)}
    assert shown.lines[0].key == "problem.show_used"
    assert [d.isoformat() for d in shown.lines[0].params["days"]] == ["2026-12-04"]
    assert shown.lines[1].key == "problem.show_solvers"
    assert [m.name for m in shown.lines[1].params["names"]] == ["carol"]
    sql = study.invoke("bob", "problem show", problem=str(SQL_MIN[0]))
    assert (sql.params["kind"], sql.lines) == (Text("problem.kind_sql"), [])
    assert study.invoke("bob", "problem show", problem="없는 문제").key == "error.problem_no_match"
