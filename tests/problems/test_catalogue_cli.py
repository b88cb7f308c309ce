"""`studybot problems list|show|sync` through the real command line entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("STUDYBOT_DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return f"sqlite:///{tmp_path}/cli.db"


def test_show_prints_the_fields(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["problems", "show", "12899", "--db", db]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "id: 12899",
        "title: 124 나라의 숫자",
        "level: 2",
        "kind: algorithm",
        "url: https://school.programmers.co.kr/learn/courses/30/lessons/12899",
    ]


def test_show_of_an_unknown_id_says_what_to_do(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["problems", "show", "1", "--db", db]) == 1
    assert "problems sync" in capsys.readouterr().err


def test_list_filters_by_kind(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["problems", "list", "--kind", "sql", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 36
    assert lines[0] == "59038\tsql\tLv2\t최솟값 구하기"


def test_sync_against_nothing_fails_cleanly(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["problems", "sync", "--db", db, "--base-url", "http://127.0.0.1:9", "--retries", "0"]
    )
    assert code == 1
    assert "the catalogue is unchanged" in capsys.readouterr().err
