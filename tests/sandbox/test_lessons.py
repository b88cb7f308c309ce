"""Every lesson runs in the real sandbox (torch preloaded, as the bot runs them) and passes
its own assertions."""

from __future__ import annotations

import asyncio

from lessons.catalogue import LESSONS_DIR, load_lessons
from sandbox import JobSpec, Sandbox, SandboxConfig
from tests.sandbox.conftest import need_sandbox


async def test_every_lesson_runs_in_the_sandbox_and_passes() -> None:
    lessons = load_lessons(LESSONS_DIR)
    assert len(lessons) >= 10, "the lessons folder lost its lessons"
    need_sandbox()
    config = SandboxConfig(
        pool_size=2,
        concurrency=2,
        queue_max=len(lessons),
        timeout_s=120,  # generous for a loaded CI machine; lessons take seconds
        cpu_s=120,
    )
    async with Sandbox(config) as box:
        assert box.sandboxed, box.unavailable_reason
        tickets = [
            box.submit(lesson.path.read_bytes(), JobSpec(kind="lesson", name=lesson.path.name))
            for lesson in lessons
        ]
        results = await asyncio.gather(*tickets)
    failures = {
        lesson.id: (result.status, result.stderr[-3000:])
        for lesson, result in zip(lessons, results, strict=True)
        if result.status != "ok"
    }
    assert failures == {}
    for lesson, result in zip(lessons, results, strict=True):
        assert result.sandboxed and (result.device == "cpu" or result.device.startswith("cuda:"))
        assert result.stdout.strip(), f"{lesson.id} printed nothing"
        pngs = [item for item in result.files if item.kind == "png"]
        if lesson.draws:
            assert pngs, f"{lesson.id} draws but returned no PNG ({result.notes})"
