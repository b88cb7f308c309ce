"""The command table both front ends share: the one way in for every command.

Each command names its options and has one handler. Most handlers are synchronous: they
take the services, who is calling in which group, and the parsed options, and return a
reply (``Core`` runs them in a worker thread). Commands that run code are asynchronous:
their handler takes the ``CodeRunner`` and a ``notify`` callback for messages sent while
the run goes on ("you are 2nd in line"). Front ends only parse input into these options
and render the replies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.errors import InvalidInput
from bot.replies import Reply, Text, Visibility
from bot.services import (
    competition,
    groups,
    lessons,
    members,
    problems,
    progress,
    rotation,
    users,
)
from bot.services.calendar import local_today
from bot.services.code_runs import CodeRunner, Notify
from bot.services.context import Actor, Services
from db.models import Group


@dataclass(frozen=True)
class UserRef:
    id: int
    name: str


@dataclass(frozen=True)
class ChannelRef:
    id: int
    name: str


@dataclass(frozen=True)
class Call:
    group_id: int
    actor: Actor


@dataclass(frozen=True)
class Option:
    name: str
    kind: str = "str"  # str | int | float | bool | date | user | channel
    required: bool = False


Handler = Callable[[Services, Call, dict[str, Any]], Reply]
RunHandler = Callable[[CodeRunner, Call, dict[str, Any], Notify], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    """A command and its handler: ``handler`` (synchronous) or ``run`` (runs code).

    ``visibility``: who sees its answer when it succeeds (a refusal is always private),
    known before it runs so a front end can prepare (Discord's deferral); None when it
    depends on the input."""

    path: tuple[str, ...]
    options: tuple[Option, ...]
    handler: Handler | None = None
    run: RunHandler | None = None
    visibility: Visibility | None = None

    def __post_init__(self) -> None:
        if (self.handler is None) == (self.run is None):
            raise ValueError(f"/{self.name} needs exactly one of handler and run")

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def runs_code(self) -> bool:
        """True for commands that run code in the sandbox (slow: answer later)."""
        return self.run is not None


@contextmanager
def _unit(svc: Services, call: Call) -> Iterator[tuple[Session, Group, datetime]]:
    with svc.transaction() as session:
        group = groups.get_group(session, call.group_id)
        now = svc.clock.now()
        users.ensure_user(session, call.actor.user_id, call.actor.name, now)
        yield session, group, now


def _date(opts: dict[str, Any], key: str, group: Group, now: datetime) -> date | None:
    value = opts.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return groups.parse_date(str(value), local_today(group, now))


# --- members -------------------------------------------------------------------------


def member_join(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return members.join(s, group, call.actor, now)


def member_leave(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return members.leave(s, group, call.actor, now)


def member_list(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return members.listing(s, group, now)


def member_add(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    user: UserRef = opts["user"]
    with _unit(svc, call) as (s, group, now):
        return members.add(s, group, call.actor, user.id, user.name, now)


def member_remove(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    user: UserRef = opts["user"]
    with _unit(svc, call) as (s, group, now):
        return members.remove(s, group, call.actor, user.id, now)


# --- rotation ------------------------------------------------------------------------


def mod_today(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return rotation.today_reply(s, group, now)


def mod_schedule(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return rotation.schedule_reply(s, group, now, opts.get("days"))


def mod_swap(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    other: UserRef = opts["with"]
    member: UserRef | None = opts.get("member")
    with _unit(svc, call) as (s, group, now):
        if member is not None:
            users.ensure_user(s, member.id, member.name, now)
        return rotation.request_swap(
            s,
            group,
            call.actor,
            other.id,
            now,
            member_user_id=member.id if member else None,
            force=bool(opts.get("force")),
        )


def mod_accept(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return rotation.answer_swap(s, group, call.actor, opts["id"], True, now)


def mod_decline(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return rotation.answer_swap(s, group, call.actor, opts["id"], False, now)


def mod_skip(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return rotation.skip(s, group, call.actor, now)


def away(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        start = _date(opts, "from", group, now)
        end = _date(opts, "to", group, now)
        if opts.get("cancel"):
            return rotation.cancel_away(s, group, call.actor, now, on=start)
        if start is None and end is None:
            return rotation.list_away(s, group, call.actor, now)
        if start is None:
            raise InvalidInput("error.away_needs_from")
        return rotation.set_away(s, group, call.actor, start, end or start, now)


# --- lessons -------------------------------------------------------------------------


def lesson_list(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (_s, group, _now):
        return lessons.list_reply(group.locale)


def lesson_show(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (_s, group, _now):
        return lessons.show_reply(str(opts["id"]), group.locale)


async def lesson_run(runner: CodeRunner, call: Call, opts: dict[str, Any], notify: Notify) -> Reply:
    return await runner.run_lesson(call.group_id, call.actor, str(opts["id"]), notify)


async def code_run(runner: CodeRunner, call: Call, opts: dict[str, Any], notify: Notify) -> Reply:
    return await runner.run_snippet(call.group_id, call.actor, str(opts["code"]), notify)


# --- schedule ------------------------------------------------------------------------


def schedule_show(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        reply = groups.schedule_reply(group)
        for day_off in groups.upcoming_days_off(s, group, local_today(group, now))[:10]:
            reply.lines.append(
                Text("schedule.day_off_line", {"day": day_off.day, "reason": day_off.reason or "-"})
            )
        return reply


def schedule_set(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    channel: ChannelRef | None = opts.get("channel")
    change = groups.ScheduleChange(
        channel_id=channel.id if channel else None,
        channel_name=channel.name if channel else None,
        timezone=opts.get("timezone"),
        study_days=opts.get("days"),
        review_time=opts.get("review_time"),
        deadline=opts.get("deadline"),
        locale=opts.get("locale"),
        holidays=opts.get("holidays"),
        reminder_minutes=opts.get("reminder"),
        progress_time=opts.get("progress_time"),
    )
    with _unit(svc, call) as (s, group, _now):
        return groups.set_schedule(s, group, call.actor, change)


def schedule_dayoff(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        day = _date(opts, "date", group, now)
        if day is None:
            raise InvalidInput("error.bad_date", value="")
        return groups.set_day_off(
            s,
            group,
            call.actor,
            day,
            now,
            reason=opts.get("reason"),
            cancel=bool(opts.get("cancel")),
        )


# --- problems ------------------------------------------------------------------------


def problem_pick(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return problems.pick(
            s, group, call.actor, str(opts["problem"]), now, force=bool(opts.get("force"))
        )


def problem_reroll(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return problems.reroll(s, group, call.actor, now)


def problem_solved(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return problems.mark_solved(
            s,
            group,
            call.actor,
            now,
            link=opts.get("link"),
            language=opts.get("language"),
            query=opts.get("problem"),
        )


def problem_today(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return problems.today_reply(s, group, now)


def problem_history(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return problems.history_reply(s, group, now, opts.get("n"))


def problem_show(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, _now):
        return problems.show_reply(s, group, str(opts["problem"]))


# --- competition progress -------------------------------------------------------------


def progress_log(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return progress.log_entry(s, group, call.actor, now, progress.EntryInput.from_options(opts))


def progress_edit(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    given = progress.EntryInput.from_options(opts)
    with _unit(svc, call) as (s, group, now):
        return progress.edit_entry(s, group, call.actor, now, opts["id"], given)


def progress_delete(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, _now):
        return progress.delete_entry(s, group, call.actor, opts["id"])


def progress_me(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return progress.me_reply(s, group, call.actor, now)


def progress_group(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return progress.group_reply(s, group, now, opts.get("period"))


def progress_leaderboard(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, _now):
        return progress.leaderboard_reply(s, group, opts.get("task"))


def progress_export(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return progress.export_reply(s, group, call.actor, now)


def progress_reminder(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, _now):
        return progress.set_reminder(s, group, call.actor, str(opts["mode"]))


def progress_forget(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    user: UserRef = opts["user"]
    with _unit(svc, call) as (s, group, _now):
        return progress.forget(s, group, call.actor, user.id)


def competition_show(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return competition.show_reply(s, group, now)


def competition_set(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        clear = competition.is_clear(opts.get("deadline"))
        return competition.set_competition(
            s,
            group,
            call.actor,
            now,
            name=opts.get("name"),
            deadline=None if clear else _date(opts, "deadline", group, now),
            clear_deadline=clear,
            limit=opts.get("limit"),
        )


def competition_task(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return competition.set_task(
            s,
            group,
            call.actor,
            now,
            str(opts["name"]),
            metric=opts.get("metric"),
            higher=opts.get("higher"),
            remove=bool(opts.get("remove")),
        )


_ENTRY_OPTIONS = (
    Option("task"),
    Option("metric"),
    Option("score", "float"),
    Option("model"),
    Option("submitted", "bool"),
    Option("repro"),
)


PUBLIC, PRIVATE = Visibility.PUBLIC, Visibility.PRIVATE


def _cmd(path: str, handler: Handler, *options: Option, shows: Visibility | None) -> Command:
    return Command(tuple(path.split()), options, handler=handler, visibility=shows)


def _run(path: str, run: RunHandler, *options: Option, shows: Visibility | None) -> Command:
    return Command(tuple(path.split()), options, run=run, visibility=shows)


COMMANDS: dict[tuple[str, ...], Command] = {
    c.path: c
    for c in (
        _cmd("member join", member_join, shows=PUBLIC),
        _cmd("member leave", member_leave, shows=PUBLIC),
        _cmd("member list", member_list, shows=PRIVATE),
        _cmd("member add", member_add, Option("user", "user", True), shows=PUBLIC),
        _cmd("member remove", member_remove, Option("user", "user", True), shows=PUBLIC),
        _cmd("mod today", mod_today, shows=PRIVATE),
        _cmd("mod schedule", mod_schedule, Option("days", "int"), shows=PRIVATE),
        _cmd(
            "mod swap",
            mod_swap,
            Option("with", "user", True),
            Option("member", "user"),
            Option("force", "bool"),
            shows=PUBLIC,
        ),
        _cmd("mod accept", mod_accept, Option("id", "int", True), shows=PUBLIC),
        _cmd("mod decline", mod_decline, Option("id", "int", True), shows=PUBLIC),
        _cmd("mod skip", mod_skip, shows=PUBLIC),
        _cmd(
            "away",
            away,
            Option("from", "date"),
            Option("to", "date"),
            Option("cancel", "bool"),
            shows=PRIVATE,
        ),
        _cmd("schedule show", schedule_show, shows=PRIVATE),
        _cmd(
            "schedule set",
            schedule_set,
            Option("channel", "channel"),
            Option("timezone"),
            Option("days"),
            Option("review_time"),
            Option("deadline"),
            Option("locale"),
            Option("holidays", "bool"),
            Option("reminder", "int"),
            Option("progress_time"),
            shows=PRIVATE,
        ),
        _cmd(
            "schedule dayoff",
            schedule_dayoff,
            Option("date", "date", True),
            Option("reason"),
            Option("cancel", "bool"),
            shows=PUBLIC,
        ),
        _cmd(
            "problem pick",
            problem_pick,
            Option("problem", "str", True),
            Option("force", "bool"),
            shows=PUBLIC,
        ),
        _cmd("problem reroll", problem_reroll, shows=PUBLIC),
        _cmd(
            "problem solved",
            problem_solved,
            Option("link"),
            Option("language"),
            Option("problem"),
            shows=PUBLIC,
        ),
        _cmd("problem today", problem_today, shows=PRIVATE),
        _cmd("problem history", problem_history, Option("n", "int"), shows=PRIVATE),
        _cmd("problem show", problem_show, Option("problem", "str", True), shows=PRIVATE),
        _cmd(
            "progress log", progress_log, Option("note", "str", True), *_ENTRY_OPTIONS, shows=PUBLIC
        ),
        _cmd(
            "progress edit",
            progress_edit,
            Option("id", "int", True),
            Option("note"),
            *_ENTRY_OPTIONS,
            shows=PRIVATE,
        ),
        _cmd("progress delete", progress_delete, Option("id", "int", True), shows=PRIVATE),
        _cmd("progress me", progress_me, shows=PRIVATE),
        _cmd("progress group", progress_group, Option("period"), shows=PRIVATE),
        _cmd("progress leaderboard", progress_leaderboard, Option("task"), shows=PRIVATE),
        _cmd("progress export", progress_export, shows=PRIVATE),
        _cmd("progress reminder", progress_reminder, Option("mode", "str", True), shows=PRIVATE),
        _cmd("progress forget", progress_forget, Option("user", "user", True), shows=PRIVATE),
        _cmd("lesson list", lesson_list, shows=PRIVATE),
        _cmd("lesson show", lesson_show, Option("id", "str", True), shows=PUBLIC),
        _run("lesson run", lesson_run, Option("id", "str", True), shows=PUBLIC),
        _run("run", code_run, Option("code", "str", True), shows=PUBLIC),
        _cmd("competition show", competition_show, shows=PRIVATE),
        _cmd(
            "competition set",
            competition_set,
            Option("name"),
            Option("deadline", "date"),
            Option("limit", "int"),
            shows=PRIVATE,
        ),
        _cmd(
            "competition task",
            competition_task,
            Option("name", "str", True),
            Option("metric"),
            Option("higher", "bool"),
            Option("remove", "bool"),
            shows=PRIVATE,
        ),
    )
}
