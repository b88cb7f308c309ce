"""Turning reply data into Discord messages: text, files, buttons and mentions."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.adapters.discord.views import actions_view
from bot.i18n import render, text
from bot.replies import Mention, Reply, Visibility

__all__ = [
    "ALLOWED_MENTIONS",
    "MAX_CONTENT",
    "Outgoing",
    "discord_mention",
    "locale_of_user",
    "render_reply",
]

MAX_CONTENT = 2000
FULL_TEXT_FILENAME = "message.txt"

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


def _fit(full: str, locale: str) -> tuple[str, discord.File | None]:
    if len(full) <= MAX_CONTENT:
        return full, None
    note = text(locale, "discord.truncated")
    head = full[: MAX_CONTENT - len(note) - 2].rstrip()
    attached = discord.File(io.BytesIO(full.encode("utf-8")), filename=FULL_TEXT_FILENAME)
    return f"{head}…\n{note}", attached


def render_reply(reply: Reply, locale: str) -> Outgoing:
    """Render a reply in a locale: ``<@id>`` mentions, long text as a file, actions as buttons."""
    content, full_text = _fit(render(reply, locale, discord_mention), locale)
    files = [discord.File(io.BytesIO(a.data), filename=a.filename) for a in reply.attachments]
    if full_text is not None:
        files.insert(0, full_text)
    return Outgoing(
        content=content,
        ephemeral=reply.visibility is Visibility.PRIVATE,
        files=files,
        view=actions_view(reply.actions, locale),
    )
