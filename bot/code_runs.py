"""Running lessons and members' snippets in the sandbox, for any front end.

The bot never runs code itself: ``CodeRunner`` checks who may run what through the core,
submits the code to a sandbox (``sandbox.Sandbox`` or anything with the same
``submit``), and turns the ``RunResult`` into replies: a status line with the device and
time, the output as a code block (mentions and fences neutralised; the whole output as an
attached file when long) and the images the code saved.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot.commands import Call
from bot.core import Core, error_reply
from bot.errors import InvalidInput
from bot.replies import Attachment, Reply, Text
from bot.services import groups, lessons, permissions, users
from sandbox.result import JobSpec, RunResult

MAX_INLINE_OUTPUT = 1500  # characters of output shown in the message itself
STDERR_TAIL = 1200  # characters of stderr shown after an error
ZWSP = "\u200b"
FENCE = "```"
_BLOCK = re.compile(r"```([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.DOTALL)

OnQueued = Callable[[Reply], Awaitable[None]]


class SandboxLike(Protocol):
    """``sandbox.Sandbox`` or a stand-in: ``submit`` returns an awaitable ticket
    with a ``position`` (0: runs now; N: N-th in line)."""

    def submit(self, source: str | bytes, job: JobSpec | None = None) -> Any: ...


def extract_code(message: str) -> str | None:
    """The first ```python (or ```py) block of a message, else its first bare ``` block."""
    bare = None
    for match in _BLOCK.finditer(message):
        language, body = match.group(1).lower(), match.group(2)
        if language in ("python", "py", "python3"):
            return body.strip("\n") or None
        if language == "" and bare is None:
            bare = body.strip("\n") or None
    return bare


def neutralise(output: str) -> str:
    """Output that can neither ping anyone nor close its code block."""
    return output.replace("@", "@" + ZWSP).replace(FENCE, "`" + ZWSP + "``")


def code_block(output: str) -> str:
    return f"{FENCE}\n{neutralise(output)}\n{FENCE}"


def _seconds(wall_ms: int) -> str:
    return f"{wall_ms / 1000:.2f}"


def result_reply(result: RunResult, title: Text, filename: str = "output.txt") -> Reply:
    """A finished (or refused) run as one reply."""
    if result.status == "rejected":
        key = result.reason_key or "sandbox.internal"
        params = dict(result.reason_params)
        if key == "sandbox.internal":
            params.setdefault("error_id", "-")
        return Reply.private(key, **params)
    reply = Reply.public(
        "lessons.result",
        title=title,
        status=Text(f"lessons.status.{result.status}"),
        device=result.device,
        seconds=_seconds(result.wall_ms),
    )
    output = result.stdout
    if not result.ok and result.stderr.strip():
        tail = result.stderr[-STDERR_TAIL:]
        output = f"{output.rstrip()}\n{tail}".strip("\n") if output.strip() else tail
    if not output.strip():
        reply.lines.append(Text("lessons.no_output"))
    elif len(output) <= MAX_INLINE_OUTPUT:
        reply.lines.append(Text("lessons.output", {"output": code_block(output.rstrip("\n"))}))
    else:
        head = output[:MAX_INLINE_OUTPUT].rstrip("\n") + "\n…"
        reply.lines.append(Text("lessons.output", {"output": code_block(head)}))
        reply.lines.append(Text("lessons.output_attached", {"file": filename}))
        full = result.stdout + ("\n--- stderr ---\n" + result.stderr if result.stderr else "")
        reply.attachments.append(Attachment(filename, full.encode("utf-8")))
    if result.truncated:
        reply.lines.append(Text("lessons.truncated"))
    for file in result.files:
        reply.attachments.append(Attachment(file.name, file.data))
    return reply


class CodeRunner:
    """Runs code for a front end; ``sandbox`` None means running code is off (``reason``)."""

    def __init__(self, core: Core, sandbox: SandboxLike | None, reason: str = "-") -> None:
        self.core = core
        self.sandbox = sandbox
        self.reason = reason

    # --- checks through the core (database work off the event loop) ---------------

    def _check_sync(self, call: Call, need_member: bool) -> str:
        """Refuse who may not run; the group's locale otherwise."""
        svc = self.core.services
        with svc.transaction() as session:
            group = groups.get_group(session, call.group_id)
            users.ensure_user(session, call.actor.user_id, call.actor.name, svc.clock.now())
            if need_member:
                permissions.require_member(session, group, call.actor)
            return group.locale

    # --- runs -------------------------------------------------------------------------

    async def run_lesson(
        self, call: Call, lesson_id: str, on_queued: OnQueued | None = None
    ) -> list[Reply]:
        try:
            lesson = lessons.get_lesson(lesson_id)
            locale = await self.core.run(self._check_sync, call, False)
            source = await self.core.run(lesson.source)
        except Exception as exc:
            return [error_reply(exc)]
        job = JobSpec(kind="lesson", name=lesson.path.name)
        title = Text("lessons.run_title", {"id": lesson.id, "title": lesson.text("title", locale)})
        return await self._run(source, job, title, on_queued)

    async def run_snippet(
        self, call: Call, code: str, on_queued: OnQueued | None = None
    ) -> list[Reply]:
        try:
            if not code.strip():
                raise InvalidInput("lessons.no_code")
            await self.core.run(self._check_sync, call, True)
        except Exception as exc:
            return [error_reply(exc)]
        job = JobSpec(kind="member", member_id=call.actor.user_id)
        return await self._run(code, job, Text("lessons.result_snippet"), on_queued)

    async def _run(
        self,
        source: str,
        job: JobSpec,
        title: Text,
        on_queued: OnQueued | None,
    ) -> list[Reply]:
        if self.sandbox is None:
            return [Reply.private("lessons.sandbox_off", reason=self.reason)]
        replies: list[Reply] = []
        try:
            ticket = self.sandbox.submit(source, job)
            if ticket.position > 0:
                queued = Reply.private("lessons.queued", position=ticket.position)
                if on_queued is not None:
                    await on_queued(queued)
                else:
                    replies.append(queued)
            result: RunResult = await ticket
        except Exception as exc:
            return [*replies, error_reply(exc)]
        replies.append(result_reply(result, title))
        return replies
