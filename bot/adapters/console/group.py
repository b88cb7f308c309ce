"""The console's one group (guild id 0, one room) and the name its channel shows."""

from __future__ import annotations

from bot.core import Core
from bot.services.groups import GroupInfo

CONSOLE_GUILD_ID = 0
CONSOLE_CHANNEL_ID = 1  # the console has one room; every channel name maps to it
DEFAULT_CHANNEL = "study"


def open_group(core: Core, channel: str | None, locale: str | None) -> tuple[int, bool]:
    """The console group's id, and whether this start created it.

    ``locale`` only applies on creation; an explicit ``channel`` also renames the channel
    of an existing group.
    """
    return core.open_local_group_sync(
        CONSOLE_GUILD_ID, CONSOLE_CHANNEL_ID, channel, DEFAULT_CHANNEL, locale
    )


def channel_of(info: GroupInfo) -> str:
    return info.channel_name or DEFAULT_CHANNEL
