"""Host-side checks of output files (hostile input) and the result's JSON contract."""

from __future__ import annotations

import base64
import struct

import pytest

from sandbox.files import PNG_MAGIC, check, png_size, safe_name
from sandbox.result import JobSpec, OutputFile, RunResult, safe_script_name
from tests.sandbox.conftest import RESULT_KEYS

PNG = PNG_MAGIC + b"rest of an image"


def reported(name: object, data: bytes | None) -> dict[str, object]:
    return {"file": name, "data": None if data is None else base64.b64encode(data).decode()}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plot.png", "plot.png"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/abs/path/x.png", "x.png"),
        ("..\\..\\win.txt", "win.txt"),
        (".hidden.txt", "hidden.txt"),
        ("..", None),
        ("", None),
        ("한글 이름.png", "file.png"),
        ("...png", "file.png"),
        ("noext", "noext"),
        ("a\x00b.txt", "a_b.txt"),
        ("x" * 200 + ".png", "x" * 60 + ".png"),
        (7, None),
        (None, None),
    ],
)
def test_safe_name(raw: object, expected: str | None) -> None:
    assert safe_name(raw) == expected


def test_check_accepts_png_and_text_only() -> None:
    files, notes = check(
        [
            reported("plot.png", PNG),
            reported("fake.png", b"GIF89a"),
            reported("notes.txt", "한글도 됩니다".encode()),
            reported("bad.txt", b"\xff\xfe"),
            reported("script.sh", b"rm -rf /"),
            reported("big.png", PNG + b"0" * 2048),
            reported("bigtext.txt", b"a" * (64 * 1024 + 1)),
            reported("toolarge.png", None),
            {"file": "broken.png", "data": "!!!not base64"},
            reported("../plot.png", PNG),
        ],
        files_max=8,
        png_max=1024,
    )
    assert [(f.name, f.kind) for f in files] == [("plot.png", "png"), ("notes.txt", "text")]
    assert len(notes) == 8
    assert any("second file named plot.png" in note for note in notes)


def test_check_caps_the_count() -> None:
    files, notes = check([reported(f"n{i}.txt", b"x") for i in range(5)], files_max=3, png_max=1024)
    assert [f.name for f in files] == ["n0.txt", "n1.txt", "n2.txt"]
    assert sum("at most 3" in note for note in notes) == 2


def declared_png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_MAGIC + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0\0\0\0"


def test_check_refuses_image_bombs_by_their_header() -> None:
    assert png_size(declared_png(30000, 30000)) == (30000, 30000)
    assert png_size(PNG) is None
    files, notes = check(
        [
            reported("bomb.png", declared_png(30000, 30000)),
            reported("tall.png", declared_png(10, 10_001)),
            reported("huge.png", declared_png(2**32 - 1, 2**32 - 1)),
            reported("edge.png", declared_png(5000, 5000)),
            reported("plot.png", declared_png(640, 480)),
        ],
        files_max=8,
        png_max=1024,
    )
    assert [f.name for f in files] == ["edge.png", "plot.png"]
    assert len(notes) == 3
    assert "bomb.png" in notes[0] and "30000x30000" in notes[0]
    _, notes = check(
        [reported("plot.png", declared_png(640, 480))], files_max=8, png_max=1024, pixels_max=1000
    )
    assert notes and "plot.png" in notes[0]


def test_result_json_has_exactly_the_contract_keys() -> None:
    result = RunResult(
        status="ok",
        exit_code=0,
        stdout="x\x00\ufffd",
        files=(OutputFile("plot.png", PNG, "png"),),
    )
    line = result.to_json("a.py")
    assert list(line) == RESULT_KEYS
    assert line["files"] == [{"name": "plot.png", "kind": "png", "size": len(PNG)}]
    rejected = RunResult.rejected("sandbox.unavailable", "no sandbox", reason="x")
    assert rejected.reason == "no sandbox" and rejected.to_json()["status"] == "rejected"


def test_job_spec_is_validated() -> None:
    assert JobSpec(name="../../x").name == "x.py"
    assert safe_script_name("lesson one.py") == "lesson_one.py"
    with pytest.raises(ValueError):
        JobSpec(kind="root")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        JobSpec(timeout_s=0)
    with pytest.raises(ValueError):
        JobSpec(memory_mb=10)


def test_refusals_are_also_given_as_message_keys_and_the_reply_says_them() -> None:
    import struct

    from bot.replies import Text
    from bot.services.code_runs import result_reply
    from sandbox.result import DroppedFile, RunResult

    header = struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 30000, 30000) + b"\x08\x02\0\0\0"
    bomb = PNG_MAGIC + header + b"\0" * 8
    dropped: list[DroppedFile] = []
    accepted, notes = check(
        [{"file": "bomb.png", "data": bomb}, {"file": "x.exe", "data": b"MZ"}],
        files_max=4,
        png_max=1 << 20,
        dropped=dropped,
    )
    assert accepted == [] and len(notes) == 2
    assert [(d.name, d.reason) for d in dropped] == [
        ("bomb.png", "image_too_large"),
        ("x.exe", "kind"),
    ]
    reply = result_reply(RunResult(status="ok", exit_code=0, dropped=tuple(dropped)), Text("x"))
    shown = [
        line for line in reply.lines if isinstance(line, Text) and line.key.startswith("runs.")
    ]
    assert [line.key for line in shown] == [
        "runs.file_dropped.image_too_large",
        "runs.file_dropped.kind",
    ]
    assert shown[0].params["width"] == 30000 and shown[0].params["name"] == "bomb.png"
