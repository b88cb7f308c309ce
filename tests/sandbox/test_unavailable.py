"""Without bubblewrap members' code is refused with the reason; lessons run with rlimits
only when an admin allows it."""

from __future__ import annotations

import subprocess
import sys

from sandbox import JobSpec, Sandbox
from tests.sandbox.conftest import FAST, REPO

NO_BWRAP = FAST.with_limits(bwrap="/nonexistent/bwrap", pool_size=1)


async def test_members_code_is_refused_with_the_reason() -> None:
    async with Sandbox(NO_BWRAP) as box:
        assert not box.sandboxed
        assert box.unavailable_reason is not None and "bubblewrap" in box.unavailable_reason
        member = await box.run("print('hi')", JobSpec(member_id=1))
        lesson = await box.run("print('hi')", JobSpec(kind="lesson"))
    assert member.status == "rejected" and member.reason_key == "sandbox.unavailable"
    assert "bubblewrap" in member.stderr and "own code" in member.stderr
    assert lesson.status == "rejected" and "Lessons cannot run" in lesson.stderr


async def test_lessons_may_run_with_rlimits_only_when_allowed() -> None:
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
    assert slow.status == "timeout"


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
