"""Errors are for people: refusals become private replies with their message key; anything
unexpected becomes an apology with an id that is also in the log."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from bot import commands
from bot.commands import COMMANDS, Command
from bot.errors import InvalidInput
from bot.replies import Visibility
from db.models import Member
from tests.conftest import Harness

pytestmark = pytest.mark.sqlite_only


def replace_handler(monkeypatch: pytest.MonkeyPatch, path: str, handler) -> None:  # type: ignore[no-untyped-def]
    key = tuple(path.split())
    monkeypatch.setitem(COMMANDS, key, Command(key, COMMANDS[key].options, handler))


def test_domain_error_becomes_a_private_reply_with_its_key(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = harness.invoke("alice", "member leave")
    assert (reply.key, reply.visibility) == ("error.not_member", Visibility.PRIVATE)

    def refuse(svc, call, opts):  # type: ignore[no-untyped-def]
        raise InvalidInput("error.bad_time", value="25:00")

    replace_handler(monkeypatch, "mod today", refuse)
    reply = harness.invoke("alice", "mod today")
    assert (reply.key, reply.params, reply.visibility) == (
        "error.bad_time",
        {"value": "25:00"},
        Visibility.PRIVATE,
    )


def test_unexpected_error_gets_an_id_and_is_logged(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(svc, call, opts):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    replace_handler(monkeypatch, "mod today", explode)
    with caplog.at_level(logging.ERROR, logger="studybot"):
        reply = harness.invoke("alice", "mod today")
    assert (reply.key, reply.visibility) == ("error.unexpected", Visibility.PRIVATE)
    error_id = reply.params["error_id"]
    assert re.fullmatch(r"[0-9a-f]{8}", error_id)
    (record,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert "disk on fire" in caplog.text
    other = harness.invoke("alice", "mod today").params["error_id"]
    assert other != error_id  # each failure has its own id


def test_unexpected_error_leaves_nothing_half_written(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = commands.members.join

    def join_then_crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        original(*args, **kwargs)
        raise RuntimeError("crash after the write")

    monkeypatch.setattr(commands.members, "join", join_then_crash)
    assert harness.invoke("alice", "member join").key == "error.unexpected"
    with harness.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 0


def test_unknown_command(harness: Harness) -> None:
    reply = harness.invoke("alice", "mod dance")
    assert (reply.key, reply.params) == ("error.unknown_command", {"name": "/mod dance"})


async def test_async_invoke_runs_off_the_loop(harness: Harness) -> None:
    call = commands.Call(harness.group_id, harness.actor("alice"))
    reply = await harness.core.invoke(("member", "join"), call, {})
    assert reply.key == "member.joined"
    assert (await harness.core.invoke(("member", "join"), call, {})).key == "error.already_member"
