"""The ``studybot`` command line: ``run`` without a token, ``--version``, ``db upgrade``,
``db backup``, lazy imports."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

import bot
from db.migrate import alembic_config, upgrade
from tests.console.conftest import ConsoleRunner, clean_env


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def test_run_without_token_explains_and_reads_stdin_until_quit(console: ConsoleRunner) -> None:
    stdin = "alice: /member join\n:quit\nbob: /member join\n"
    result = console.cli("run", stdin=stdin, STUDYBOT_DATABASE_URL=console.db_url)
    assert result.code == 0, result.err
    assert "`DISCORD_TOKEN`이 설정되어 있지 않아 로컬 콘솔을 실제 시계로 시작합니다" in result.err
    assert "`make console` 명령을 쓰세요" in result.err
    assert "No DISCORD_TOKEN is set" in result.err and "run `make console`" in result.err
    assert result.blocks == ["[#study] alice 님이 스터디에 참여했습니다. 환영합니다!"]


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--version"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, f"studybot {bot.__version__}\n", "")
    assert bot.__version__ == "0.1.0"


def test_db_upgrade_says_what_it_did(console: ConsoleRunner) -> None:
    head = head_revision()
    first = console.cli("db", "upgrade", "--db", console.db_url)
    assert first.code == 0, first.err
    assert first.out == (
        f"빈 데이터베이스에 스키마를 만들었습니다(리비전 {head}): {console.db_url}\n"
    )
    second = console.cli("db", "upgrade", "--db", console.db_url)
    assert second.code == 0, second.err
    assert second.out == f"데이터베이스가 이미 최신 리비전({head})입니다: {console.db_url}\n"


def test_db_upgrade_from_an_older_revision_names_both(console: ConsoleRunner) -> None:
    upgrade(console.db_url, "0004")
    result = console.cli("db", "upgrade", "--db", console.db_url, STUDYBOT_DEFAULT_LOCALE="en")
    assert result.code == 0, result.err
    assert result.out == (
        f"Upgraded the database from revision 0004 to {head_revision()}: {console.db_url}\n"
    )


def test_db_upgrade_in_english_on_an_empty_database(console: ConsoleRunner) -> None:
    result = console.cli("db", "upgrade", "--db", console.db_url, STUDYBOT_DEFAULT_LOCALE="en")
    assert result.out.startswith("Created the schema in the empty database (revision ")
    assert " -" not in result.out


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


# --- db backup ---------------------------------------------------------------------


def rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT id, name FROM users ORDER BY id").fetchall()


def add_user(db: sqlite3.Connection, user_id: int, name: str) -> None:
    sql = "INSERT INTO users (id, name, created_at) VALUES (?, ?, '2026-12-07 00:00:00')"
    db.execute(sql, (user_id, name))


def test_backup_is_a_consistent_copy_while_another_process_writes(
    console: ConsoleRunner,
) -> None:
    """The bot's database in WAL mode: committed rows still only in the -wal file are in
    the copy, a transaction still open is not, and the copy is one file on its own."""
    assert console.cli("db", "upgrade", "--db", console.db_url).code == 0
    source = console.folder / "console.db"
    writer = sqlite3.connect(source, isolation_level=None)
    try:
        assert writer.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
        writer.execute("PRAGMA wal_autocheckpoint=0")  # committed pages stay in the -wal
        add_user(writer, 1, "alice")
        add_user(writer, 2, "bob")
        assert (console.folder / "console.db-wal").stat().st_size > 0
        writer.execute("BEGIN IMMEDIATE")  # the bot is in the middle of a write
        add_user(writer, 3, "carol")
        result = console.cli("db", "backup", "copy.db", "--db", console.db_url)
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert result.code == 0, result.err
    copy = console.folder / "copy.db"
    assert result.out.startswith(f"데이터베이스 {source}의 일관된 사본을 copy.db에 만들었습니다 (")
    assert rows(copy) == [(1, "alice"), (2, "bob")]
    assert not (console.folder / "copy.db-wal").exists()
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert sorted(p.name for p in console.folder.glob(".copy.db*")) == []  # no leftovers


def test_backup_refuses_to_overwrite_unless_forced(console: ConsoleRunner) -> None:
    assert console.cli("db", "upgrade", "--db", console.db_url).code == 0
    target = console.folder / "copy.db"
    target.write_text("keep me")
    refused = console.cli("db", "backup", "copy.db", "--db", console.db_url)
    assert refused.code == 2
    assert refused.err == "이미 있는 파일입니다: copy.db. 덮어쓰려면 `--force` 옵션을 붙이세요.\n"
    assert target.read_text() == "keep me"
    forced = console.cli("db", "backup", "copy.db", "--force", "--db", console.db_url)
    assert forced.code == 0, forced.err
    assert rows(target) == []


def test_backup_reads_the_settings_database_and_speaks_english(console: ConsoleRunner) -> None:
    assert console.cli("db", "upgrade", "--db", console.db_url).code == 0
    result = console.cli(
        "db",
        "backup",
        "copy.db",
        STUDYBOT_DATABASE_URL=console.db_url,
        STUDYBOT_DEFAULT_LOCALE="en",
    )
    assert result.code == 0, result.err
    assert result.out.startswith("Made a consistent copy of the database ")
    assert rows(console.folder / "copy.db") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["copy.db", "--db", "sqlite:///nothing-here.db"],
            "백업할 SQLite 데이터베이스 파일이 없습니다",
        ),
        (["no/such/folder/copy.db"], "백업 파일을 둘 폴더가 없습니다: no/such/folder"),
        (["copy.db", "--db", "sqlite://"], "SQLite 파일 데이터베이스만 직접 백업합니다"),
    ],
)
def test_backup_refusals(console: ConsoleRunner, args: list[str], message: str) -> None:
    assert console.cli("db", "upgrade", "--db", console.db_url).code == 0
    if "--db" not in args:
        args = [*args, "--db", console.db_url]
    result = console.cli("db", "backup", *args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert not (console.folder / "nothing-here.db").exists()  # nothing created
    assert not (console.folder / "copy.db").exists()


def test_backup_of_postgresql_prints_the_pg_dump_command_without_the_password(
    console: ConsoleRunner,
) -> None:
    url = "postgresql+psycopg://bob:s3cret@db.example:5433/study?sslmode=require"
    result = console.cli("db", "backup", "study.dump", "--db", url)
    assert result.code == 2
    assert "s3cret" not in result.out + result.err
    lines = result.err.splitlines()
    assert lines[0].startswith("PostgreSQL 데이터베이스는 여기서 직접 백업하지 않습니다.")
    assert lines[1] == (
        "  pg_dump --format=custom --file=study.dump "
        "'postgresql://bob@db.example:5433/study?sslmode=require'"
    )
    assert "PGPASSWORD" in lines[2]
    plain = console.cli("db", "backup", "s.dump", "--db", "postgresql://bob@localhost/study", **{})
    assert plain.err.splitlines()[1:] == [
        "  pg_dump --format=custom --file=s.dump postgresql://bob@localhost/study"
    ]
