"""The ``studybot`` command line: ``run`` without a token, ``db upgrade``, lazy imports."""

from __future__ import annotations

import subprocess
import sys

from tests.console.conftest import ConsoleRunner, clean_env


def test_run_without_token_explains_and_reads_stdin_until_quit(console: ConsoleRunner) -> None:
    stdin = "alice: /member join\n:quit\nbob: /member join\n"
    result = console.cli("run", stdin=stdin, STUDYBOT_DATABASE_URL=console.db_url)
    assert result.code == 0, result.err
    assert "DISCORD_TOKEN이 설정되어 있지 않아" in result.err
    assert "No DISCORD_TOKEN is set" in result.err
    assert result.blocks == ["[#study] alice 님이 스터디에 참여했습니다. 환영합니다!"]


def test_db_upgrade_says_what_it_did(console: ConsoleRunner) -> None:
    first = console.cli("db", "upgrade", "--db", console.db_url)
    assert first.code == 0, first.err
    assert first.out.startswith("데이터베이스 sqlite:///")
    assert "리비전 -에서" in first.out
    second = console.cli("db", "upgrade", "--db", console.db_url)
    assert second.code == 0, second.err
    assert "이미 최신 리비전" in second.out


def test_bad_database_url_is_reported_without_traceback(console: ConsoleRunner) -> None:
    result = console.cli("db", "upgrade", "--db", "nosuchdb://x")
    assert result.code == 2
    assert "nosuchdb://x" in result.err
    assert "Traceback" not in result.err


def test_cli_does_not_import_discord() -> None:
    code = "import sys, bot.cli; print(sorted(m for m in sys.modules if m.startswith('discord')))"
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
