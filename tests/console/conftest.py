"""Running the console as a user would: ``python -m bot.cli`` in a subprocess.

``ConsoleRunner.script`` writes a script file into the test's folder and runs it on that
folder's SQLite database, so two runs in one test share their data (a restart);
``ConsoleRunner.run_file`` runs a script file that already exists the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

TIMEOUT_S = 60


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def blocks(self) -> list[str]:
        """stdout split into messages: a block starts at a line beginning with ``[``."""
        found: list[str] = []
        for line in self.out.splitlines():
            if line.startswith("[") or not found:
                found.append(line)
            else:
                found[-1] += "\n" + line
        return found


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any token or studybot setting, and without an
    outer make's variables (`make test` runs these tests; a nested make would say
    "Entering directory" and take the outer one's flags)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STUDYBOT_")
        and k not in ("DISCORD_TOKEN", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
    }
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


class ConsoleRunner:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db_url = f"sqlite:///{folder / 'console.db'}"
        self.files = folder / "files"
        self._count = 0

    def cli(self, *args: str, stdin: str = "", **env: str) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            cwd=self.folder,
            env=clean_env(**env),
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT_S,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def script(self, text: str, *args: str) -> Result:
        """Run ``text`` (dedented) as a console script with extra console ``args``."""
        self._count += 1
        path = self.folder / f"script-{self._count}.txt"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return self.run_file(path, *args)

    def run_file(self, path: Path, *args: str) -> Result:
        """Run the console script ``path`` with extra console ``args``."""
        return self.cli(
            "console",
            "--db",
            self.db_url,
            "--files",
            str(self.files),
            "--script",
            str(path),
            *args,
        )


@pytest.fixture
def console(tmp_path: Path) -> ConsoleRunner:
    return ConsoleRunner(tmp_path)
