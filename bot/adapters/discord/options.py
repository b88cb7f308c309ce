"""Option types, limits and autocomplete: Discord values become the command table's plain
refs, and each option declares the limits the services enforce, so the client refuses a
value before the bot does (the services still check: the console has no such client)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import available_timezones

import discord
from discord import app_commands

from bot.adapters.discord import channels
from bot.commands import ChannelRef, UserRef
from bot.services import choices, competition, problems, progress, rotation
from bot.services.bounds import MAX_ROW_ID
from bot.services.choices import MAX_CHOICES
from bot.services.groups import MAX_DAY_OFF_REASON, MAX_REMINDER_MINUTES

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

__all__ = [
    "MAX_CHOICES",
    "MAX_CODE",
    "MAX_ID",
    "ChannelOption",
    "Code",
    "CompetitionName",
    "DailyLimit",
    "DayOffReason",
    "HistoryCount",
    "Metric",
    "Model",
    "Note",
    "ReminderMinutes",
    "Repro",
    "RowId",
    "ScheduleDays",
    "SolutionLink",
    "TaskName",
    "UserOption",
    "given",
    "problem_choices",
    "swap_choices",
    "task_choices",
    "timezone_choices",
]


class UserRefTransformer(app_commands.Transformer):
    """A user option, as ``UserRef(id, display name)``."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.user

    async def transform(
        self, interaction: discord.Interaction[Any], value: discord.Member | discord.User
    ) -> UserRef:
        return UserRef(value.id, value.display_name)


class ChannelRefTransformer(app_commands.Transformer):
    """A channel the bot can post in, as ``ChannelRef(id, name)``: a text or announcement
    channel where it may view, send, embed, attach and start and post in threads (see
    ``channels.check_channel``; a refusal names what is missing)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return sorted(channels.POSTABLE, key=lambda kind: kind.value)

    async def transform(
        self,
        interaction: discord.Interaction[Any],
        value: app_commands.AppCommandChannel | app_commands.AppCommandThread,
    ) -> ChannelRef:
        channels.check_channel(interaction, value)
        return ChannelRef(value.id, value.name)


def given(parameters: dict[str, Any]) -> dict[str, Any]:
    """A slash command's options from its callback's ``locals()``, taken first thing (its
    parameters but ``self`` and the interaction), named as in the command table."""
    return {
        name: value for name, value in parameters.items() if name not in ("self", "interaction")
    }


UserOption = app_commands.Transform[UserRef, UserRefTransformer]
ChannelOption = app_commands.Transform[ChannelRef, ChannelRefTransformer]


# --- limits ----------------------------------------------------------------------------

MAX_ID = MAX_ROW_ID  # the numbers the bot gives out; the client refuses larger ones too
MAX_CODE = 4000  # Discord's longest text input: the /run form, and so the /run option too

RowId = app_commands.Range[int, 1, MAX_ID]  # a swap request's or a progress entry's number
Note = app_commands.Range[str, None, progress.MAX_NOTE]
TaskName = app_commands.Range[str, None, competition.MAX_TASK]
Metric = app_commands.Range[str, None, competition.MAX_METRIC]
Model = app_commands.Range[str, None, progress.MAX_MODEL]
Repro = app_commands.Range[str, None, progress.MAX_REPRO]
CompetitionName = app_commands.Range[str, None, competition.MAX_NAME]
Code = app_commands.Range[str, None, MAX_CODE]
ScheduleDays = app_commands.Range[int, 1, rotation.MAX_SCHEDULE_DAYS]
HistoryCount = app_commands.Range[int, 1, problems.MAX_HISTORY]
SolutionLink = app_commands.Range[str, None, problems.MAX_LINK]
DayOffReason = app_commands.Range[str, None, MAX_DAY_OFF_REASON]
ReminderMinutes = app_commands.Range[int, 0, MAX_REMINDER_MINUTES]
DailyLimit = app_commands.Range[int, 0, competition.MAX_DAILY_LIMIT]


# --- autocomplete --------------------------------------------------------------------

V = TypeVar("V", str, int)
_FIRST_ZONES = ("Asia/Seoul", "UTC")


@cache
def _zones() -> tuple[str, ...]:
    zones = available_timezones() - {"Factory", "localtime", "posixrules"}
    return (*_FIRST_ZONES, *sorted(zones - set(_FIRST_ZONES)))


def _zone_rank(zone: str, needle: str) -> int | None:
    """0: the zone starts with it, 1: a part does (``seo`` → Asia/Seoul), 2: it is inside."""
    name = zone.lower()
    if name.startswith(needle):
        return 0
    if any(part.startswith(needle) for part in re.split(r"[/_-]", name)):
        return 1
    return 2 if needle in name else None


def timezone_choices(current: str) -> list[app_commands.Choice[str]]:
    """The best matches for what was typed, Asia/Seoul first when nothing was."""
    needle = current.strip().lower()
    ranked = [(rank, zone) for zone in _zones() if (rank := _zone_rank(zone, needle)) is not None]
    ranked.sort(key=lambda item: item[0])  # stable: keeps the zone order within a rank
    return [app_commands.Choice(name=zone, value=zone) for _, zone in ranked[:MAX_CHOICES]]


async def _found(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    query: Callable[..., list[tuple[str, V]]],
    *args: Any,
) -> list[app_commands.Choice[V]]:
    """What a ``bot.services.choices`` query offers in this guild's group."""
    if interaction.guild_id is None:
        return []
    group_id = await bot.core.group_for_guild(interaction.guild_id)
    found = await bot.core.read(query, group_id, *args)
    return [app_commands.Choice(name=label, value=value) for label, value in found]


async def swap_choices(
    bot: StudyBot, interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[int]]:
    """The group's pending swap requests whose number starts with what was typed."""
    return await _found(bot, interaction, choices.swap_choices, current)


async def problem_choices(
    bot: StudyBot, interaction: discord.Interaction[Any], current: str, *, lead_with_current: bool
) -> list[app_commands.Choice[str]]:
    """Problems for the ``problem`` option (see ``bot.services.choices.problem_choices``)."""
    return await _found(bot, interaction, choices.problem_choices, current, lead_with_current)


async def task_choices(
    bot: StudyBot, interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The competition's tasks whose name contains what was typed."""
    return await _found(bot, interaction, choices.task_choices, current)
