"""SIGTERM to a real bot process: it closes cleanly (sandbox closed, its outbox claim
released) and exits 0. Only the network is replaced: logging in and the gateway
connection are stand-ins that wait until the bot is closed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from bot.config import Settings
from tests.console.conftest import clean_env

WORKER = """
import asyncio, json, sys

from sqlalchemy import select

from bot.adapters.discord import main as discord_main
from bot.adapters.discord.bot import StudyBot
from bot.app import build_core
from bot.config import Settings
from bot.replies import Reply
from bot.services import outbox
from bot.services.groups import get_group
from db.models import OutboxMessage

settings = Settings(database_url=sys.argv[1], _env_file=None)
core = build_core(settings)
group_id = core.group_for_guild_sync(1000, channel_id=2000, channel_name="study")


def add(session, now):
    outbox.enqueue(session, get_group(session, group_id), Reply.public("member.list", count=1), now)


core.transact_sync(add)
(claimed,) = core.claim_outbox_sync(10)  # being delivered when the signal comes
closed = asyncio.Event()
close_bot = StudyBot.close


async def login(self, token):
    self._connection.application_id = 3000
    await self.setup_hook()


async def connect(self, *, reconnect=True):
    print("connected", flush=True)
    await closed.wait()


async def close(self):
    await close_bot(self)
    closed.set()


async def sync_commands(self, *, force=False):
    return None


async def start_sandbox():
    return None


async def close_sandbox():
    print("sandbox closed", flush=True)


StudyBot.login, StudyBot.connect, StudyBot.close = login, connect, close
StudyBot.sync_commands = sync_commands
core.runner.start, core.runner.close = start_sandbox, close_sandbox
asyncio.run(discord_main.serve(core, settings, "token"))


def row(session, now):
    found = session.get(OutboxMessage, claimed.id)
    return {"claimed": found.claimed_at is not None, "attempts": found.attempts}


print(json.dumps(core.transact_sync(row)), flush=True)
"""


def test_sigterm_closes_the_bot_process_cleanly(tmp_path: Path, settings: Settings) -> None:
    script = tmp_path / "bot_process.py"
    script.write_text(WORKER, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(script), settings.database_url],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "connected"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == "sandbox closed"
    assert json.loads(lines[-1]) == {"claimed": False, "attempts": 0}
    assert "Traceback" not in err
