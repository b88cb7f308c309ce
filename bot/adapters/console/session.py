"""One console session: turns lines into commands and clock moves, and shows what the
bot says, in order."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import TextIO

from bot.adapters.console.group import channel_of
from bot.adapters.console.options import (
    IncompleteCommand,
    command_line,
    convert_options,
    find_command,
)
from bot.adapters.console.output import Output
from bot.adapters.console.parser import (
    Advance,
    Help,
    Line,
    Quit,
    ScriptError,
    SetTime,
    ShowTime,
    Speak,
    parse_line,
)
from bot.clock import Clock, ManualClock
from bot.commands import COMMANDS, Call
from bot.core import Core, error_reply, is_crash
from bot.errors import DomainError
from bot.i18n import text
from bot.replies import Reply, Text
from bot.services.context import Actor
from bot.services.groups import GroupInfo

PROMPT = "> "
# what ``:help`` says about each control line, in this order, and then about comments
CONTROL_HELP = (
    "console.help_time",
    "console.help_advance",
    "console.help_help",
    "console.help_quit",
    "console.help_comment",
)
EXIT_OK = 0
EXIT_CRASH = 1  # a line met an unexpected error (a bug); the rest of the script still ran
EXIT_BROKEN_SCRIPT = 2


class ConsoleSession:
    def __init__(self, core: Core, group_id: int, clock: Clock, output: Output) -> None:
        self.core = core
        self.group_id = group_id
        self.clock = clock
        self.output = output
        self.last_check = clock.now()
        self.crash_ids: list[str] = []  # the error ids of the unexpected errors answered

    def close(self) -> None:
        """Stop what the session started (the sandbox, when code ran)."""
        self.core.close_sync()

    @property
    def simulated(self) -> bool:
        return isinstance(self.clock, ManualClock)

    def group(self) -> GroupInfo:
        return self.core.group_info_sync(self.group_id)

    def message(self, key: str, **params: object) -> str:
        """A console message in the group's current language."""
        return text(self.group().locale, key, params)

    def say(self, key: str, **params: object) -> None:
        """The console's own answer to a control line (not a message of the bot)."""
        self.output.note(self.message(key, **params))

    # --- start-up and time ------------------------------------------------------

    def start(self) -> None:
        """Like the bot: run what fell due while nothing ran, then deliver the outbox."""
        self.core.reconcile_sync()
        self.last_check = self.clock.now()
        self.deliver_outbox()

    def check_real_time(self) -> None:
        """With the real clock: run what fell due since the last look."""
        if self.simulated:
            return
        now = self.clock.now()
        if now > self.last_check:
            self.core.run_due_sync(self.last_check, now)
        self.last_check = now
        self.deliver_outbox()

    def move_clock(self, new: datetime) -> None:
        """Set the simulated clock; moving forward runs every duty due in (old, new], each
        with the clock at its due time."""
        assert isinstance(self.clock, ManualClock)
        if new > self.clock.now():
            self.core.step_through_sync(self.clock, new)  # each duty at its own time
        else:
            self.clock.set(new)
        self.last_check = self.clock.now()
        self.deliver_outbox()

    def deliver_outbox(self) -> None:
        """Channel posts as ``[#channel]``; a post for one user (a DM) as ``[@name]``."""
        while batch := self.core.claim_outbox_sync():
            for pending in batch:
                group = self.core.group_info_sync(pending.group_id)
                speaker = None
                if pending.user_id is not None:
                    speaker = self.core.user_name_sync(pending.user_id)
                self.output.show(pending.reply, group.locale, channel_of(group), speaker=speaker)
                self.core.mark_sent_sync(pending.id)

    # --- lines --------------------------------------------------------------------

    def validate(self, line: Line | None) -> None:
        """Problems a line has before it runs (a broken script is refused whole)."""
        if isinstance(line, SetTime | Advance) and not self.simulated:
            raise ScriptError("console.real_clock")

    def target_time(self, line: SetTime | Advance, now: datetime) -> datetime:
        """Where a clock line moves the clock from ``now``; it never goes backwards."""
        if isinstance(line, Advance):
            try:
                return now + line.delta
            except OverflowError:
                raise ScriptError("console.bad_duration", value=line.text) from None
        when = line.when
        zone = self.group().zone
        if when.tzinfo is None:
            when = when.replace(tzinfo=zone)
        if when < now:
            raise ScriptError(
                "console.time_backwards", when=_minute(when, zone), now=_minute(now, zone)
            )
        return when

    def handle(self, line: Line | None) -> bool:
        """Do one parsed line; False when the session should end."""
        self.validate(line)
        self.check_real_time()
        if isinstance(line, Quit):
            return False
        if isinstance(line, Speak):
            self.speak(line)
        elif isinstance(line, SetTime | Advance):
            self.move_clock(self.target_time(line, self.clock.now()))
        elif isinstance(line, ShowTime):
            self.show_time()
        elif isinstance(line, Help):
            self.show_help()
        return True

    def show_time(self) -> None:
        zone = self.group().zone
        now = self.clock.now().astimezone(zone)
        if not self.simulated:
            now = now.replace(second=0, microsecond=0)
        key = "console.time_now" if self.simulated else "console.time_real"
        weekday = Text(f"weekday.{now.isoweekday()}")
        self.say(key, when=_minute(now, zone), weekday=weekday, zone=str(zone))

    def show_help(self) -> None:
        """The control lines, then every command of the shared table."""
        locale = self.group().locale
        lines = [text(locale, "console.help_controls")]
        lines += ["  " + text(locale, key) for key in CONTROL_HELP]
        lines.append(text(locale, "console.help_commands"))
        for command in COMMANDS.values():
            item = command_line(command)
            lines.append("  " + text(locale, item.key, item.params))
        self.output.note("\n".join(lines))

    def speak(self, line: Speak) -> None:
        def show(reply: Reply) -> None:
            group = self.group()
            self.output.show(reply, group.locale, channel_of(group), speaker=line.name)

        async def notify(reply: Reply) -> None:  # e.g. "you are 2nd in line", at once
            show(reply)

        try:
            actor = self.core.local_speaker_sync(self.group_id, line.name)
            invocation = find_command(line.tokens)
            options = convert_options(invocation, self.core.local_user_sync)
        except DomainError as exc:
            reply = error_reply(exc)
            if isinstance(exc, IncompleteCommand):
                reply.lines.extend(exc.lines)
        else:
            call = Call(self.group_id, Actor(actor.id, actor.name))
            reply = self.core.invoke_sync(invocation.command.path, call, options, notify)
        if is_crash(reply):
            self.crash_ids.append(str(reply.params.get("error_id", "?")))
        show(reply)
        self.deliver_outbox()

    # --- input sources ------------------------------------------------------------

    def run_script(self, lines: list[str], source: str, errors: TextIO) -> int:
        """Check every line first, then run them; 2 for a broken script."""
        parsed: list[Line | None] = []
        clock = self.clock.now()  # where the clock lines take it, so far
        for number, raw in enumerate(lines, start=1):
            try:
                line = parse_line(raw)
                self.validate(line)
                if isinstance(line, SetTime | Advance):
                    clock = self.target_time(line, clock)
            except ScriptError as exc:
                problem = Text(exc.key, exc.params)
                detail = self.message(
                    "console.script_error", file=source, line=number, problem=problem
                )
                print(f"{detail}\n  {raw.rstrip()}", file=errors)
                return EXIT_BROKEN_SCRIPT
            parsed.append(line)
        for line in parsed:
            if not self.handle(line):
                break
        if self.crash_ids:  # every line ran, but not every one was handled
            ids = ", ".join(self.crash_ids)
            detail = self.message("input.script_crashed", count=len(self.crash_ids), ids=ids)
            print(detail, file=errors)
            return EXIT_CRASH
        return EXIT_OK

    def run_interactive(self, stdin: TextIO, errors: TextIO) -> int:
        """Read lines until ``:quit`` or end of input; a bad line is reported and skipped."""
        for raw in _input_lines(stdin):
            try:
                if not self.handle(parse_line(raw)):
                    break
            except ScriptError as exc:
                print(self.message(exc.key, **exc.params), file=errors, flush=True)
        return EXIT_OK


def _minute(when: datetime, zone: tzinfo) -> str:
    """``2026-12-07 08:00`` in the group's zone (seconds only when there are any)."""
    local = when.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")


def _input_lines(stdin: TextIO) -> Iterable[str]:
    if not stdin.isatty():
        yield from stdin
        return
    while True:
        try:
            yield input(PROMPT)
        except EOFError:
            return


__all__ = ["EXIT_BROKEN_SCRIPT", "EXIT_CRASH", "EXIT_OK", "ConsoleSession"]
