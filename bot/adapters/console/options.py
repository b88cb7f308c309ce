"""From a spoken line's words to a command of the shared table and its typed options.

Problems here are bot refusals (``InvalidInput`` with a catalogue key), shown privately
to the speaker, exactly like Discord would refuse a bad option.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.adapters.console.group import CONSOLE_CHANNEL_ID
from bot.adapters.console.parser import is_console_name
from bot.commands import COMMANDS, ChannelRef, Command, Option, UserRef
from bot.errors import InvalidInput
from bot.replies import Text
from bot.services.groups import parse_bool

UserResolver = Callable[[str], UserRef]


@dataclass(frozen=True)
class Invocation:
    command: Command
    raw_options: tuple[tuple[str, str], ...]


class IncompleteCommand(InvalidInput):
    """A command group's name alone (``/member``) or with an unknown subcommand: the
    refusal lists the group's commands (``lines``)."""

    def __init__(self, key: str, group: str, **params: object) -> None:
        super().__init__(key, group="/" + group, **params)
        self.lines = [command_line(c) for c in subcommands(group)]


def subcommands(group: str) -> list[Command]:
    """The commands under a group name (``member`` → ``/member join``, ...), table order."""
    return [c for c in COMMANDS.values() if len(c.path) > 1 and c.path[0] == group]


def usage(command: Command) -> str:
    """``/mod swap with: [member:] [force:]``: the command and its options."""
    words = ["/" + command.name]
    words += [f"{o.name}:" if o.required else f"[{o.name}:]" for o in command.options]
    return " ".join(words)


def command_line(command: Command) -> Text:
    """One line of a command list: its usage and the table's description of it."""
    description = Text("cmd." + ".".join(command.path) + ".description")
    return Text("console.help_command", {"usage": usage(command), "description": description})


def find_command(tokens: tuple[str, ...]) -> Invocation:
    """The longest leading run of words that names a command, then ``key:value`` pairs."""
    words: list[str] = []
    for token in tokens:
        if ":" in token:
            break
        words.append(token)
    lowered = tuple(w.lower() for w in words)
    command = None
    for size in range(len(lowered), 0, -1):
        command = COMMANDS.get(lowered[:size])
        if command is not None:
            break
    if command is None:
        if lowered and subcommands(lowered[0]):
            if len(lowered) == 1:
                raise IncompleteCommand("console.subcommands", lowered[0])
            name = "/" + " ".join(words)
            raise IncompleteCommand("console.unknown_subcommand", lowered[0], name=name)
        raise InvalidInput("error.unknown_command", name="/" + " ".join(words))
    pairs: list[tuple[str, str]] = []
    for token in tokens[len(command.path) :]:
        key, colon, value = token.partition(":")
        if not colon or not key:
            raise InvalidInput("console.stray_word", word=token)
        pairs.append((key.lower().replace("-", "_"), value))
    return Invocation(command, tuple(pairs))


def convert_options(invocation: Invocation, resolve_user: UserResolver) -> dict[str, Any]:
    """Check names, required options and values; then resolve the users named."""
    command = invocation.command
    known = {option.name: option for option in command.options}
    values: dict[str, Any] = {}
    for key, raw in invocation.raw_options:
        option = known.get(key)
        if option is None:
            raise InvalidInput(
                "error.unknown_option",
                command="/" + command.name,
                name=key,
                options=", ".join(known) or "-",
            )
        values[key] = _convert(option, raw)
    for option in command.options:
        if option.required and option.name not in values:
            raise InvalidInput("error.missing_option", command="/" + command.name, name=option.name)
    for key, value in values.items():
        if known[key].kind == "user":
            values[key] = resolve_user(value)
    return values


def _convert(option: Option, raw: str) -> Any:
    """A typed value; users stay names here and are resolved once all options passed.

    Full-width digits and signs read as ASCII ('１２' is 12); booleans take what
    ``parse_bool`` does (on/off, 켬/끔, 예/아니요, ...)."""
    value = unicodedata.normalize("NFKC", raw).strip()
    if option.kind == "int":
        try:
            return int(value)
        except ValueError:
            raise _bad(option, raw, "console.hint_int") from None
    if option.kind == "float":
        try:
            number = float(value)
        except ValueError:
            raise _bad(option, raw, "console.hint_float") from None
        if not math.isfinite(number):  # Discord's number options are finite too
            raise _bad(option, raw, "console.hint_float")
        return number
    if option.kind == "bool":
        try:
            return parse_bool(value)
        except InvalidInput:
            raise _bad(option, raw, "console.hint_bool") from None
    if option.kind == "user":
        name = value.removeprefix("@")
        if not is_console_name(name):
            raise _bad(option, raw, "console.hint_user")
        return name
    if option.kind == "channel":
        name = value.removeprefix("#")
        if not is_console_name(name):
            raise _bad(option, raw, "console.hint_channel")
        return ChannelRef(CONSOLE_CHANNEL_ID, name)
    return raw  # str and date: the command parses them


def _bad(option: Option, raw: str, hint: str) -> InvalidInput:
    return InvalidInput("error.bad_option", name=option.name, value=raw, hint=Text(hint))
