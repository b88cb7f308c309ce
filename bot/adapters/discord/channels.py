"""Can the bot post in a channel? The kinds of channel it posts in, and the permissions it
needs there, read from the gateway's cache (no request to Discord).

``/schedule set channel:`` refuses a channel it cannot use, naming what is missing
(``check_channel``); a post refused by Discord for a missing permission is reported with
the permissions the bot lacks there (``missing_in``).
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.errors import DomainError
from bot.replies import Text
from bot.services.outbox import PERMISSIONS

__all__ = [
    "POSTABLE",
    "ChannelRefused",
    "check_channel",
    "missing_from",
    "missing_in",
    "permission_names",
]

log = logging.getLogger(__name__)

# text channels, and announcement channels (their threads are announcement threads)
POSTABLE = frozenset({discord.ChannelType.text, discord.ChannelType.news})
_KINDS = {
    discord.ChannelType.voice: "voice",
    discord.ChannelType.stage_voice: "stage",
    discord.ChannelType.forum: "forum",
    discord.ChannelType.media: "media",
    discord.ChannelType.category: "category",
    discord.ChannelType.news_thread: "thread",
    discord.ChannelType.public_thread: "thread",
    discord.ChannelType.private_thread: "thread",
}


class ChannelRefused(DomainError, app_commands.AppCommandError):
    """The bot cannot post in the channel chosen. An ``AppCommandError``, so discord.py
    hands it to the error funnel as it is (which renders the domain error privately)."""


# Discord takes these away with another (discord.py's ``permissions_for`` does the same):
# without View Channel nothing is left, without Send Messages no links or files either.
_IMPLIED_BY = {"view_channel": set(PERMISSIONS), "send_messages": {"embed_links", "attach_files"}}


def missing_from(permissions: discord.Permissions) -> list[str]:
    """The permissions a channel post needs that ``permissions`` lacks, in a fixed order;
    of those Discord removes with another, only the one to grant (View Channel, Send
    Messages)."""
    missing = [name for name in PERMISSIONS if not getattr(permissions, name)]
    for root, implied in _IMPLIED_BY.items():
        if root in missing:
            missing = [name for name in missing if name == root or name not in implied]
    return missing


def permission_names(missing: list[str]) -> list[Text]:
    """The permissions as Discord's client names them (catalogue ``permission.<name>``)."""
    return [Text(f"permission.{name}") for name in missing]


def _bot_permissions(guild: discord.Guild | None, channel_id: int) -> discord.Permissions | None:
    if guild is None or guild.me is None:
        return None
    channel = guild.get_channel_or_thread(channel_id)
    if channel is None:
        return None
    return channel.permissions_for(guild.me)


def missing_in(client: discord.Client, guild_id: int, channel_id: int) -> list[str]:
    """What the bot lacks in the channel, as far as the cache knows (nothing when it does
    not know the server or the channel)."""
    permissions = _bot_permissions(client.get_guild(guild_id), channel_id)
    return [] if permissions is None else missing_from(permissions)


def check_channel(
    interaction: discord.Interaction[Any],
    value: app_commands.AppCommandChannel | app_commands.AppCommandThread,
) -> None:
    """Refuse a channel the bot cannot post in: a kind without messages and threads (voice,
    stage, forum, media, category, a thread), or one where it lacks a permission a post
    needs. Without the server or the channel in the cache only the kind is checked."""
    name = value.name
    if value.type not in POSTABLE:
        kind = _KINDS.get(value.type, "other")
        raise ChannelRefused(
            "delivery.channel_kind", channel=name, kind=Text(f"delivery.kind.{kind}")
        )
    permissions = _bot_permissions(interaction.guild, value.id)
    if permissions is None:
        log.info("channel %s is not in the cache: its permissions are not checked", value.id)
        return
    missing = missing_from(permissions)
    if missing:
        raise ChannelRefused(
            "delivery.channel_missing", channel=name, permissions=permission_names(missing)
        )
