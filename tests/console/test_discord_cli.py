"""`studybot discord commands [--json]` prints what a sync would send, with no token, no
network and no database; `studybot discord sync` pushes it and records its hash, so the
next start does not sync again."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import discord
import pytest

from bot.adapters.discord import main as discord_main
from bot.adapters.discord.bot import StudyBot, payload_hash
from bot.app import build_core
from bot.cli.main import main
from bot.config import Settings
from bot.i18n import text
from tests.console.conftest import ConsoleRunner

APPLICATION_ID = 3_000


def test_commands_json_needs_no_token_network_or_database(console: ConsoleRunner) -> None:
    nowhere = "sqlite:////nonexistent/folder/studybot.db"
    first = console.cli("discord", "commands", "--json", STUDYBOT_DATABASE_URL=nowhere)
    assert first.code == 0, first.err
    assert first.err == ""  # not even discord.py's voice warnings
    payloads = json.loads(first.out)
    assert isinstance(payloads, list)
    by_name = {p["name"]: p for p in payloads}
    assert {"member", "mod", "schedule", "run", "Run Python"} <= by_name.keys()
    assert by_name["member"]["name_localizations"]["ko"] == "멤버"
    assert [(p.get("type", 1), p["name"]) for p in payloads] == sorted(
        (p.get("type", 1), p["name"]) for p in payloads
    )
    again = console.cli("discord", "commands", "--json", STUDYBOT_DATABASE_URL=nowhere)
    assert again.out == first.out  # stable: two versions can be diffed


def test_commands_without_json_lists_them(console: ConsoleRunner) -> None:
    result = console.cli("discord", "commands", STUDYBOT_DATABASE_URL=console.db_url)
    assert result.code == 0, result.err
    assert any(line.startswith("/member\t") for line in result.out.splitlines())


def test_sync_without_a_token_says_so_in_one_line(console: ConsoleRunner) -> None:
    result = console.cli("discord", "sync", STUDYBOT_DATABASE_URL=console.db_url)
    assert result.code == 2
    assert result.err.splitlines() == [text("ko", "access.no_token")]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, console: ConsoleRunner) -> Settings:
    monkeypatch.chdir(console.folder)  # no .env
    for name, value in {
        "STUDYBOT_DISCORD_TOKEN": "token",
        "STUDYBOT_DATABASE_URL": console.db_url,
    }.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def fake_discord(monkeypatch: pytest.MonkeyPatch) -> list[list[dict[str, Any]]]:
    """Logging in answers with the application; the bulk overwrite records its payload."""
    pushed: list[list[dict[str, Any]]] = []

    async def login(self: StudyBot, token: str) -> None:
        assert token == "token"
        self._connection.application_id = APPLICATION_ID
        await self.setup_hook()

    async def bulk_upsert(self: Any, application_id: int, *, payload: Any) -> list[Any]:
        assert application_id == APPLICATION_ID
        pushed.append(payload)
        return [  # what Discord answers: each command with its id (and "" for no description)
            {"description": "", **command, "id": str(n), "application_id": str(APPLICATION_ID)}
            for n, command in enumerate(payload, start=1)
        ]

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing else goes to Discord")

    monkeypatch.setattr(StudyBot, "login", login)
    monkeypatch.setattr(discord.http.HTTPClient, "bulk_upsert_global_commands", bulk_upsert)
    monkeypatch.setattr(discord.http.HTTPClient, "request", refuse)
    return pushed


def test_sync_pushes_now_and_the_next_start_does_not_again(
    env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pushed = fake_discord(monkeypatch)
    assert main(["discord", "sync"]) == 0
    assert main(["discord", "sync"]) == 0  # forced: pushed again
    out, _err = capsys.readouterr()
    expected = asyncio.run(discord_main.command_payloads(env))
    assert len(pushed) == 2
    assert sorted(pushed[0], key=lambda p: (p.get("type", 1), p["name"])) == expected
    assert out.splitlines() == [text("ko", "access.synced_global", {"count": len(expected)})] * 2
    core = build_core(env)
    stored = core.state_sync(f"commands:{APPLICATION_ID}:global")
    assert stored == payload_hash(expected)

    async def start() -> Any:
        bot = StudyBot(core, env)
        bot._connection.application_id = APPLICATION_ID
        await bot.install()
        return await bot.sync_commands()

    assert asyncio.run(start()) is None  # unchanged since `discord sync`
    assert len(pushed) == 2
