"""Fakes for offline Discord tests.

``Gateway`` builds interaction payloads the way Discord sends them and feeds real
``discord.Interaction`` objects to the bot (the command tree, or the view store for
buttons). ``Recorder`` replaces the webhook adapter's interaction methods (respond,
follow up, edit or delete the original response), so what the bot answers is recorded
instead of sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import discord
import pytest
from discord import app_commands
from discord.webhook.async_ import AsyncWebhookAdapter

from bot.adapters.discord.bot import StudyBot
from bot.commands import COMMANDS
from bot.config import Settings
from bot.core import Core

SEOUL = ZoneInfo("Asia/Seoul")
GUILD_ID = 1_000
CHANNEL_ID = 2_000
APPLICATION_ID = 3_000
MANAGE_GUILD = 0x20
EPHEMERAL = 64
TEXT_INPUT = 4
OPTION_TYPES = {"str": 3, "date": 3, "int": 4, "bool": 5, "user": 6, "channel": 7, "float": 10}


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
    """One message (or autocomplete answer, deferral, edit or deletion) the bot would have sent."""

    interaction_id: int
    via: str  # "response" (the interaction callback), "followup", "edit" or "delete" (original)
    type: int | None  # callback type: 4 message, 5 deferred (thinking), 6 deferred update,
    # 7 update message, 8 autocomplete, 9 modal (a form)
    data: dict[str, Any]
    files: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def content(self) -> str:
        return self.data.get("content") or ""

    @property
    def ephemeral(self) -> bool:
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


class Recorder:
    """Stands in for the webhook adapter's interaction calls and records what they get."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []

    async def create_interaction_response(
        self, interaction_id: int, token: str, *, params: Any, **_: Any
    ) -> dict[str, Any]:
        body = _json_part(params.payload, params.multipart)  # {"type": ..., "data": {...}}
        files = [_read_file(f) for f in params.files or []]
        data = body.get("data", {})  # a deferral may have none
        self.sent.append(Sent(interaction_id, "response", body["type"], data, files))
        return {"interaction": {"id": str(interaction_id), "type": body["type"]}}

    async def execute_webhook(self, webhook_id: int, token: str, **request: Any) -> dict[str, Any]:
        return self._message("followup", token, **request)

    async def edit_original_interaction_response(
        self, application_id: int, token: str, **request: Any
    ) -> dict[str, Any]:
        return self._message("edit", token, **request)

    def _message(
        self,
        via: str,
        token: str,
        *,
        payload: dict[str, Any] | None = None,
        multipart: list[dict[str, Any]] | None = None,
        files: list[discord.File] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """Record a follow-up or an edit (both name the interaction by its token)."""
        body = _json_part(payload, multipart)
        interaction_id = int(token.removeprefix("token-"))
        recorded = [_read_file(f) for f in files or []]
        self.sent.append(Sent(interaction_id, via, None, body, recorded))
        return message_payload(body.get("content") or "", body.get("components", []))

    async def delete_original_interaction_response(
        self, application_id: int, token: str, **_: Any
    ) -> None:
        self.sent.append(Sent(int(token.removeprefix("token-")), "delete", None, {}))

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        adapter = AsyncWebhookAdapter
        for name in (
            "create_interaction_response",
            "execute_webhook",
            "edit_original_interaction_response",
            "delete_original_interaction_response",
        ):
            monkeypatch.setattr(adapter, name, _bound(getattr(self, name)))

    def for_interaction(self, interaction_id: int) -> list[Sent]:
        return [s for s in self.sent if s.interaction_id == interaction_id]


def _bound(method: Any) -> Any:
    """A replacement method that ignores the adapter instance it is called on."""

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


def message_payload(content: str, components: list[dict[str, Any]]) -> dict[str, Any]:
    """A message the bot posted, as Discord describes it."""
    return {
        "id": "5555",
        "channel_id": str(CHANNEL_ID),
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


_INTERACTION_IDS = itertools.count(9_000)  # unique across gateways (bots) in one run


class Gateway:
    """Builds interaction payloads the way Discord sends them and feeds them to the bot."""

    def __init__(self, bot: StudyBot, recorder: Recorder) -> None:
        self.bot = bot
        self.recorder = recorder

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
    ) -> dict[str, Any]:
        interaction_id = next(_INTERACTION_IDS)
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
        else:
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = "ko"
            payload["member"] = member_payload(person, MANAGE_GUILD if admin else 0, roles)
            payload["context"] = 0
        return payload

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
        top, *rest = command.path
        data: dict[str, Any] = {"id": "1", "name": top, "type": 1, "resolved": resolved}
        if rest:
            data["options"] = [{"name": rest[0], "type": 1, "options": values}]
        else:
            data["options"] = values
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
        **options: Any,
    ) -> list[Sent]:
        """Run a slash command (``from_`` for the option ``from``); returns the answers."""
        data = self.command_data(path, {k.rstrip("_"): v for k, v in options.items()})
        return await self.send_command(
            data, person, admin=admin, guild_id=guild_id, user_locale=user_locale, roles=roles
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
    ) -> list[Sent]:
        """Dispatch application command ``data`` as ``CommandTree._from_interaction`` does."""
        payload = self._base(
            2, person, admin=admin, guild_id=guild_id, locale=user_locale, data=data, roles=roles
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
        assert answer.type == 8
        return answer.choices

    async def press(self, message: Sent, custom_id: str, person: Person) -> list[Sent]:
        """Press a button of a message the bot sent, as the gateway would deliver it."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._base(3, person, admin=False, guild_id=GUILD_ID, locale="ko", data=data)
        payload["message"] = message_payload(message.content, message.data.get("components", []))
        interaction_id = int(payload["id"])
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        pending = [
            t for t in asyncio.all_tasks() if t.get_name().startswith("discord-ui-dynamic-item")
        ]
        await asyncio.gather(*pending)
        return self.recorder.for_interaction(interaction_id)

    async def submit(self, form: Sent, typed: dict[str, str], person: Person = ALICE) -> list[Sent]:
        """Submit a form the bot opened: every input as shown, with ``typed`` typed in."""
        assert form.type == 9, "not a form"
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
        payload = self._base(5, person, admin=False, guild_id=GUILD_ID, locale="ko", data=data)
        interaction_id = int(payload["id"])
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        pending = [
            t for t in asyncio.all_tasks() if t.get_name().startswith("discord-ui-modal-dispatch")
        ]
        await asyncio.gather(*pending)
        return self.recorder.for_interaction(interaction_id)
