"""The life of the process: commands synced only when they changed, a stop signal closes
everything cleanly, a start Discord refuses (or cannot be reached for) is one catalogued
line, and voice warnings are not shown."""

from __future__ import annotations

import asyncio
import logging
import signal
import types
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from sqlalchemy import select

from bot.adapters.discord import rendering
from bot.adapters.discord.bot import StudyBot, payload_hash
from bot.adapters.discord.main import install_stop_signals, serve
from bot.adapters.discord.rendering import render_reply
from bot.app import configure_logging
from bot.cli.main import main
from bot.config import Settings
from bot.core import Core
from bot.errors import DomainError
from bot.i18n import text
from bot.replies import Reply
from bot.services import outbox
from bot.services.groups import get_group
from db.models import OutboxMessage
from tests.discord.fakes import APPLICATION_ID, CHANNEL_ID, GUILD_ID, http_error, installed_bot
from tests.discord.test_discord_startup import record_syncs

# --- commands synced only when they changed ---------------------------------------------


async def test_commands_are_synced_only_when_their_payload_changed(
    studybot: StudyBot, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = record_syncs(studybot, monkeypatch)
    assert await studybot.sync_commands() == []  # first start: pushed
    assert synced == [None]
    stored = core.state_sync(f"commands:{APPLICATION_ID}:global")
    assert stored == payload_hash(await studybot.command_payloads())
    assert await studybot.sync_commands() is None  # a restart with the same commands
    assert synced == [None]

    @app_commands.command(name="extra", description="a command added by a new version")
    async def extra(interaction: discord.Interaction) -> None:
        return None

    studybot.tree.add_command(extra)
    await studybot.sync_commands()
    await studybot.sync_commands()
    assert synced == [None, None]  # changed once: pushed once
    assert core.state_sync(f"commands:{APPLICATION_ID}:global") != stored


async def test_each_target_and_application_keeps_its_own_hash(
    studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = record_syncs(studybot, monkeypatch)
    await studybot.sync_commands()
    monkeypatch.setattr(studybot.settings, "dev_guild_id", 42)
    await studybot.sync_commands()
    await studybot.sync_commands()
    assert synced == [None, 42]
    monkeypatch.setattr(studybot._connection, "application_id", APPLICATION_ID + 1)
    await studybot.sync_commands()  # another bot on the same database: its own sync
    await studybot.sync_commands(force=True)  # what `studybot discord sync` does
    assert synced == [None, 42, 42, 42]


async def test_a_failed_sync_is_tried_again_at_the_next_start(
    studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*, guild: discord.abc.Snowflake | None = None) -> list[Any]:
        raise http_error(503, 0)

    monkeypatch.setattr(studybot.tree, "sync", refuse)
    with pytest.raises(discord.DiscordServerError):
        await studybot.sync_commands()
    synced = record_syncs(studybot, monkeypatch)
    await studybot.sync_commands()
    assert synced == [None]


async def test_payloads_are_stable_and_translated(core: Core, settings: Settings) -> None:
    first = await (await installed_bot(core, settings)).command_payloads()
    second = await (await installed_bot(core, settings)).command_payloads()
    assert first == second and payload_hash(first) == payload_hash(second)
    names = [(p.get("type", 1), p["name"]) for p in first]
    assert names == sorted(names)
    assert all(p["name_localizations"].get("ko") for p in first)
    assert payload_hash(list(reversed(first))) != payload_hash(first)  # order is part of it


async def test_setup_syncs_once_across_restarts(
    core: Core, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int | None] = []
    for _start in range(2):
        async with StudyBot(core, settings) as bot:
            bot._connection.application_id = APPLICATION_ID  # as after login
            synced_now = record_syncs(bot, monkeypatch)

            async def no_sandbox() -> None:
                return None

            monkeypatch.setattr(core.runner, "start", no_sandbox)
            await bot.setup_hook()
        synced += synced_now
    assert synced == [None]


# --- stopping -------------------------------------------------------------------------------


class FakeLoop:
    """Records the signal handlers installed on it, so a test can call them."""

    def __init__(self) -> None:
        self.handlers: dict[int, tuple[Callable[..., object], tuple[Any, ...]]] = {}

    def add_signal_handler(self, sig: int, callback: Callable[..., object], *args: Any) -> None:
        self.handlers[sig] = (callback, args)

    def remove_signal_handler(self, sig: int) -> bool:
        return self.handlers.pop(sig, None) is not None


def two_claimed_posts(core: Core) -> tuple[int, int]:
    """Two posts claimed by this process: the first delivered, the second not yet."""
    group_id = core.group_for_guild_sync(GUILD_ID, channel_id=CHANNEL_ID, channel_name="study")

    def add(session: Any, now: Any) -> None:
        group = get_group(session, group_id)
        for n in (1, 2):
            outbox.enqueue(session, group, Reply.public("member.list", count=n), now)

    core.transact_sync(add)
    first, second = core.claim_outbox_sync(10)
    core.mark_sent_sync(first.id)
    return first.id, second.id


def outbox_rows(core: Core) -> dict[int, tuple[bool, bool, int]]:
    """id -> (claimed, sent, attempts)."""
    with core.services.transaction() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        return {r.id: (r.claimed_at is not None, r.sent_at is not None, r.attempts) for r in rows}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_signal_closes_everything_cleanly(
    core: Core, settings: Settings, monkeypatch: pytest.MonkeyPatch, sig: signal.Signals
) -> None:
    bot = await installed_bot(core, settings)
    sent, pending = two_claimed_posts(core)
    sandbox_closed: list[bool] = []

    async def close_sandbox() -> None:
        sandbox_closed.append(True)

    monkeypatch.setattr(core.runner, "close", close_sandbox)
    await bot.scheduler.start()  # as after the first ready
    bot._outbox_task = asyncio.create_task(asyncio.Event().wait())  # delivery waiting
    loop = FakeLoop()
    uninstall = install_stop_signals(loop, bot)
    assert set(loop.handlers) == {signal.SIGTERM, signal.SIGINT}

    handler, args = loop.handlers[sig]
    handler(*args)  # what the event loop does when the signal arrives
    await bot.request_close()  # the close the handler started

    assert bot.is_closed()
    assert not bot.scheduler.scheduler.running
    assert bot._outbox_task.cancelled()
    assert sandbox_closed == [True]
    assert outbox_rows(core) == {sent: (False, True, 1), pending: (False, False, 0)}
    handler(*args)  # a second signal while closing (or after) changes nothing
    await bot.request_close()
    assert sandbox_closed == [True]
    uninstall()
    assert loop.handlers == {}


# --- starts that fail ------------------------------------------------------------------------

NO_ROUTE = aiohttp.ClientConnectorError(
    types.SimpleNamespace(host="discord.com", port=443, ssl=True),  # type: ignore[arg-type]
    OSError(101, "Network is unreachable"),
)


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (discord.LoginFailure("Improper token has been passed."), "access.start_bad_token"),
        (NO_ROUTE, "access.start_no_network"),
        (TimeoutError(), "access.start_no_network"),
        (http_error(503, 0), "access.start_discord_down"),
        (discord.PrivilegedIntentsRequired(None), "access.start_intents"),
    ],
)
async def test_a_refused_start_becomes_what_to_check(
    core: Core,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    key: str,
) -> None:
    async def static_login(self: Any, token: str) -> Any:
        raise error

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", static_login)
    sandbox_closed: list[bool] = []

    async def close_sandbox() -> None:
        sandbox_closed.append(True)

    monkeypatch.setattr(core.runner, "close", close_sandbox)
    with pytest.raises(DomainError) as raised:
        await serve(core, settings, "not-a-token")
    assert raised.value.key == key
    assert raised.value.__suppress_context__  # no chained traceback to print
    assert sandbox_closed == [True]  # the bot was closed on the way out


async def test_an_unexpected_start_error_is_not_disguised(
    core: Core, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def static_login(self: Any, token: str) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", static_login)
    with pytest.raises(RuntimeError, match="a bug"):
        await serve(core, settings, "token")


@pytest.mark.parametrize("locale", ["ko", "en"])
def test_studybot_run_with_a_bad_token_prints_one_line(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
    locale: str,
) -> None:
    async def static_login(self: Any, token: str) -> Any:
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", static_login)
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("STUDYBOT_DISCORD_TOKEN", "not-a-token")
    monkeypatch.setenv("STUDYBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STUDYBOT_DEFAULT_LOCALE", locale)
    assert main(["run"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [text(locale, "access.start_bad_token")]


# --- voice ---------------------------------------------------------------------------------


def test_voice_warnings_are_not_shown(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("INFO")
    with caplog.at_level(logging.WARNING):
        logging.getLogger("discord.client").warning(
            "PyNaCl is not installed, voice will NOT be supported"
        )
        logging.getLogger("discord.client").warning(
            "davey is not installed, voice will NOT be supported"
        )
        logging.getLogger("discord.client").warning("something else worth knowing")
    assert [r.getMessage() for r in caplog.records] == ["something else worth knowing"]


async def test_synced_command_ids_make_english_command_names_clickable(
    studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a sync (or, unchanged, a fetch) the commands' ids are known, so an English
    message names a command as a mention Discord makes clickable; Korean keeps text."""
    saved = dict(rendering.COMMAND_IDS)  # one dict per process: restore it afterwards
    rendering.COMMAND_IDS.clear()

    async def sync(*, guild: discord.abc.Snowflake | None = None) -> list[Any]:
        return [types.SimpleNamespace(name="member", id=777)]

    monkeypatch.setattr(studybot.tree, "sync", sync)
    try:
        reply = Reply.private("member.list_empty")
        assert "</member join:" not in render_reply(reply, "en").content  # not known yet
        await studybot.sync_commands(force=True)
        assert "</member join:777>" in render_reply(reply, "en").content
        assert "</member" not in render_reply(reply, "ko").content
    finally:
        rendering.COMMAND_IDS.clear()
        rendering.COMMAND_IDS.update(saved)
