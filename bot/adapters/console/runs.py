"""``/lesson run id:...`` and ``/run code:"..."`` in the console.

Running code is asynchronous (the sandbox queues jobs), unlike the table's commands, so
these two lines are handled here: a sandbox is started on first use on a private event
loop in a background thread, each job is one coroutine sent to that loop, and ``close``
shuts the sandbox and the loop at exit.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from bot.adapters.console.options import Invocation, convert_options
from bot.code_runs import CodeRunner
from bot.commands import Call, Command, Option, UserRef
from bot.core import Core
from bot.errors import InvalidInput
from bot.replies import Reply

T = TypeVar("T")


def _no_handler(*_args: Any) -> Reply:  # pragma: no cover - never called
    raise AssertionError("console run commands are handled by ConsoleRuns")


RUN_COMMANDS = {
    ("lesson", "run"): Command(("lesson", "run"), (Option("id", "str", True),), _no_handler),
    ("run",): Command(("run",), (Option("code", "str", True),), _no_handler),
}


def find_run(tokens: tuple[str, ...]) -> Invocation | None:
    """The invocation when the line is ``/lesson run ...`` or ``/run ...``, else None."""
    words = tuple(t.lower() for t in tokens[:2])
    command = RUN_COMMANDS.get(words) or RUN_COMMANDS.get(words[:1])
    if command is None:
        return None
    pairs: list[tuple[str, str]] = []
    for token in tokens[len(command.path) :]:
        key, colon, value = token.partition(":")
        if not colon or not key:
            raise InvalidInput("console.stray_word", word=token)
        pairs.append((key.lower().replace("-", "_"), value))
    return Invocation(command, tuple(pairs))


class ConsoleRuns:
    def __init__(self, core: Core) -> None:
        self.core = core
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._sandbox: Any = None
        self._runner: CodeRunner | None = None

    def _submit(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _start(self) -> CodeRunner:
        if self._runner is not None:
            return self._runner
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner = self._submit(self._open())
        return self._runner

    async def _open(self) -> CodeRunner:
        from sandbox import Sandbox, SandboxConfig

        try:
            box = Sandbox(SandboxConfig.from_settings(self.core.services.settings))
            await box.start()
        except Exception as exc:  # the reason is shown with every refused run
            return CodeRunner(self.core, None, reason=str(exc) or type(exc).__name__)
        self._sandbox = box
        return CodeRunner(self.core, box)

    def run(
        self,
        invocation: Invocation,
        call: Call,
        resolve_user: Callable[[str], UserRef],
        show: Callable[[Reply], None],
    ) -> list[Reply]:
        """Run the line; the queue position is shown at once through ``show``."""
        options = convert_options(invocation, resolve_user)
        runner = self._start()

        async def queued(reply: Reply) -> None:
            show(reply)

        if invocation.command.path == ("run",):
            return self._submit(runner.run_snippet(call, str(options["code"]), queued))
        return self._submit(runner.run_lesson(call, str(options["id"]), queued))

    def close(self) -> None:
        if self._loop is None:
            return
        if self._sandbox is not None:
            self._submit(self._sandbox.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._loop.close()
        self._loop = None
