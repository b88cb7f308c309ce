"""/competition show|set|task: the competition the group works on."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.options import task_choices
from bot.adapters.discord.translator import command_texts, option_texts

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot


class Competition(commands.Cog):
    competition = app_commands.Group(**command_texts("competition"), guild_only=True)

    def __init__(self, bot: StudyBot) -> None:
        self.bot = bot

    @competition.command(**command_texts("competition show"))
    async def show(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("competition", "show"), {})

    @competition.command(**command_texts("competition set"))
    @option_texts("competition set", name="name", deadline="deadline", limit="limit")
    async def set_competition(
        self,
        interaction: discord.Interaction,
        name: str | None = None,
        deadline: str | None = None,
        limit: int | None = None,
    ) -> None:
        options = {"name": name, "deadline": deadline, "limit": limit}
        await self.bot.run_command(interaction, ("competition", "set"), options)

    @competition.command(**command_texts("competition task"))
    @option_texts(
        "competition task", name="name", metric="metric", higher="higher", remove="remove"
    )
    async def task(
        self,
        interaction: discord.Interaction,
        name: str,
        metric: str | None = None,
        higher: bool | None = None,
        remove: bool | None = None,
    ) -> None:
        options = {"name": name, "metric": metric, "higher": higher, "remove": remove}
        await self.bot.run_command(interaction, ("competition", "task"), options)

    @task.autocomplete("name")
    async def task_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The tasks already defined, to change or remove one; a new name is typed."""
        return await task_choices(self.bot, interaction, current)


async def setup(bot: StudyBot) -> None:
    await bot.add_cog(Competition(bot))
