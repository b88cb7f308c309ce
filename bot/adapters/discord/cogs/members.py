"""/member join|leave|list (adding and removing members is under /admin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.translator import command_texts

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot


class Members(commands.Cog):
    member = app_commands.Group(**command_texts("member"), guild_only=True)

    def __init__(self, bot: StudyBot) -> None:
        self.bot = bot

    @member.command(**command_texts("member join"))
    async def join(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("member", "join"), {})

    @member.command(**command_texts("member leave"))
    async def leave(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("member", "leave"), {})

    @member.command(**command_texts("member list"))
    async def list_members(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("member", "list"), {})


async def setup(bot: StudyBot) -> None:
    await bot.add_cog(Members(bot))
