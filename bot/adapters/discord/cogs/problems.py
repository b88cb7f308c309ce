"""/problem pick|solved|today|history|show: the daily Programmers problem (rerolling the
bot's pick is under /admin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.options import HistoryCount, SolutionLink, problem_choices
from bot.adapters.discord.translator import cmd_choice, command_texts, option_texts
from bot.services.problems import LANGUAGES

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot


class Problems(commands.Cog):
    problem = app_commands.Group(**command_texts("problem"), guild_only=True)

    def __init__(self, bot: StudyBot) -> None:
        self.bot = bot

    @problem.command(**command_texts("problem pick"))
    @option_texts("problem pick", problem="problem", force="force")
    async def pick(
        self, interaction: discord.Interaction, problem: str, force: bool | None = None
    ) -> None:
        options = {"problem": problem, "force": force}
        await self.bot.run_command(interaction, ("problem", "pick"), options)

    @problem.command(**command_texts("problem solved"))
    @option_texts("problem solved", link="link", language="language", problem="problem")
    @app_commands.choices(language=[cmd_choice("language", code) for code in LANGUAGES])
    async def solved(
        self,
        interaction: discord.Interaction,
        link: SolutionLink | None = None,
        language: str | None = None,
        problem: str | None = None,
    ) -> None:
        options = {"link": link, "language": language, "problem": problem}
        await self.bot.run_command(interaction, ("problem", "solved"), options)

    @problem.command(**command_texts("problem today"))
    async def today(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("problem", "today"), {})

    @problem.command(**command_texts("problem history"))
    @option_texts("problem history", n="n")
    async def history(
        self, interaction: discord.Interaction, n: HistoryCount | None = None
    ) -> None:
        await self.bot.run_command(interaction, ("problem", "history"), {"n": n})

    @problem.command(**command_texts("problem show"))
    @option_texts("problem show", problem="problem")
    async def show(self, interaction: discord.Interaction, problem: str) -> None:
        await self.bot.run_command(interaction, ("problem", "show"), {"problem": problem})

    @pick.autocomplete("problem")
    async def unused_problem_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await problem_choices(self.bot, interaction, current, lead_with_current=False)

    @solved.autocomplete("problem")
    @show.autocomplete("problem")
    async def current_problem_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await problem_choices(self.bot, interaction, current, lead_with_current=True)


async def setup(bot: StudyBot) -> None:
    await bot.add_cog(Problems(bot))
