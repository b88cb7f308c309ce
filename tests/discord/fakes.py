"""A Discord double for offline tests, as strict as Discord itself.

``Gateway`` builds interaction payloads the way Discord sends them and feeds real
``discord.Interaction`` objects to the bot (the command tree, or the view store for
buttons and forms). Interaction ids are snowflakes minted from an injected clock (the
core's ``ManualClock`` unless told otherwise), so ``Interaction.created_at`` is "now" by that
clock, or ``age`` seconds earlier; nothing ever sleeps.

``Recorder`` replaces the webhook adapter's interaction calls (respond, follow up, edit or
delete the original response) and, when asked, the channel and direct-message sends, and
answers as Discord does (``discord_rules``): it refuses what Discord refuses with the
``discord.HTTPException`` subclass discord.py would raise, and records what was shown,
to whom, and who was notified:

- message limits (content, attachments, embeds), forms and autocomplete answers;
- the first response within 3 seconds of the interaction's creation (else 404, Unknown
  Interaction), and only one (else 400, already acknowledged);
- follow-ups, edits and deletions only while the token lives (15 minutes; then 401,
  Invalid Webhook Token) and only after a first response (404, Unknown Webhook);
- the first follow-up after a "thinking…" deferral edits that message and keeps its
  visibility, whatever the follow-up's ephemeral flag says;
- an edit never notifies anyone; a new message notifies those its allowed mentions allow
  (an ephemeral one nobody);
- 403/404 (or any status) with Discord's error code, and 429 with ``retry_after``, when a
  test arms them; discord.py waits a 429 out and retries (at most 5 tries), and so does
  the double, on the clock.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import discord
import pytest
from discord import app_commands
from discord.webhook.async_ import AsyncWebhookAdapter

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.cogs.admin import discord_path
from bot.clock import ManualClock
from bot.commands import COMMANDS
from bot.config import Settings
from bot.core import Core
from tests.discord import discord_rules as rules

SEOUL = ZoneInfo("Asia/Seoul")
GUILD_ID = 1_000
CHANNEL_ID = 2_000
APPLICATION_ID = 3_000
DM_CHANNELS = 7_000_000  # a user's direct-message channel id: this plus the user id
MANAGE_GUILD = 0x20
EPHEMERAL = 64
TEXT_INPUT = 4
OPTION_TYPES = {"str": 3, "date": 3, "int": 4, "bool": 5, "user": 6, "channel": 7, "float": 10}
# interaction callback types
MESSAGE, DEFERRED, DEFERRED_UPDATE, UPDATE, AUTOCOMPLETE, MODAL = 4, 5, 6, 7, 8, 9
ROUTES = ("response", "followup", "edit", "delete", "channel")
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
MESSAGES = {
    rules.UNKNOWN_CHANNEL: "Unknown Channel",
    rules.UNKNOWN_MESSAGE: "Unknown Message",
    rules.UNKNOWN_WEBHOOK: "Unknown Webhook",
    rules.UNKNOWN_INTERACTION: "Unknown interaction",
    rules.ALREADY_ACKNOWLEDGED: "Interaction has already been acknowledged.",
    rules.MISSING_ACCESS: "Missing Access",
    rules.CANNOT_DM: "Cannot send messages to this user",
    rules.MISSING_PERMISSIONS: "Missing Permissions",
    rules.INVALID_WEBHOOK_TOKEN: "Invalid Webhook Token",
}
_USER_MENTION = re.compile(r"<@!?(\d+)>")


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class Channel:
    id: int
    name: str


ALICE = Person(101, "alice")
BOB = Person(102, "bob")
CAROL = Person(103, "carol")


@dataclass
class Sent:
    """One message (or autocomplete answer, deferral, form, edit or deletion) the bot sent,
    as Discord shows it."""

    interaction_id: int  # 0 for a channel or direct message
    via: str  # "response" (the interaction callback), "followup", "edit" or "delete" (the
    # original response), "channel" (a channel or direct message)
    type: int | None  # callback type: 4 message, 5 deferred (thinking), 6 deferred update,
    # 7 update message, 8 autocomplete, 9 modal (a form)
    data: dict[str, Any]
    files: list[tuple[str, bytes]] = field(default_factory=list)
    private: bool = False  # only the caller sees it (what Discord shows, not what was asked)
    notified: frozenset[int] = frozenset()  # users Discord notifies
    edits_original: bool = False  # a follow-up Discord turned into an edit of "thinking…"
    channel_id: int | None = None  # where a channel or direct message went

    @property
    def content(self) -> str:
        return self.data.get("content") or ""

    @property
    def ephemeral(self) -> bool:
        """Shown to the caller only (as Discord shows it)."""
        return self.private

    @property
    def asked_ephemeral(self) -> bool:
        """The ephemeral flag the bot sent (Discord may ignore it)."""
        return bool(self.data.get("flags", 0) & EPHEMERAL)

    @property
    def custom_ids(self) -> list[str]:
        return [
            child["custom_id"]
            for row in self.data.get("components", [])
            for child in row.get("components", [])
            if "custom_id" in child
        ]

    @property
    def choices(self) -> list[dict[str, Any]]:
        return self.data.get("choices", [])

    @property
    def inputs(self) -> dict[str, dict[str, Any]]:
        """A form's text inputs by custom id."""
        return {
            child["custom_id"]: child
            for row in self.data.get("components", [])
            for child in row.get("components", [])
            if child.get("type") == TEXT_INPUT
        }


def _read_file(file: discord.File) -> tuple[str, bytes]:
    file.fp.seek(0)
    return file.filename, file.fp.read()


def _json_part(payload: dict[str, Any] | None, multipart: list[dict[str, Any]] | None) -> Any:
    """The JSON body of a request; with files it travels as the first multipart part."""
    if payload is not None:
        return payload
    assert multipart, "a request without a body"
    return json.loads(multipart[0]["value"])


# --- Discord's answers -------------------------------------------------------------------


@dataclass
class FakeResponse:
    """What ``discord.HTTPException`` reads of an aiohttp response."""

    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)


def http_error(status: int, code: int, message: str = "", **extra: Any) -> discord.HTTPException:
    """The exception discord.py raises for Discord's answer ``status`` with JSON error
    ``{"code": code, "message": message, ...}``."""
    response = FakeResponse(status, REASONS.get(status, "Error"))
    if "retry_after" in extra:
        response.headers["Retry-After"] = str(extra["retry_after"])
    data = {"code": code, "message": message or MESSAGES.get(code, ""), **extra}
    if status == 403:
        return discord.Forbidden(response, data)  # type: ignore[arg-type]
    if status == 404:
        return discord.NotFound(response, data)  # type: ignore[arg-type]
    if status >= 500:
        return discord.DiscordServerError(response, data)  # type: ignore[arg-type]
    return discord.HTTPException(response, data)  # type: ignore[arg-type]


def notified_by(body: dict[str, Any], private: bool) -> frozenset[int]:
    """Users a new message notifies: those mentioned in its content that its allowed
    mentions let through (without any, Discord parses them all); an ephemeral message
    notifies nobody."""
    if private:
        return frozenset()
    mentioned = {int(found) for found in _USER_MENTION.findall(body.get("content") or "")}
    allowed = body.get("allowed_mentions")
    if allowed is None or "users" in allowed.get("parse", []):
        return frozenset(mentioned)
    return frozenset(mentioned & {int(user) for user in allowed.get("users", [])})


@dataclass
class Armed:
    """A refusal a test asked for: the next ``times`` requests on ``route`` get it."""

    route: str  # one of ROUTES, or "any"
    status: int
    code: int
    times: int
    retry_after: float = 0.0


@dataclass
class _Original:
    """An interaction's original response message, as Discord holds it."""

    private: bool
    loading: bool  # a deferral's "thinking…" message nobody has edited yet


@dataclass
class _Interaction:
    created_at: datetime
    acknowledged: int | None = None  # the callback type of the first response
    original: _Original | None = None  # None: no such message (never sent, or deleted)


class Recorder:
    """Stands in for Discord's interaction endpoints (and, once ``install_channels`` ran,
    channel and direct messages): enforces its rules and records what it shows."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        self.sent: list[Sent] = []  # interaction answers, in order
        self.posts: list[Sent] = []  # channel and direct messages, in order
        self.clock = clock or ManualClock(datetime(2026, 12, 7, 8, 0, tzinfo=SEOUL))
        self.waited = 0.0  # seconds discord.py would have slept on 429s
        self._armed: list[Armed] = []
        self._interactions: dict[int, _Interaction] = {}

    # --- what a test arms ---------------------------------------------------------------

    def fail(self, route: str, status: int, code: int, *, times: int = 1) -> None:
        """Refuse the next ``times`` requests on ``route`` (``any``: every route)."""
        assert route in (*ROUTES, "any"), route
        self._armed.append(Armed(route, status, code, times))

    def rate_limit(self, route: str, retry_after: float, *, times: int = 1) -> None:
        """Answer the next ``times`` requests on ``route`` with 429 and ``retry_after``."""
        assert route in (*ROUTES, "any"), route
        self._armed.append(Armed(route, 429, 0, times, retry_after))

    def _take(self, route: str) -> Armed | None:
        for armed in self._armed:
            if armed.route in (route, "any") and armed.times > 0:
                armed.times -= 1
                return armed
        return None

    def _gate(self, route: str) -> None:
        """An armed answer for this request. A 429 is waited out as discord.py does (here
        on the clock) and the request retried, at most 5 tries in all."""
        for _attempt in range(5):
            armed = self._take(route)
            if armed is None:
                return
            if armed.status != 429:
                raise http_error(armed.status, armed.code)
            self.clock.advance(timedelta(seconds=armed.retry_after))
            self.waited += armed.retry_after
        limited = {"retry_after": armed.retry_after, "global": False}
        raise http_error(429, 0, "You are being rate limited.", **limited)

    # --- Discord's rules ----------------------------------------------------------------

    def _interaction(self, interaction_id: int) -> _Interaction:
        if interaction_id not in self._interactions:
            created = discord.utils.snowflake_time(interaction_id)
            self._interactions[interaction_id] = _Interaction(created)
        return self._interactions[interaction_id]

    def _age(self, state: _Interaction) -> float:
        return (self.clock.now() - state.created_at).total_seconds()

    def _token_alive(self, state: _Interaction) -> None:
        if self._age(state) >= rules.TOKEN_LIFETIME_S:
            raise http_error(401, rules.INVALID_WEBHOOK_TOKEN)
        if state.acknowledged is None:
            raise http_error(404, rules.UNKNOWN_WEBHOOK)

    @staticmethod
    def _check(check: Any, *args: Any) -> None:
        try:
            check(*args)
        except rules.DiscordRefusal as refused:
            raise http_error(refused.status, refused.code, refused.message) from None

    def _check_message(self, body: dict[str, Any], files: int) -> None:
        attachments = max(files, len(body.get("attachments") or []))
        self._check(rules.check_message, body, attachments)

    # --- the webhook adapter's interaction calls ------------------------------------------

    async def create_interaction_response(
        self, interaction_id: int, token: str, *, params: Any, **_: Any
    ) -> dict[str, Any]:
        body = _json_part(params.payload, params.multipart)  # {"type": ..., "data": {...}}
        files = [_read_file(f) for f in params.files or []]
        kind, data = body["type"], body.get("data") or {}  # a deferral may have no data
        state = self._interaction(interaction_id)
        self._gate("response")
        if self._age(state) > rules.ACK_DEADLINE_S:
            raise http_error(404, rules.UNKNOWN_INTERACTION)
        if state.acknowledged is not None:
            raise http_error(400, rules.ALREADY_ACKNOWLEDGED)
        if kind in (MESSAGE, UPDATE):
            self._check_message(data, len(files))
        elif kind == MODAL:
            self._check(rules.check_modal, data)
        elif kind == AUTOCOMPLETE:
            self._check(rules.check_choices, data)
        private = bool(data.get("flags", 0) & EPHEMERAL)
        state.acknowledged = kind
        if kind in (MESSAGE, DEFERRED):
            state.original = _Original(private, loading=kind == DEFERRED)
        elif kind in (DEFERRED_UPDATE, UPDATE):  # the original is the component's message
            state.original = _Original(False, loading=False)
        notified = notified_by(data, private) if kind == MESSAGE else frozenset()
        self.sent.append(Sent(interaction_id, "response", kind, data, files, private, notified))
        return {"interaction": {"id": str(interaction_id), "type": kind}}

    async def execute_webhook(self, webhook_id: int, token: str, **request: Any) -> dict[str, Any]:
        """A follow-up: a new message, or (the first after "thinking…") an edit of it."""
        interaction_id, state = self._by_token(token)
        self._gate("followup")
        self._token_alive(state)
        body, files = self._body(**request)
        self._check_message(body, len(files))
        original = state.original
        if original is not None and original.loading:
            original.loading = False
            sent = Sent(interaction_id, "followup", None, body, files, original.private)
            sent.edits_original = True
        else:
            private = bool(body.get("flags", 0) & EPHEMERAL)
            notified = notified_by(body, private)
            sent = Sent(interaction_id, "followup", None, body, files, private, notified)
        self.sent.append(sent)
        return message_payload(sent.content, body.get("components", []))

    async def edit_original_interaction_response(
        self, application_id: int, token: str, **request: Any
    ) -> dict[str, Any]:
        interaction_id, state = self._by_token(token)
        self._gate("edit")
        self._token_alive(state)
        if state.original is None:
            raise http_error(404, rules.UNKNOWN_MESSAGE)
        body, files = self._body(**request)
        self._check_message(body, len(files))
        state.original.loading = False
        self.sent.append(Sent(interaction_id, "edit", None, body, files, state.original.private))
        return message_payload(body.get("content") or "", body.get("components", []))

    async def delete_original_interaction_response(
        self, application_id: int, token: str, **_: Any
    ) -> None:
        interaction_id, state = self._by_token(token)
        self._gate("delete")
        self._token_alive(state)
        if state.original is None:
            raise http_error(404, rules.UNKNOWN_MESSAGE)
        private = state.original.private
        state.original = None
        self.sent.append(Sent(interaction_id, "delete", None, {}, private=private))

    def _by_token(self, token: str) -> tuple[int, _Interaction]:
        interaction_id = int(token.removeprefix("token-"))
        return interaction_id, self._interaction(interaction_id)

    @staticmethod
    def _body(
        *,
        payload: dict[str, Any] | None = None,
        multipart: list[dict[str, Any]] | None = None,
        files: list[discord.File] | None = None,
        **_: Any,
    ) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        return _json_part(payload, multipart), [_read_file(f) for f in files or []]

    # --- channel and direct messages (the bot's own HTTP client) ---------------------------

    async def send_message(self, channel_id: int, *, params: Any) -> dict[str, Any]:
        self._gate("channel")
        body = _json_part(params.payload, params.multipart)
        files = [_read_file(f) for f in params.files or []]
        self._check_message(body, len(files))
        direct = int(channel_id) >= DM_CHANNELS
        sent = Sent(0, "channel", None, body, files, direct, notified_by(body, direct))
        sent.channel_id = int(channel_id)
        self.posts.append(sent)
        return message_payload(sent.content, body.get("components", []), int(channel_id))

    async def start_private_message(self, user_id: int) -> dict[str, Any]:
        return {
            "id": str(DM_CHANNELS + int(user_id)),
            "type": 1,
            "last_message_id": None,
            "recipients": [user_payload(Person(int(user_id), "someone"))],
        }

    # --- installing -----------------------------------------------------------------------

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        adapter = AsyncWebhookAdapter
        for name in (
            "create_interaction_response",
            "execute_webhook",
            "edit_original_interaction_response",
            "delete_original_interaction_response",
        ):
            monkeypatch.setattr(adapter, name, _bound(getattr(self, name)))

    def install_channels(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Also record channel and direct messages the bot sends (``self.posts``)."""
        client = discord.http.HTTPClient
        for name in ("send_message", "start_private_message"):
            monkeypatch.setattr(client, name, _bound(getattr(self, name)))

    def for_interaction(self, interaction_id: int) -> list[Sent]:
        return [s for s in self.sent if s.interaction_id == interaction_id]


def _bound(method: Any) -> Any:
    """A replacement method that ignores the instance it is called on."""

    async def replacement(_adapter: Any, *args: Any, **kwargs: Any) -> Any:
        return await method(*args, **kwargs)

    return replacement


# --- interactions ----------------------------------------------------------------------


def user_payload(person: Person) -> dict[str, Any]:
    return {
        "id": str(person.id),
        "username": person.name,
        "global_name": person.name,
        "discriminator": "0",
        "avatar": None,
    }


def member_payload(
    person: Person, permissions: int = 0, roles: list[int] | None = None
) -> dict[str, Any]:
    return {
        "user": user_payload(person),
        "roles": [str(role) for role in roles or []],
        "joined_at": "2026-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "permissions": str(permissions),
    }


async def installed_bot(core: Core, settings: Settings) -> StudyBot:
    """A bot as after ``setup_hook`` and READY, minus the network: commands, buttons and
    translator installed, its own user known, nothing synced or scheduled."""
    bot = StudyBot(core, settings)
    bot._connection.user = discord.ClientUser(
        state=bot._connection,
        data={**user_payload(Person(APPLICATION_ID, "studybot")), "bot": True},  # type: ignore[typeddict-item]
    )
    bot._connection.application_id = APPLICATION_ID
    await bot.install()
    return bot


_MESSAGE_IDS = itertools.count(5_555)


def message_payload(
    content: str, components: list[dict[str, Any]], channel_id: int = CHANNEL_ID
) -> dict[str, Any]:
    """A message the bot posted, as Discord describes it."""
    return {
        "id": str(next(_MESSAGE_IDS)),
        "channel_id": str(channel_id),
        "author": user_payload(Person(APPLICATION_ID, "studybot")),
        "content": content,
        "timestamp": "2026-12-07T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
        "components": components,
    }


_SEQUENCE = itertools.count(1)  # the low bits of interaction ids: unique in one run


def command_options(path: tuple[str, ...], values: list[dict[str, Any]]) -> dict[str, Any]:
    """Application command data for ``path`` as Discord shows it (``/admin member add``
    for the table's ``member add``), its options ``values`` in the innermost level."""
    top, *rest = discord_path(path)
    data: dict[str, Any] = {"id": "1", "name": top, "type": 1}
    inner = values
    for depth, name in reversed(list(enumerate(rest))):
        kind = 1 if depth == len(rest) - 1 else 2  # a subcommand, or a group of them
        inner = [{"name": name, "type": kind, "options": inner}]
    data["options"] = inner
    return data


class Gateway:
    """Builds interaction payloads the way Discord sends them and feeds them to the bot.

    Interactions are created "now" by ``clock`` (the core's, unless given), or ``age``
    seconds before; the recorder judges deadlines by the same clock."""

    def __init__(self, bot: StudyBot, recorder: Recorder, clock: ManualClock | None = None) -> None:
        self.bot = bot
        self.recorder = recorder
        self.clock: ManualClock = clock or bot.core.services.clock  # type: ignore[assignment]
        recorder.clock = self.clock

    def new_id(self, age: float = 0.0) -> int:
        """A snowflake created ``age`` seconds ago by the clock."""
        created = self.clock.now() - timedelta(seconds=age)
        return discord.utils.time_snowflake(created) + next(_SEQUENCE) % (1 << 22)

    def _base(
        self,
        kind: int,
        person: Person,
        *,
        admin: bool,
        guild_id: int | None,
        locale: str,
        data: dict[str, Any],
        roles: list[int] | None = None,
        age: float = 0.0,
    ) -> dict[str, Any]:
        interaction_id = self.new_id(age)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(APPLICATION_ID),
            "type": kind,
            "token": f"token-{interaction_id}",
            "version": 1,
            "locale": locale,
            "app_permissions": "0",
            "attachment_size_limit": 8 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {},
            "channel_id": str(CHANNEL_ID),
            "data": data,
        }
        if guild_id is None:
            payload["user"] = user_payload(person)
            payload["context"] = 1
            payload["channel"] = {"id": str(DM_CHANNELS + person.id), "type": 1}
        else:
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "ko"
            payload["member"] = member_payload(person, MANAGE_GUILD if admin else 0, roles)
            payload["context"] = 0
            payload["channel"] = {
                "id": str(CHANNEL_ID),
                "type": 0,
                "name": "study",
                "guild_id": str(guild_id),
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            }
        return payload

    def payload(
        self,
        kind: int = 2,
        person: Person = ALICE,
        *,
        age: float = 0.0,
        data: dict[str, Any] | None = None,
        admin: bool = False,
    ) -> dict[str, Any]:
        """An interaction's payload (a slash command's by default) in the guild."""
        data = data or command_options(("member", "list"), [])
        return self._base(
            kind, person, admin=admin, guild_id=GUILD_ID, locale="ko", data=data, age=age
        )

    def interaction(
        self, kind: int = 2, person: Person = ALICE, *, age: float = 0.0
    ) -> discord.Interaction[StudyBot]:
        """A bare interaction the bot has not seen (to drive the double by hand)."""
        payload = self.payload(kind, person, age=age)
        return discord.Interaction(data=payload, state=self.bot._connection)  # type: ignore[arg-type]

    def command_data(
        self, path: str, options: dict[str, Any], focused: str | None = None
    ) -> dict[str, Any]:
        command = COMMANDS[tuple(path.split())]
        kinds = {o.name: o.kind for o in command.options}
        resolved: dict[str, dict[str, Any]] = {}
        values = []
        for name, value in options.items():
            option: dict[str, Any] = {"name": name, "type": OPTION_TYPES[kinds[name]]}
            if isinstance(value, Person):
                option["value"] = str(value.id)
                resolved.setdefault("users", {})[str(value.id)] = user_payload(value)
                member = member_payload(value)
                del member["user"]
                resolved.setdefault("members", {})[str(value.id)] = member
            elif isinstance(value, Channel):
                option["value"] = str(value.id)
                resolved.setdefault("channels", {})[str(value.id)] = {
                    "id": str(value.id),
                    "name": value.name,
                    "type": 0,
                    "permissions": "0",
                    "guild_id": str(GUILD_ID),
                }
            else:
                option["value"] = value
            if name == focused:
                option["focused"] = True
            values.append(option)
        data = command_options(command.path, values)
        data["resolved"] = resolved
        return data

    async def command(
        self,
        path: str,
        person: Person = ALICE,
        *,
        admin: bool = False,
        guild_id: int | None = GUILD_ID,
        user_locale: str = "ko",
        roles: list[int] | None = None,
        age: float = 0.0,
        **options: Any,
    ) -> list[Sent]:
        """Run a slash command (``from_`` for the option ``from``) created ``age`` seconds
        ago; returns the answers."""
        data = self.command_data(path, {k.rstrip("_"): v for k, v in options.items()})
        return await self.send_command(
            data,
            person,
            admin=admin,
            guild_id=guild_id,
            user_locale=user_locale,
            roles=roles,
            age=age,
        )

    async def send_command(
        self,
        data: dict[str, Any],
        person: Person = ALICE,
        *,
        admin: bool = False,
        guild_id: int | None = GUILD_ID,
        user_locale: str = "ko",
        roles: list[int] | None = None,
        age: float = 0.0,
    ) -> list[Sent]:
        """Dispatch application command ``data`` as ``CommandTree._from_interaction`` does."""
        payload = self._base(
            2,
            person,
            admin=admin,
            guild_id=guild_id,
            locale=user_locale,
            data=data,
            roles=roles,
            age=age,
        )
        interaction = discord.Interaction(data=payload, state=self.bot._connection)
        try:
            await self.bot.tree._call(interaction)
        except app_commands.AppCommandError as error:
            await self.bot.tree._dispatch_error(interaction, error)
        return self.recorder.for_interaction(interaction.id)

    def add_role(self, role_id: int, name: str) -> int:
        """A role in the guild's cache, as GUILD_CREATE would have put it there."""
        state = self.bot._connection
        guild = state._get_or_create_unavailable_guild(GUILD_ID)
        state._add_guild(guild)
        role = discord.Role(guild=guild, state=state, data={"id": str(role_id), "name": name})  # type: ignore[typeddict-item]
        guild._add_role(role)
        return role_id

    async def autocomplete(
        self, path: str, focused: str, value: str, person: Person = ALICE
    ) -> list[dict[str, Any]]:
        data = self.command_data(path, {focused: value}, focused=focused)
        payload = self._base(4, person, admin=False, guild_id=GUILD_ID, locale="ko", data=data)
        interaction = discord.Interaction(data=payload, state=self.bot._connection)
        await self.bot.tree._call(interaction)
        (answer,) = self.recorder.for_interaction(interaction.id)
        assert answer.type == AUTOCOMPLETE
        return answer.choices

    async def press(
        self, message: Sent, custom_id: str, person: Person, *, age: float = 0.0
    ) -> list[Sent]:
        """Press a button of a message the bot sent, as the gateway would deliver it."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._base(
            3, person, admin=False, guild_id=GUILD_ID, locale="ko", data=data, age=age
        )
        payload["message"] = message_payload(message.content, message.data.get("components", []))
        interaction_id = int(payload["id"])
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        pending = [
            t for t in asyncio.all_tasks() if t.get_name().startswith("discord-ui-dynamic-item")
        ]
        await asyncio.gather(*pending)
        return self.recorder.for_interaction(interaction_id)

    async def submit(
        self, form: Sent, typed: dict[str, str], person: Person = ALICE, *, age: float = 0.0
    ) -> list[Sent]:
        """Submit a form the bot opened: every input as shown, with ``typed`` typed in."""
        assert form.type == MODAL, "not a form"
        rows = [
            {
                "type": 1,
                "components": [
                    {
                        "type": TEXT_INPUT,
                        "custom_id": key,
                        "value": typed.get(key, shown.get("value", "")),
                    }
                ],
            }
            for key, shown in form.inputs.items()
        ]
        data = {"custom_id": form.data["custom_id"], "components": rows}
        payload = self._base(
            5, person, admin=False, guild_id=GUILD_ID, locale="ko", data=data, age=age
        )
        interaction_id = int(payload["id"])
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        pending = [
            t for t in asyncio.all_tasks() if t.get_name().startswith("discord-ui-modal-dispatch")
        ]
        await asyncio.gather(*pending)
        return self.recorder.for_interaction(interaction_id)
