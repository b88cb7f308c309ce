"""/schedule show|set|dayoff."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.options import ChannelOption, given, timezone_choices
from bot.adapters.discord.translator import cmd_choice, command_texts, option_texts
from bot.i18n import LOCALES

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot


class Schedule(commands.Cog):
    schedule = app_commands.Group(**command_texts("schedule"), guild_only=True)

    def __init__(self, bot: StudyBot) -> None:
        self.bot = bot

    @schedule.command(**command_texts("schedule show"))
    async def show(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("schedule", "show"), {})

    @schedule.command(**command_texts("schedule set"))
    @option_texts(
        "schedule set",
        channel="channel",
        timezone="timezone",
        days="days",
        review_time="review_time",
        deadline="deadline",
        locale="locale",
        holidays="holidays",
        reminder="reminder",
        progress_time="progress_time",
    )
    @app_commands.choices(locale=[cmd_choice("locale", code) for code in LOCALES])
    async def set_schedule(
        self,
        interaction: discord.Interaction,
        channel: ChannelOption | None = None,
        timezone: str | None = None,
        days: str | None = None,
        review_time: str | None = None,
        deadline: str | None = None,
        locale: str | None = None,
        holidays: bool | None = None,
        reminder: int | None = None,
        progress_time: str | None = None,
    ) -> None:
        await self.bot.run_command(interaction, ("schedule", "set"), given(locals()))

    @set_schedule.autocomplete("timezone")
    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return timezone_choices(current)

    @schedule.command(**command_texts("schedule dayoff"))
    @option_texts("schedule dayoff", date="date", reason="reason", cancel="cancel")
    async def dayoff(
        self,
        interaction: discord.Interaction,
        date: str,
        reason: str | None = None,
        cancel: bool | None = None,
    ) -> None:
        options = {"date": date, "reason": reason, "cancel": cancel}
        await self.bot.run_command(interaction, ("schedule", "dayoff"), options)


async def setup(bot: StudyBot) -> None:
    await bot.add_cog(Schedule(bot))
