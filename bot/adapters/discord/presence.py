"""Who of a group's members is still in its server, asked when it matters.

The bot has no privileged members intent, so it is never told that someone left (no
GUILD_MEMBER_REMOVE). Before a duty names people, the scheduler asks
``MemberPresence.gone`` about the people it is about to name (the day's moderator, not
every member: ``bot.services.named``): each is looked up (``guild.fetch_member``);
Discord's 404 "Unknown Member" (or "Unknown User", a deleted account) means gone. Any
other answer (an error, a server the bot cannot see, Discord down) means "unknown", and
unknown people are kept. Answers are remembered for ``PRESENCE_TTL`` on the injected
clock, so a burst of duties asks once. Each lookup first takes its turn from ``pace``
(the deliverer's): lookups and posts share Discord's 50 requests a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import discord

from bot.adapters.discord.delivery import Pace
from bot.clock import Clock

__all__ = ["GONE_CODES", "PRESENCE_TTL", "FetchMember", "MemberPresence"]

log = logging.getLogger(__name__)

UNKNOWN_MEMBER = 10007
UNKNOWN_USER = 10013
GONE_CODES = frozenset({UNKNOWN_MEMBER, UNKNOWN_USER})
PRESENCE_TTL = timedelta(minutes=10)

# (guild id, user id) -> anything; raises discord.NotFound when the member is not there
FetchMember = Callable[[int, int], Awaitable[object]]
LOOKUP = "member"  # the kind of request a lookup is, for ``Pace``


class MemberPresence:
    def __init__(
        self,
        fetch: FetchMember,
        clock: Clock,
        ttl: timedelta = PRESENCE_TTL,
        pace: Pace | None = None,
    ) -> None:
        self.fetch = fetch
        self.clock = clock
        self.ttl = ttl
        self.pace = pace
        self._known: dict[tuple[int, int], tuple[datetime, bool]] = {}  # -> (when, gone)

    async def gone(self, guild_id: int, user_ids: Sequence[int]) -> set[int]:
        """The users known to have left the guild; unknown ones are not included."""
        now = self.clock.now()
        answers = await asyncio.gather(*(self._is_gone(guild_id, u, now) for u in user_ids))
        return {user_id for user_id, gone in zip(user_ids, answers, strict=True) if gone}

    async def _is_gone(self, guild_id: int, user_id: int, now: datetime) -> bool | None:
        known = self._known.get((guild_id, user_id))
        if known is not None and now - known[0] < self.ttl:
            return known[1]
        try:
            if self.pace is not None:
                await self.pace.take(LOOKUP, None)  # counted in the global limit only
            await self.fetch(guild_id, user_id)
        except discord.NotFound as exc:
            if exc.code not in GONE_CODES:  # e.g. Unknown Guild: says nothing of the member
                log.warning("could not check member %s of guild %s: %s", user_id, guild_id, exc)
                return None
            gone = True
        except Exception as exc:  # unknown: keep them, ask again next time
            log.warning("could not check member %s of guild %s: %r", user_id, guild_id, exc)
            return None
        else:
            gone = False
        self._known[(guild_id, user_id)] = (now, gone)
        return gone
