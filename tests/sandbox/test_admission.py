"""The queue's rules without any sandbox: positions, one job per member, the bounded
queue, per-member rate limits on an injected clock, lanes."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.admission import FairQueue, Ticket, TokenBucket
from sandbox.result import JobSpec, RunResult


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Gate:
    """An executor whose jobs finish only when the test says so."""

    def __init__(self) -> None:
        self.started: list[Ticket] = []
        self.release: dict[str, asyncio.Event] = {}

    async def __call__(self, ticket: Ticket) -> RunResult:
        self.started.append(ticket)
        event = self.release.setdefault(ticket.id, asyncio.Event())
        await event.wait()
        return RunResult(status="ok", stdout=ticket.code.decode())

    def finish(self, ticket: Ticket) -> None:
        self.release.setdefault(ticket.id, asyncio.Event()).set()

    async def finish_all(self, *tickets: Ticket) -> list[RunResult]:
        """Let every one of ``tickets`` finish; their results, in order."""
        for ticket in tickets:
            self.finish(ticket)
        return list(await asyncio.gather(*tickets))


def fair_queue(
    gate: Gate,
    clock: FakeClock,
    *,
    cpu: int = 2,
    queue_max: int = 10,
    per_minute: float = 6,
    burst: int = 3,
    gpus: int = 0,
) -> FairQueue:
    lanes = {"cpu": cpu} | {f"cuda:{i}": 1 for i in range(gpus)}
    return FairQueue(gate, lanes, queue_max=queue_max, bucket=TokenBucket(per_minute, burst, clock))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_token_bucket_refills_with_the_clock() -> None:
    clock = FakeClock()
    bucket = TokenBucket(per_minute=6, burst=2, clock=clock)
    assert bucket.take("a") == 0 and bucket.take("a") == 0
    assert bucket.take("a") == pytest.approx(10.0)  # one token every 10 s
    assert bucket.take("b") == 0  # per key
    clock.now += 5
    assert bucket.take("a") == pytest.approx(5.0)
    clock.now += 5
    assert bucket.take("a") == 0
    clock.now += 3600
    assert [bucket.take("a") for _ in range(3)][:2] == [0, 0]  # never more than the burst


async def test_positions_in_line_and_fifo_order() -> None:
    gate, clock = Gate(), FakeClock()
    queue = fair_queue(gate, clock, cpu=2)
    tickets = [queue.submit(str(i).encode(), JobSpec(member_id=i), "cpu") for i in range(5)]
    assert [t.position for t in tickets] == [0, 0, 1, 2, 3]
    await settle()
    assert [t.id for t in gate.started] == [tickets[0].id, tickets[1].id]
    gate.finish(tickets[1])
    assert (await tickets[1]).stdout == "1"
    await settle()
    assert [t.place() for t in tickets] == [0, 0, 0, 1, 2]  # everyone moved up one
    assert gate.started[-1] is tickets[2]
    results = await gate.finish_all(*tickets)
    assert [r.stdout for r in results] == ["0", "1", "2", "3", "4"]
    assert queue.running == 0 and queue.waiting == 0


async def test_one_job_per_member_at_a_time() -> None:
    gate, clock = Gate(), FakeClock()
    queue = fair_queue(gate, clock)
    first = queue.submit(b"a", JobSpec(member_id=7), "cpu")
    second = queue.submit(b"b", JobSpec(member_id=7), "cpu")
    assert second.rejected
    result = await second
    assert result.status == "rejected" and result.reason_key == "sandbox.busy_member"
    assert "already" in result.stderr
    other = queue.submit(b"c", JobSpec(member_id=8), "cpu")  # someone else may
    assert not other.rejected
    gate.finish(first)
    gate.finish(other)
    await first
    again = queue.submit(b"d", JobSpec(member_id=7), "cpu")
    assert not again.rejected
    gate.finish(again)
    await asyncio.gather(other, again)


async def test_the_queue_is_bounded() -> None:
    gate, clock = Gate(), FakeClock()
    queue = fair_queue(gate, clock, cpu=1, queue_max=2)
    tickets = [queue.submit(b"x", JobSpec(member_id=i), "cpu") for i in range(3)]
    assert [t.position for t in tickets] == [0, 1, 2]
    full = queue.submit(b"x", JobSpec(member_id=99), "cpu")
    assert full.rejected and (await full).reason_key == "sandbox.queue_full"
    await gate.finish_all(*tickets)


async def test_rate_limit_per_member() -> None:
    gate, clock = Gate(), FakeClock()
    queue = fair_queue(gate, clock, per_minute=2, burst=2)
    for _ in range(2):
        ticket = queue.submit(b"x", JobSpec(member_id=5), "cpu")
        gate.finish(ticket)
        assert (await ticket).status == "ok"
    limited = await queue.submit(b"x", JobSpec(member_id=5), "cpu")
    assert limited.status == "rejected" and limited.reason_key == "sandbox.rate_limited"
    assert limited.reason_params["retry_after_s"] == 30
    assert "30 s" in limited.stderr
    clock.now += 30
    ticket = queue.submit(b"x", JobSpec(member_id=5), "cpu")
    assert not ticket.rejected
    gate.finish(ticket)
    await ticket
    anonymous = [queue.submit(b"x", JobSpec(), "cpu") for _ in range(5)]  # the CLI: no member
    assert not any(t.rejected for t in anonymous)
    await gate.finish_all(*anonymous)


async def test_a_gpu_lane_runs_one_job_at_a_time() -> None:
    gate, clock = Gate(), FakeClock()
    queue = fair_queue(gate, clock, cpu=2, gpus=1)
    gpu = [queue.submit(b"g", JobSpec(member_id=i, kind="lesson"), "cuda:0") for i in range(2)]
    cpu = queue.submit(b"c", JobSpec(member_id=9), "cpu")
    assert [t.position for t in gpu] == [0, 1]
    assert cpu.position == 0
    assert queue.load("cuda:0") == 2
    await gate.finish_all(*gpu, cpu)


async def test_a_crashing_executor_answers_and_frees_the_member() -> None:
    async def broken(ticket: Ticket) -> RunResult:
        raise RuntimeError("boom")

    queue = FairQueue(broken, {"cpu": 1}, queue_max=1, bucket=TokenBucket(60, 5, FakeClock()))
    result = await queue.submit(b"x", JobSpec(member_id=1), "cpu")
    assert result.status == "rejected" and result.reason_key == "sandbox.internal"
    assert result.reason_params["error_id"] in result.stderr
    again = await queue.submit(b"x", JobSpec(member_id=1), "cpu")
    assert again.reason_key == "sandbox.internal"  # not "busy": the member was freed
