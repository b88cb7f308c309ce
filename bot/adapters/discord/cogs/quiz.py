"""/quiz next|reveal|grade|answer|stats|nudge|export: the review quiz (answers only the
member sees). Discord cannot run a command group by its name, so the command table's
``/quiz`` (the next card) is ``/quiz next`` here; the buttons do the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.translator import cmd_choice, command_texts, option_texts
from bot.services import quiz as quiz_service

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

RESULTS = ("knew", "missed")
CardId = app_commands.Range[str, 1, quiz_service.MAX_CARD_ID]


class Quiz(commands.Cog):
    quiz = app_commands.Group(**command_texts("quiz"), guild_only=True)

    def __init__(self, bot: StudyBot) -> None:
        self.bot = bot

    @quiz.command(**command_texts("quiz next"))
    async def next(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("quiz",), {})

    @quiz.command(**command_texts("quiz reveal"))
    @option_texts("quiz reveal", card="card")
    async def reveal(self, interaction: discord.Interaction, card: CardId | None = None) -> None:
        await self.bot.run_command(interaction, ("quiz", "reveal"), {"card": card})

    @quiz.command(**command_texts("quiz grade"))
    @option_texts("quiz grade", result="result", card="card")
    @app_commands.choices(result=[cmd_choice("result", value) for value in RESULTS])
    async def grade(
        self, interaction: discord.Interaction, result: str, card: CardId | None = None
    ) -> None:
        await self.bot.run_command(interaction, ("quiz", "grade"), {"result": result, "card": card})

    @quiz.command(**command_texts("quiz answer"))
    @option_texts("quiz answer", choice="choice", card="card")
    async def answer(
        self,
        interaction: discord.Interaction,
        choice: app_commands.Range[int, 1, quiz_service.MAX_CHOICE],
        card: CardId | None = None,
    ) -> None:
        await self.bot.run_command(
            interaction, ("quiz", "answer"), {"choice": choice, "card": card}
        )

    @quiz.command(**command_texts("quiz stats"))
    @option_texts("quiz stats", scope="scope")
    @app_commands.choices(scope=[cmd_choice("scope", value) for value in quiz_service.SCOPES])
    async def stats(self, interaction: discord.Interaction, scope: str | None = None) -> None:
        await self.bot.run_command(interaction, ("quiz", "stats"), {"scope": scope})

    @quiz.command(**command_texts("quiz nudge"))
    @option_texts("quiz nudge", time="time")
    async def nudge(self, interaction: discord.Interaction, time: str | None = None) -> None:
        await self.bot.run_command(interaction, ("quiz", "nudge"), {"time": time})

    @quiz.command(**command_texts("quiz export"))
    async def export(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("quiz", "export"), {})


async def setup(bot: StudyBot) -> None:
    await bot.add_cog(Quiz(bot))
