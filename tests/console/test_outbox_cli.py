"""`studybot outbox list [--failed] [--json]` and `studybot outbox retry ID|--all`: what
operators see of scheduled posts, and queuing given-up ones again."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import outbox as outbox_cli
from bot.cli.main import build_parser
from bot.config import Settings
from bot.replies import Reply
from bot.services import outbox
from db.models import OutboxMessage
from tests.conftest import GUILD_ID, Harness
from tests.console.conftest import ConsoleRunner

FIELDS = {
    "id",
    "group",
    "guild",
    "channel",
    "created_at",
    "attempts",
    "next_attempt_at",
    "expires_at",
    "failed_at",
    "failure",
    "last_error",
    "sent_at",
    "discord_message_id",
}


@pytest.fixture
def posts(harness: Harness) -> tuple[int, int, int]:
    """A post waiting for its retry, one given up for a missing permission, a private one."""
    harness.join("alice")
    with harness.group() as (session, group):
        now = harness.clock.now()
        waiting = outbox.enqueue(session, group, Reply.public("duty.review"), now).id
        denied = outbox.enqueue(session, group, Reply.public("progress.digest"), now).id
        alice = harness.actor("alice").user_id
        private = outbox.enqueue(
            session, group, Reply.private("progress.reminder_dm"), now, user_id=alice
        ).id
    harness.core.claim_outbox_sync()
    harness.core.mark_failed_sync(waiting, "DiscordServerError: 503 Service Unavailable")
    harness.core.fail_outbox_sync(
        denied, outbox.MISSING_PERMISSIONS, "Forbidden: 403 (error code: 50013)", ()
    )
    harness.core.release_outbox_sync([private])
    return waiting, denied, private


def listed(settings: Settings, *, failed: bool = False, as_json: bool = True) -> str:
    out = io.StringIO()
    assert outbox_cli.list_rows(settings, failed, as_json, out) == 0
    return out.getvalue()


def test_list_json_prints_one_object_per_row(
    settings: Settings, harness: Harness, posts: tuple[int, int, int]
) -> None:
    waiting, denied, private = posts
    objects = [json.loads(line) for line in listed(settings).splitlines()]
    assert [o["id"] for o in objects] == [waiting, denied, private]
    assert all(o.keys() >= FIELDS for o in objects)
    first, second, third = objects
    assert (first["guild"], first["channel"], first["attempts"]) == (GUILD_ID, 42, 1)
    assert first["next_attempt_at"] == (harness.clock.now() + outbox.FIRST_DELAY).isoformat()
    assert first["last_error"].startswith("DiscordServerError: 503")
    assert (second["failure"], second["failed_at"]) == (
        outbox.MISSING_PERMISSIONS,
        harness.clock.now().isoformat(),
    )
    assert (third["channel"], third["user"]) == (None, harness.actor("alice").user_id)
    assert first["sent_at"] is None and first["discord_message_id"] is None


def test_list_failed_shows_only_the_given_up(
    settings: Settings, posts: tuple[int, int, int]
) -> None:
    (only,) = [json.loads(line) for line in listed(settings, failed=True).splitlines()]
    assert only["id"] == posts[1]


def test_list_as_text_speaks_the_operators_language(
    settings: Settings, posts: tuple[int, int, int]
) -> None:
    waiting, denied, _ = posts
    korean = listed(settings, as_json=False).splitlines()
    assert korean[0].startswith(
        f"#{waiting} [대기] 그룹 1, 서버 {GUILD_ID}, 채널 42, 글 duty.review, "
    )
    assert korean[1] == "  다음 시도: 2026-12-06T23:00:05+00:00"
    assert "  포기한 시각: 2026-12-06T23:00:00+00:00, 이유: 봇에게 채널 권한이 부족합니다" in korean
    assert "  마지막 오류: Forbidden: 403 (error code: 50013)" in korean
    english = listed(
        settings.model_copy(update={"default_locale": "en"}), failed=True, as_json=False
    )
    assert english.startswith(f"#{denied} [given up] group 1, server {GUILD_ID}, channel 42, ")
    assert "why: the bot lacks permissions in the channel" in english


def test_list_with_nothing_says_so(settings: Settings, harness: Harness) -> None:
    assert listed(settings, as_json=False) == "보여 줄 글이 없습니다.\n"
    assert listed(settings) == ""


def test_retry_one_and_all(
    settings: Settings, harness: Harness, posts: tuple[int, int, int]
) -> None:
    _, denied, _ = posts
    out = io.StringIO()
    assert outbox_cli.retry_rows(settings, denied, out) == 0
    assert out.getvalue() == f"다시 보낼 글: 1건 ({denied})\n"
    with harness.transaction() as session:
        row = session.get(OutboxMessage, denied)
        assert row is not None and row.failed_at is None and row.failure is None
        assert row.next_attempt_at is not None and row.attempts == 0
    out = io.StringIO()
    outbox_cli.retry_rows(settings, None, out)
    assert out.getvalue() == "다시 보낼 글이 없습니다.\n"


def test_retry_all_leaves_posts_past_their_moment(settings: Settings, harness: Harness) -> None:
    passed = datetime(2020, 1, 1, tzinfo=UTC)  # the command runs on the real clock
    with harness.group() as (session, group):
        now = harness.clock.now()
        late = outbox.enqueue(
            session, group, Reply.public("problem.reminder"), now, expires_at=passed
        ).id
    harness.core.claim_outbox_sync()
    harness.core.fail_outbox_sync(late, outbox.EXPIRED)
    out = io.StringIO()
    outbox_cli.retry_rows(settings, None, out)
    assert out.getvalue() == f"올릴 시각이 지나 다시 보내지 않는 글: 1건 ({late})\n"


@pytest.mark.sqlite_only
def test_retry_needs_an_id_or_all() -> None:
    parser = build_parser()
    assert parser.parse_args(["outbox", "retry", "7"]).id == 7
    assert parser.parse_args(["outbox", "retry", "--all"]).all
    for wrong in (["outbox", "retry"], ["outbox", "retry", "7", "--all"]):
        with pytest.raises(SystemExit):
            parser.parse_args(wrong)


@pytest.mark.sqlite_only
def test_the_command_line_contract(console: ConsoleRunner) -> None:
    empty = console.cli("outbox", "list", "--json", "--db", console.db_url)
    assert (empty.code, empty.out) == (0, ""), empty.err
    missing = console.cli("outbox", "retry", "999", "--db", console.db_url)
    assert missing.code == 2
    assert missing.err.strip() == "999번 글이 없습니다."
    assert "Traceback" not in missing.err


def test_the_cli_opens_no_session_itself() -> None:
    source = outbox_cli.__file__
    with open(source, encoding="utf-8") as handle:
        text = handle.read()
    assert "transaction(" not in text and "session" not in text.lower()
    assert timedelta(0) < outbox.RECENT
