"""Running a command for an interaction: who calls in which group, then the reply, as
Discord will show it.

Discord drops an interaction that is not answered within 3 seconds of its creation (its
snowflake id says when). When the answer is not ready ``StudyBot.defer_after`` (2 s) after
that moment, measured on the bot's clock, the interaction is deferred first:

- a command shows a "thinking…" message, private when the command's answer is known to be
  private (``Command.visibility``), else public. The answer replaces it: an edit when it
  is seen by the same people and notifies nobody else, otherwise the thinking message is
  deleted and the answer sent as a new message (a follow-up). Discord cannot turn a public
  message private, and an edited message never notifies anyone, so a swap request naming
  ``@bob`` must be new to reach him.
- a button defers quietly: its message stays as it is until the reply comes.

Commands that run code defer at once (a run takes longer than 3 seconds). While the
thinking message is shown, Discord would turn the first follow-up into an edit of it,
visible to all; so before "you are 2nd in line" is sent, privately, the thinking message
becomes a public "waiting for a turn" line that the result then replaces.

An interaction's token lasts 15 minutes. An answer that comes later (a long queued run) is
posted in the channel, naming whom it is for (a private one as a direct message).

After the reply the front end acts on its typed outcome: settings that move the duties'
times re-time the group's scheduled jobs.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.adapters.discord.client import bot_of
from bot.adapters.discord.rendering import (
    ALLOWED_MENTIONS,
    Outgoing,
    discord_mention,
    locale_of_user,
    render_reply,
)
from bot.commands import COMMANDS, Call
from bot.core import Core
from bot.errors import DomainError
from bot.i18n import text
from bot.replies import Mention, Reply, SettingsChanged, Visibility
from bot.services.code_runs import Notify
from bot.services.context import Actor

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

__all__ = [
    "DEFER_AFTER",
    "ORIGINAL",
    "TOKEN_LIFETIME",
    "Original",
    "act_on",
    "answer_in_time",
    "call_for",
    "form_locale",
    "group_locale",
    "is_platform_admin",
    "known_locale",
    "press_button",
    "respond",
    "run_command",
    "token_expired",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFER_AFTER = 2.0  # seconds after the interaction's creation; Discord waits 3 for an answer
TOKEN_LIFETIME = timedelta(minutes=15)  # follow-ups and edits work this long
TOKEN_MARGIN = timedelta(seconds=30)  # closer to the end than this, post in the channel
ORIGINAL = "studybot.original"  # in Interaction.extras while a deferral's message waits


@dataclass
class Original:
    """The deferral's "thinking…" message, while the bot still owes the answer."""

    ephemeral: bool
    loading: bool = True  # still "thinking…": Discord turns the first follow-up into an edit


# --- time ------------------------------------------------------------------------------


def now(interaction: discord.Interaction[Any]) -> datetime:
    """The current time by the bot's clock (the core's: injected, so tests move it)."""
    return bot_of(interaction).core.services.clock.now()


def _age(interaction: discord.Interaction[Any]) -> timedelta:
    return now(interaction) - interaction.created_at


def token_expired(interaction: discord.Interaction[Any]) -> bool:
    """Whether the interaction's token is (about to be) too old for follow-ups and edits."""
    return _age(interaction) >= TOKEN_LIFETIME - TOKEN_MARGIN


def _until_deferral(bot: StudyBot, interaction: discord.Interaction[Any]) -> float:
    """Seconds left before the interaction must be deferred (never more than
    ``bot.defer_after``, whatever the clocks say)."""
    left = bot.defer_after - _age(interaction).total_seconds()
    return min(bot.defer_after, max(0.0, left))


# --- who calls, in which language --------------------------------------------------------


def is_platform_admin(interaction: discord.Interaction[Any], admin_role: str | None) -> bool:
    """Manage Server in this channel, or a role named like the configured admin role."""
    if interaction.permissions.manage_guild:
        return True
    roles = getattr(interaction.user, "roles", ())
    return admin_role is not None and any(role.name == admin_role for role in roles)


def require_guild(interaction: discord.Interaction[Any]) -> int:
    """The interaction's guild id; refuses direct messages."""
    if interaction.guild_id is None:
        raise DomainError("discord.guild_only")
    return interaction.guild_id


async def call_for(bot: StudyBot, interaction: discord.Interaction[Any]) -> Call:
    """The caller and their guild's group; refuses direct messages."""
    group_id = await bot.core.group_for_guild(require_guild(interaction))
    user = interaction.user
    admin = is_platform_admin(interaction, bot.settings.admin_role)
    return Call(group_id, Actor(user.id, user.display_name, admin))


# The language each guild's group spoke when last seen, per core (so per database).
_LOCALES: weakref.WeakKeyDictionary[Core, dict[int, str]] = weakref.WeakKeyDictionary()


async def group_locale(core: Core, group_id: int, guild_id: int | None = None) -> str:
    """The group's language, remembered for ``guild_id`` (see ``known_locale``)."""
    locale = (await core.group_info(group_id)).locale
    if guild_id is not None:
        _LOCALES.setdefault(core, {})[guild_id] = locale
    return locale


def known_locale(core: Core, guild_id: int) -> str | None:
    """The guild's group's language as last seen, without asking the database."""
    return _LOCALES.get(core, {}).get(guild_id)


def form_locale(bot: StudyBot, interaction: discord.Interaction[Any]) -> str:
    """A form's language, at once: the group's as last seen, else the caller's own."""
    guild_id = require_guild(interaction)
    known = known_locale(bot.core, guild_id)
    if known is not None:
        return known
    return locale_of_user(interaction.locale, bot.settings.default_locale)


# --- answering ---------------------------------------------------------------------------


async def defer(interaction: discord.Interaction[Any], *, thinking: bool, ephemeral: bool) -> None:
    """Acknowledge now, answer later. ``thinking``: show a "thinking…" message (private
    when ``ephemeral``); otherwise the deferral is silent (a button's message stays)."""
    try:
        await interaction.response.defer(thinking=thinking, ephemeral=ephemeral)
    except discord.HTTPException:
        log.warning("could not defer interaction %s", interaction.id, exc_info=True)
    else:
        if thinking:
            interaction.extras[ORIGINAL] = Original(ephemeral)


async def answer_in_time(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    work: Awaitable[T],
    *,
    thinking: bool,
    ephemeral: bool = False,
) -> T:
    """Await ``work``, deferring the interaction when it is not done ``bot.defer_after``
    seconds after the interaction was created (see ``defer``)."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=_until_deferral(bot, interaction))
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done and not interaction.response.is_done():
        await defer(interaction, thinking=thinking, ephemeral=ephemeral)
    return await task


def _pings_others(interaction: discord.Interaction[Any], message: Outgoing) -> bool:
    return bool(message.pings - {interaction.user.id})


async def respond(interaction: discord.Interaction[Any], message: Outgoing) -> None:
    """Answer the interaction, replace its "thinking…" message, or follow up; when its
    token has expired, post in the channel (a private answer: as a direct message)."""
    if not interaction.response.is_done():
        await interaction.response.send_message(**message.response_kwargs())
        return
    original: Original | None = interaction.extras.pop(ORIGINAL, None)
    if token_expired(interaction):
        await _post_late(interaction, message)
    elif original is None:
        await interaction.followup.send(**message.response_kwargs())
    elif original.ephemeral == message.ephemeral and not _pings_others(interaction, message):
        await interaction.edit_original_response(**message.edit_kwargs())
    else:  # a new message: other people to see it, or someone to notify
        await interaction.delete_original_response()
        await interaction.followup.send(**message.response_kwargs())


async def _post_late(interaction: discord.Interaction[Any], message: Outgoing) -> None:
    channel = interaction.channel
    if message.ephemeral:
        await interaction.user.send(**message.send_kwargs())
    elif isinstance(channel, discord.abc.Messageable):
        await channel.send(**message.send_kwargs())
    else:
        log.warning("no channel for the late answer to interaction %s", interaction.id)


async def _notice(interaction: discord.Interaction[Any], message: Outgoing, waiting: str) -> None:
    """A message sent while a run goes on ("you are 2nd in line"), as a new message."""
    if token_expired(interaction):
        return  # nobody is waiting on this interaction any more
    original: Original | None = interaction.extras.get(ORIGINAL)
    if original is not None and original.loading:  # else Discord edits "thinking…" with it
        await interaction.edit_original_response(content=waiting, allowed_mentions=ALLOWED_MENTIONS)
        original.loading = False
    await interaction.followup.send(**message.response_kwargs())


async def _prepare(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    path: tuple[str, ...],
    options: dict[str, Any],
) -> tuple[Call, Reply, str]:
    """Invoke the command; the reply, and the group's language after it ran (the command
    may have changed it). A command that runs code sends what the run says meanwhile."""
    call = await call_for(bot, interaction)
    notify: Notify | None = None
    command = COMMANDS.get(path)
    if command is not None and command.runs_code:
        locale = await group_locale(bot.core, call.group_id, interaction.guild_id)

        async def notice(reply: Reply) -> None:
            waiting = text(locale, "discord.run_waiting")
            await _notice(interaction, render_reply(reply, locale), waiting)

        notify = notice
    reply = await bot.core.invoke(path, call, options, notify)
    return call, reply, await group_locale(bot.core, call.group_id, interaction.guild_id)


async def run_command(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    path: tuple[str, ...],
    options: dict[str, Any],
) -> tuple[Call, Reply]:
    """Invoke a command with the options given (None = not given), send its reply and act
    on its outcome."""
    given = {name: value for name, value in options.items() if value is not None}
    command = COMMANDS.get(path)
    private = command is not None and command.visibility is Visibility.PRIVATE
    if command is not None and command.runs_code:  # slow for sure: acknowledge first
        await defer(interaction, thinking=True, ephemeral=private)
    work = _prepare(bot, interaction, path, given)
    call, reply, locale = await answer_in_time(
        bot, interaction, work, thinking=True, ephemeral=private
    )
    lead = None
    if interaction.response.is_done() and token_expired(interaction):
        actor = Mention(call.actor.user_id, call.actor.name)
        lead = text(locale, "discord.late_answer", {"name": actor}, discord_mention)
    await respond(interaction, render_reply(reply, locale, lead=lead))
    await act_on(bot, call, reply)
    return call, reply


async def act_on(bot: StudyBot, call: Call, reply: Reply) -> None:
    """What the front end does about a reply's outcome."""
    if isinstance(reply.outcome, SettingsChanged) and reply.outcome.retime:
        await bot.refresh_schedule(call.group_id)


async def press_button(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    path: tuple[str, ...],
    options: dict[str, Any],
) -> Reply:
    """A button runs its command; a public answer replaces the buttons and is posted."""
    work = _prepare(bot, interaction, path, options)
    call, reply, locale = await answer_in_time(bot, interaction, work, thinking=False)
    message = render_reply(reply, locale)
    if reply.visibility is Visibility.PUBLIC:
        if interaction.response.is_done():  # deferred: the message is the original response
            await interaction.edit_original_response(view=None)
        else:
            await interaction.response.edit_message(view=None)
        await interaction.followup.send(**message.response_kwargs())
    else:
        await respond(interaction, message)
    await act_on(bot, call, reply)
    return reply
