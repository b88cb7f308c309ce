"""Running a command for an interaction: who calls in which group, then the reply.

Discord drops an interaction that is not answered within 3 seconds. When the answer takes
longer than ``StudyBot.defer_after`` (2 s), the interaction is deferred first: a command
shows a public "thinking…" message, which the reply then replaces (a public reply edits
it; a private one deletes it and follows up privately, since a follow-up cannot make a
public deferral private); a button leaves its message as it is until the reply comes.
Commands that run code are deferred at once (a run takes longer than 3 seconds); what the
run says meanwhile ("you are 2nd in line") is sent as a follow-up.

After the reply the front end acts on its typed outcome: settings that move the duties'
times re-time the group's scheduled jobs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.adapters.discord.rendering import Outgoing, render_reply
from bot.commands import COMMANDS, Call
from bot.core import Core
from bot.errors import DomainError
from bot.replies import Reply, SettingsChanged, Visibility
from bot.services.code_runs import Notify
from bot.services.context import Actor

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

__all__ = [
    "DEFER_AFTER",
    "THINKING",
    "act_on",
    "answer_in_time",
    "call_for",
    "group_locale",
    "is_platform_admin",
    "press_button",
    "respond",
    "run_command",
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


async def group_locale(core: Core, group_id: int) -> str:
    return (await core.group_info(group_id)).locale


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
    """Invoke the command and render its reply (in the group's language after it ran: the
    command may have changed it). A command that runs code defers at once and sends what
    the run says meanwhile as follow-ups."""
    call = await call_for(bot, interaction)
    notify: Notify | None = None
    command = COMMANDS.get(path)
    if command is not None and command.runs_code:
        locale = await group_locale(bot.core, call.group_id)
        if not interaction.response.is_done():
            await interaction.response.defer(thinking=True)
            interaction.extras[THINKING] = True

        async def follow_up(reply: Reply) -> None:
            await interaction.followup.send(**render_reply(reply, locale).response_kwargs())

        notify = follow_up
    reply = await bot.core.invoke(path, call, options, notify)
    message = render_reply(reply, await group_locale(bot.core, call.group_id))
    return call, reply, message


async def run_command(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    path: tuple[str, ...],
    options: dict[str, Any],
) -> tuple[Call, Reply]:
    """Invoke a command with the options given (None = not given), send its reply and act
    on its outcome."""
    given = {name: value for name, value in options.items() if value is not None}
    work = _prepare(bot, interaction, path, given)
    call, reply, message = await answer_in_time(bot, interaction, work, thinking=True)
    await respond(interaction, message)
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
    call, reply, message = await answer_in_time(bot, interaction, work, thinking=False)
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
