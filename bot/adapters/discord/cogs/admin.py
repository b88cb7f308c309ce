"""/admin: the admin commands, in one top-level group only server managers see.

Discord hides a command from members without its default member permissions, but that
setting exists on top-level commands and groups only, so the admin commands live here, not
beside the members' ones: ``/admin member add`` (Korean ``/관리 멤버 추가``) runs the command
table's ``member add``, as the console's ``/member add`` does. The services still check
who calls (a server can grant the group to other roles in its integration settings).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord.options import (
    ChannelOption,
    CompetitionName,
    DailyLimit,
    DayOffReason,
    Metric,
    ReminderMinutes,
    TaskName,
    UserOption,
    given,
    task_choices,
    timezone_choices,
)
from bot.adapters.discord.translator import cmd_choice, command_texts, option_texts
from bot.i18n import LOCALES

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

__all__ = ["ADMIN", "ADMIN_COMMANDS", "discord_path", "table_path"]

ADMIN = "admin"
# the command table's paths Discord shows under /admin
ADMIN_COMMANDS = frozenset(
    {
        ("member", "add"),
        ("member", "remove"),
        ("mod", "skip"),
        ("schedule", "set"),
        ("schedule", "dayoff"),
        ("problem", "reroll"),
        ("progress", "forget"),
        ("competition", "set"),
        ("competition", "task"),
        ("sandbox", "status"),
    }
)


# the command table's commands that are also a group's name: Discord cannot run a group,
# so it shows them as a subcommand (the console's ``/quiz`` is Discord's ``/quiz next``)
SHOWN_ELSEWHERE = {("quiz",): ("quiz", "next")}


def discord_path(path: tuple[str, ...]) -> tuple[str, ...]:
    """Where Discord shows a command of the table: ``("admin", "member", "add")``."""
    if path in SHOWN_ELSEWHERE:
        return SHOWN_ELSEWHERE[path]
    return (ADMIN, *path) if path in ADMIN_COMMANDS else path


def table_path(shown: tuple[str, ...]) -> tuple[str, ...]:
    """The command table's path of a command as Discord shows it."""
    for path, where in SHOWN_ELSEWHERE.items():
        if shown == where:
            return path
    return shown[1:] if shown[:1] == (ADMIN,) else shown


class Admin(commands.Cog):
    admin = app_commands.Group(
        **command_texts("admin"),
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    member = app_commands.Group(**command_texts("admin member"), parent=admin)
    mod = app_commands.Group(**command_texts("admin mod"), parent=admin)
    schedule = app_commands.Group(**command_texts("admin schedule"), parent=admin)
    problem = app_commands.Group(**command_texts("admin problem"), parent=admin)
    progress = app_commands.Group(**command_texts("admin progress"), parent=admin)
    competition = app_commands.Group(**command_texts("admin competition"), parent=admin)
    sandbox = app_commands.Group(**command_texts("admin sandbox"), parent=admin)

    def __init__(self, bot: StudyBot) -> None:
        self.bot = bot

    # --- members and the rotation ---------------------------------------------------------

    @member.command(**command_texts("member add"))
    @option_texts("member add", user="user")
    async def add_member(self, interaction: discord.Interaction, user: UserOption) -> None:
        await self.bot.run_command(interaction, ("member", "add"), {"user": user})

    @member.command(**command_texts("member remove"))
    @option_texts("member remove", user="user")
    async def remove_member(self, interaction: discord.Interaction, user: UserOption) -> None:
        await self.bot.run_command(interaction, ("member", "remove"), {"user": user})

    @mod.command(**command_texts("mod skip"))
    async def skip(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("mod", "skip"), {})

    # --- the schedule -------------------------------------------------------------------

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
        reminder: ReminderMinutes | None = None,
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
        reason: DayOffReason | None = None,
        cancel: bool | None = None,
    ) -> None:
        options = {"date": date, "reason": reason, "cancel": cancel}
        await self.bot.run_command(interaction, ("schedule", "dayoff"), options)

    # --- the daily problem and progress ---------------------------------------------------

    @problem.command(**command_texts("problem reroll"))
    async def reroll(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("problem", "reroll"), {})

    @progress.command(**command_texts("progress forget"))
    @option_texts("progress forget", user="user")
    async def forget(self, interaction: discord.Interaction, user: UserOption) -> None:
        await self.bot.run_command(interaction, ("progress", "forget"), {"user": user})

    # --- the competition ------------------------------------------------------------------

    @competition.command(**command_texts("competition set"))
    @option_texts("competition set", name="name", deadline="deadline", limit="limit")
    async def set_competition(
        self,
        interaction: discord.Interaction,
        name: CompetitionName | None = None,
        deadline: str | None = None,
        limit: DailyLimit | None = None,
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
        name: TaskName,
        metric: Metric | None = None,
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

    # --- where code runs ------------------------------------------------------------------

    @sandbox.command(**command_texts("sandbox status"))
    async def sandbox_status(self, interaction: discord.Interaction) -> None:
        await self.bot.run_command(interaction, ("sandbox", "status"), {})


async def setup(bot: StudyBot) -> None:
    await bot.add_cog(Admin(bot))
