"""CodeRunner with a fake sandbox: who may run, the queue message, how results and
refusals look, and how output is neutralised (no real sandbox here)."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.code_runs import CodeRunner, extract_code, neutralise
from bot.commands import Call
from bot.i18n import render
from bot.replies import Reply, Visibility
from sandbox.result import JobSpec, OutputFile, RunResult
from tests.conftest import Harness

PNG = b"\x89PNG\r\n\x1a\nfake"


@dataclass
class FakeTicket:
    position: int
    result: RunResult

    def __await__(self) -> Generator[Any, None, RunResult]:
        yield from asyncio.sleep(0).__await__()
        return self.result


@dataclass
class FakeSandbox:
    result: RunResult
    position: int = 0
    jobs: list[tuple[str, JobSpec]] = field(default_factory=list)

    def submit(self, source: str | bytes, job: JobSpec | None = None) -> FakeTicket:
        assert job is not None
        self.jobs.append((source if isinstance(source, str) else source.decode(), job))
        return FakeTicket(self.position, self.result)


def call(harness: Harness, name: str) -> Call:
    return Call(harness.group_id, harness.actor(name))


def en(reply: Reply) -> str:
    return render(reply, "en")


async def test_member_snippet_runs_and_shows_output_device_and_time(harness: Harness) -> None:
    harness.join("alice")
    ok = RunResult(status="ok", stdout="2\n", wall_ms=1234, device="cuda:0")
    box = FakeSandbox(ok)
    replies = await CodeRunner(harness.core, box).run_snippet(call(harness, "alice"), "print(1+1)")
    assert [r.visibility for r in replies] == [Visibility.PUBLIC]
    assert en(replies[0]) == "Your code: finished · cuda:0 · 1.23 s\n```\n2\n```"
    source, job = box.jobs[0]
    assert source == "print(1+1)"
    assert job.kind == "member" and job.member_id == harness.actor("alice").user_id


async def test_strangers_may_not_run_their_own_code(harness: Harness) -> None:
    box = FakeSandbox(RunResult(status="ok"))
    replies = await CodeRunner(harness.core, box).run_snippet(call(harness, "eve"), "print(1)")
    assert [r.key for r in replies] == ["error.not_member"]
    assert box.jobs == []


async def test_anyone_may_run_a_lesson_with_its_images(harness: Harness) -> None:
    files = (OutputFile("plot.png", PNG, "png"),)
    box = FakeSandbox(RunResult(status="ok", stdout="done", files=files, wall_ms=50))
    replies = await CodeRunner(harness.core, box).run_lesson(
        call(harness, "eve"), "backward-gradient"
    )
    assert len(replies) == 1
    assert en(replies[0]).startswith("Lesson `backward-gradient` (")
    assert [(a.filename, a.data) for a in replies[0].attachments] == [("plot.png", PNG)]
    source, job = box.jobs[0]
    assert job.kind == "lesson" and job.name == "l01_backward_gradient.py"
    assert "LESSON" in source


async def test_unknown_lesson_is_refused(harness: Harness) -> None:
    box = FakeSandbox(RunResult(status="ok"))
    replies = await CodeRunner(harness.core, box).run_lesson(call(harness, "eve"), "nope")
    assert [r.key for r in replies] == ["lessons.unknown"]


async def test_queue_position_goes_to_the_callback_first(harness: Harness) -> None:
    harness.join("alice")
    box = FakeSandbox(RunResult(status="ok", stdout="x"), position=2)
    shown: list[Reply] = []

    async def queued(reply: Reply) -> None:
        shown.append(reply)

    runner = CodeRunner(harness.core, box)
    replies = await runner.run_snippet(call(harness, "alice"), "print('x')", queued)
    assert [r.key for r in shown] == ["lessons.queued"]
    assert shown[0].visibility is Visibility.PRIVATE
    assert en(shown[0]).startswith("You are number 2 in line")
    assert [r.key for r in replies] == ["lessons.result"]
    # without a callback the queue message comes first in the list
    replies = await runner.run_snippet(call(harness, "alice"), "print('x')")
    assert [r.key for r in replies] == ["lessons.queued", "lessons.result"]


async def test_error_shows_the_stderr_tail_and_mentions_are_neutralised(harness: Harness) -> None:
    harness.join("alice")
    result = RunResult(
        status="error", stdout="@everyone <@123> ```", stderr="Traceback\nValueError: bad"
    )
    replies = await CodeRunner(harness.core, FakeSandbox(result)).run_snippet(
        call(harness, "alice"), "raise ValueError('bad')"
    )
    text = en(replies[0])
    assert text.startswith("Your code: error · ")
    assert "@everyone" not in text and "@\u200beveryone" in text
    assert "<@\u200b123>" in text
    assert text.count("```") == 2  # the output cannot close the block early
    assert "ValueError: bad" in text


async def test_long_output_is_attached(harness: Harness) -> None:
    harness.join("alice")
    long = "".join(f"line {n}\n" for n in range(1000))
    result = RunResult(status="ok", stdout=long, truncated=True)
    replies = await CodeRunner(harness.core, FakeSandbox(result)).run_snippet(
        call(harness, "alice"), "for n in range(1000): print('line', n)"
    )
    text = en(replies[0])
    assert len(text) < 1900
    assert "The full output is attached as output.txt." in text
    assert "The output was cut at the sandbox's limit." in text
    assert replies[0].attachments[0].filename == "output.txt"
    assert replies[0].attachments[0].data.decode() == long


@pytest.mark.parametrize(
    ("key", "params", "expected"),
    [
        ("sandbox.rate_limited", {"retry_after_s": 7}, "try again in 7 s"),
        ("sandbox.busy_member", {}, "wait for its result first"),
        ("sandbox.queue_full", {"waiting": 10}, "(10 waiting)"),
        ("sandbox.unavailable", {"reason": "no bwrap"}, "(no bwrap)"),
    ],
)
async def test_refusals_are_private_and_come_from_the_reason_key(
    harness: Harness, key: str, params: dict[str, Any], expected: str
) -> None:
    harness.join("alice")
    result = RunResult.rejected(key, "english text", **params)
    replies = await CodeRunner(harness.core, FakeSandbox(result)).run_snippet(
        call(harness, "alice"), "print(1)"
    )
    assert [r.key for r in replies] == [key]
    assert replies[0].visibility is Visibility.PRIVATE
    assert expected in en(replies[0])
    assert render(replies[0], "ko") != en(replies[0])


async def test_no_sandbox_says_why(harness: Harness) -> None:
    runner = CodeRunner(harness.core, None, reason="disabled")
    replies = await runner.run_lesson(call(harness, "eve"), "backward-gradient")
    assert en(replies[0]) == "Running code is not available here: disabled"


def test_extract_code_prefers_the_python_block() -> None:
    message = "look:\n```\nbare\n```\nand\n```python\nprint(1)\n```\n```py\nprint(2)\n```"
    assert extract_code(message) == "print(1)"
    assert extract_code("```py\nprint(2)\n```") == "print(2)"
    assert extract_code("```\nprint(3)\n```") == "print(3)"
    assert extract_code("```js\nalert(1)\n```") is None
    assert extract_code("no code here") is None


def test_neutralise() -> None:
    assert neutralise("@here ```") == "@\u200bhere `\u200b``"
