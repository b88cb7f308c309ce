"""The Celery application both sides share: the bot (which sends) and ``studybot worker``
(which runs). Configuration only; the task lives in ``worker``.

The broker is a trust boundary, so: JSON only, in both directions (a pickled message is
refused before it is read); late acknowledgement (a message leaves the broker only when
its job ended) with a visibility timeout longer than the longest job, and one message at a
time per free slot (no prefetching); TLS URLs (``rediss://``, ``amqps://``) verify the
server's certificate unless the URL says otherwise.
"""

from __future__ import annotations

import ssl
from typing import Any

from celery import Celery
from kombu.entity import Exchange, Queue

from sandbox.remote.config import QUEUES, RemoteConfig

__all__ = ["TASK", "make_app"]

TASK = "studybot.run"
JSON_ONLY = ["json"]


def _tls(url: str) -> dict[str, Any] | None:
    """Certificate checks for a TLS URL that does not choose them itself."""
    scheme = url.partition("://")[0].lower()
    if scheme not in ("rediss", "amqps"):
        return None
    if "ssl_cert_reqs" in url:  # the URL chooses (kombu and Celery read it from there)
        return None
    return {"ssl_cert_reqs": ssl.CERT_REQUIRED}


def make_app(config: RemoteConfig, *, name: str = "studybot") -> Celery:
    app = Celery(name, broker=config.broker_url, backend=config.results, set_as_current=False)
    exchange = Exchange(config.namespace, type="direct")  # type: ignore[no-untyped-call]
    queues = [
        Queue(name, exchange, routing_key=name)  # type: ignore[no-untyped-call]
        for name in (config.queue_name(queue) for queue in QUEUES)
    ]
    transport: dict[str, Any] = {"visibility_timeout": config.visibility_timeout_s}
    if config.broker_url.startswith("redis"):
        transport["socket_connect_timeout"] = config.connect_timeout_s
        transport["socket_timeout"] = max(config.connect_timeout_s, 10.0)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=JSON_ONLY,
        result_accept_content=JSON_ONLY,
        event_serializer="json",
        task_queues=queues,
        task_default_queue=config.queue_name("cpu"),
        task_default_exchange=config.namespace,
        task_create_missing_queues=False,
        task_acks_late=True,
        task_acks_on_failure_or_timeout=True,
        task_reject_on_worker_lost=False,  # a lost job fails; it is never run a second time
        worker_prefetch_multiplier=1,
        task_track_started=True,
        task_ignore_result=False,
        result_expires=3600,
        result_extended=False,
        broker_transport_options=transport,
        result_backend_transport_options={
            "visibility_timeout": config.visibility_timeout_s,
            # the result store down: a clear refusal in seconds, not 20 retries
            "retry_policy": {
                "max_retries": 2,
                "interval_start": 0.1,
                "interval_step": 0.2,
                "interval_max": 0.5,
            },
        },
        broker_connection_timeout=config.connect_timeout_s,
        broker_connection_retry_on_startup=True,
        broker_channel_error_retry=False,
        redis_socket_connect_timeout=config.connect_timeout_s,
        redis_socket_timeout=max(config.connect_timeout_s, 10.0),
        redis_retry_on_timeout=False,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        worker_enable_remote_control=True,
        control_exchange=f"{config.namespace}-control",
        broker_heartbeat=10,
    )
    broker_tls = _tls(config.broker_url)
    if broker_tls is not None:
        app.conf.broker_use_ssl = broker_tls
    results_tls = _tls(config.results)
    if results_tls is not None:
        app.conf.redis_backend_use_ssl = results_tls
    return app
