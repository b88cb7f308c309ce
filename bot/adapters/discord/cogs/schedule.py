"""/schedule show (changing the settings and days off is under /admin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.translator import command_texts

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot


class Schedule(commands.Cog):
    schedule = app_commands.Group(**command_texts("schedule"), guild_only=True)

    def __init__(self, bot: StudyBot) -> None:
        self.bot = bot

    @schedule.command(**command_texts("schedule show"))
    async def show(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("schedule", "show"), {})


async def setup(bot: StudyBot) -> None:
    await bot.add_cog(Schedule(bot))
