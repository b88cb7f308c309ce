"""The sandbox that runs lesson files and members' own code (see ``core.Sandbox``).

Nothing in this package imports torch; torch is imported only inside the sandboxes.
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
