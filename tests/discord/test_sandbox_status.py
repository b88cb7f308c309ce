"""The remote runners on Discord: ``/admin sandbox status`` (``/관리 실행기 상태``) and the
progress of a run on a runner ("queued", "running on <worker>", then the result), with
stand-ins shaped exactly as ``sandbox.remote``'s answers (the real ones are tested in
``tests/remote``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from bot.adapters.discord.bot import StudyBot
from bot.services.code_runs import CodeRunner
from sandbox import JobSpec, RunResult
from tests.discord.fakes import ALICE, BOB, Gateway

WORKER_ROW = {
    "name": "gpu1@lab",
    "queues": ["gpu"],
    "gpus": ["NVIDIA H200"],
    "concurrency": 1,
    "sandbox": "bwrap",
    "ready": 1,
    "done": 3,
    "failed": 1,
    "running": 0,
}


@dataclass
class RemoteTicket:
    """Like ``sandbox.remote.client.RemoteTicket``: progress goes to ``watch``ers."""

    result: RunResult
    position: int = 0
    watchers: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)

    def watch(self, callback: Callable[[str, dict[str, Any]], None]) -> None:
        self.watchers.append(callback)

    def __await__(self) -> Generator[Any, None, RunResult]:
        for key, params in (
            ("remote.queued", {"queue": "gpu"}),
            ("remote.running", {"worker": "gpu1@lab"}),
        ):
            for callback in self.watchers:
                callback(key, params)
            yield from asyncio.sleep(0).__await__()
        return self.result


@dataclass
class RemoteBox:
    """Like ``RemoteSandbox``: ``describe`` (no password in it) and ``workers``."""

    result: RunResult = field(default_factory=lambda: RunResult(status="ok"))
    rows: list[dict[str, Any]] = field(default_factory=lambda: [dict(WORKER_ROW)])

    def submit(self, source: str | bytes, job: JobSpec | None = None) -> RemoteTicket:
        return RemoteTicket(self.result)

    def describe(self) -> dict[str, Any]:
        return {"mode": "celery", "broker": "rediss://:**@redis.lab:6380/0", "namespace": "x"}

    async def workers(self) -> list[dict[str, Any]]:
        return self.rows

    async def close(self) -> None:
        return None


def use(studybot: StudyBot, box: RemoteBox) -> None:
    studybot.core.runner = CodeRunner.with_sandbox(studybot.core.services, box)  # type: ignore[arg-type]


async def test_admins_see_the_runners_with_their_gpus_and_counts(
    gateway: Gateway, studybot: StudyBot
) -> None:
    use(studybot, RemoteBox())
    sent = await gateway.command("sandbox status", ALICE, admin=True)
    text = "\n".join(message.content for message in sent)
    assert "rediss://:**@redis.lab:6380/0에 연결된 코드 실행기: 1대" in text
    assert "gpu1@lab: 대기열 gpu, 그래픽 카드: NVIDIA H200, 동시에 1개, 완료 3개, 실패 1개" in text
    assert sent[-1].ephemeral


async def test_members_may_not_see_the_runners(gateway: Gateway, studybot: StudyBot) -> None:
    use(studybot, RemoteBox())
    sent = await gateway.command("sandbox status", BOB)
    assert sent[-1].ephemeral and "관리자만 할 수 있습니다." in sent[-1].content
    assert "gpu1@lab" not in "\n".join(message.content for message in sent)


async def test_no_runner_answering_is_said_plainly(gateway: Gateway, studybot: StudyBot) -> None:
    use(studybot, RemoteBox(rows=[]))
    sent = await gateway.command("sandbox status", ALICE, admin=True)
    assert sent[-1].content == (
        "rediss://:**@redis.lab:6380/0에서 응답한 실행기가 없어요. "
        "`studybot worker`로 실행기를 시작하세요."
    )


async def test_a_run_on_a_runner_shows_queued_then_running_then_the_result(
    gateway: Gateway, studybot: StudyBot
) -> None:
    await gateway.command("member join", ALICE)
    ok = RunResult(status="ok", stdout="2\n", worker="gpu1@lab", queue="cpu", fallback_from="gpu")
    use(studybot, RemoteBox(result=ok))
    sent = await gateway.command("run", ALICE, code="print(2)")
    contents = [message.content for message in sent]
    queued = next(i for i, c in enumerate(contents) if "실행기 대기열(`gpu`)에 올렸어요" in c)
    running = next(i for i, c in enumerate(contents) if "gpu1@lab에서 실행하고 있어요" in c)
    result = next(i for i, c in enumerate(contents) if "```\n2\n```" in c)
    assert queued < running < result
    assert "`cpu` 실행기에서 실행했어요" in contents[result]
