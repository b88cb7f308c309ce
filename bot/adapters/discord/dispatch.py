"""Running a command for an interaction: who calls in which group, then the reply.

Discord drops an interaction that is not answered within 3 seconds. When the answer takes
longer than ``StudyBot.defer_after`` (2 s), the interaction is deferred first: a command
shows a public "thinking…" message, which the reply then replaces (a public reply edits
it; a private one deletes it and follows up privately, since a follow-up cannot make a
public deferral private); a button leaves its message as it is until the reply comes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.adapters.discord.rendering import Outgoing, render_reply
from bot.commands import Call
from bot.core import Core
from bot.errors import DomainError
from bot.replies import Reply, Visibility
from bot.services.context import Actor
from bot.services.groups import get_group

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

__all__ = [
    "DEFER_AFTER",
    "THINKING",
    "answer_in_time",
    "call_for",
    "group_locale",
    "is_platform_admin",
    "press_button",
    "respond",
    "run_command",
    "succeeded",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFER_AFTER = 2.0  # seconds; Discord waits 3 for the first answer
THINKING = "studybot.thinking"  # in Interaction.extras while a deferred "thinking…" message waits


def is_platform_admin(interaction: discord.Interaction[Any], admin_role: str | None) -> bool:
    """Manage Server in this channel, or a role named like the configured admin role."""
    if interaction.permissions.manage_guild:
        return True
    roles = getattr(interaction.user, "roles", ())
    return admin_role is not None and any(role.name == admin_role for role in roles)


async def call_for(bot: StudyBot, interaction: discord.Interaction[Any]) -> Call:
    """The caller and their guild's group; refuses direct messages."""
    if interaction.guild_id is None:
        raise DomainError("discord.guild_only")
    group_id = await bot.core.group_for_guild(interaction.guild_id)
    user = interaction.user
    admin = is_platform_admin(interaction, bot.settings.admin_role)
    return Call(group_id, Actor(user.id, user.display_name, admin))


def _group_locale_sync(core: Core, group_id: int) -> str:
    with core.services.transaction() as session:
        return get_group(session, group_id).locale


async def group_locale(core: Core, group_id: int) -> str:
    return await core.run(_group_locale_sync, core, group_id)


async def respond(interaction: discord.Interaction[Any], message: Outgoing) -> None:
    """Answer the interaction, replace its "thinking…" message, or follow up."""
    if not interaction.response.is_done():
        await interaction.response.send_message(**message.response_kwargs())
    elif interaction.extras.pop(THINKING, False):
        await _replace_thinking(interaction, message)
    else:
        await interaction.followup.send(**message.response_kwargs())


async def _replace_thinking(interaction: discord.Interaction[Any], message: Outgoing) -> None:
    if message.ephemeral:
        await interaction.delete_original_response()
        await interaction.followup.send(**message.response_kwargs())
    else:
        await interaction.edit_original_response(**message.edit_kwargs())


async def answer_in_time(
    bot: StudyBot, interaction: discord.Interaction[Any], work: Awaitable[T], *, thinking: bool
) -> T:
    """Await ``work``, deferring the interaction if it takes longer than ``bot.defer_after``.

    ``thinking``: show a public "thinking…" message (commands); otherwise the deferral is
    silent (buttons: their message stays until the reply comes).
    """
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=bot.defer_after)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done and not interaction.response.is_done():
        try:
            await interaction.response.defer(thinking=thinking)
        except discord.HTTPException:
            log.warning("could not defer interaction %s", interaction.id, exc_info=True)
        else:
            if thinking:
                interaction.extras[THINKING] = True
    return await task


async def _prepare(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    path: tuple[str, ...],
    options: dict[str, Any],
) -> tuple[Call, Reply, Outgoing]:
    call = await call_for(bot, interaction)
    reply = await bot.core.invoke(path, call, options)
    message = render_reply(reply, await group_locale(bot.core, call.group_id))
    return call, reply, message


def succeeded(reply: Reply) -> bool:
    """False for the replies the core makes of refusals and errors (``error.*`` keys)."""
    return not reply.key.startswith("error.")


async def run_command(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    path: tuple[str, ...],
    options: dict[str, Any],
) -> tuple[Call, Reply]:
    """Invoke a command with the options given (None = not given) and send its reply."""
    given = {name: value for name, value in options.items() if value is not None}
    work = _prepare(bot, interaction, path, given)
    call, reply, message = await answer_in_time(bot, interaction, work, thinking=True)
    await respond(interaction, message)
    return call, reply


async def press_button(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    path: tuple[str, ...],
    options: dict[str, Any],
) -> Reply:
    """A button runs its command; a public answer replaces the buttons and is posted."""
    work = _prepare(bot, interaction, path, options)
    _call, reply, message = await answer_in_time(bot, interaction, work, thinking=False)
    if reply.visibility is Visibility.PUBLIC:
        if interaction.response.is_done():  # deferred: the message is the original response
            await interaction.edit_original_response(view=None)
        else:
            await interaction.response.edit_message(view=None)
        await interaction.followup.send(**message.response_kwargs())
    else:
        await respond(interaction, message)
    return reply
