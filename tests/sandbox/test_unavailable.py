"""Without bubblewrap members' code is refused with the reason; lessons run with rlimits
only when an admin allows it, and when even that cannot work the refusal says why.

These run for real on every host (bubblewrap is pointed at a missing binary), and the last
test runs pytest itself as on a host without bubblewrap to read the end of its output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from sandbox import JobSpec, Sandbox
from sandbox.host import HostUnfit, find_runtime
from tests.sandbox.conftest import FAST, REPO, SKIP_PREFIX

MISSING_BWRAP = "/nonexistent/bwrap"
NO_BWRAP = FAST.with_limits(bwrap=MISSING_BWRAP, pool_size=1)


async def test_members_code_is_refused_with_the_reason() -> None:
    async with Sandbox(NO_BWRAP) as box:
        assert not box.sandboxed
        assert box.unavailable_reason is not None and "bubblewrap" in box.unavailable_reason
        member = await box.run("print('hi')", JobSpec(member_id=1))
        lesson = await box.run("print('hi')", JobSpec(kind="lesson"))
    assert member.status == "rejected" and member.reason_key == "sandbox.unavailable"
    assert "bubblewrap" in member.stderr and "own code" in member.stderr
    assert lesson.status == "rejected" and "Lessons cannot run" in lesson.stderr


def _lesson_runtime_problem() -> str | None:
    """Why this host cannot give an unsandboxed lesson an interpreter (None: it can).

    As root a lesson still drops to an unprivileged uid, which must be able to run the
    interpreter and read the packages: Debian's /usr/bin/python3.11 (which
    scripts/system-packages.sh installs) or a world-readable installation."""
    try:
        find_runtime(None, None, drop_uid=os.geteuid() == 0)
    except HostUnfit as exc:
        return str(exc)
    return None


async def test_lessons_may_run_with_rlimits_only_when_allowed() -> None:
    problem = _lesson_runtime_problem()
    if problem is not None:  # the next test proves the refusal says exactly this
        pytest.skip(f"{SKIP_PREFIX}: not even with rlimits only: {problem}")
    async with Sandbox(NO_BWRAP.with_limits(allow_unsandboxed_lessons=True)) as box:
        lesson = await box.run(
            "import os\nprint('lesson', os.getuid() != 0)\n", JobSpec(kind="lesson")
        )
        member = await box.run("print('hi')", JobSpec(member_id=1))
        slow = await box.run("while True:\n    pass\n", JobSpec(kind="lesson", timeout_s=1))
    assert lesson.status == "ok", lesson
    assert lesson.stdout == "lesson True\n"  # still not root
    assert lesson.sandboxed is False
    assert member.status == "rejected"
    assert "bubblewrap" in member.stderr and "rlimits" not in member.stderr
    assert slow.status == "timeout"


async def test_allowed_lessons_without_an_interpreter_say_why() -> None:
    """Allowed to run unsandboxed but impossible: the refusal names the missing interpreter
    and how to get it, not only the missing bubblewrap."""
    config = NO_BWRAP.with_limits(
        allow_unsandboxed_lessons=True, python="/nonexistent/bin/python3.11"
    )
    async with Sandbox(config) as box:
        lesson = await box.run("print('hi')", JobSpec(kind="lesson"))
        member = await box.run("print('hi')", JobSpec(member_id=1))
    assert lesson.status == "rejected" and lesson.reason_key == "sandbox.unavailable"
    assert "bubblewrap (/nonexistent/bwrap) is not installed" in lesson.stderr
    assert "nor with rlimits only" in lesson.stderr
    assert "/nonexistent/bin/python3.11: missing" in lesson.stderr
    assert "install python3.11" in lesson.stderr
    reason = lesson.reason_params["reason"]
    assert isinstance(reason, str) and "python3.11" in reason
    assert member.status == "rejected" and "python3.11" not in member.stderr


def test_the_bot_never_imports_torch() -> None:
    code = (
        "import sys, bot.cli, bot.app, sandbox, sandbox.cli, lessons.catalogue\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_run_without_bubblewrap_ends_by_saying_the_sandbox_tests_were_skipped() -> None:
    """pytest as on a host without bubblewrap: the sandbox tests are skipped, and the last
    lines say how many and why (not only a line among the short test summary's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDYBOT_")}
    env["STUDYBOT_SANDBOX_BWRAP"] = MISSING_BWRAP
    chosen = [
        "tests/sandbox/test_lessons.py",
        "tests/sandbox/test_cli.py",
        "tests/sandbox/test_unavailable.py::test_members_code_is_refused_with_the_reason",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *chosen],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    counts = re.search(r"(\d+) passed, (\d+) skipped", done.stdout)
    assert counts is not None, done.stdout[-2000:]
    skipped = int(counts[2])
    assert skipped >= 3  # the lessons, and two of the command line's
    tail = done.stdout.rstrip().splitlines()[-6:]
    summary = "\n".join(tail)
    if os.geteuid() == 0:
        why = f"{SKIP_PREFIX}: bubblewrap ({MISSING_BWRAP}) is not installed"
    else:
        why = f"{SKIP_PREFIX}: the sandbox tests need root"
    assert f"{skipped} sandbox tests were SKIPPED" in summary, summary
    assert f"{skipped} × {why}" in summary, summary
    assert "scripts/system-packages.sh" in summary, summary
