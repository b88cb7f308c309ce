"""The README's two commands on a fresh machine: the system packages' set-up (with fake
``dpkg-query``, ``id``, ``sudo`` and ``apt-get`` on PATH: nothing is really installed),
the quiet install, and the README's "Try it" through ``make console``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.console.conftest import TIMEOUT_S, Result, clean_env

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "system-packages.sh"
SANDBOX_PACKAGES = ["bubblewrap", "python3.11", "libseccomp2"]

FAKES = {
    # installed packages: the words of $FAKE_INSTALLED
    "dpkg-query": """
        package="${@: -1}"
        for p in $FAKE_INSTALLED; do
          if [ "$p" = "$package" ]; then printf installed; exit 0; fi
        done
        printf not-installed; exit 1
    """,
    "id": 'echo "$FAKE_UID"',
    "sudo": """
        called="sudo $*"
        [ "$1" = -n ] && shift
        [ "$FAKE_SUDO" = yes ] || { echo "sudo: a password is required" >&2; exit 1; }
        echo "$called" >>"$FAKE_LOG"
        exec "$@"
    """,
    "apt-get": """
        echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >>"$FAKE_LOG"
        echo "Reading package lists... (noise that must not reach the screen)"
        exit "${FAKE_APT_RC:-0}"
    """,
}


@dataclass
class Host:
    """A fake Debian host: which packages it has, who we are, whether sudo works."""

    folder: Path
    installed: list[str]
    uid: int = 0
    sudo: bool = False
    apt_rc: int = 0

    def env(self) -> dict[str, str]:
        bin_dir = self.folder / "bin"
        bin_dir.mkdir(exist_ok=True)
        for name, body in FAKES.items():
            path = bin_dir / name
            path.write_text("#!/usr/bin/env bash\n" + textwrap.dedent(body))
            path.chmod(0o755)
        return clean_env(
            PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            TMPDIR=str(self.folder),
            FAKE_INSTALLED=" ".join(self.installed),
            FAKE_UID=str(self.uid),
            FAKE_SUDO="yes" if self.sudo else "no",
            FAKE_APT_RC=str(self.apt_rc),
            FAKE_LOG=str(self.log),
        )

    @property
    def log(self) -> Path:
        return self.folder / "calls.log"

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def run(self, *command: str) -> Result:
        done = subprocess.run(
            list(command),
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def script(self, *args: str) -> Result:
        return self.run(str(SCRIPT), *args)


def test_nothing_missing_is_silent(tmp_path: Path) -> None:
    host = Host(tmp_path, installed=SANDBOX_PACKAGES)
    assert host.script() == Result(0, "", "")
    assert host.calls() == []


def test_root_installs_only_what_is_missing_quietly(tmp_path: Path) -> None:
    host = Host(tmp_path, installed=["python3.11"])
    result = host.script()
    assert result.code == 0 and result.err == ""
    assert host.calls() == [
        "apt-get update -qq DEBIAN_FRONTEND=noninteractive",
        "apt-get install -y -qq --no-install-recommends bubblewrap libseccomp2 "
        "DEBIAN_FRONTEND=noninteractive",
    ]
    assert "noise" not in result.out
    assert result.out.splitlines()[-1] == "studybot: installed bubblewrap libseccomp2"
    assert list(tmp_path.glob("studybot-system-packages.*")) == []  # the log is gone


def test_a_user_with_passwordless_sudo_installs_through_sudo(tmp_path: Path) -> None:
    host = Host(tmp_path, installed=["python3.11", "libseccomp2"], uid=1000, sudo=True)
    result = host.script()
    assert result.code == 0, result.err
    assert host.calls() == [
        "sudo -n true",
        "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -qq",
        "apt-get update -qq DEBIAN_FRONTEND=noninteractive",
        "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
        "--no-install-recommends bubblewrap",
        "apt-get install -y -qq --no-install-recommends bubblewrap DEBIAN_FRONTEND=noninteractive",
    ]


def test_a_user_without_sudo_gets_the_exact_command_and_the_build_goes_on(
    tmp_path: Path,
) -> None:
    host = Host(tmp_path, installed=["libseccomp2"], uid=1000, sudo=False)
    result = host.script()
    assert result.code == 0
    assert host.calls() == []  # nothing was attempted
    assert "    sudo apt-get update && sudo apt-get install -y bubblewrap python3.11" in (
        result.out.splitlines()
    )
    assert "needs root (or sudo without a password)" in result.out
    assert "sandbox tests are skipped" in result.out


def test_a_failed_install_shows_the_log_and_the_command(tmp_path: Path) -> None:
    host = Host(tmp_path, installed=["python3.11", "libseccomp2"], apt_rc=100)
    result = host.script()
    assert result.code == 0
    assert "    Reading package lists... (noise that must not reach the screen)" in result.out
    assert "apt-get failed (the whole log is in " in result.out
    assert "    apt-get update && apt-get install -y bubblewrap" in result.out.splitlines()


def test_ci_also_wants_the_postgresql_client(tmp_path: Path) -> None:
    host = Host(tmp_path, installed=SANDBOX_PACKAGES)
    assert host.script("--ci").code == 0
    assert host.calls()[-1].startswith(
        "apt-get install -y -qq --no-install-recommends postgresql-client"
    )
    assert host.script("--bogus").code == 2


@pytest.mark.parametrize("target", ["run", "console", "test", "system"])
def test_make_targets_run_the_one_script(tmp_path: Path, target: str) -> None:
    """``make system`` (a prerequisite of run, console and test) is the same script."""
    host = Host(tmp_path, installed=["python3.11", "libseccomp2"], uid=1000)
    dry = host.run("make", "-n", target)
    assert dry.out.splitlines()[0] == "scripts/system-packages.sh", dry.out
    if target == "system":
        result = host.run("make", "--no-print-directory", "system")
        assert result.code == 0
        assert "sudo apt-get install -y bubblewrap" in result.out


def test_ci_runs_the_same_script_and_then_make_test() -> None:
    lines = [line.split("#")[0].strip() for line in (REPO / ".ci/run").read_text().splitlines()]
    assert "scripts/system-packages.sh --ci" in lines
    assert lines[-1] == "make test"
    assert not any("apt-get" in line for line in lines)  # no second copy of the logic


FAKE_PYTHON = """
    # a Python that makes a fake venv whose pip is noisy (and fails when asked to)
    if [ "$1" = -c ]; then exec "$REAL_PYTHON" "$@"; fi
    if [ "$1 $2" = "-m venv" ]; then
      mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; exit 0
    fi
    if [ "$1 $2" = "-m pip" ]; then
      echo "pip $*" >>"$FAKE_LOG"
      for i in $(seq 1 60); do echo "Collecting package-$i (build noise)"; done
      case "$FAKE_PIP_FAIL $*" in
        1*-e*) echo "ERROR: no matching distribution"; exit 1 ;;
      esac
      exit 0
    fi
    exit 3
"""


def make_install(tmp_path: Path, fail: bool) -> tuple[Result, Path]:
    python = tmp_path / "python"
    python.write_text("#!/usr/bin/env bash\n" + textwrap.dedent(FAKE_PYTHON))
    python.chmod(0o755)
    venv = tmp_path / "venv"
    env = clean_env(
        REAL_PYTHON=sys.executable, FAKE_LOG=str(tmp_path / "pip.log"), FAKE_PIP_FAIL="1" * fail
    )
    done = subprocess.run(
        ["make", "--no-print-directory", "install", f"PYTHON={python}", f"VENV={venv}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    return Result(done.returncode, done.stdout, done.stderr), venv


def test_the_install_step_is_one_line_and_pip_goes_to_a_log(tmp_path: Path) -> None:
    result, venv = make_install(tmp_path, fail=False)
    assert result.code == 0, result.out + result.err
    assert result.out == f"studybot: installing into {venv} (log: {venv}/install.log)\n"
    assert result.err == ""
    calls = (tmp_path / "pip.log").read_text()
    assert "-q" in calls and "--disable-pip-version-check" in calls
    assert (venv / "install.log").read_text().count("build noise") == 120
    assert (venv / ".installed").exists()


def test_a_failed_install_shows_the_end_of_pips_log(tmp_path: Path) -> None:
    result, venv = make_install(tmp_path, fail=True)
    assert result.code != 0
    assert "ERROR: no matching distribution" in result.out
    assert result.out.count("build noise") == 39  # the last 40 lines of the log
    assert f"studybot: installing failed; the whole log is {venv}/install.log" in result.out
    assert not (venv / ".installed").exists()


def readme_try_it() -> list[str]:
    """The lines the README's "Try it" block types after ``$ make console``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```text\n\$ make console\n(.*?)```", readme, re.S)
    assert block is not None, "the README's Try it block starts with $ make console"
    return block[1].splitlines()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_readmes_try_it_works_as_written(tmp_path: Path) -> None:
    lines = readme_try_it()
    assert ":advance 2h" in lines and lines[-1] == ":quit"
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "console",
            "SYSTEM_PACKAGES=:",  # the script's own tests are above; install nothing here
            f"CONSOLE_DB=sqlite:///{tmp_path / 'console.db'}",
            f"ARGS=--files {tmp_path / 'files'}",
            "-o",
            ".venv/.installed",  # use this checkout's venv as it is
        ],
        cwd=REPO,
        env=clean_env(),
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_S,
    )
    result = Result(done.returncode, done.stdout, done.stderr)
    assert result.code == 0, result.err
    assert result.err == ""  # no refusal: the clock is simulated
    blocks = result.blocks
    assert blocks[:2] == [
        "[#study] alice 님이 스터디에 참여했습니다. 환영합니다!",
        "[#study] bob 님이 스터디에 참여했습니다. 환영합니다!",
    ]
    schedule = blocks[2].splitlines()
    assert schedule[0].startswith("[@alice] ") and len(schedule) == 6
    first_day = schedule[1].split()
    assert first_day[-1] == "alice"
    if "(월)" in first_day[1]:  # the Monday is a study day: :advance 2h passed 09:30
        review = [b for b in blocks[3:] if b.startswith("[#study] ") and "alice" in b]
        assert review, blocks
