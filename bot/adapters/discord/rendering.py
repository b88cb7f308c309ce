"""Turning reply data into Discord messages: text, files, buttons and mentions.

A text longer than Discord allows is cut and attached whole. The cut never falls inside a
mention (``<@123>``), a character (a surrogate pair) or a character's combining marks, and
a code block left open is closed, so what is shown still renders as intended.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.adapters.discord.cogs.admin import discord_path
from bot.adapters.discord.quiz_views import is_quiz, quiz_view
from bot.adapters.discord.views import actions_view
from bot.i18n import discord_commands, render, text
from bot.replies import Mention, Reply, Visibility

__all__ = [
    "ALLOWED_MENTIONS",
    "MAX_CONTENT",
    "Outgoing",
    "discord_mention",
    "locale_of_user",
    "render_reply",
    "safe_cut",
]

MAX_CONTENT = 2000
FULL_TEXT_FILENAME = "message.txt"
FENCE = "```"
ZWJ = "\u200d"
# the start of a tag whose ">" was cut off: <@1>, <@!1>, <@&1>, <#1>, <:e:1>, <a:e:1>, <t:1>
_OPEN_TAG = re.compile(r"<(?:@[!&]?|#|a?:|t:|/)[^<>\s]{0,100}\Z")
_USER_MENTION = re.compile(r"<@!?(\d+)>")

# The synced top-level commands' ids by name: with one known, an English message names
# the command as a clickable mention (``</member join:ID>``); without, as text. Korean
# messages always show the Korean names as text (Discord shows a mention by its base name).
COMMAND_IDS: dict[str, int] = {}
COMMANDS_AS_SHOWN = discord_commands(discord_path, COMMAND_IDS)

# Users named in a reply may be pinged; @everyone and roles never.
ALLOWED_MENTIONS = discord.AllowedMentions(everyone=False, roles=False, users=True)


def discord_mention(mention: Mention) -> str:
    return f"<@{mention.user_id}>"


def locale_of_user(locale: discord.Locale, default: str) -> str:
    """A catalogue locale for someone outside any group (e.g. in a DM)."""
    if locale is discord.Locale.korean:
        return "ko"
    if locale.value.startswith("en"):
        return "en"
    return default


@dataclass
class Outgoing:
    """One Discord message, ready to send. Files are built fresh for each message."""

    content: str
    ephemeral: bool
    files: list[discord.File] = field(default_factory=list)
    view: discord.ui.View | None = None

    @property
    def pings(self) -> frozenset[int]:
        """Users the message notifies when it is sent as a new message (the allowed
        mentions let every user mention through; an edit notifies nobody)."""
        if self.ephemeral:
            return frozenset()
        return frozenset(int(user) for user in _USER_MENTION.findall(self.content))

    def send_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Messageable.send`` (a channel post)."""
        kwargs: dict[str, Any] = {"content": self.content, "allowed_mentions": ALLOWED_MENTIONS}
        if self.files:
            kwargs["files"] = self.files
        if self.view is not None:
            kwargs["view"] = self.view
        return kwargs

    def response_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for an interaction response or follow-up."""
        return {**self.send_kwargs(), "ephemeral": self.ephemeral}

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Interaction.edit_original_response`` (files as attachments)."""
        kwargs: dict[str, Any] = {"content": self.content, "allowed_mentions": ALLOWED_MENTIONS}
        if self.files:
            kwargs["attachments"] = self.files
        if self.view is not None:
            kwargs["view"] = self.view
        return kwargs


def _extends(char: str) -> bool:
    """Whether ``char`` belongs to the character before it (a combining mark, a joiner,
    a variation selector, a skin tone or a tag of an emoji)."""
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char == ZWJ
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or "\U000e0020" <= char <= "\U000e007f"
    )


def _is_flag_half(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def _splits(full: str, end: int) -> bool:
    """Whether cutting ``full`` before index ``end`` splits a character or a grapheme."""
    if not 0 < end < len(full):
        return False
    before, after = full[end - 1], full[end]
    if "\ud800" <= before <= "\udbff" or _extends(after) or before == ZWJ:
        return True
    if _is_flag_half(before) and _is_flag_half(after):  # a flag is two letters: keep pairs
        start = end
        while start > 0 and _is_flag_half(full[start - 1]):
            start -= 1
        return (end - start) % 2 == 1
    return False


def safe_cut(full: str, limit: int) -> str:
    """The longest start of ``full`` within ``limit`` characters that ends inside no
    character, grapheme, mention (or other ``<…>`` tag) or run of backticks."""
    end = min(limit, len(full))
    while _splits(full, end):
        end -= 1
    tag = _OPEN_TAG.search(full[:end])
    if tag is not None:
        end = tag.start()
    while 0 < end < len(full) and full[end - 1] == "`" and full[end] == "`":
        end -= 1
    return full[:end]


def _fit(full: str, locale: str) -> tuple[str, discord.File | None]:
    """``full`` as it fits in a message, and the whole text as a file when it was cut."""
    if len(full) <= MAX_CONTENT:
        return full, None
    note = text(locale, "discord.truncated")
    room = MAX_CONTENT - len(note) - len("…\n" + FENCE + "\n")
    head = safe_cut(full, room).rstrip()
    closing = f"\n{FENCE}" if head.count(FENCE) % 2 else ""  # close an open code block
    head = f"{head}…{closing}"
    attached = discord.File(io.BytesIO(full.encode("utf-8")), filename=FULL_TEXT_FILENAME)
    return f"{head}\n{note}", attached


def render_reply(reply: Reply, locale: str, *, lead: str | None = None) -> Outgoing:
    """Render a reply in a locale: ``<@id>`` mentions, long text as a file, actions as
    buttons; ``lead`` is a line put before it (e.g. naming whom a late answer is for)."""
    full = render(reply, locale, discord_mention, command=COMMANDS_AS_SHOWN)
    if lead is not None:
        full = f"{lead}\n{full}"
    content, full_text = _fit(full, locale)
    files = [discord.File(io.BytesIO(a.data), filename=a.filename) for a in reply.attachments]
    if full_text is not None:
        files.insert(0, full_text)
    return Outgoing(
        content=content,
        ephemeral=reply.visibility is Visibility.PRIVATE,
        files=files,
        view=(quiz_view if is_quiz(reply.actions) else actions_view)(reply.actions, locale),
    )
