"""Printing replies as console blocks and saving their attachments.

A block's first line carries where the message went — ``[#study]``, ``[#study > THREAD]``
or ``[@alice]`` — and its other lines are indented by two spaces: the rest of the text,
then ``[button] LABEL → /command`` and ``[file] PATH`` lines. The console's own answers to
control lines (``:help``, ``:time``) are plain text without a prefix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TextIO

from bot.i18n import render, text
from bot.replies import Attachment, Reply, Visibility

INDENT = "  "
_UNSAFE = re.compile(r"[^\w.\-]+")
MAX_NAME = 100


def where(reply: Reply, channel: str, speaker: str | None) -> str:
    """The block's prefix: the speaker for private replies, else the channel (or thread)."""
    if reply.visibility is Visibility.PRIVATE and speaker is not None:
        return f"[@{speaker}]"
    if reply.thread:
        return f"[#{channel} > {reply.thread}]"
    return f"[#{channel}]"


def block(prefix: str, body: str, extras: list[str]) -> str:
    first, *rest = body.split("\n")
    lines = [f"{prefix} {first}"]
    lines += [INDENT + line for line in rest]
    lines += [INDENT + line for line in extras]
    return "\n".join(lines)


def safe_filename(name: str) -> str:
    """A plain file name: no folders, no odd characters, never empty or hidden."""
    cleaned = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip("._")
    if not cleaned:
        return "file"
    stem, dot, suffix = cleaned.rpartition(".")
    if dot and len(cleaned) > MAX_NAME:
        return stem[: MAX_NAME - len(suffix) - 1] + "." + suffix
    return cleaned[:MAX_NAME]


def unique_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name-2``, ``name-3`` ... when it is taken."""
    candidate = folder / name
    stem, suffix = candidate.stem, candidate.suffix
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}{suffix}"
        number += 1
    return candidate


class Output:
    def __init__(self, stream: TextIO, files_dir: Path) -> None:
        self.stream = stream
        self.files_dir = files_dir

    def show(self, reply: Reply, locale: str, channel: str, speaker: str | None = None) -> None:
        extras = [
            f"[button] {text(locale, action.label_key)} → {action.command}"
            for action in reply.actions
        ]
        extras += [f"[file] {self.save(attachment)}" for attachment in reply.attachments]
        body = render(reply, locale)
        print(block(where(reply, channel, speaker), body, extras), file=self.stream, flush=True)

    def note(self, body: str) -> None:
        """The console's own text (``:help``, ``:time``): no ``[...]`` prefix, since no
        one in the group said it."""
        print(body, file=self.stream, flush=True)

    def save(self, attachment: Attachment) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = unique_path(self.files_dir, safe_filename(attachment.filename))
        path.write_bytes(attachment.data)
        return path
