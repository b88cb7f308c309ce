"""The command table both front ends share: the one way in for every command.

Each command names its options and has one handler. Most handlers are synchronous: they
take the services, who is calling in which group, and the parsed options, and return a
reply (``Core`` runs them in a worker thread). Commands that run code are asynchronous:
their handler takes the ``CodeRunner`` and a ``notify`` callback for messages sent while
the run goes on ("you are 2nd in line"). Front ends only parse input into these options
and render the replies.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.errors import DomainError, InvalidInput
from bot.replies import OptionRef, Reply, Text, Visibility
from bot.services import (
    competition,
    freetext,
    groups,
    lessons,
    members,
    problems,
    progress,
    quiz,
    rotation,
    users,
)
from bot.services.bounds import MAX_BIG_ID, MAX_ROW_ID, MAX_SCORE, check_range
from bot.services.calendar import local_today
from bot.services.code_runs import CodeRunner, Notify
from bot.services.context import Actor, Services
from bot.services.dates import Yearless, mark_error, mark_years
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

    def cleaned(self) -> Call:
        """The call with the actor's name as posts may show it (no mention pings)."""
        name = freetext.display_name(self.actor.name, users.MAX_NAME)
        if name == self.actor.name:
            return self
        return Call(self.group_id, Actor(self.actor.user_id, name, self.actor.platform_admin))


# the group's local date while a handler runs (set by its unit of work), for the years
_TODAY: ContextVar[date | None] = ContextVar("studybot_today", default=None)


NUMBER_KINDS = ("int", "float")
_HINTS = {"int": "console.hint_int", "float": "console.hint_float"}


@dataclass(frozen=True)
class Option:
    """One option of a command. Numbers (``int``, ``float``) carry the range they must be
    in (``low``..``high``, both inclusive): ``check`` refuses a value outside it, naming
    the option and the range, before any handler or the database sees it."""

    name: str
    kind: str = "str"  # str | int | float | bool | date | user | channel
    required: bool = False
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if self.kind in NUMBER_KINDS and (self.low is None or self.high is None):
            raise ValueError(f"number option {self.name} needs its range")

    def _bad(self, value: object) -> InvalidInput:
        hint = Text(_HINTS.get(self.kind, "console.hint_int"))
        return InvalidInput(
            "error.bad_option", name=self.name, value=freetext.echo(value), hint=hint
        )

    def check(self, value: Any, command: str) -> Any:
        """The value as handlers receive it: numbers of the right type and in range, the
        names of people neutralised as posts show them. ``command``: whose option it is."""
        if self.kind in NUMBER_KINDS:
            assert self.low is not None and self.high is not None
            number = self._number(value)
            check_range(OptionRef(command, self.name), number, self.low, self.high)
            return number
        if self.kind == "user" and isinstance(value, UserRef):
            check_range(OptionRef(command, self.name), value.id, 1, MAX_BIG_ID)
            return UserRef(value.id, freetext.display_name(value.name, users.MAX_NAME))
        return value

    def _number(self, value: Any) -> int | float:
        if isinstance(value, bool):
            raise self._bad(value)
        if isinstance(value, str):
            try:
                value = int(value.strip()) if self.kind == "int" else float(value.strip())
            except ValueError:
                raise self._bad(value) from None
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self._bad(value)
            if self.kind == "int":
                if not value.is_integer():
                    raise self._bad(value)
                return int(value)
            return value
        if isinstance(value, int):
            return value if self.kind == "int" else float(value)
        raise self._bad(value)


def row_id(name: str, *, required: bool = True) -> Option:
    """A number the bot gave out (a swap request, a progress entry): 1 to its column's
    largest (``bot.services.bounds``)."""
    return Option(name, "int", required, 1, MAX_ROW_ID)


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

    def check(self, options: dict[str, Any]) -> dict[str, Any]:
        """The options given, each checked (see ``Option.check``); None means not given."""
        known = {option.name: option for option in self.options}
        return {
            name: value
            if value is None or name not in known
            else known[name].check(value, self.name)
            for name, value in options.items()
        }

    def execute(self, svc: Services, call: Call, options: dict[str, Any]) -> Reply:
        """Check the options, then run the synchronous handler. Dates of another year
        than the group's current one are shown with their year, in replies and refusals."""
        assert self.handler is not None
        checked = self.check(options)
        token = _TODAY.set(None)
        try:
            reply = self.handler(svc, call.cleaned(), checked)
        except DomainError as exc:
            today = _TODAY.get()
            if today is not None:
                mark_error(exc, today)
            raise
        finally:
            today = _TODAY.get()
            _TODAY.reset(token)
        return reply if today is None else mark_years(reply, today)

    async def execute_run(
        self, runner: CodeRunner, call: Call, options: dict[str, Any], notify: Notify
    ) -> Reply:
        """Check the options, then run the code-running handler."""
        assert self.run is not None
        return await self.run(runner, call.cleaned(), self.check(options), notify)


@contextmanager
def _unit(svc: Services, call: Call) -> Iterator[tuple[Session, Group, datetime]]:
    known = users.known_names(svc.session_factory)
    actor = call.actor
    with svc.transaction() as session:
        group = groups.get_group(session, call.group_id)
        now = svc.clock.now()
        _TODAY.set(local_today(group, now))
        fresh = known.get(actor.user_id) != actor.name
        if fresh:  # (a user seen with this name is in the database as such: never deleted)
            users.ensure_user(session, actor.user_id, actor.name, now)
        yield session, group, now
    if fresh:  # committed
        users.remember_name(known, actor.user_id, actor.name)


def _date(
    opts: dict[str, Any],
    key: str,
    group: Group,
    now: datetime,
    rule: Yearless = Yearless.UPCOMING,
    anchor: date | None = None,
) -> date | None:
    """A date option; a month-day without a year follows ``rule`` (``bot.services.dates``)."""
    value = opts.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return groups.parse_date(str(value), local_today(group, now), rule=rule, anchor=anchor)


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
        if opts.get("cancel"):  # a period to cancel may have begun: the nearest such day
            on = _date(opts, "from", group, now, Yearless.NEAREST)
            return rotation.cancel_away(s, group, call.actor, now, on=on)
        start = _date(opts, "from", group, now)
        end = _date(opts, "to", group, now)
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


async def sandbox_status(
    runner: CodeRunner, call: Call, opts: dict[str, Any], notify: Notify
) -> Reply:
    return await runner.sandbox_status(call.group_id, call.actor)


# --- schedule ------------------------------------------------------------------------


def schedule_show(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        reply = groups.schedule_reply(group)
        for day, reason in groups.upcoming_days_off(s, group, local_today(group, now))[:10]:
            reply.lines.append(Text("schedule.day_off_line", {"day": day, "reason": reason or "-"}))
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
        cancel = bool(opts.get("cancel"))
        day = _date(opts, "date", group, now, Yearless.NEAREST if cancel else Yearless.UPCOMING)
        if day is None:
            raise InvalidInput("error.bad_date", value="")
        return groups.set_day_off(
            s,
            group,
            call.actor,
            day,
            now,
            reason=opts.get("reason"),
            cancel=cancel,
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


# --- review quiz ---------------------------------------------------------------------


def quiz_next(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return quiz.next_card(s, group, call.actor, now)


def quiz_reveal(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return quiz.reveal(s, group, call.actor, now, opts.get("card"))


def quiz_grade(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return quiz.grade(s, group, call.actor, now, str(opts["result"]), opts.get("card"))


def quiz_answer(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return quiz.answer(s, group, call.actor, now, opts["choice"], opts.get("card"))


def quiz_stats(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return quiz.stats(s, group, call.actor, now, opts.get("scope"))


def quiz_nudge(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return quiz.set_nudge(s, group, call.actor, now, opts.get("time"))


def quiz_export(svc: Services, call: Call, opts: dict[str, Any]) -> Reply:
    with _unit(svc, call) as (s, group, now):
        return quiz.export_reply(s, group, call.actor, now)


_ENTRY_OPTIONS = (
    Option("task"),
    Option("metric"),
    Option("score", "float", low=-MAX_SCORE, high=MAX_SCORE),
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
        _cmd(
            "mod schedule",
            mod_schedule,
            Option("days", "int", low=1, high=rotation.MAX_SCHEDULE_DAYS),
            shows=PRIVATE,
        ),
        _cmd(
            "mod swap",
            mod_swap,
            Option("with", "user", True),
            Option("member", "user"),
            Option("force", "bool"),
            shows=PUBLIC,
        ),
        _cmd("mod accept", mod_accept, row_id("id"), shows=PUBLIC),
        _cmd("mod decline", mod_decline, row_id("id"), shows=PUBLIC),
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
            Option("reminder", "int", low=0, high=groups.MAX_REMINDER_MINUTES),
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
        _cmd(
            "problem history",
            problem_history,
            Option("n", "int", low=1, high=problems.MAX_HISTORY),
            shows=PRIVATE,
        ),
        _cmd("problem show", problem_show, Option("problem", "str", True), shows=PRIVATE),
        _cmd(
            "progress log", progress_log, Option("note", "str", True), *_ENTRY_OPTIONS, shows=PUBLIC
        ),
        _cmd(
            "progress edit",
            progress_edit,
            row_id("id"),
            Option("note"),
            *_ENTRY_OPTIONS,
            shows=PRIVATE,
        ),
        _cmd("progress delete", progress_delete, row_id("id"), shows=PRIVATE),
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
        _run("sandbox status", sandbox_status, shows=PRIVATE),
        _cmd("competition show", competition_show, shows=PRIVATE),
        _cmd(
            "competition set",
            competition_set,
            Option("name"),
            Option("deadline", "date"),
            Option("limit", "int", low=0, high=competition.MAX_DAILY_LIMIT),
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
        _cmd("quiz", quiz_next, shows=PRIVATE),
        _cmd("quiz reveal", quiz_reveal, Option("card"), shows=PRIVATE),
        _cmd(
            "quiz grade", quiz_grade, Option("result", "str", True), Option("card"), shows=PRIVATE
        ),
        _cmd(
            "quiz answer",
            quiz_answer,
            Option("choice", "int", True, 1, quiz.MAX_CHOICE),
            Option("card"),
            shows=PRIVATE,
        ),
        _cmd("quiz stats", quiz_stats, Option("scope"), shows=PRIVATE),
        _cmd("quiz nudge", quiz_nudge, Option("time"), shows=PRIVATE),
        _cmd("quiz export", quiz_export, shows=PRIVATE),
    )
}
