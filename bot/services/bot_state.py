"""What the program keeps about itself: small facts by key (``bot_state``, such as the hash
of the commands last synced to Discord), and which servers still have it (a server that
removed the bot pauses its group's duties until the bot is back)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import BotState, Group

LOCAL_GUILD_ID = 0  # the console's group: never a Discord server


def get(session: Session, key: str) -> str | None:
    row = session.get(BotState, key)
    return None if row is None else row.value


def put(session: Session, key: str, value: str, now: datetime) -> None:
    row = session.get(BotState, key)
    if row is None:
        session.add(BotState(key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now
    session.flush()


def _group_of(session: Session, guild_id: int) -> Group | None:
    return session.scalar(select(Group).where(Group.guild_id == guild_id))


def pause_guild(session: Session, guild_id: int, now: datetime) -> Group | None:
    """The server removed the bot: its group's duties stop (from ``now``) until it is back.
    Returns the group, or None when the server never had one."""
    group = _group_of(session, guild_id)
    if group is not None and group.paused_at is None:
        group.paused_at = now
    return group


def resume_guild(session: Session, guild_id: int) -> Group | None:
    """The bot is in the server again: its group's duties run again."""
    group = _group_of(session, guild_id)
    if group is not None:
        group.paused_at = None
    return group


def match_guilds(
    session: Session,
    present: Collection[int],
    now: datetime,
    owns: Callable[[int], bool] | None = None,
) -> tuple[list[int], list[int]]:
    """At start-up, with the full list of servers the bot is in: pause the groups of the
    servers that removed it while it was away, resume those it is back in. Returns the
    ids of the groups (paused, resumed) by this call. ``owns(guild_id)``: the servers this
    process sees (its shards'); the others' groups are left as they are."""
    paused: list[int] = []
    resumed: list[int] = []
    wanted = set(present)
    query = select(Group).where(Group.guild_id != LOCAL_GUILD_ID).order_by(Group.id)
    for group in session.scalars(query):
        if owns is not None and not owns(group.guild_id):
            continue
        if group.guild_id in wanted and group.paused_at is not None:
            group.paused_at = None
            resumed.append(group.id)
        elif group.guild_id not in wanted and group.paused_at is None:
            group.paused_at = now
            paused.append(group.id)
    return paused, resumed
