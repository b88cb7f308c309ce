"""Running a command for an interaction: who calls in which group, then the reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    "call_for",
    "group_locale",
    "is_platform_admin",
    "press_button",
    "respond",
    "run_command",
    "succeeded",
]


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
    """Answer the interaction, or follow up when it was answered already."""
    if interaction.response.is_done():
        await interaction.followup.send(**message.response_kwargs())
    else:
        await interaction.response.send_message(**message.response_kwargs())


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
    call = await call_for(bot, interaction)
    given = {name: value for name, value in options.items() if value is not None}
    reply = await bot.core.invoke(path, call, given)
    locale = await group_locale(bot.core, call.group_id)
    await respond(interaction, render_reply(reply, locale))
    return call, reply


async def press_button(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    path: tuple[str, ...],
    options: dict[str, Any],
) -> Reply:
    """A button runs its command; a public answer replaces the buttons and is posted."""
    call = await call_for(bot, interaction)
    reply = await bot.core.invoke(path, call, options)
    message = render_reply(reply, await group_locale(bot.core, call.group_id))
    if reply.visibility is Visibility.PUBLIC:
        await interaction.response.edit_message(view=None)
        await interaction.followup.send(**message.response_kwargs())
    else:
        await respond(interaction, message)
    return reply
