"""Option types and autocomplete: Discord values become the command table's plain refs."""

from __future__ import annotations

import contextlib
import re
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import available_timezones

import discord
from discord import app_commands

from bot.commands import ChannelRef, UserRef
from bot.core import Core
from bot.errors import DomainError
from bot.i18n import text
from bot.services import catalogue, competition, problems
from bot.services.groups import get_group
from bot.services.rotation import pending_swaps

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

__all__ = [
    "MAX_CHOICES",
    "ChannelOption",
    "UserOption",
    "problem_choices",
    "swap_choices",
    "task_choices",
    "timezone_choices",
]

MAX_CHOICES = 25  # Discord shows at most 25 autocomplete choices
MAX_CHOICE_NAME = 100


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
    """A text channel option, as ``ChannelRef(id, name)``."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(
        self, interaction: discord.Interaction[Any], value: app_commands.AppCommandChannel
    ) -> ChannelRef:
        return ChannelRef(value.id, value.name)


UserOption = app_commands.Transform[UserRef, UserRefTransformer]
ChannelOption = app_commands.Transform[ChannelRef, ChannelRefTransformer]


# --- autocomplete --------------------------------------------------------------------

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


def _swap_choices_sync(core: Core, group_id: int, current: str) -> list[app_commands.Choice[int]]:
    with core.services.transaction() as session:
        group = get_group(session, group_id)
        choices = []
        for swap in pending_swaps(session, group):
            if not str(swap.id).startswith(current.strip()):
                continue
            label = text(
                group.locale,
                "discord.swap_choice",
                {
                    "id": swap.id,
                    "a": swap.first,
                    "a_day": swap.first_day,
                    "b": swap.second,
                    "b_day": swap.second_day,
                },
            )
            choices.append(app_commands.Choice(name=label[:MAX_CHOICE_NAME], value=swap.id))
        return choices[:MAX_CHOICES]


async def swap_choices(
    bot: StudyBot, interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[int]]:
    """The group's pending swap requests whose number starts with what was typed."""
    if interaction.guild_id is None:
        return []
    group_id = await bot.core.group_for_guild(interaction.guild_id)
    return await bot.core.run(_swap_choices_sync, bot.core, group_id, current)


def _problem_choice(problem_id: int, title: str) -> app_commands.Choice[str]:
    return app_commands.Choice(
        name=f"{problem_id} {title}"[:MAX_CHOICE_NAME], value=str(problem_id)
    )


def _problem_choices_sync(
    core: Core, group_id: int, current: str, lead_with_current: bool
) -> list[app_commands.Choice[str]]:
    with core.services.transaction() as session:
        if current.strip():
            found = problems.search_choices(session, current, limit=MAX_CHOICES)
            if not found:  # a pasted problem link
                with contextlib.suppress(DomainError):
                    problem = catalogue.resolve(session, current)
                    return [_problem_choice(problem.id, problem.title)]
            return [app_commands.Choice(name=label, value=value) for label, value in found]
        group = get_group(session, group_id)
        suggested: list[tuple[int, str]] = []
        if lead_with_current:
            pick = problems.current_pick(session, group, core.services.clock.now())
            if pick is not None:
                problem = catalogue.get(session, pick.problem_id)
                suggested.append((problem.id, problem.title))
        used = problems.used_problem_ids(session, group)
        for problem in catalogue.search(session, "", limit=len(used) + 10 * MAX_CHOICES):
            if len(suggested) >= MAX_CHOICES:
                break
            if problem.kind == "algorithm" and problem.id not in used:
                suggested.append((problem.id, problem.title))
        return [_problem_choice(problem_id, title) for problem_id, title in suggested]


async def problem_choices(
    bot: StudyBot, interaction: discord.Interaction[Any], current: str, *, lead_with_current: bool
) -> list[app_commands.Choice[str]]:
    """Problems for the ``problem`` option, labelled "12899 124 나라의 숫자", valued by id.

    What was typed is searched in the catalogue (every word a part of the title, or of the
    id); a pasted problem link finds its problem. Nothing typed suggests the algorithm
    problems the group has not reviewed yet, by id; with ``lead_with_current``
    (``/problem solved``, ``/problem show``) the problem members are working on now comes
    first.
    """
    if interaction.guild_id is None:
        return []
    group_id = await bot.core.group_for_guild(interaction.guild_id)
    return await bot.core.run(_problem_choices_sync, bot.core, group_id, current, lead_with_current)


def _task_choices_sync(core: Core, group_id: int, current: str) -> list[app_commands.Choice[str]]:
    needle = current.strip().casefold()
    with core.services.transaction() as session:
        group = get_group(session, group_id)
        return [
            app_commands.Choice(
                name=f"{task.name} ({task.metric})"[:MAX_CHOICE_NAME], value=task.name
            )
            for task in competition.tasks_of(session, group)
            if needle in task.name.casefold()
        ][:MAX_CHOICES]


async def task_choices(
    bot: StudyBot, interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The competition's tasks whose name contains what was typed, labelled with their
    metric: "absa (micro_f1)". Other names may still be typed (the core checks them)."""
    if interaction.guild_id is None:
        return []
    group_id = await bot.core.group_for_guild(interaction.guild_id)
    return await bot.core.run(_task_choices_sync, bot.core, group_id, current)
