"""/mod today|schedule|swap|accept|decline and /away (skipping a turn is under /admin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.options import RowId, ScheduleDays, UserOption, swap_choices
from bot.adapters.discord.translator import command_texts, option_texts

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot


class Rotation(commands.Cog):
    mod = app_commands.Group(**command_texts("mod"), guild_only=True)

    def __init__(self, bot: StudyBot) -> None:
        self.bot = bot

    @mod.command(**command_texts("mod today"))
    async def today(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("mod", "today"), {})

    @mod.command(**command_texts("mod schedule"))
    @option_texts("mod schedule", days="days")
    async def schedule(
        self, interaction: discord.Interaction, days: ScheduleDays | None = None
    ) -> None:
        await self.bot.run_command(interaction, ("mod", "schedule"), {"days": days})

    @mod.command(**command_texts("mod swap"))
    @option_texts("mod swap", with_="with", member="member", force="force")
    async def swap(
        self,
        interaction: discord.Interaction,
        with_: UserOption,
        member: UserOption | None = None,
        force: bool | None = None,
    ) -> None:
        options = {"with": with_, "member": member, "force": force}
        await self.bot.run_command(interaction, ("mod", "swap"), options)

    @mod.command(**command_texts("mod accept"))
    @option_texts("mod accept", id="id")
    async def accept(self, interaction: discord.Interaction, id: RowId) -> None:
        await self.bot.run_command(interaction, ("mod", "accept"), {"id": id})

    @mod.command(**command_texts("mod decline"))
    @option_texts("mod decline", id="id")
    async def decline(self, interaction: discord.Interaction, id: RowId) -> None:
        await self.bot.run_command(interaction, ("mod", "decline"), {"id": id})

    @accept.autocomplete("id")
    @decline.autocomplete("id")
    async def swap_id_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return await swap_choices(self.bot, interaction, current)

    @app_commands.command(**command_texts("away"))
    @app_commands.guild_only()
    @option_texts("away", from_="from", to="to", cancel="cancel")
    async def away(
        self,
        interaction: discord.Interaction,
        from_: str | None = None,
        to: str | None = None,
        cancel: bool | None = None,
    ) -> None:
        options = {"from": from_, "to": to, "cancel": cancel}
        await self.bot.run_command(interaction, ("away",), options)


async def setup(bot: StudyBot) -> None:
    await bot.add_cog(Rotation(bot))
