"""Running untrusted Python: the sandbox that runs lesson files and members' own code.

This package owns everything between "here is some code" and "here is how it ended":
single-use bubblewrap sandboxes (namespaces, read-only system, seccomp, cgroups, rlimits),
the warm pool that starts them ahead of time, the fair queue in front of it, the limits
(``SandboxConfig``), the typed request and result (``JobSpec``, ``RunResult``) and its own
command line (``studybot sandbox run|check``, in ``cli``). ``Sandbox`` (``core``) is the
one object its users need; ``README.md`` has the module map.

It must never import ``bot``, ``lessons`` or ``discord``: the bot depends on the sandbox,
not the other way round (settings come in as any object with ``sandbox_*`` attributes).
Nor does the host process ever import ``torch``: torch is imported only inside the
sandboxes, by ``launcher.py``, which runs there from its source text.
"""

from sandbox.admission import Ticket
from sandbox.config import SandboxConfig
from sandbox.core import Sandbox, run_sync
from sandbox.result import STATUSES, JobSpec, OutputFile, RunResult, Status

__all__ = [
    "STATUSES",
    "JobSpec",
    "OutputFile",
    "RunResult",
    "Sandbox",
    "SandboxConfig",
    "Status",
    "Ticket",
    "run_sync",
]
