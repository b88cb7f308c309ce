"""Code runs through the one way in (``Core.invoke`` and the command table) with a fake
sandbox: who may run, the queue message, how results and refusals look, how output is
neutralised, and the runner's own loop (no real sandbox here)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.commands import Call
from bot.i18n import render
from bot.replies import Reply, Visibility
from bot.services.code_runs import CodeRunner, extract_code, neutralise
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
    threads: list[str] = field(default_factory=list)  # where each job was submitted
    closed: bool = False

    def submit(self, source: str | bytes, job: JobSpec | None = None) -> FakeTicket:
        assert job is not None
        self.jobs.append((source if isinstance(source, str) else source.decode(), job))
        self.threads.append(threading.current_thread().name)
        return FakeTicket(self.position, self.result)

    async def close(self) -> None:
        self.closed = True


def call(harness: Harness, name: str) -> Call:
    return Call(harness.group_id, harness.actor(name))


def use(harness: Harness, box: FakeSandbox | None, reason: str = "-") -> CodeRunner:
    """Give the harness's core a runner over ``box`` (None: running code is off)."""
    services = harness.core.services
    runner = (
        CodeRunner(services, None, reason=reason)
        if box is None
        else CodeRunner.with_sandbox(services, box)
    )
    harness.core.runner = runner
    return runner


async def run(
    harness: Harness,
    name: str,
    command: str,
    notify: Any = None,
    **options: Any,
) -> Reply:
    """``command`` as ``name`` through ``Core.invoke``, the way both front ends call it."""
    return await harness.core.invoke(tuple(command.split()), call(harness, name), options, notify)


def en(reply: Reply) -> str:
    return render(reply, "en")


async def test_member_snippet_runs_and_shows_output_device_and_time(harness: Harness) -> None:
    harness.join("alice")
    ok = RunResult(status="ok", stdout="2\n", wall_ms=1234, device="cuda:0")
    box = FakeSandbox(ok)
    use(harness, box)
    reply = await run(harness, "alice", "run", code="print(1+1)")
    assert reply.visibility is Visibility.PUBLIC
    assert en(reply) == "Your code: finished · cuda:0 · 1.23 s\n```\n2\n```"
    source, job = box.jobs[0]
    assert source == "print(1+1)"
    assert job.kind == "member" and job.member_id == harness.actor("alice").user_id


@pytest.mark.parametrize(
    ("command", "options", "key"),
    [
        pytest.param("run", {"code": "print(1)"}, "error.not_member", id="stranger-own-code"),
        pytest.param("lesson run", {"id": "nope"}, "lessons.unknown", id="unknown-lesson"),
    ],
)
async def test_refused_runs_reach_no_sandbox(
    harness: Harness, command: str, options: dict[str, Any], key: str
) -> None:
    """Strangers may not run their own code; an unknown lesson is refused."""
    box = FakeSandbox(RunResult(status="ok"))
    use(harness, box)
    reply = await run(harness, "eve", command, **options)
    assert reply.key == key
    assert box.jobs == []


async def test_anyone_may_run_a_lesson_with_its_images(harness: Harness) -> None:
    files = (OutputFile("plot.png", PNG, "png"),)
    box = FakeSandbox(RunResult(status="ok", stdout="done", files=files, wall_ms=50))
    use(harness, box)
    reply = await run(harness, "eve", "lesson run", id="backward-gradient")
    assert en(reply).startswith("Lesson `backward-gradient` (")
    assert [(a.filename, a.data) for a in reply.attachments] == [("plot.png", PNG)]
    source, job = box.jobs[0]
    assert job.kind == "lesson" and job.name == "l01_backward_gradient.py"
    assert "LESSON" in source


async def test_queue_position_goes_to_the_callback_first(harness: Harness) -> None:
    harness.join("alice")
    box = FakeSandbox(RunResult(status="ok", stdout="x"), position=2)
    shown: list[Reply] = []

    async def queued(reply: Reply) -> None:
        shown.append(reply)

    use(harness, box)
    reply = await run(harness, "alice", "run", queued, code="print('x')")
    assert [r.key for r in shown] == ["lessons.queued"]
    assert shown[0].visibility is Visibility.PRIVATE
    assert en(shown[0]).startswith("You are number 2 in line")
    assert reply.key == "lessons.result"
    # without a callback the result still comes
    assert (await run(harness, "alice", "run", code="print('x')")).key == "lessons.result"


async def test_error_shows_the_stderr_tail_and_mentions_are_neutralised(harness: Harness) -> None:
    harness.join("alice")
    result = RunResult(
        status="error", stdout="@everyone <@123> ```", stderr="Traceback\nValueError: bad"
    )
    use(harness, FakeSandbox(result))
    reply = await run(harness, "alice", "run", code="raise ValueError('bad')")
    text = en(reply)
    assert text.startswith("Your code: error · ")
    assert "@everyone" not in text and "@\u200beveryone" in text
    assert "<@\u200b123>" in text
    assert text.count("```") == 2  # the output cannot close the block early
    assert "ValueError: bad" in text


async def test_long_output_is_attached(harness: Harness) -> None:
    harness.join("alice")
    long = "".join(f"line {n}\n" for n in range(1000))
    result = RunResult(status="ok", stdout=long, truncated=True)
    use(harness, FakeSandbox(result))
    reply = await run(harness, "alice", "run", code="for n in range(1000): print('line', n)")
    text = en(reply)
    assert len(text) < 1900
    assert "The full output is attached as output.txt." in text
    assert "The output was cut at the sandbox's limit." in text
    assert reply.attachments[0].filename == "output.txt"
    assert reply.attachments[0].data.decode() == long


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
    use(harness, FakeSandbox(result))
    reply = await run(harness, "alice", "run", code="print(1)")
    assert reply.key == key
    assert reply.visibility is Visibility.PRIVATE
    assert expected in en(reply)
    assert render(reply, "ko") != en(reply)


async def test_no_sandbox_says_why(harness: Harness) -> None:
    use(harness, None, reason="disabled")
    reply = await run(harness, "eve", "lesson run", id="backward-gradient")
    assert en(reply) == "Running code is not available here: disabled"


async def test_empty_code_is_refused_before_the_sandbox(harness: Harness) -> None:
    harness.join("alice")
    box = FakeSandbox(RunResult(status="ok"))
    use(harness, box)
    assert (await run(harness, "alice", "run", code="  \n")).key == "lessons.no_code"
    assert box.jobs == []


def test_sync_callers_run_code_too_on_the_sandbox_loop(harness: Harness) -> None:
    """The console and tests call ``invoke_sync``; the sandbox still runs on its own loop,
    in the runner's thread, and is opened once for many runs."""
    harness.join("alice")
    box = FakeSandbox(RunResult(status="ok", stdout="hi"))
    opened: list[int] = []

    async def opener() -> FakeSandbox:
        opened.append(1)
        return box

    runner = CodeRunner(harness.core.services, opener)
    harness.core.runner = runner
    for _ in range(2):
        reply = harness.invoke("alice", "run", code="print('hi')")
        assert reply.key == "lessons.result"
    assert opened == [1]
    assert box.threads == ["studybot-sandbox"] * 2
    harness.core.close_sync()
    assert box.closed
    assert harness.invoke("alice", "run", code="print(1)").key == "lessons.sandbox_off"


def test_a_sandbox_that_cannot_open_says_why(harness: Harness) -> None:
    async def opener() -> FakeSandbox:
        raise RuntimeError("bubblewrap is missing")

    harness.core.runner = CodeRunner(harness.core.services, opener)
    reply = harness.invoke("eve", "lesson run", id="backward-gradient")
    assert en(reply) == "Running code is not available here: bubblewrap is missing"
    harness.core.close_sync()


def test_extract_code_prefers_the_python_block() -> None:
    message = "look:\n```\nbare\n```\nand\n```python\nprint(1)\n```\n```py\nprint(2)\n```"
    assert extract_code(message) == "print(1)"
    assert extract_code("```py\nprint(2)\n```") == "print(2)"
    assert extract_code("```\nprint(3)\n```") == "print(3)"
    assert extract_code("```js\nalert(1)\n```") is None
    assert extract_code("no code here") is None


def test_neutralise() -> None:
    assert neutralise("@here ```") == "@\u200bhere `\u200b``"
