"""The one place Discord errors become messages: library errors are mapped to domain
errors, then ``bot.core.error_reply`` decides what the user sees (unexpected ones are
logged there with an id). The answer is always private and never shows a traceback."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.adapters.discord.dispatch import group_locale, known_locale, respond
from bot.adapters.discord.rendering import locale_of_user, render_reply
from bot.core import error_reply
from bot.errors import DomainError, InvalidInput, PermissionDenied
from bot.replies import Visibility

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

__all__ = ["as_domain_error", "report_error"]

log = logging.getLogger(__name__)


def as_domain_error(error: BaseException) -> BaseException:
    """Unwrap what discord.py wrapped; name the refusals it makes itself."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, app_commands.CommandNotFound):  # synced commands are out of date
        return DomainError(
            "error.unknown_command", name="/" + " ".join([*error.parents, error.name])
        )
    if isinstance(error, app_commands.CommandSignatureMismatch):
        return DomainError("error.unknown_command", name="/" + error.command.qualified_name)
    if isinstance(error, app_commands.NoPrivateMessage):
        return DomainError("discord.guild_only")
    if isinstance(error, app_commands.TransformerError):
        return InvalidInput("discord.bad_value", value=error.value)
    if isinstance(error, app_commands.CheckFailure):
        return PermissionDenied("discord.not_allowed")
    return error


async def _locale(bot: StudyBot, interaction: discord.Interaction[Any]) -> str:
    """The group's language (as last seen, when known: no database wait), else the user's."""
    fallback = locale_of_user(interaction.locale, bot.settings.default_locale)
    if interaction.guild_id is None:
        return fallback
    known = known_locale(bot.core, interaction.guild_id)
    if known is not None:
        return known
    try:
        group_id = await bot.core.group_for_guild(interaction.guild_id)
        return await group_locale(bot.core, group_id, interaction.guild_id)
    except Exception:
        log.exception("could not read the group's locale for guild %s", interaction.guild_id)
        return fallback


async def report_error(interaction: discord.Interaction[StudyBot], error: BaseException) -> None:
    reply = error_reply(as_domain_error(error))
    reply.visibility = Visibility.PRIVATE
    message = render_reply(reply, await _locale(interaction.client, interaction))
    try:
        await respond(interaction, message)
    except discord.HTTPException:
        log.warning("could not tell the user about an error (%s)", reply.key, exc_info=True)
