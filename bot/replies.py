"""Reply data: what a service answers, independent of any front end.

A reply names a message key and its parameters; front ends render it in the group's
locale. Parameters may hold ``Mention`` values (a user the front end may ping) and
``Text`` values (another message key, rendered in the same locale).
"""

from __future__ import annotations

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
