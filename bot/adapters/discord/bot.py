"""The Discord bot: commands, buttons, translations, scheduled duties and outbox delivery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import dispatch
from bot.adapters.discord.cogs import EXTENSIONS
from bot.adapters.discord.delivery import DiscordChannelSender, OutboxLoop
from bot.adapters.discord.errors import report_error
from bot.adapters.discord.rendering import ALLOWED_MENTIONS
from bot.adapters.discord.translator import StudyTranslator
from bot.adapters.discord.views import DYNAMIC_ITEMS
from bot.commands import Call
from bot.config import Settings
from bot.core import Core
from bot.replies import Reply
from bot.schedule.scheduler import DutyScheduler

__all__ = ["StudyBot", "StudyTree"]

log = logging.getLogger(__name__)


class StudyTree(app_commands.CommandTree["StudyBot"]):
    async def on_error(
        self, interaction: discord.Interaction[StudyBot], error: app_commands.AppCommandError, /
    ) -> None:
        await report_error(interaction, error)


class StudyBot(commands.Bot):
    """Slash commands over the shared core. Everything it needs comes in here."""

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        intents: discord.Intents | None = None,
        defer_after: float = dispatch.DEFER_AFTER,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents or discord.Intents.default(),
            tree_cls=StudyTree,
            allowed_mentions=ALLOWED_MENTIONS,
        )
        self.core = core
        self.settings = settings
        self.defer_after = defer_after  # seconds before a slow answer is deferred
        self.outbox = OutboxLoop(core, DiscordChannelSender(self), settings.outbox_poll_seconds)
        self.scheduler = DutyScheduler(core, after_run=self.outbox.poke)
        self._outbox_task: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------

    async def setup_hook(self) -> None:
        await self.install()
        await self.sync_commands()
        await self.scheduler.start()
        await self.core.runner.start()  # the sandbox warms up before the first run
        self._outbox_task = asyncio.create_task(
            self.outbox.run(self.wait_until_ready), name="studybot-outbox"
        )

    async def install(self) -> None:
        """Translator, one extension per feature, and the buttons that outlive restarts."""
        await self.tree.set_translator(StudyTranslator())
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(*DYNAMIC_ITEMS)

    async def sync_commands(self) -> list[app_commands.AppCommand]:
        """To the development guild when one is configured (instant), else globally."""
        if self.settings.dev_guild_id is None:
            return await self.tree.sync()
        guild = discord.Object(id=self.settings.dev_guild_id)
        self.tree.copy_global_to(guild=guild)
        return await self.tree.sync(guild=guild)

    async def close(self) -> None:
        self.scheduler.shutdown()
        if self._outbox_task is not None:
            self._outbox_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._outbox_task
        await self.core.close()
        await super().close()

    # --- what cogs and buttons call -------------------------------------------------

    async def run_command(
        self,
        interaction: discord.Interaction[Any],
        path: tuple[str, ...],
        options: dict[str, Any],
    ) -> tuple[Call, Reply]:
        return await dispatch.run_command(self, interaction, path, options)

    async def press_button(
        self,
        interaction: discord.Interaction[Any],
        path: tuple[str, ...],
        options: dict[str, Any],
    ) -> None:
        try:
            await dispatch.press_button(self, interaction, path, options)
        except Exception as exc:  # buttons are not routed through the tree's handler
            await report_error(interaction, exc)

    async def refresh_schedule(self, group_id: int) -> None:
        """Re-time the group's duties after its settings changed."""
        await self.core.run(self.scheduler.refresh_group, group_id)
