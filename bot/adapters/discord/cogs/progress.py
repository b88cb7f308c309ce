"""/progress log|edit|delete|me|group|leaderboard|export|reminder: competition progress
(deleting a member's data is under /admin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.modals import open_progress_form
from bot.adapters.discord.options import (
    Metric,
    Model,
    Note,
    Repro,
    RowId,
    TaskName,
    given,
    task_choices,
)
from bot.adapters.discord.translator import cmd_choice, command_texts, option_texts

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

PERIODS = ("week", "month")
REMINDER_MODES = ("on", "off", "dm")
ENTRY_FIELDS = {
    "note": "note",
    "task": "task",
    "metric": "metric",
    "score": "score",
    "model": "model",
    "submitted": "submitted",
    "repro": "repro",
}


class Progress(commands.Cog):
    progress = app_commands.Group(**command_texts("progress"), guild_only=True)

    def __init__(self, bot: StudyBot) -> None:
        self.bot = bot

    @progress.command(**command_texts("progress log"))
    @option_texts("progress log", **ENTRY_FIELDS)
    async def log(
        self,
        interaction: discord.Interaction,
        note: Note | None = None,
        task: TaskName | None = None,
        metric: Metric | None = None,
        score: float | None = None,
        model: Model | None = None,
        submitted: bool | None = None,
        repro: Repro | None = None,
    ) -> None:
        """Without a note, the form opens (filled in with what was given)."""
        options = given(locals())
        if note is None:
            await open_progress_form(self.bot, interaction, options)
            return
        await self.bot.run_command(interaction, ("progress", "log"), options)

    @progress.command(**command_texts("progress edit"))
    @option_texts("progress edit", id="id", **ENTRY_FIELDS)
    async def edit(
        self,
        interaction: discord.Interaction,
        id: RowId,
        note: Note | None = None,
        task: TaskName | None = None,
        metric: Metric | None = None,
        score: float | None = None,
        model: Model | None = None,
        submitted: bool | None = None,
        repro: Repro | None = None,
    ) -> None:
        await self.bot.run_command(interaction, ("progress", "edit"), given(locals()))

    @progress.command(**command_texts("progress delete"))
    @option_texts("progress delete", id="id")
    async def delete(self, interaction: discord.Interaction, id: RowId) -> None:
        await self.bot.run_command(interaction, ("progress", "delete"), {"id": id})

    @progress.command(**command_texts("progress me"))
    async def me(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("progress", "me"), {})

    @progress.command(**command_texts("progress group"))
    @option_texts("progress group", period="period")
    @app_commands.choices(period=[cmd_choice("period", value) for value in PERIODS])
    async def group(self, interaction: discord.Interaction, period: str | None = None) -> None:
        await self.bot.run_command(interaction, ("progress", "group"), {"period": period})

    @progress.command(**command_texts("progress leaderboard"))
    @option_texts("progress leaderboard", task="task")
    async def leaderboard(
        self, interaction: discord.Interaction, task: TaskName | None = None
    ) -> None:
        await self.bot.run_command(interaction, ("progress", "leaderboard"), {"task": task})

    @progress.command(**command_texts("progress export"))
    async def export(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("progress", "export"), {})

    @progress.command(**command_texts("progress reminder"))
    @option_texts("progress reminder", mode="mode")
    @app_commands.choices(mode=[cmd_choice("reminder", value) for value in REMINDER_MODES])
    async def reminder(self, interaction: discord.Interaction, mode: str) -> None:
        await self.bot.run_command(interaction, ("progress", "reminder"), {"mode": mode})

    @log.autocomplete("task")
    @edit.autocomplete("task")
    @leaderboard.autocomplete("task")
    async def task_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await task_choices(self.bot, interaction, current)


async def setup(bot: StudyBot) -> None:
    await bot.add_cog(Progress(bot))
