"""Running the Discord bot: the composition root of the Discord front end.

``run_discord`` builds the core and the bot, closes it cleanly on SIGTERM or SIGINT, and
turns a start that Discord refuses or cannot be reached into one catalogued line (a
``DomainError``; the command line prints it and exits non-zero). ``command_payloads`` and
``push_commands`` are what ``studybot discord commands|sync`` run.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any, Protocol

import aiohttp
import discord

from bot.adapters.discord.bot import StudyBot, bot_intents
from bot.app import build_core, configure_logging
from bot.config import Settings
from bot.core import Core
from bot.errors import DomainError

__all__ = [
    "STOP_SIGNALS",
    "bot_intents",
    "command_payloads",
    "install_stop_signals",
    "push_commands",
    "run_discord",
    "serve",
    "start_failure",
]

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
AUTHENTICATION_FAILED = 4004  # the gateway's close code for a bad token


class SignalLoop(Protocol):
    def add_signal_handler(self, sig: int, callback: Callable[..., object], *args: Any) -> None: ...

    def remove_signal_handler(self, sig: int) -> bool: ...


def install_stop_signals(loop: SignalLoop, bot: StudyBot) -> Callable[[], None]:
    """SIGTERM and SIGINT close the bot (duties, outbox claims, sandbox, connection);
    returns what removes the handlers again."""

    def stop(sig: signal.Signals) -> None:
        log.info("%s received: closing", sig.name)
        bot.request_close()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop, sig)

    def uninstall() -> None:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)

    return uninstall


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def start_failure(exc: BaseException) -> DomainError | None:
    """What to tell the operator when connecting failed in a way they can fix (or wait
    out), in the catalogue's words; None for anything else (a bug: it crashes loudly)."""
    if isinstance(exc, discord.LoginFailure):
        return DomainError("access.start_bad_token")
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return DomainError("access.start_intents")
    if isinstance(exc, discord.ConnectionClosed) and exc.code == AUTHENTICATION_FAILED:
        return DomainError("access.start_bad_token")
    if isinstance(exc, discord.GatewayNotFound) or (
        isinstance(exc, discord.HTTPException) and exc.status >= 500
    ):
        return DomainError("access.start_discord_down", detail=_first_line(exc))
    if isinstance(exc, aiohttp.ClientError | OSError):  # no route, DNS, refused, timed out
        return DomainError("access.start_no_network", detail=_first_line(exc))
    return None


async def serve(core: Core, settings: Settings, token: str) -> None:
    """Run the bot until it is closed (a stop signal, or Discord for good)."""
    bot = StudyBot(core, settings, intents=bot_intents())
    uninstall = install_stop_signals(asyncio.get_running_loop(), bot)
    try:
        async with bot:
            await bot.start(token)
    except Exception as exc:
        failure = start_failure(exc)
        if failure is None:
            raise
        raise failure from None
    finally:
        uninstall()


def _token(settings: Settings) -> str:
    if settings.discord_token is None:
        raise SystemExit("STUDYBOT_DISCORD_TOKEN (or DISCORD_TOKEN) is not set")
    return settings.discord_token.get_secret_value()


def run_discord(settings: Settings) -> None:
    """Build the core and the bot, connect, and run until stopped."""
    token = _token(settings)
    configure_logging(settings.log_level)
    core = build_core(settings)  # migrates the database before anything connects
    asyncio.run(serve(core, settings, token))


# --- the command payloads, for operators ---------------------------------------------


async def command_payloads(settings: Settings) -> list[dict[str, Any]]:
    """The payloads a sync would send, without a token, the network or a database."""
    core = build_core(settings, migrate=False)  # nothing is opened until it is used
    bot = StudyBot(core, settings, serving=False)
    await bot.install()
    return await bot.command_payloads()


async def push_commands(settings: Settings) -> int:
    """Log in (over HTTP only, no gateway), push the commands to the sync target now and
    remember their hash; returns how many Discord now has."""
    if settings.discord_token is None:
        raise DomainError("access.no_token")
    core = build_core(settings)
    bot = StudyBot(core, settings, serving=False)
    try:
        async with bot:
            await bot.login(settings.discord_token.get_secret_value())
            synced = await bot.sync_commands(force=True)
    except Exception as exc:
        failure = start_failure(exc)
        if failure is None:
            raise
        raise failure from None
    return len(synced or [])
