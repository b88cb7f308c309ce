"""How replies look in the console, and where attachments go."""

from __future__ import annotations

import io
from pathlib import Path

from bot.adapters.console.output import Output, safe_filename
from bot.replies import Action, Attachment, Reply, Text, Visibility


def shown(reply: Reply, tmp_path: Path, locale: str = "ko", speaker: str = "alice") -> str:
    stream = io.StringIO()
    Output(stream, tmp_path / "files").show(reply, locale, "study", speaker=speaker)
    return stream.getvalue()


def test_private_reply_goes_to_the_speaker(tmp_path: Path) -> None:
    reply = Reply.private("error.admin_only")
    assert shown(reply, tmp_path) == "[@alice] 관리자만 할 수 있습니다.\n"


def test_thread_post_and_continuation_lines(tmp_path: Path) -> None:
    reply = Reply.public("duty.review_hint")
    reply.thread = "2026-12-08 review"
    reply.lines.append(Text("common.on"))
    assert shown(reply, tmp_path, locale="en") == (
        "[#study > 2026-12-08 review] Share your solutions and review each other's code.\n  on\n"
    )


def test_buttons_show_their_console_command(tmp_path: Path) -> None:
    reply = Reply(key="common.on", visibility=Visibility.PUBLIC)
    reply.actions.append(Action("swap_accept", 4, "mod.button_accept", "/mod accept id:4"))
    assert shown(reply, tmp_path) == "[#study] 켬\n  [button] 수락 → /mod accept id:4\n"


def test_attachments_are_saved_with_safe_unique_names(tmp_path: Path) -> None:
    reply = Reply.public("common.on")
    reply.attachments = [
        Attachment("../../week chart.png", b"one"),
        Attachment("week chart.png", b"two"),
    ]
    out = shown(reply, tmp_path)
    first = tmp_path / "files" / "week_chart.png"
    second = tmp_path / "files" / "week_chart-2.png"
    assert out == f"[#study] 켬\n  [file] {first}\n  [file] {second}\n"
    assert first.read_bytes() == b"one"
    assert second.read_bytes() == b"two"


def test_safe_filename() -> None:
    assert safe_filename("..") == "file"
    assert safe_filename("C:\\Users\\me\\progress.csv") == "progress.csv"
    assert safe_filename(".env") == "env"
