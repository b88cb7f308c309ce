"""Running the Discord bot: the composition root of the Discord front end."""

from __future__ import annotations

import asyncio

import discord

from bot.adapters.discord.bot import StudyBot
from bot.app import build_core, configure_logging
from bot.config import Settings
from bot.core import Core

__all__ = ["bot_intents", "run_discord"]


def bot_intents() -> discord.Intents:
    """The default intents: guilds (channels, roles) but no privileged intents.

    Slash commands and buttons carry the member, their permissions and resolved options,
    so neither the members, presences nor message content intent is needed.
    """
    return discord.Intents.default()


async def _serve(core: Core, settings: Settings, token: str) -> None:
    async with StudyBot(core, settings, intents=bot_intents()) as bot:
        await bot.start(token)


def run_discord(settings: Settings) -> None:
    """Build the core and the bot, connect, and run until stopped."""
    if settings.discord_token is None:
        raise SystemExit("STUDYBOT_DISCORD_TOKEN (or DISCORD_TOKEN) is not set")
    configure_logging(settings.log_level)
    core = build_core(settings)  # migrates the database before anything connects
    asyncio.run(_serve(core, settings, settings.discord_token.get_secret_value()))
