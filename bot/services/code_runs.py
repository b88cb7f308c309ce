"""Running lessons and members' snippets in the sandbox, for any front end.

The bot never runs code itself: ``CodeRunner`` checks who may run what, submits the code to
a sandbox (``sandbox.Sandbox`` or anything with the same ``submit``) and turns the
``RunResult`` into a reply: a status line with the device and time, the output as a code
block (mentions and fences neutralised; the whole output as an attached file when long)
and the images the code saved.

The sandbox lives on an event loop of its own, in a thread the runner starts on first use,
so any caller may run code: the Discord bot from its loop, the console or a test from plain
threads. It is built once, in the composition root (``bot.app``), for every front end.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Protocol, TypeVar

from bot.errors import InvalidInput
from bot.replies import Attachment, Reply, Text
from bot.services import groups, lessons, permissions, runners, users
from bot.services.context import Actor, Services
from sandbox.result import JobSpec, RunResult

__all__ = [
    "CodeRunner",
    "Notify",
    "SandboxLike",
    "SandboxOpener",
    "code_block",
    "extract_code",
    "neutralise",
    "result_reply",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_INLINE_OUTPUT = 1500  # characters of output shown in the message itself
STDERR_TAIL = 1200  # characters of stderr shown after an error
ZWSP = "\u200b"
FENCE = "```"
_BLOCK = re.compile(r"```([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.DOTALL)


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
    if result.fallback_from is not None:  # no GPU runner was free: it ran on a CPU one
        reply.lines.append(Text("remote.fallback"))
    for file in result.files:
        reply.attachments.append(Attachment(file.name, file.data))
    for dropped in result.dropped:  # e.g. an image bomb: say which file and why
        reply.lines.append(
            Text(f"runs.file_dropped.{dropped.reason}", {"name": dropped.name, **dropped.params})
        )
    return reply


class TicketLike(Protocol):
    """What ``submit`` hands back: its place in line (0: runs now) and, awaited, the result."""

    @property
    def position(self) -> int: ...

    def __await__(self) -> Generator[Any, None, RunResult]: ...


class SandboxLike(Protocol):
    """``sandbox.Sandbox`` or a stand-in."""

    def submit(self, source: str | bytes, job: JobSpec | None = None) -> TicketLike: ...

    async def close(self) -> None: ...


def sandbox_error(exc: BaseException) -> str:
    """A back end's error for a status page: its type and a short text (URLs in it are
    shown without their passwords by the back end's own messages)."""
    from sandbox.remote import scrub

    return scrub(f"{type(exc).__name__}: {exc}")[:300]


Notify = Callable[[Reply], Awaitable[None]]  # a message sent while the run goes on
SandboxOpener = Callable[[], Awaitable[SandboxLike]]


async def _ignore(_reply: Reply) -> None:
    return None


class CodeRunner:
    """Runs code for every front end; without an opener (or when the sandbox cannot
    open) running code is off and each run says why (``reason``)."""

    def __init__(
        self, services: Services, open_sandbox: SandboxOpener | None, *, reason: str = "-"
    ) -> None:
        self.services = services
        self.reason = reason
        self._open = open_sandbox
        self._sandbox: SandboxLike | None = None
        self._opened = False
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def with_sandbox(cls, services: Services, sandbox: SandboxLike) -> CodeRunner:
        """A runner over a sandbox that is already open (tests, benchmarks)."""

        async def opener() -> SandboxLike:
            return sandbox

        return cls(services, opener)

    @property
    def sandbox(self) -> SandboxLike | None:
        """The open sandbox (None before the first start or when it could not open)."""
        return self._sandbox

    # --- the sandbox's own loop ---------------------------------------------------------

    def _sandbox_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="studybot-sandbox", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _there(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the sandbox's loop and await it from the caller's."""
        future = asyncio.run_coroutine_threadsafe(work, self._sandbox_loop())
        return await asyncio.wrap_future(future)

    async def _open_there(self) -> SandboxLike | None:
        """Open the sandbox once (on its loop, so never twice at the same time)."""
        if not self._opened and self._open is not None:
            self._opened = True
            try:
                self._sandbox = await self._open()
            except Exception as exc:  # the reason is shown with every refused run
                log.warning("the sandbox could not start", exc_info=True)
                self.reason = str(exc) or type(exc).__name__
        return self._sandbox

    async def start(self) -> None:
        """Open the sandbox now rather than on the first run."""
        if self._open is not None:
            await self._there(self._open_there())

    async def close(self) -> None:
        """Close the sandbox and stop its loop; a later run opens nothing."""
        await asyncio.to_thread(self.close_sync)

    def close_sync(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            self._open = None
        if loop is None:
            return
        sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            try:
                asyncio.run_coroutine_threadsafe(sandbox.close(), loop).result(timeout=60)
            except Exception:
                log.warning("the sandbox did not close cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=30)
        if not loop.is_running():
            loop.close()

    # --- checks (database work in a worker thread) --------------------------------------

    def _check_sync(self, group_id: int, actor: Actor, need_member: bool) -> str:
        """Refuse who may not run; the group's locale otherwise."""
        svc = self.services
        with svc.transaction() as session:
            group = groups.get_group(session, group_id)
            users.ensure_user(session, actor.user_id, actor.name, svc.clock.now())
            if need_member:
                permissions.require_member(session, group, actor)
            return group.locale

    # --- runs -----------------------------------------------------------------------------

    async def run_lesson(
        self, group_id: int, actor: Actor, lesson_id: str, notify: Notify = _ignore
    ) -> Reply:
        """Anyone may run a lesson."""
        lesson = lessons.get_lesson(lesson_id)
        locale = await asyncio.to_thread(self._check_sync, group_id, actor, False)
        source = await asyncio.to_thread(lesson.source)
        job = JobSpec(kind="lesson", name=lesson.path.name)
        title = Text("lessons.run_title", {"id": lesson.id, "title": lesson.text("title", locale)})
        return await self._run(source, job, title, notify)

    async def run_snippet(
        self, group_id: int, actor: Actor, code: str, notify: Notify = _ignore
    ) -> Reply:
        """Members may run their own code."""
        if not code.strip():
            raise InvalidInput("lessons.no_code")
        await asyncio.to_thread(self._check_sync, group_id, actor, True)
        job = JobSpec(kind="member", member_id=actor.user_id)
        return await self._run(code, job, Text("lessons.result_snippet"), notify)

    async def _submit_there(
        self, source: str, job: JobSpec, progress: Callable[[str, dict[str, Any]], None]
    ) -> TicketLike | None:
        sandbox = await self._open_there()
        if sandbox is None:
            return None
        ticket = sandbox.submit(source, job)
        watch = getattr(ticket, "watch", None)  # remote runners: "queued", "running on <worker>"
        if watch is not None:
            watch(progress)
        return ticket

    async def _wait_there(self, ticket: TicketLike) -> RunResult:
        return await ticket

    async def _run(self, source: str, job: JobSpec, title: Text, notify: Notify) -> Reply:
        if self._open is None and self._sandbox is None:
            return Reply.private("lessons.sandbox_off", reason=self.reason)
        caller = asyncio.get_running_loop()
        updates: asyncio.Queue[Reply] = asyncio.Queue()

        def progress(key: str, params: dict[str, Any]) -> None:  # on the sandbox's loop
            caller.call_soon_threadsafe(updates.put_nowait, Reply.private(key, **params))

        ticket = await self._there(self._submit_there(source, job, progress))
        if ticket is None:
            return Reply.private("lessons.sandbox_off", reason=self.reason)
        if ticket.position > 0:
            await notify(Reply.private("lessons.queued", position=ticket.position))
        waiting = asyncio.ensure_future(self._there(self._wait_there(ticket)))
        while not waiting.done():
            update = asyncio.ensure_future(updates.get())
            await asyncio.wait({waiting, update}, return_when=asyncio.FIRST_COMPLETED)
            if update.done():
                await notify(update.result())
            else:
                update.cancel()
        while not updates.empty():  # said before the result came: still shown first
            await notify(updates.get_nowait())
        return result_reply(waiting.result(), title)

    def _check_admin_sync(self, group_id: int, actor: Actor) -> None:
        with self.services.transaction() as session:
            permissions.require_admin(session, groups.get_group(session, group_id), actor)

    async def sandbox_status(self, group_id: int, actor: Actor) -> Reply:
        """``/sandbox status``: admins only."""
        await asyncio.to_thread(self._check_admin_sync, group_id, actor)
        return runners.status_reply(await self.status())

    async def status(self) -> dict[str, Any]:
        """Where code runs (``/sandbox status``): this machine's sandbox, or the remote
        runners that answer."""
        if self._open is None and self._sandbox is None:
            return {"mode": "off", "reason": self.reason}
        return await self._there(self._status_there())

    async def _status_there(self) -> dict[str, Any]:
        sandbox = await self._open_there()
        if sandbox is None:
            return {"mode": "off", "reason": self.reason}
        describe = getattr(sandbox, "describe", None)
        status: dict[str, Any] = dict(describe()) if describe is not None else {"mode": "?"}
        workers = getattr(sandbox, "workers", None)
        if workers is not None:
            try:
                status["workers"] = await workers()
            except Exception as exc:  # the broker is down: say so, with no password
                status["error"] = sandbox_error(exc)
        return status
