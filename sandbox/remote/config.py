"""``RemoteConfig``: where the broker is and how long each stage of a remote job may take.

Read from any object with the attributes ``broker_url``, ``result_backend_url`` and
``sandbox_*`` (``bot.config.Settings``); secret values (pydantic ``SecretStr``) are unwrapped
here and nowhere else. URLs are shown only through ``safe_url`` (password masked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kombu.utils.url import maybe_sanitize_url

__all__ = ["QUEUES", "RemoteConfig", "safe_url", "scrub"]

QUEUES = ("cpu", "gpu")
SCHEMES = ("redis", "rediss", "amqp", "amqps", "pyamqp")
_NAMESPACE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# a job is never longer than JobSpec allows (3600 s); the broker must not hand a message to
# a second worker while the first may still run it, so its visibility timeout is longer
LONGEST_JOB_S = 3600.0
VISIBILITY_MARGIN_S = 600.0


def safe_url(url: str | None) -> str:
    """The URL with its password masked (``redis://:**@host``), for logs and messages."""
    if not url:
        return "-"
    return str(maybe_sanitize_url(url))


_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@/\s]*):[^@/\s]+@")


def scrub(message: str) -> str:
    """Any text (an exception's, a log line) with the passwords of the URLs in it masked."""
    return _CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:**@", message)


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    text = getter() if callable(getter) else value
    return str(text) if text else None


@dataclass(frozen=True)
class RemoteConfig:
    """The broker, the result store, and the clock of a remote job.

    ``queue_wait_s``: how long a job may wait for a worker to take it; ``gpu_fallback_s``:
    how long a GPU job waits for a GPU worker before it goes to the CPU queue; ``grace_s``:
    what a running job may take beyond its time limit (start-up, transfer) before the bot
    calls the worker lost. ``namespace`` prefixes the queue names (``studybot.cpu``) so
    several bots may share one broker."""

    broker_url: str
    result_url: str | None = None
    namespace: str = "studybot"
    queue_wait_s: float = 120.0
    gpu_fallback_s: float = 10.0
    grace_s: float = 15.0
    connect_timeout_s: float = 3.0

    def __post_init__(self) -> None:
        scheme = self.broker_url.partition("://")[0].lower()
        if scheme not in SCHEMES:
            raise ValueError(
                f"the broker URL must start with one of {', '.join(SCHEMES)} "
                f"(not {safe_url(self.broker_url)!r})"
            )
        if self.result_url is not None:
            result_scheme = self.result_url.partition("://")[0].lower()
            if result_scheme not in ("redis", "rediss"):
                raise ValueError(
                    "the result back end URL must be a redis:// or rediss:// URL "
                    f"(not {safe_url(self.result_url)!r})"
                )
        elif not scheme.startswith("redis"):
            raise ValueError(
                "with a RabbitMQ broker set STUDYBOT_RESULT_BACKEND_URL to a redis:// or "
                "rediss:// URL (the results and the once-only claims live there)"
            )
        if not _NAMESPACE.fullmatch(self.namespace):
            raise ValueError("the queue namespace must be 1-32 of a-z, 0-9, '_' or '-'")
        for name in ("queue_wait_s", "gpu_fallback_s", "grace_s", "connect_timeout_s"):
            if not 0 < getattr(self, name) <= 3600:
                raise ValueError(f"{name} must be in (0, 3600]")

    @property
    def results(self) -> str:
        """The result store's URL: the broker's when it is Redis and none was given."""
        return self.result_url or self.broker_url

    @property
    def visibility_timeout_s(self) -> float:
        return LONGEST_JOB_S + self.queue_wait_s + self.grace_s + VISIBILITY_MARGIN_S

    def queue_name(self, queue: str) -> str:
        if queue not in QUEUES:
            raise ValueError(f"unknown queue {queue!r} (cpu or gpu)")
        return f"{self.namespace}.{queue}"

    def describe(self) -> dict[str, Any]:
        """For logs and status pages: never a password."""
        return {
            "broker": safe_url(self.broker_url),
            "results": safe_url(self.results),
            "namespace": self.namespace,
        }

    @classmethod
    def from_settings(cls, settings: Any) -> RemoteConfig:
        broker = _secret(getattr(settings, "broker_url", None))
        if not broker:
            raise ValueError(
                "STUDYBOT_SANDBOX_BACKEND=celery needs STUDYBOT_BROKER_URL "
                "(e.g. redis://host:6379/0)"
            )
        values: dict[str, Any] = {
            "broker_url": broker,
            "result_url": _secret(getattr(settings, "result_backend_url", None)),
        }
        for name in ("namespace", "queue_wait_s", "gpu_fallback_s", "grace_s"):
            value = getattr(settings, f"sandbox_remote_{name}", None)
            if value is not None:
                values[name] = value
        return cls(**values)
