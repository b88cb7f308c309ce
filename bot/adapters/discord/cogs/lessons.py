"""/lesson list|show|run, /run (a form when no code is given) and "Run Python" on a message."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.options import Code
from bot.adapters.discord.runs import RUN, open_run_form
from bot.adapters.discord.translator import cmd_name, command_texts, option_texts
from bot.services import lessons
from bot.services.code_runs import extract_code

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot


class Lessons(commands.Cog):
    lesson = app_commands.Group(**command_texts("lesson"), guild_only=True)

    def __init__(self, bot: StudyBot) -> None:
        self.bot = bot
        self.run_python = app_commands.ContextMenu(
            name=cmd_name("run_python"), callback=self.run_message
        )
        self.run_python.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.run_python)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.run_python.name, type=self.run_python.type)

    @lesson.command(**command_texts("lesson list"))
    async def list_lessons(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("lesson", "list"), {})

    @lesson.command(**command_texts("lesson show"))
    @option_texts("lesson show", lesson_id="id")
    async def show(self, interaction: discord.Interaction, lesson_id: str) -> None:
        await self.bot.run_command(interaction, ("lesson", "show"), {"id": lesson_id})

    @lesson.command(**command_texts("lesson run"))
    @option_texts("lesson run", lesson_id="id")
    async def run(self, interaction: discord.Interaction, lesson_id: str) -> None:
        await self.bot.run_command(interaction, ("lesson", "run"), {"id": lesson_id})

    @show.autocomplete("lesson_id")
    @run.autocomplete("lesson_id")
    async def lesson_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        locale = "ko" if str(interaction.locale).startswith("ko") else "en"
        return [
            app_commands.Choice(name=label, value=lesson_id)
            for label, lesson_id in lessons.choices(current, locale)
        ]

    @app_commands.command(**command_texts("run"))
    @app_commands.guild_only()
    @option_texts("run", code="code")
    async def run_snippet(self, interaction: discord.Interaction, code: Code | None = None) -> None:
        if code is None or not code.strip():
            await open_run_form(self.bot, interaction)
        else:
            await self.bot.run_command(interaction, RUN, {"code": code})

    async def run_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        code = extract_code(message.content) or ""
        await self.bot.run_command(interaction, RUN, {"code": code})


async def setup(bot: StudyBot) -> None:
    await bot.add_cog(Lessons(bot))
