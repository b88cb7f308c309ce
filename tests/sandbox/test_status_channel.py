"""The status channel and the output capture as hostile input, without a sandbox: what a
job can write to them must stay cheap to consume and can never become the host's data."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import json
import os
import struct
import termios
import threading

import pytest

from sandbox.pipes import Capture, StatusChannel, parse_file_records

LINE_MAX = 4096
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def channel(total: int = 64 * 1024, lines: int = 16) -> StatusChannel:
    status = StatusChannel(LINE_MAX)
    status.data_received(b'{"ready": true, "pid": 1}\n')
    status.start_job(total, lines)
    return status


def record(name: object, data: bytes | None) -> bytes:
    encoded = None if data is None else base64.b64encode(data).decode()
    return json.dumps({"file": name, "size": 0, "data": encoded}).encode() + b"\n"


def test_the_launchers_own_lines_are_understood() -> None:
    status = channel()
    assert status.hello == b'{"ready": true, "pid": 1}'
    status.data_received(b'{"exit": 3}\n' + record("a.txt", b"hi") + record("big.png", None))
    assert not status.ended.is_set()
    status.data_received(b'{"end": true}\n')
    assert status.ended.is_set()
    assert status.exit_code == 3
    assert parse_file_records(status.records) == [
        {"file": "a.txt", "size": 0, "data": b"hi"},
        {"file": "big.png", "size": 0, "data": None},
    ]


def test_lines_split_across_reads_are_joined() -> None:
    status = channel()
    whole = b'{"signal": 15}\n' + record("x.txt", b"abc") + b'{"exit": 0}\n{"end": true}\n'
    for byte in range(len(whole)):
        status.data_received(whole[byte : byte + 1])
    assert (status.signal, status.exit_code, status.ended.is_set()) == (15, 0, True)
    assert parse_file_records(status.records)[0]["data"] == b"abc"


@pytest.mark.parametrize(
    "garbage",
    [
        b"[" * 200_000,  # the parser's recursion (RecursionError before)
        b'{"file": ' + b"[" * 3000 + b"]" * 3000 + b"}",  # nested, valid, file-shaped key
        b'{"file": "x.txt", "size": 1, "data": {"nested": [1, 2]}}',
        b'{"file": "x.txt", "size": 1, "data": "!!not base64!!"}',
        b'{"exit": [[[0]]]}',
        b'{"end": 1}',
        b"\xff\xfe\x00",
    ],
)
def test_garbage_is_never_kept_nor_parsed_as_a_record(garbage: bytes) -> None:
    status = channel(total=1024 * 1024)
    status.data_received(garbage + b"\n")
    parsed = parse_file_records(status.records)
    assert all(
        isinstance(item["data"], bytes | None) or item["data"] == "unreadable" for item in parsed
    )
    assert all(not isinstance(item["data"], dict | list) for item in parsed)
    assert status.exit_code is None and not status.ended.is_set()
    kept = sum(len(line) for line in status.records)
    assert kept <= len(garbage)
    if not garbage.startswith(b'{"file": "'):
        assert status.records == []


def test_over_long_lines_are_skipped_without_being_kept() -> None:
    status = channel(total=10 * 1024 * 1024, lines=64)
    chunk = b'{"file": "' + b"A" * 65536
    for _ in range(40):  # 2.6 MB on one line, in pieces
        status.data_received(chunk)
    assert len(status._partial) == 0
    status.data_received(b'"}\n{"exit": 0}\n{"end": true}\n')
    assert status.records == []  # the long line was dropped
    assert status.ended.is_set() and status.exit_code == 0


def test_budgets_end_the_reading_of_the_job_s_lines() -> None:
    status = channel(total=64 * 1024, lines=16)
    status.data_received(b"\n" * 1_000_000)  # a million empty lines: counted, then dropped
    assert status.lines == 17
    assert status.dropped > 900_000
    status.data_received(b'{"exit": 0}\n{"end": true}\n')
    assert not status.ended.is_set()  # past the budget nothing is read any more
    big = channel(total=64 * 1024, lines=1000)
    for _ in range(100):
        big.data_received(record("f.txt", b"x" * 2000))
    assert sum(len(line) for line in big.records) <= 64 * 1024


def test_the_hello_line_is_bounded_too() -> None:
    status = StatusChannel(LINE_MAX)
    status.data_received(b"{" * (StatusChannel.HELLO_MAX + 10))
    assert not status.hello_seen.is_set()
    status.data_received(b'\n{"ready": true}\n')
    assert status.hello == b'{"ready": true}'


def test_draining_after_the_end_is_bounded_by_the_cap() -> None:
    """A writer that keeps the pipe full after "end" cannot hold the host in the drain:
    it reads at most what fits under the cap plus one byte (before: until the pipe was
    empty, which a writer can put off for as long as it likes)."""
    read_end, write_end = os.pipe()
    stop = threading.Event()
    try:
        fcntl.fcntl(write_end, F_SETPIPE_SZ, 1024 * 1024)
        os.set_blocking(read_end, False)
        os.set_blocking(write_end, False)
        block = b"y" * 65536
        written = [0]
        with contextlib.suppress(BlockingIOError):
            while True:  # a full pipe of 1 MiB
                written[0] += os.write(write_end, block)

        def keep_full() -> None:
            while not stop.is_set():
                with contextlib.suppress(BlockingIOError):
                    written[0] += os.write(write_end, block)

        writer = threading.Thread(target=keep_full, daemon=True)
        writer.start()
        capture = Capture(asyncio.Event())
        capture.start_job(16 * 1024)
        capture.transport = PipeTransport(read_end)  # type: ignore[assignment]
        capture.drain_now()
        stop.set()
        writer.join()
        left = struct.unpack("i", fcntl.ioctl(read_end, termios.FIONREAD, b"\0" * 4))[0]
    finally:
        stop.set()
        os.close(read_end)
        os.close(write_end)
    assert written[0] - left == 16 * 1024 + 1  # what the drain read
    assert capture.truncated and len(capture.kept) == 16 * 1024
    assert capture.overflow.is_set()


class PipeTransport:
    """The two things ``Capture.drain_now`` asks of its transport."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str) -> object:
        return self if name == "pipe" else None

    def fileno(self) -> int:
        return self.fd
