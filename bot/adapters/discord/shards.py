"""Which process serves which server when the bot runs sharded in several processes on
one PostgreSQL database.

Discord puts a server on shard ``(guild_id >> 22) % shard_count`` (developer
documentation, "Gateway", Sharding); a process running some of the shards owns their
servers' groups: only it runs their duties and start-up catch-up, and only it pauses or
resumes them. Delivery needs no owner: any process may post any outbox row, and the
outbox claim keeps two from posting the same one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

Owns = Callable[[int], bool]


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


def ownership(shard_count: int | None, shard_ids: Collection[int]) -> Owns | None:
    """``owns(guild_id)`` for a process running ``shard_ids`` of ``shard_count``; None
    when it runs them all (one process: it owns every server)."""
    if shard_count is None or not shard_ids or set(shard_ids) >= set(range(shard_count)):
        return None
    mine = frozenset(shard_ids)

    def owns(guild_id: int) -> bool:
        return shard_of(guild_id, shard_count) in mine

    return owns
