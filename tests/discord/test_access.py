"""Who can use the bot: the servers of ``STUDYBOT_GUILD_IDS`` only (others are left and
refused before any group exists), a server that removes the bot pauses its group, and
messages are never parsed for prefix commands."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import discord
import pytest
from discord.ext import commands
from pydantic import ValidationError
from sqlalchemy import select

from bot.adapters.discord.bot import StudyBot
from bot.config import Settings
from bot.core import Core
from bot.i18n import text
from bot.services.duty_runs import REVIEW_DUTY
from db.models import Group
from tests.discord.fakes import (
    ALICE,
    APPLICATION_ID,
    CHANNEL_ID,
    GUILD_ID,
    Gateway,
    message_payload,
    user_payload,
)

OTHER_GUILD = 5_555


def allow_only_ours(bot: StudyBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.settings, "guild_ids", [GUILD_ID])


def guild_ids_with_groups(core: Core) -> set[int]:
    with core.services.transaction() as session:
        return set(session.scalars(select(Group.guild_id)))


def paused_at(core: Core, guild_id: int) -> datetime | None:
    with core.services.transaction() as session:
        group = session.scalar(select(Group).where(Group.guild_id == guild_id))
        assert group is not None
        return group.paused_at


def cached_guild(bot: StudyBot, guild_id: int, name: str) -> discord.Guild:
    """A server in the cache, as the gateway's GUILD_CREATE puts it there."""
    guild = discord.Guild(data={"id": str(guild_id), "name": name}, state=bot._connection)  # type: ignore[typeddict-item]
    bot._connection._add_guild(guild)
    return guild


def record_leaves(bot: StudyBot, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    left: list[int] = []

    async def leave_guild(guild_id: int) -> None:
        left.append(int(guild_id))

    monkeypatch.setattr(bot.http, "leave_guild", leave_guild)
    return left


def job_ids(bot: StudyBot) -> set[str]:
    return {job.id for job in bot.scheduler.scheduler.get_jobs()}


# --- interactions ---------------------------------------------------------------------


async def test_commands_from_another_server_are_refused_before_any_group(
    studybot: StudyBot, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_only_ours(studybot, monkeypatch)
    (answer,) = await gateway.command("member join", guild_id=OTHER_GUILD)
    assert (answer.via, answer.type, answer.ephemeral) == ("response", 4, True)
    assert answer.content == text("ko", "access.other_server")
    (english,) = await gateway.command("member list", guild_id=OTHER_GUILD, user_locale="en-US")
    assert english.content == text("en", "access.other_server")
    assert OTHER_GUILD not in guild_ids_with_groups(studybot.core)

    (joined,) = await gateway.command("member join")  # our own server is served
    assert joined.content != text("ko", "access.other_server") and not joined.ephemeral
    assert GUILD_ID in guild_ids_with_groups(studybot.core)


async def test_autocomplete_from_another_server_offers_nothing(
    studybot: StudyBot, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_only_ours(studybot, monkeypatch)
    data = gateway.command_data("schedule set", {"timezone": "seoul"}, focused="timezone")
    payload = gateway._base(4, ALICE, admin=True, guild_id=OTHER_GUILD, locale="ko", data=data)
    interaction = discord.Interaction(data=payload, state=studybot._connection)
    await studybot.tree._call(interaction)
    (answer,) = gateway.recorder.for_interaction(interaction.id)
    assert (answer.type, answer.choices) == (8, [])
    assert OTHER_GUILD not in guild_ids_with_groups(studybot.core)


async def test_buttons_from_another_server_are_refused(
    studybot: StudyBot, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_only_ours(studybot, monkeypatch)
    data = {"custom_id": "studybot:swap:accept:1", "component_type": 2}
    payload = gateway._base(3, ALICE, admin=False, guild_id=OTHER_GUILD, locale="ko", data=data)
    payload["message"] = message_payload("a swap request", [])
    interaction = discord.Interaction(data=payload, state=studybot._connection)
    await studybot.press_button(interaction, ("mod", "accept"), {"id": 1})
    (answer,) = gateway.recorder.for_interaction(interaction.id)
    assert answer.ephemeral and answer.content == text("ko", "access.other_server")
    assert OTHER_GUILD not in guild_ids_with_groups(studybot.core)


async def test_without_an_allow_list_every_server_is_served(
    studybot: StudyBot, gateway: Gateway
) -> None:
    assert studybot.settings.guild_ids == []
    (answer,) = await gateway.command("member join", guild_id=OTHER_GUILD)
    assert answer.content != text("ko", "access.other_server")
    assert OTHER_GUILD in guild_ids_with_groups(studybot.core)


# --- joining, leaving and the gateway's list of servers -----------------------------------


async def test_a_server_not_allowed_is_left_on_joining(
    studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_only_ours(studybot, monkeypatch)
    left = record_leaves(studybot, monkeypatch)
    await studybot.on_guild_join(cached_guild(studybot, OTHER_GUILD, "somewhere else"))
    assert left == [OTHER_GUILD]
    assert OTHER_GUILD not in guild_ids_with_groups(studybot.core)


async def test_removal_pauses_the_group_and_joining_again_resumes_it(
    studybot: StudyBot, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_only_ours(studybot, monkeypatch)
    left = record_leaves(studybot, monkeypatch)
    group_id = core.group_for_guild_sync(GUILD_ID, channel_id=CHANNEL_ID, channel_name="study")
    studybot.scheduler.build_jobs()
    assert studybot.scheduler.job_of(group_id, REVIEW_DUTY) in job_ids(studybot)
    ours = cached_guild(studybot, GUILD_ID, "study group")

    await studybot.on_guild_remove(ours)
    assert paused_at(core, GUILD_ID) == core.services.clock.now()
    assert job_ids(studybot) == set()

    await studybot.on_guild_join(ours)
    assert paused_at(core, GUILD_ID) is None
    assert studybot.scheduler.job_of(group_id, REVIEW_DUTY) in job_ids(studybot)
    assert left == []


async def test_ready_leaves_other_servers_then_starts_the_duties_once(
    studybot: StudyBot, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    allow_only_ours(studybot, monkeypatch)
    left = record_leaves(studybot, monkeypatch)
    cached_guild(studybot, GUILD_ID, "study group")
    cached_guild(studybot, OTHER_GUILD, "somewhere else")
    group_id = core.group_for_guild_sync(GUILD_ID, channel_id=CHANNEL_ID, channel_name="study")
    starts: list[str] = []

    async def start() -> None:
        starts.append("duties")
        await asyncio.to_thread(studybot.scheduler.build_jobs)

    monkeypatch.setattr(studybot.scheduler, "start", start)
    await studybot.on_ready()
    assert left == [OTHER_GUILD]
    assert starts == ["duties"]
    assert studybot.scheduler.job_of(group_id, REVIEW_DUTY) in job_ids(studybot)
    await studybot.on_ready()  # a new gateway session: duties are not started twice
    assert starts == ["duties"]


async def test_ready_without_an_allow_list_names_the_servers_it_serves(
    studybot: StudyBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    left = record_leaves(studybot, monkeypatch)
    cached_guild(studybot, GUILD_ID, "study group")
    cached_guild(studybot, OTHER_GUILD, "somewhere else")

    async def start() -> None:
        return None

    monkeypatch.setattr(studybot.scheduler, "start", start)
    with caplog.at_level(logging.WARNING, logger="bot.adapters.discord.bot"):
        await studybot.on_ready()
    (warning,) = [r for r in caplog.records if "STUDYBOT_GUILD_IDS" in r.getMessage()]
    assert "1000 (study group)" in warning.getMessage()
    assert "5555 (somewhere else)" in warning.getMessage()
    assert "Public Bot" in warning.getMessage()
    assert left == []


async def test_ready_pauses_a_group_whose_server_removed_the_bot_while_away(
    studybot: StudyBot, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_leaves(studybot, monkeypatch)
    core.group_for_guild_sync(GUILD_ID, channel_id=CHANNEL_ID, channel_name="study")
    cached_guild(studybot, OTHER_GUILD, "somewhere else")  # ours is not in the list

    async def start() -> None:
        return None

    monkeypatch.setattr(studybot.scheduler, "start", start)
    await studybot.on_ready()
    assert paused_at(core, GUILD_ID) == core.services.clock.now()


# --- no prefix commands -------------------------------------------------------------------


def mention_message(bot: StudyBot) -> discord.Message:
    data: dict[str, Any] = message_payload(f"<@{APPLICATION_ID}> ping", [])
    data["author"] = user_payload(ALICE)
    data["guild_id"] = str(GUILD_ID)
    data["mentions"] = [user_payload(ALICE) | {"id": str(APPLICATION_ID), "bot": True}]
    channel = bot._connection._get_guild_channel(data)[0]  # type: ignore[arg-type]
    return discord.Message(state=bot._connection, channel=channel, data=data)  # type: ignore[arg-type]


async def test_a_message_mentioning_the_bot_runs_no_prefix_command(
    studybot: StudyBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(studybot, "loop", asyncio.get_running_loop())  # as after login
    ran: list[str] = []

    @commands.command(name="ping")
    async def ping(ctx: commands.Context[StudyBot]) -> None:
        ran.append(ctx.message.content)

    studybot.add_command(ping)
    message = mention_message(studybot)
    await commands.Bot.on_message(studybot, message)  # what a plain commands.Bot does
    assert ran == [message.content]

    ran.clear()
    studybot.dispatch("message", message)  # as the gateway would deliver it
    pending = [t for t in asyncio.all_tasks() if t.get_name() == "discord.py: on_message"]
    await asyncio.gather(*pending)
    assert pending and ran == []


# --- the setting ----------------------------------------------------------------------------


def test_guild_ids_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDYBOT_GUILD_IDS", " 1000, 5555 ,")
    assert Settings(_env_file=None).guild_ids == [1000, 5555]  # type: ignore[call-arg]
    monkeypatch.setenv("STUDYBOT_GUILD_IDS", "")  # as in .env.example: every server
    assert Settings(_env_file=None).guild_ids == []  # type: ignore[call-arg]
    monkeypatch.setenv("STUDYBOT_GUILD_IDS", "1000,my-server")
    with pytest.raises(ValidationError, match="guild_ids"):
        Settings(_env_file=None)  # type: ignore[call-arg]
