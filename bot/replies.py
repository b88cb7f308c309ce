"""Reply data: what a service answers, independent of any front end.

A reply names a message key and its parameters; front ends render it in the group's
locale. Parameters may hold ``Mention`` values (a user the front end may ping) and
``Text`` values (another message key, rendered in the same locale) and ``CommandRef``
values (a command, shown as each front end's users type it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from typing import Any


class Visibility(StrEnum):
    PUBLIC = "public"  # a post in the group's channel (or the thread named)
    PRIVATE = "private"  # only the acting user sees it (ephemeral / direct)


@dataclass(frozen=True)
class Mention:
    user_id: int
    name: str


@dataclass(frozen=True)
class Text:
    """A nested message key, rendered in the reply's locale."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CommandRef:
    """A command named in a message, with options to show after it.

    Each front end renders it as its users type it: the console ``/member join`` (the
    command table's names), Discord ``/멤버 참여`` for a Korean reader and ``/member join``
    (or a clickable mention) in English. Catalogues write one inline as
    ``{/member join}`` or ``{/away from:날짜 to:날짜}``; code may pass one as a parameter.
    """

    path: str  # the command table's words: "member join"
    options: tuple[tuple[str, str], ...] = ()  # (option, value as shown), in order

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.path.split())

    @classmethod
    def parse(cls, spec: str) -> CommandRef:
        """``"away from:날짜 to:날짜"`` → path ``away`` and two options; an option's value
        runs to the next ``name:`` (so it may hold spaces: ``note:오늘 한 일``)."""
        parts = re.split(r"(?:^|\s+)([a-z_]+):", spec.strip())
        path = parts[0].strip()
        options = tuple((parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2))
        return cls(path, options)


@dataclass(frozen=True)
class OptionRef:
    """An option of a command named in a message (``{option:progress log task}``): the
    console shows ``task``, Discord the name its reader sees (Korean: ``과제``)."""

    command: str  # "progress log"
    option: str  # "task"


@dataclass(frozen=True)
class Action:
    """A choice offered with a reply: a button on Discord, a command line in the console."""

    kind: str  # e.g. "swap_accept"
    target_id: int
    label_key: str
    command: str  # the console line that does the same, e.g. "/mod accept id:3"


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Drawing:
    """An attachment drawn only after the unit of work (charts): the database is never
    held while ``draw`` runs. ``Reply.finish`` turns drawings into attachments."""

    filename: str
    draw: Callable[[], bytes]


@dataclass(frozen=True)
class SettingsChanged:
    """The group's settings changed; ``retime``: its duties now fall due at other times."""

    fields: tuple[str, ...]
    retime: bool


@dataclass(frozen=True)
class Created:
    """A command created a row the front end may refer to (``kind``: what, ``id``: its id)."""

    kind: str
    id: int


Outcome = SettingsChanged | Created


@dataclass
class Reply:
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    visibility: Visibility = Visibility.PRIVATE
    lines: list[Text] = field(default_factory=list)  # extra lines after the main text
    actions: list[Action] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    thread: str | None = None  # post into a thread of this name (public replies)
    outcome: Outcome | None = None  # what changed, for the front end to act on (not stored)
    drawings: list[Drawing] = field(default_factory=list)  # attachments still to draw

    def finish(self) -> Reply:
        """Draw what waits to be drawn (call once the transaction is over)."""
        while self.drawings:
            drawing = self.drawings.pop(0)
            self.attachments.append(Attachment(drawing.filename, drawing.draw()))
        return self

    @classmethod
    def public(cls, key: str, **params: Any) -> Reply:
        return cls(key=key, params=params, visibility=Visibility.PUBLIC)

    @classmethod
    def private(cls, key: str, **params: Any) -> Reply:
        return cls(key=key, params=params, visibility=Visibility.PRIVATE)


# --- JSON form, for the outbox -------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, Mention):
        return {"$mention": [value.user_id, value.name]}
    if isinstance(value, Text):
        return {"$text": [value.key, {k: _encode_value(v) for k, v in value.params.items()}]}
    if isinstance(value, CommandRef):
        return {"$command": [value.path, [list(pair) for pair in value.options]]}
    if isinstance(value, OptionRef):
        return {"$option": [value.command, value.option]}
    if isinstance(value, list | tuple):
        return [_encode_value(v) for v in value]
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, time):
        return {"$time": value.strftime("%H:%M")}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "$mention" in value:
            user_id, name = value["$mention"]
            return Mention(int(user_id), str(name))
        if "$text" in value:
            key, params = value["$text"]
            return Text(key, {k: _decode_value(v) for k, v in params.items()})
        if "$command" in value:
            path, options = value["$command"]
            return CommandRef(str(path), tuple((str(k), str(v)) for k, v in options))
        if "$option" in value:
            command, option = value["$option"]
            return OptionRef(str(command), str(option))
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$time" in value:
            return time.fromisoformat(value["$time"])
    if isinstance(value, list):
        return [_decode_value(v) for v in value]
    return value


def reply_to_json(reply: Reply) -> dict[str, Any]:
    if reply.attachments or reply.drawings:
        raise ValueError("attachments are not stored in the outbox")
    return {
        "key": reply.key,
        "params": {k: _encode_value(v) for k, v in reply.params.items()},
        "visibility": str(reply.visibility),
        "lines": [_encode_value(t) for t in reply.lines],
        "actions": [[a.kind, a.target_id, a.label_key, a.command] for a in reply.actions],
        "thread": reply.thread,
    }


def reply_from_json(data: dict[str, Any]) -> Reply:
    return Reply(
        key=data["key"],
        params={k: _decode_value(v) for k, v in data.get("params", {}).items()},
        visibility=Visibility(data.get("visibility", "public")),
        lines=[_decode_value(t) for t in data.get("lines", [])],
        actions=[Action(k, int(t), lk, c) for k, t, lk, c in data.get("actions", [])],
        thread=data.get("thread"),
    )
