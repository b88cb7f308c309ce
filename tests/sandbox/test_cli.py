"""``studybot sandbox run`` and ``studybot lessons list|show|run``: the command-line
contract, through the real sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from lessons.catalogue import LESSONS_DIR, load_lessons
from tests.sandbox.conftest import REPO, RESULT_KEYS, need_sandbox


def test_sandbox_run_json_contract(tmp_path: Path) -> None:
    need_sandbox()
    ok = tmp_path / "ok.py"
    ok.write_text(
        "import torch\n"
        "import matplotlib.pyplot as plt\n"
        "print(torch.tensor([1.0, 2.0]).sum().item())\n"
        "plt.plot([0, 1]); plt.savefig('line.png')\n"
    )
    broken = tmp_path / "broken.py"
    broken.write_text("print('before')\nraise KeyError('x')\n")
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("STUDYBOT_SANDBOX_")
    }
    env["DISCORD_TOKEN"] = "must-not-leak"
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "sandbox",
            "run",
            "--json",
            "--timeout",
            "3",
            "--files",
            str(tmp_path / "out"),
            str(ok),
            str(broken),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert process.returncode == 1, process.stderr  # not every file ended "ok"
    rows = [json.loads(line) for line in process.stdout.splitlines()]
    assert [list(row) for row in rows] == [RESULT_KEYS] * 2
    assert [row["file"] for row in rows] == [str(ok), str(broken)]
    assert [row["status"] for row in rows] == ["ok", "error"], rows
    assert rows[0]["stdout"] == "3.0\n" and rows[0]["device"] == "cpu"
    assert rows[0]["files"][0]["name"] == "line.png"
    saved = Path(rows[0]["files"][0]["path"])
    assert saved.parent == tmp_path / "out" and saved.read_bytes().startswith(b"\x89PNG")
    assert rows[1]["exit_code"] == 1 and "KeyError" in rows[1]["stderr"]
    assert rows[1]["stdout"] == "before\n"
    assert "must-not-leak" not in process.stdout


def test_lessons_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    lessons = load_lessons(LESSONS_DIR)
    assert len(lessons) >= 10, "the lessons folder lost its lessons"
    assert main(["lessons", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [row["id"] for row in rows] == [lesson.id for lesson in lessons]
    assert main(["lessons", "show", lessons[0].id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == lessons[0].id and "LESSON" in shown["source"]
    assert main(["lessons", "show", lessons[0].path.stem]) == 0  # the file name works too
    assert lessons[0].id in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no lesson"):
        main(["lessons", "show", "no-such-lesson"])


def test_lessons_run_json(capsys: pytest.CaptureFixture[str]) -> None:
    lessons = load_lessons(LESSONS_DIR)
    assert len(lessons) >= 10, "the lessons folder lost its lessons"
    need_sandbox()
    lesson = min(lessons, key=lambda item: item.path.stat().st_size)
    assert main(["lessons", "run", lesson.id, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 1 and list(rows[0]) == RESULT_KEYS
    assert rows[0]["status"] == "ok", rows[0]["stderr"]
    assert rows[0]["file"] == str(lesson.path)
