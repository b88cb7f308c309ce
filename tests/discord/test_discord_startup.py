"""Start-up: extensions, buttons and translator installed; commands synced where asked;
the sandbox and outbox start with the bot, the duties once the gateway is ready; the
``guilds`` intent only."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import discord
import pytest

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.main import bot_intents, run_discord
from bot.adapters.discord.quiz_views import QuizButton
from bot.adapters.discord.translator import StudyTranslator
from bot.adapters.discord.views import SwapButton
from bot.config import Settings
from bot.core import Core
from tests.discord.fakes import APPLICATION_ID

COMMAND_NAMES = {
    "admin",  # the admin commands: only server managers see them
    "member",
    "mod",
    "away",
    "schedule",
    "problem",
    "progress",
    "competition",
    "lesson",
    "run",
    "quiz",
    "Run Python",  # the message command
}


def record_syncs(bot: StudyBot, monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    synced: list[int | None] = []

    async def sync(*, guild: discord.abc.Snowflake | None = None) -> list[Any]:
        synced.append(None if guild is None else guild.id)
        return []

    monkeypatch.setattr(bot.tree, "sync", sync)
    return synced


async def test_installs_cogs_buttons_and_translator(studybot: StudyBot) -> None:
    assert set(studybot.cogs) == {
        "Admin",
        "Competition",
        "Lessons",
        "Members",
        "Problems",
        "Progress",
        "Quiz",
        "Rotation",
        "Schedule",
    }
    assert isinstance(studybot.tree.translator, StudyTranslator)
    store = studybot._connection._view_store
    assert SwapButton in store._dynamic_items.values()
    assert QuizButton in store._dynamic_items.values()
    names = {c.name for c in studybot.tree.get_commands()}
    assert names == COMMAND_NAMES


async def test_syncs_to_the_dev_guild_only_when_configured(
    studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = record_syncs(studybot, monkeypatch)
    await studybot.sync_commands()
    assert synced == [None]  # global

    monkeypatch.setattr(studybot.settings, "dev_guild_id", 42)
    await studybot.sync_commands()
    assert synced == [None, 42]
    guild_names = {c.name for c in studybot.tree.get_commands(guild=discord.Object(id=42))}
    assert guild_names == COMMAND_NAMES


async def test_setup_hook_starts_sandbox_and_outbox_and_ready_the_duties(
    core: Core, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with StudyBot(core, settings) as bot:
        bot._connection.application_id = APPLICATION_ID  # as after login
        synced = record_syncs(bot, monkeypatch)
        started: list[str] = []

        async def start() -> None:
            started.append("scheduler")

        async def start_sandbox() -> None:
            started.append("sandbox")

        monkeypatch.setattr(bot.scheduler, "start", start)
        monkeypatch.setattr(bot.core.runner, "start", start_sandbox)
        await bot.setup_hook()
        assert synced == [None] and started == ["sandbox"]
        assert bot._outbox_task is not None and not bot._outbox_task.done()
        await bot.on_ready()  # the gateway listed the servers: now the duties
        assert started == ["sandbox", "scheduler"]
    assert bot._outbox_task.cancelled()


def test_only_the_guilds_intent() -> None:
    assert bot_intents() == discord.Intents(guilds=True)
    intents = bot_intents()
    assert not (intents.members or intents.presences or intents.message_content)
    assert not (intents.guild_messages or intents.dm_messages)  # no message events at all


async def test_the_bot_connects_with_those_intents(studybot: StudyBot) -> None:
    assert studybot.intents == bot_intents()


def test_missing_token_fails_loudly() -> None:
    settings = Settings(_env_file=None, discord_token=None)  # type: ignore[call-arg]
    with pytest.raises(SystemExit, match="DISCORD_TOKEN"):
        run_discord(settings)


def test_bot_process_never_imports_torch() -> None:
    code = (
        "import sys, bot.adapters.discord.main, bot.adapters.discord.bot; "
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
