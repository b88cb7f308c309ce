"""Composition root: builds the parts from settings and hands each what it needs.

Both front ends (Discord and the console) and the command line get their ``Core`` from
``build_core``: the engine and sessions, the clock, the services and the one code runner
with its sandbox.
"""

from __future__ import annotations

import logging

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.core import Core
from bot.services import catalogue
from bot.services.code_runs import CodeRunner, SandboxLike, SandboxOpener
from bot.services.context import Services
from bot.services.group_cache import GROUP_CACHE, GroupCache
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade

log = logging.getLogger("studybot")


def local_sandbox(settings: Settings) -> SandboxOpener:
    """Opens the sandbox on this machine, with the limits from the settings."""

    async def open_sandbox() -> SandboxLike:
        from sandbox import Sandbox, SandboxConfig

        box = Sandbox(SandboxConfig.from_settings(settings))
        await box.start()
        if box.unavailable_reason:
            log.warning("sandbox unavailable: %s", box.unavailable_reason)
        return box

    return open_sandbox


def remote_sandbox(settings: Settings) -> SandboxOpener:
    """Sends the jobs to ``studybot worker`` processes through the broker (Celery)."""

    async def open_sandbox() -> SandboxLike:
        from sandbox import SandboxConfig
        from sandbox.remote import RemoteConfig
        from sandbox.remote.client import RemoteSandbox

        box = RemoteSandbox(
            SandboxConfig.from_settings(settings), RemoteConfig.from_settings(settings)
        )
        return await box.start()

    return open_sandbox


def sandbox_opener(settings: Settings) -> SandboxOpener:
    """The sandbox the settings choose (``STUDYBOT_SANDBOX_BACKEND``: local or celery)."""
    if settings.sandbox_backend == "celery":
        return remote_sandbox(settings)
    return local_sandbox(settings)


def build_core(
    settings: Settings,
    clock: Clock | None = None,
    migrate: bool = True,
    *,
    open_sandbox: SandboxOpener | None = None,
    group_cache: GroupCache | None = None,
) -> Core:
    """Engine, sessions, clock, services and the code runner for one process (migrated
    and seeded). The sandbox opens on the first run, or when a front end starts it;
    ``open_sandbox`` replaces the local one (tests, other back ends); ``group_cache``
    the one built from the settings (tests: one on a clock of their own)."""
    if migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    if group_cache is None:
        group_cache = GroupCache(settings.group_cache_seconds)
    shared = {GROUP_CACHE: group_cache}
    services = Services(
        session_factory=make_session_factory(engine, info=shared),
        clock=clock or SystemClock(),
        settings=settings,
        read_factory=make_session_factory(engine, read_only=True, info=shared),
    )
    if migrate:
        with services.transaction() as session:
            catalogue.seed(session, services.clock.now())
    runner = CodeRunner(services, open_sandbox or sandbox_opener(settings))
    return Core(services, runner)


class NoVoiceWarnings(logging.Filter):
    """Drops discord.py's warnings that voice libraries (PyNaCl, davey) are missing: the
    bot never joins a voice channel, so they only alarm whoever reads the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno == logging.WARNING and "voice will NOT be supported" in str(record.msg)
        )


DISCORD_LOGGER = "discord"
VOICE_LOGGERS = ("client", "voice_client")  # discord.py's modules that warn about voice
QUIET_LOGGERS = ("alembic", "matplotlib")


def configure_logging(level: str) -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # libraries that narrate routine work at INFO (matplotlib builds its font cache on a
    # fresh machine's first chart) speak only when something is wrong; discord.py (each
    # login and gateway session) too, unless DEBUG is asked for
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    discord_level = numeric if numeric <= logging.DEBUG else max(numeric, logging.WARNING)
    discord_log = logging.getLogger(DISCORD_LOGGER)
    discord_log.setLevel(discord_level)
    for name in VOICE_LOGGERS:
        voice = discord_log.getChild(name)
        if not any(isinstance(f, NoVoiceWarnings) for f in voice.filters):
            voice.addFilter(NoVoiceWarnings())
