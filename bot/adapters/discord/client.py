"""The bot an interaction reached, typed: forms, buttons and menus call back into it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import discord

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

__all__ = ["bot_of"]


def bot_of(interaction: discord.Interaction[Any]) -> StudyBot:
    """In this program every interaction reaches a ``StudyBot``."""
    return cast("StudyBot", interaction.client)
