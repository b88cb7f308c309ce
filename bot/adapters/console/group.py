"""The console's one group (guild id 0) and what output needs to know about it."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.adapters.console.options import CONSOLE_CHANNEL_ID
from bot.core import Core
from bot.services.context import Services
from bot.services.groups import find_group_by_guild, get_group

CONSOLE_GUILD_ID = 0
DEFAULT_CHANNEL = "study"


@dataclass(frozen=True)
class GroupView:
    """A fresh read of the settings that change how output looks."""

    id: int
    locale: str
    channel: str
    zone: ZoneInfo


def open_group(core: Core, channel: str | None, locale: str | None) -> tuple[int, bool]:
    """The console group's id, and whether this start created it.

    ``locale`` only applies on creation; an explicit ``channel`` also renames the channel
    of an existing group.
    """
    services = core.services
    with services.transaction() as session:
        existed = find_group_by_guild(session, CONSOLE_GUILD_ID) is not None
    group_id = core.group_for_guild_sync(
        CONSOLE_GUILD_ID, CONSOLE_CHANNEL_ID, channel or DEFAULT_CHANNEL, locale
    )
    if existed and channel:
        with services.transaction() as session:
            group = get_group(session, group_id)
            group.channel_id = CONSOLE_CHANNEL_ID
            group.channel_name = channel
    return group_id, not existed


def view(services: Services, group_id: int) -> GroupView:
    with services.transaction() as session:
        group = get_group(session, group_id)
        return GroupView(
            id=group.id,
            locale=group.locale,
            channel=group.channel_name or DEFAULT_CHANNEL,
            zone=ZoneInfo(group.timezone),
        )
