"""A strict double of Discord's HTTP API for channel posts, in place of discord.py's
``HTTPClient.request`` (so everything above it, ``PartialMessageable.send``, ``create_dm``
and the payloads discord.py builds, runs for real).

It models one server (``GUILD_ID``) with channels, what the bot may do in each, messages,
threads started from messages and direct messages, and answers as Discord documents
(``tests/discord/discord_rules.py``):

- a message: at most 2,000 characters, 10 attachments, the embed limits (400, 50035);
  ``nonce`` at most 25 characters; with ``enforce_nonce`` a nonce already used in the
  channel within ``NONCE_WINDOW`` returns the message made then instead of a second one;
- a channel that does not exist: 404 Unknown Channel (10003); one the bot cannot see: 403
  Missing Access (50001); a permission missing (send, send in threads, attach files, create
  public threads): 403 Missing Permissions (50013); a channel kind without messages
  (category, forum, media): 400 (50008); a direct message to someone who takes none: 403
  (50007);
- a thread from a message: only in text and announcement channels (a public thread, or an
  announcement thread), named 1 to 100 characters, once per message (400, 160004); it has
  the message's id;
- ``rate_limit(retry_after)``: the next request is answered 429 with ``Retry-After`` (what
  discord.py raises once it stops retrying by itself); ``outage``: every request fails
  with 503 or a dropped connection until it ends;
- ``enforce_rate_limits()``: Discord's rate limits on the double's clock: at most
  ``GLOBAL_PER_SECOND`` requests in any second (a 429 marked global beyond), and per
  route and channel at most ``CHANNEL_BUCKET`` requests in ``CHANNEL_WINDOW_S`` seconds
  (a 429 for that bucket); each 429 is counted in ``rate_limited``;
- ``GET /gateway/bot`` recommends ``gateway_shards`` shards;
- ``GET /guilds/{id}/members/{id}`` (a member lookup): a member, or 404 Unknown Member
  (10007) for someone in ``left_server``;
- any other route is a test failure: the sender must not need more.

``cache(bot)`` fills discord.py's cache as GUILD_CREATE would (the bot's member, roles,
channels and permission overwrites), so permissions read from the cache match the model.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest

from bot.clock import ManualClock
from bot.services.outbox import PERMISSIONS
from tests.discord import discord_rules as rules
from tests.discord.fakes import (
    APPLICATION_ID,
    GUILD_ID,
    Person,
    member_payload,
    message_payload,
    user_payload,
)

TEXT, DM, VOICE, CATEGORY, NEWS = 0, 1, 2, 4, 5
NEWS_THREAD, PUBLIC_THREAD = 10, 11
STAGE, FORUM, MEDIA = 13, 15, 16
NO_MESSAGES = {CATEGORY, FORUM, MEDIA}
THREADS = {NEWS_THREAD, PUBLIC_THREAD}
NONCE_WINDOW = timedelta(minutes=5)  # "the past few minutes" (Create Message, enforce_nonce)
MAX_NONCE = 25
CANNOT_SEND_IN_NON_TEXT = 50008
WRONG_CHANNEL_TYPE = 50024
THREAD_ALREADY_CREATED = 160004
UNKNOWN_MEMBER = 10007  # Get Guild Member: not in the server
OWNER = Person(999, "owner")
EVERYTHING = (*PERMISSIONS, "read_message_history")  # @everyone's, unless denied


@dataclass
class FakeChannel:
    id: int
    name: str
    type: int = TEXT
    parent_id: int | None = None  # a thread's channel
    denied: set[str] = field(default_factory=set)  # what the bot may not do here
    recipient: int | None = None  # a DM channel's other person


@dataclass
class Posted:
    id: int
    channel_id: int
    body: dict[str, Any]
    files: list[str]
    nonce: str | None
    at: datetime

    @property
    def content(self) -> str:
        return str(self.body.get("content") or "")


def _response(status: int, reason: str, headers: dict[str, str] | None = None) -> Any:
    return SimpleNamespace(status=status, reason=reason, headers=headers or {})


def refusal(status: int, code: int, message: str) -> discord.HTTPException:
    """The exception discord.py raises for Discord's answer."""
    body = {"code": code, "message": message}
    if status == 403:
        return discord.Forbidden(_response(403, "Forbidden"), body)
    if status == 404:
        return discord.NotFound(_response(404, "Not Found"), body)
    if status >= 500:
        return discord.DiscordServerError(_response(status, "Service Unavailable"), body)
    return discord.HTTPException(_response(status, "Bad Request"), body)


class DiscordHTTP:
    """One server's channels and messages, answering discord.py's requests."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.channels: dict[int, FakeChannel] = {}
        self.people: dict[int, Person] = {}
        self.closed_dms: set[int] = set()  # people who take no direct messages
        self.posted: list[Posted] = []  # every message created
        self.by_nonce: dict[tuple[int, str], Posted] = {}
        self.threads: dict[int, int] = {}  # message id → thread started from it
        self.requests: list[str] = []  # "METHOD path" of each request, in order
        self.outage: str | None = None  # "503" or "connection" while Discord is down
        self.failed_requests = 0
        self._retry_after: float | None = None
        self._ids = itertools.count(900_000)
        self.by_id: dict[int, Posted] = {}
        self.gateway_shards = 1  # what GET /gateway/bot recommends
        self.left_server: set[int] = set()  # user ids no longer in any server (Get Member)
        self.limited = False  # Discord's rate limits enforced (``enforce_rate_limits``)
        self.rate_limited = 0  # requests answered 429 by those limits
        self.accepted: list[tuple[datetime, str]] = []  # (when, "METHOD path") while limited
        self._global: deque[datetime] = deque()
        self._buckets: dict[tuple[str, int], deque[datetime]] = {}

    def enforce_rate_limits(self) -> None:
        """From now on, refuse requests beyond Discord's global and per-channel limits."""
        self.limited = True

    # --- the world ------------------------------------------------------------------

    def channel(self, channel_id: int, name: str, kind: int = TEXT, **kw: Any) -> FakeChannel:
        self.channels[channel_id] = FakeChannel(channel_id, name, kind, **kw)
        return self.channels[channel_id]

    def person(self, person: Person, *, takes_dms: bool = True) -> None:
        self.people[person.id] = person
        if not takes_dms:
            self.closed_dms.add(person.id)

    def rate_limit(self, retry_after: float) -> None:
        """The next request is answered 429 (Too Many Requests)."""
        self._retry_after = retry_after

    def in_channel(self, channel_id: int) -> list[Posted]:
        return [p for p in self.posted if p.channel_id == channel_id]

    def dms_to(self, person: Person) -> list[Posted]:
        return [p for p in self.posted if self.channels[p.channel_id].recipient == person.id]

    @contextmanager
    def down(self, mode: str = "503") -> Iterator[None]:
        self.outage = mode
        try:
            yield
        finally:
            self.outage = None

    # --- discord.py's cache, as GUILD_CREATE fills it ----------------------------------

    def _overwrites(self, channel: FakeChannel) -> list[dict[str, Any]]:
        denied = discord.Permissions(**dict.fromkeys(channel.denied, True)).value
        if not denied:
            return []
        return [{"id": str(APPLICATION_ID), "type": 1, "allow": "0", "deny": str(denied)}]

    def cache(self, bot: discord.Client) -> discord.Guild:
        """The server in the bot's cache, matching the model now (call again after a
        change, as CHANNEL_UPDATE would keep it current)."""
        state: Any = bot._connection
        everyone = discord.Permissions(**dict.fromkeys(EVERYTHING, True)).value
        channels = [
            {
                "id": str(c.id),
                "type": c.type,
                "name": c.name,
                "guild_id": str(GUILD_ID),
                "position": i,
                "permission_overwrites": self._overwrites(c),
                "nsfw": False,
                "parent_id": None,
            }
            for i, c in enumerate(self.channels.values())
            if c.type not in THREADS and c.type != DM
        ]
        bot_member = {
            "user": {**user_payload(Person(APPLICATION_ID, "studybot")), "bot": True},
            "roles": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        }
        data = {
            "id": str(GUILD_ID),
            "name": "study group",
            "owner_id": str(OWNER.id),
            "member_count": 3,
            "roles": [
                {
                    "id": str(GUILD_ID),
                    "name": "@everyone",
                    "permissions": str(everyone),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": channels,
            "members": [bot_member],
        }
        guild = discord.Guild(data=data, state=state)  # type: ignore[arg-type]
        state._add_guild(guild)
        return guild

    def install(self, monkeypatch: pytest.MonkeyPatch, bot: discord.Client) -> None:
        monkeypatch.setattr(bot.http, "request", self.request)

    # --- requests -------------------------------------------------------------------

    async def request(
        self,
        route: discord.http.Route,
        *,
        files: list[discord.File] | None = None,
        form: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Any:
        key = f"{route.method} {route.path}"
        self.requests.append(key)
        if self.outage == "connection":
            self.failed_requests += 1
            raise aiohttp.ClientConnectionError("Cannot connect to host discord.com:443")
        if self.outage is not None:
            self.failed_requests += 1
            raise refusal(503, 0, "upstream connect error")
        if self._retry_after is not None:
            retry_after, self._retry_after = self._retry_after, None
            self.failed_requests += 1
            response = _response(429, "Too Many Requests", {"Retry-After": str(retry_after)})
            body = {"message": "You are being rate limited.", "retry_after": retry_after}
            raise discord.HTTPException(response, {**body, "global": False, "code": 0})
        if self.limited:
            self._rate_check(route)
        body = kwargs.get("json")
        if body is None and form:
            body = json.loads(form[0]["value"])  # payload_json, before the files
        url = route.url.removeprefix(route.BASE)
        parts = url.strip("/").split("/")
        handlers = {
            ("POST", "/channels/{channel_id}/messages"): self._create_message,
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads"): self._thread,
            ("POST", "/users/@me/channels"): self._open_dm,
            ("GET", "/channels/{channel_id}"): self._get_channel,
            ("GET", "/gateway/bot"): self._gateway,
            ("GET", "/guilds/{guild_id}/members/{member_id}"): self._get_member,
        }
        handler = handlers.get((route.method, route.path))
        if handler is None:
            raise AssertionError(f"the double does not serve {key}")
        return handler(parts, body or {}, files or [])

    def _rate_check(self, route: discord.http.Route) -> None:
        """Count the request against the limits, or answer 429 as Discord would."""
        now = self.clock.now()
        second = timedelta(seconds=1)
        while self._global and now - self._global[0] >= second:
            self._global.popleft()
        if len(self._global) >= rules.GLOBAL_PER_SECOND:
            wait = (self._global[0] + second - now).total_seconds()
            self._too_many(wait, is_global=True)
        channel_id = getattr(route, "channel_id", None)
        bucket: deque[datetime] | None = None
        if channel_id is not None:
            window = timedelta(seconds=rules.CHANNEL_WINDOW_S)
            bucket = self._buckets.setdefault((route.path, int(channel_id)), deque())
            while bucket and now - bucket[0] >= window:
                bucket.popleft()
            if len(bucket) >= rules.CHANNEL_BUCKET:
                self._too_many((bucket[0] + window - now).total_seconds(), is_global=False)
            bucket.append(now)
        self._global.append(now)
        self.accepted.append((now, f"{route.method} {route.path}"))

    def _too_many(self, retry_after: float, *, is_global: bool) -> None:
        self.rate_limited += 1
        self.failed_requests += 1
        headers = {"Retry-After": f"{retry_after:.3f}"}
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        response = _response(429, "Too Many Requests", headers)
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        raise discord.HTTPException(response, {**body, "global": is_global, "code": 0})

    def _visible(self, channel_id: int) -> FakeChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise refusal(404, rules.UNKNOWN_CHANNEL, "Unknown Channel")
        rights = self._rights(channel)
        if "view_channel" in rights:
            raise refusal(403, rules.MISSING_ACCESS, "Missing Access")
        return channel

    def _rights(self, channel: FakeChannel) -> set[str]:
        """What the bot may not do in the channel (a thread: its channel's overwrites)."""
        if channel.parent_id is not None:
            return self.channels[channel.parent_id].denied
        return channel.denied

    def _create_message(self, parts: list[str], body: dict[str, Any], files: list[Any]) -> Any:
        channel = self._visible(int(parts[1]))
        if channel.type in NO_MESSAGES:
            raise refusal(
                400, CANNOT_SEND_IN_NON_TEXT, "Cannot send messages in a non-text channel"
            )
        if channel.type == DM and channel.recipient in self.closed_dms:
            raise refusal(403, rules.CANNOT_DM, "Cannot send messages to this user")
        denied = self._rights(channel)
        needed = "send_messages_in_threads" if channel.type in THREADS else "send_messages"
        if needed in denied or (files and "attach_files" in denied):
            raise refusal(403, rules.MISSING_PERMISSIONS, "Missing Permissions")
        try:
            rules.check_message(body, len(files))
        except rules.DiscordRefusal as exc:
            raise refusal(exc.status, exc.code, exc.message) from None
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > MAX_NONCE:
            raise refusal(400, rules.INVALID_FORM_BODY, "nonce: must be 25 or fewer in length")
        now = self.clock.now()
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self.by_nonce.get((channel.id, str(nonce)))
            if earlier is not None and now - earlier.at < NONCE_WINDOW:
                return self._message_payload(earlier)
        posted = Posted(next(self._ids), channel.id, body, [f.filename for f in files], nonce, now)
        self.posted.append(posted)
        self.by_id[posted.id] = posted
        if nonce is not None:
            self.by_nonce[(channel.id, str(nonce))] = posted
        return self._message_payload(posted)

    def _thread(self, parts: list[str], body: dict[str, Any], files: list[Any]) -> Any:
        channel = self._visible(int(parts[1]))
        message_id = int(parts[3])
        if channel.type not in (TEXT, NEWS):
            raise refusal(400, WRONG_CHANNEL_TYPE, "Cannot execute action on this channel type")
        started_from = self.by_id.get(message_id)
        if started_from is None or started_from.channel_id != channel.id:
            raise refusal(404, rules.UNKNOWN_MESSAGE, "Unknown Message")
        if "create_public_threads" in channel.denied:
            raise refusal(403, rules.MISSING_PERMISSIONS, "Missing Permissions")
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= rules.MAX_THREAD_NAME:
            raise refusal(400, rules.INVALID_FORM_BODY, "name: 1 to 100 characters")
        if message_id in self.threads:
            raise refusal(400, THREAD_ALREADY_CREATED, "A thread has already been created")
        kind = NEWS_THREAD if channel.type == NEWS else PUBLIC_THREAD
        self.threads[message_id] = message_id  # a thread from a message has its id
        thread = self.channel(message_id, name, kind, parent_id=channel.id)
        return self._channel_payload(thread)

    def _open_dm(self, parts: list[str], body: dict[str, Any], files: list[Any]) -> Any:
        user_id = int(body["recipient_id"])
        person = self.people.get(user_id)
        if person is None:
            raise refusal(404, 10013, "Unknown User")
        channel = self.channels.get(80_000 + user_id) or self.channel(
            80_000 + user_id, "", DM, recipient=user_id
        )
        return {
            "id": str(channel.id),
            "type": DM,
            "last_message_id": None,
            "recipients": [user_payload(person)],
        }

    def _get_member(self, parts: list[str], body: dict[str, Any], files: list[Any]) -> Any:
        """Get Guild Member: everyone is in the server but ``left_server`` (404 Unknown
        Member)."""
        user_id = int(parts[3])
        if user_id in self.left_server:
            raise refusal(404, UNKNOWN_MEMBER, "Unknown Member")
        return member_payload(self.people.get(user_id, Person(user_id, f"user{user_id}")))

    def _gateway(self, parts: list[str], body: dict[str, Any], files: list[Any]) -> Any:
        """Get Gateway Bot: the recommended number of shards (``gateway_shards``)."""
        limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return {
            "url": "wss://gateway.discord.gg",
            "shards": self.gateway_shards,
            "session_start_limit": limit,
        }

    def _get_channel(self, parts: list[str], body: dict[str, Any], files: list[Any]) -> Any:
        return self._channel_payload(self._visible(int(parts[1])))

    # --- payloads ---------------------------------------------------------------------

    def _channel_payload(self, channel: FakeChannel) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(channel.id),
            "type": channel.type,
            "name": channel.name,
            "guild_id": str(GUILD_ID),
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": str(channel.parent_id) if channel.parent_id else None,
        }
        if channel.type in THREADS:
            payload.update(
                owner_id=str(APPLICATION_ID),
                last_message_id=None,
                rate_limit_per_user=0,
                message_count=0,
                member_count=0,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": "2026-12-07T00:00:00+00:00",
                    "locked": False,
                },
            )
        return payload

    def _message_payload(self, posted: Posted) -> dict[str, Any]:
        payload = message_payload(
            posted.content, posted.body.get("components") or [], posted.channel_id
        )
        payload.update(id=str(posted.id), timestamp=posted.at.isoformat())
        if posted.nonce is not None:
            payload["nonce"] = posted.nonce
        return payload
