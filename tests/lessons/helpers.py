"""Shared helpers for the lesson tests: where the lessons are, and how to run one."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LESSONS_DIR = REPO / "lessons"
OUTPUT_ENV = "STUDYBOT_OUTPUT_DIR"
RUN_TIMEOUT_S = 180  # generous: a lesson takes a few seconds, but CI hosts can be busy
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 150_000


def lesson_files() -> list[Path]:
    """The lesson scripts by their naming convention (lNN_name.py)."""
    return sorted(LESSONS_DIR.glob("l[0-9][0-9]_*.py"))


@dataclass
class LessonRun:
    path: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    output_dir: Path
    work_dir: Path

    def describe(self) -> str:
        return (
            f"{self.path.name} exited {self.returncode} after {self.seconds:.1f}s\n"
            f"--- stdout ---\n{self.stdout[-3000:]}\n--- stderr ---\n{self.stderr[-3000:]}"
        )


def run_lesson(path: Path, scratch: Path, *, make_output_dir: bool = True) -> LessonRun:
    """Run one lesson file as a plain script, as a member would, in an empty folder.

    Its images go to ``scratch/out`` (through STUDYBOT_OUTPUT_DIR; not created beforehand
    when ``make_output_dir`` is false); its working directory is ``scratch/cwd``, which must
    stay empty.
    """
    output_dir = scratch / "out"
    work_dir = scratch / "cwd"
    if make_output_dir:
        output_dir.mkdir(parents=True)
    work_dir.mkdir(parents=True)
    env = {
        **os.environ,
        OUTPUT_ENV: str(output_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        # Two lessons run at once on a two-core host: one thread each avoids oversubscribed
        # OpenMP threads spinning against each other (tiny tensors gain nothing from more).
        "OMP_NUM_THREADS": "1",
    }
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, str(path)],
            cwd=work_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
        code, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        code, out, err = -1, _text(exc.stdout), _text(exc.stderr) + "\n[timed out]"
    return LessonRun(path, code, out, err, time.perf_counter() - started, output_dir, work_dir)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def png_problems(path: Path) -> list[str]:
    """What is wrong with a PNG file (empty list when it is a complete, valid PNG)."""
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        return ["no PNG signature"]
    problems = []
    offset = len(PNG_SIGNATURE)
    chunks = []
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        crc_bytes = data[offset + 8 + length : offset + 12 + length]
        if len(body) != length or len(crc_bytes) != 4:
            problems.append(f"chunk {kind!r} is truncated")
            break
        if zlib.crc32(kind + body) != struct.unpack(">I", crc_bytes)[0]:
            problems.append(f"chunk {kind!r} has a bad CRC")
        chunks.append((kind, body))
        offset += 12 + length
    kinds = [kind for kind, _ in chunks]
    if not kinds or kinds[0] != b"IHDR":
        problems.append("the first chunk is not IHDR")
    else:
        width, height = struct.unpack(">II", chunks[0][1][:8])
        if width == 0 or height == 0:
            problems.append(f"empty image {width}x{height}")
    if b"IDAT" not in kinds:
        problems.append("no image data")
    if not kinds or kinds[-1] != b"IEND":
        problems.append("no IEND chunk")
    if len(data) > MAX_PNG_BYTES:
        problems.append(f"{len(data)} bytes, over {MAX_PNG_BYTES}")
    return problems


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    return struct.unpack(">II", data[16:24])
