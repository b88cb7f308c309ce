"""RabbitMQ as the broker (by configuration only): a job's round trip through a real
RabbitMQ, with the results and claims in Redis."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from sandbox import JobSpec
from sandbox.remote import RemoteConfig
from sandbox.remote.client import RemoteSandbox
from tests.remote.conftest import Worker, amqp_url, namespace, start_worker
from tests.sandbox.conftest import FAST

pytestmark = pytest.mark.sqlite_only


async def test_a_round_trip_through_rabbitmq(
    redis: str, workers: list[Worker], tmp_path: Path
) -> None:
    remote = RemoteConfig(amqp_url(), result_url=redis, namespace=namespace())
    workers.append(start_worker(tmp_path, remote, name="rabbit@tests"))
    client = replace(FAST, rate_per_minute=6000, rate_burst=100)
    async with RemoteSandbox(client, remote) as sandbox:
        events: list[str] = []
        ticket = sandbox.submit("print(sum(range(10)))\n", JobSpec(kind="member", member_id=1))
        ticket.watch(lambda key, _params: events.append(key))
        result = await asyncio.wait_for(ticket, 120)
    assert result.status == "ok", result.stderr
    assert (result.stdout, result.worker, result.queue) == ("45\n", "rabbit@tests", "cpu")
    assert events == ["remote.queued", "remote.running"]
    assert "guest:guest" not in workers[-1].output()
