"""The Discord bot: commands, buttons, translations, scheduled duties and outbox delivery.

Who may use it: only the servers in ``STUDYBOT_GUILD_IDS`` when that is set (the bot
leaves any other server and answers nothing there, before any group exists); a server
that removes the bot pauses its group's duties until the bot is back. It connects with
the ``guilds`` intent only and never reads messages for prefix commands.

Its life: commands are synced at start-up only when their payload changed since the last
sync (the hash is kept in ``bot_state``); duties start once the gateway says which servers
the bot is in; closing stops the duties, releases the outbox rows this process claimed
and closes the sandbox.

It is auto-sharded (discord.py's ``AutoShardedBot``): it runs as many shards as Discord
recommends (``GET /gateway/bot``; required past 2,500 servers), or ``STUDYBOT_SHARD_IDS``
of ``STUDYBOT_SHARD_COUNT`` when several processes share the shards: each then owns its
shards' servers (``shards.ownership``) for duties and pausing, while any process may
deliver any post (the outbox claim keeps one from posting twice).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters.discord import dispatch
from bot.adapters.discord.cogs import EXTENSIONS
from bot.adapters.discord.delivery import DiscordChannelSender, OutboxLoop, Pace
from bot.adapters.discord.errors import report_error
from bot.adapters.discord.presence import MemberPresence
from bot.adapters.discord.quiz_views import QUIZ_ITEMS
from bot.adapters.discord.rendering import (
    ALLOWED_MENTIONS,
    COMMAND_IDS,
    locale_of_user,
    render_reply,
)
from bot.adapters.discord.shards import ownership
from bot.adapters.discord.translator import StudyTranslator
from bot.adapters.discord.views import DYNAMIC_ITEMS
from bot.commands import Call
from bot.config import Settings
from bot.core import Core
from bot.replies import Reply
from bot.schedule.scheduler import DutyScheduler

__all__ = ["StudyBot", "StudyTree", "bot_intents", "payload_hash"]

log = logging.getLogger(__name__)


def bot_intents() -> discord.Intents:
    """``guilds`` only (the servers, their channels, threads and roles), no privileged
    intent: slash commands, buttons and forms carry the member, their permissions and
    resolved options; members are looked up over HTTP when it matters; messages are
    never read (a message command's target arrives with the interaction)."""
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


def payload_hash(payloads: list[dict[str, Any]]) -> str:
    """A stable digest of the command payloads (key order and spacing do not matter)."""
    text = json.dumps(payloads, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def remember_command_ids(commands: Iterable[app_commands.AppCommand]) -> None:
    """The synced top-level commands' ids, for clickable mentions in English messages."""
    COMMAND_IDS.update({command.name: command.id for command in commands})


class StudyTree(app_commands.CommandTree["StudyBot"]):
    async def interaction_check(self, interaction: discord.Interaction[StudyBot], /) -> bool:
        """Every command and autocomplete passes here first: other servers are refused
        before anything (a group included) is created for them."""
        return await interaction.client.admit(interaction)

    async def on_error(
        self, interaction: discord.Interaction[StudyBot], error: app_commands.AppCommandError, /
    ) -> None:
        await report_error(interaction, error)


class StudyBot(commands.AutoShardedBot):
    """Slash commands over the shared core. Everything it needs comes in here.

    ``serving=False`` makes a bot that only installs its commands when it logs in (no
    duties, outbox or sandbox): ``studybot discord sync`` uses it.
    """

    def __init__(
        self,
        core: Core,
        settings: Settings,
        *,
        intents: discord.Intents | None = None,
        defer_after: float = dispatch.DEFER_AFTER,
        serving: bool = True,
    ) -> None:
        sharding: dict[str, Any] = {}
        if settings.shard_count is not None:  # else: as many as Discord recommends
            sharding["shard_count"] = settings.shard_count
            if settings.shard_ids:
                sharding["shard_ids"] = list(settings.shard_ids)
        super().__init__(
            command_prefix=commands.when_mentioned,  # never used: see on_message
            help_command=None,
            intents=intents or bot_intents(),
            tree_cls=StudyTree,
            allowed_mentions=ALLOWED_MENTIONS,
            **sharding,
        )
        self.owns = ownership(settings.shard_count, settings.shard_ids)
        self.core = core
        self.settings = settings
        self.serving = serving
        self.defer_after = defer_after  # seconds before a slow answer is deferred
        pace = Pace(core.services.clock)  # posts and member lookups share Discord's limit
        self.outbox = OutboxLoop(
            core, DiscordChannelSender(self), settings.outbox_poll_seconds, pace=pace
        )
        self.presence = MemberPresence(self.fetch_member, core.services.clock, pace=pace)
        self.scheduler = DutyScheduler(
            core, after_run=self.outbox.poke, presence_check=self.presence.gone, owns=self.owns
        )
        self._outbox_task: asyncio.Task[None] | None = None
        self._duties_started = False
        self._stopping: asyncio.Future[None] | None = None
        self._close_task: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------

    async def setup_hook(self) -> None:
        await self.install()
        if not self.serving:
            return
        await self.sync_commands()
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
        self.add_dynamic_items(*QUIZ_ITEMS)  # the review quiz's buttons

    async def on_ready(self) -> None:
        """The gateway listed every server the bot is in: leave those not allowed, pause
        or resume groups to match, then (the first time) start the duties."""
        guilds = list(self.guilds)
        log.info("connected as %s to %d server(s)", self.user, len(guilds))
        await self.leave_other_servers(guilds)
        present = [guild.id for guild in guilds if self.serves(guild.id)]
        paused, resumed = await self.core.run(self.core.match_guilds_sync, present, self.owns)
        for group_id in paused:
            log.warning(
                "group %s is paused: its server removed the bot while it was away", group_id
            )
        if not self._duties_started and self.serving:
            self._duties_started = True
            await self.scheduler.start()
        elif self._duties_started:
            for group_id in [*paused, *resumed]:
                await self.core.run(self.scheduler.refresh_group, group_id)

    async def close(self) -> None:
        """Duties stopped, outbox delivery stopped and its unmarked claims released, the
        sandbox closed, then the connection. Safe to call more than once."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await self._stopping
        if not hasattr(self, "_AutoShardedClient__queue"):
            # closed before it ever logged in: discord.py's sharded close expects the event
            # queue that logging in creates
            self._AutoShardedClient__queue: asyncio.PriorityQueue[Any] = asyncio.PriorityQueue()
        await super().close()

    async def _stop(self) -> None:
        self.scheduler.shutdown()
        if self._outbox_task is not None:
            self._outbox_task.cancel()
            try:
                await self._outbox_task
            except asyncio.CancelledError:
                pass
            except Exception:  # it died earlier: say so, and close the rest anyway
                log.exception("outbox delivery had stopped with an error")
        try:
            released = await self.core.run(self.core.release_claims_sync)
        except Exception:
            log.exception("could not release this process's outbox claims")
        else:
            if released:
                log.info("released %d outbox claim(s) for the next start", released)
        await self.core.close()

    def request_close(self) -> asyncio.Task[None]:
        """Close soon (from a signal handler, which cannot await): the task doing it."""
        if self._close_task is None:
            self._close_task = asyncio.ensure_future(self.close())
        return self._close_task

    # --- who may use the bot ----------------------------------------------------------

    def serves(self, guild_id: int | None) -> bool:
        """Whether the bot works for this server: every server when no allow-list is set.
        Direct messages pass here (the commands refuse them themselves)."""
        allowed = self.settings.guild_ids
        return not allowed or guild_id is None or guild_id in allowed

    async def admit(self, interaction: discord.Interaction[Any]) -> bool:
        """True for an interaction from a served server; else answer it privately."""
        if self.serves(interaction.guild_id):
            return True
        log.warning("refused an interaction from guild %s: not allowed", interaction.guild_id)
        try:
            if interaction.type is discord.InteractionType.autocomplete:
                await interaction.response.autocomplete([])
            else:
                locale = locale_of_user(interaction.locale, self.settings.default_locale)
                message = render_reply(Reply.private("access.other_server"), locale)
                await interaction.response.send_message(**message.response_kwargs())
        except discord.HTTPException:
            log.warning("could not refuse interaction %s", interaction.id, exc_info=True)
        return False

    async def leave_other_servers(self, guilds: list[discord.Guild]) -> None:
        if not self.settings.guild_ids:
            served = ", ".join(f"{guild.id} ({guild.name})" for guild in guilds) or "none"
            log.warning(
                "STUDYBOT_GUILD_IDS is not set: the bot serves every server that adds it. "
                "Servers now: %s. Set STUDYBOT_GUILD_IDS, and keep Public Bot off.",
                served,
            )
            return
        for guild in guilds:
            if not self.serves(guild.id):
                await self._leave(guild)

    async def _leave(self, guild: discord.Guild) -> None:
        log.warning("leaving guild %s (%s): not in STUDYBOT_GUILD_IDS", guild.id, guild.name)
        try:
            await guild.leave()
        except discord.HTTPException:
            log.warning("could not leave guild %s", guild.id, exc_info=True)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """Added to a server: leave it when not allowed; else resume its group, if any."""
        if not self.serves(guild.id):
            await self._leave(guild)
            return
        group_id = await self.core.run(self.core.resume_guild_sync, guild.id)
        if group_id is not None:
            log.info("back in guild %s: group %s resumes its duties", guild.id, group_id)
            await self.core.run(self.scheduler.refresh_group, group_id)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server (kicked, banned, or the server is gone): pause its group."""
        group_id = await self.core.run(self.core.pause_guild_sync, guild.id)
        if group_id is not None:
            log.warning("guild %s removed the bot: group %s is paused", guild.id, group_id)
            await self.core.run(self.scheduler.refresh_group, group_id)

    async def fetch_member(self, guild_id: int, user_id: int) -> discord.Member:
        """``guild.fetch_member`` (HTTP, no members intent); NotFound when they left."""
        guild = self.get_guild(guild_id)
        if guild is None:
            raise LookupError(f"guild {guild_id} is not in the cache")
        return await guild.fetch_member(user_id)

    async def on_message(self, message: discord.Message, /) -> None:
        """Messages are never parsed for prefix commands (the bot is a ``commands.Bot``
        only for its cogs; without the message intents none arrive anyway)."""
        return None

    # --- commands synced with Discord -----------------------------------------------------

    def sync_target(self) -> discord.Object | None:
        """The development guild when one is configured (instant), else None: global."""
        if self.settings.dev_guild_id is None:
            return None
        return discord.Object(id=self.settings.dev_guild_id)

    async def command_payloads(self) -> list[dict[str, Any]]:
        """What a sync sends: every command's payload with its translations, in a stable
        order (by type, then name)."""
        guild = self.sync_target()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        translator = self.tree.translator
        payloads = []
        for command in self.tree.get_commands(guild=guild):
            if translator is None:
                payloads.append(command.to_dict(self.tree))
            else:
                payloads.append(await command.get_translated_payload(self.tree, translator))
        return sorted(payloads, key=lambda p: (p.get("type", 1), p["name"]))

    def sync_key(self, guild: discord.abc.Snowflake | None) -> str:
        target = "global" if guild is None else f"guild:{guild.id}"
        return f"commands:{self.application_id}:{target}"

    async def sync_commands(self, *, force: bool = False) -> list[app_commands.AppCommand] | None:
        """Push the commands to the sync target when their payload changed since the last
        sync there (or ``force``); returns what Discord answered, None when unchanged."""
        guild = self.sync_target()
        digest = payload_hash(await self.command_payloads())
        key = self.sync_key(guild)
        if not force and await self.core.run(self.core.state_sync, key) == digest:
            log.info("commands unchanged since the last sync (%s): not synced", key)
            try:  # their ids still make English messages' command mentions clickable
                remember_command_ids(await self.tree.fetch_commands(guild=guild))
            except Exception:
                log.info("could not read the commands' ids: commands are named as text")
            return None
        synced = await self.tree.sync(guild=guild)
        remember_command_ids(synced)
        await self.core.run(self.core.put_state_sync, key, digest)
        log.info("synced %d commands (%s)", len(synced), key)
        return synced

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
        if not await self.admit(interaction):  # buttons do not pass the tree's check
            return
        try:
            await dispatch.press_button(self, interaction, path, options)
        except Exception as exc:  # buttons are not routed through the tree's handler
            await report_error(interaction, exc)

    async def refresh_schedule(self, group_id: int) -> None:
        """Re-time the group's duties after its settings changed."""
        await self.core.run(self.scheduler.refresh_group, group_id)
