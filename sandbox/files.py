"""Host-side checks of the files a job left in its output folder.

Everything here comes from the job (the launcher reports after the job ran, in the job's
own process), so it is hostile input: names are reduced to a safe base name, only PNG
images (checked by their signature) and small UTF-8 text files pass, sizes and the count
are capped, and nothing is written to the host's disk here. Images are never decoded: a
PNG whose header (``IHDR``) declares more pixels than allowed (an image bomb: a small
file that inflates to gigabytes in a chat client) is refused.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from sandbox.result import DroppedFile, OutputFile

__all__ = ["PNG_MAGIC", "TEXT_MAX", "TEXT_SUFFIXES", "check", "png_size", "safe_name"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TEXT_SUFFIXES = (".txt", ".csv", ".json", ".md", ".log")
TEXT_MAX = 64 * 1024
NAME_MAX = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(raw: object) -> str | None:
    """A plain base name (letters, digits, ``._-``; no folders, no leading dot), or None."""
    if not isinstance(raw, str):
        return None
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._-")
    suffix = re.sub(r"[^A-Za-z0-9]", "", suffix)[:8]
    if not stem and not suffix:
        return None
    stem = stem or "file"
    if suffix:
        return f"{stem[: NAME_MAX - len(suffix) - 1]}.{suffix}"
    return stem[:NAME_MAX]


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) declared by a PNG's first chunk (``IHDR``, which the format puts
    first), read from the header only; None when there is no such chunk."""
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def check(
    reported: Iterable[Mapping[str, Any]],
    *,
    files_max: int,
    png_max: int,
    pixels_max: int = 25_000_000,
    side_max: int = 10_000,
    dropped: list[DroppedFile] | None = None,
) -> tuple[list[OutputFile], list[str]]:
    """The files to hand to the front end, and notes on what was dropped and why (in
    English; ``dropped``, when given, also receives each refusal as a message key's
    suffix and parameters, for front ends to say in the member's language)."""
    accepted: list[OutputFile] = []
    notes: list[str] = []
    seen: set[str] = set()
    drops: list[DroppedFile] = [] if dropped is None else dropped

    def drop(name: str, reason: str, **params: int) -> None:
        drops.append(DroppedFile(name, reason, dict(params)))

    for item in reported:
        name = safe_name(item.get("file"))
        if name is None:
            notes.append("dropped a file with an unusable name")
            continue
        if len(accepted) >= files_max:
            notes.append(f"dropped {name}: at most {files_max} files are returned")
            drop(name, "count", files_max=files_max)
            continue
        raw = item.get("data")  # bytes (decoded by the status channel) or base64 text
        if raw is None:
            notes.append(f"dropped {name}: too large")
            drop(name, "too_large", limit_kb=png_max // 1024)
            continue
        if isinstance(raw, bytes):
            data = raw
        else:
            try:
                data = base64.b64decode(str(raw).encode("ascii"), validate=True)
            except (binascii.Error, UnicodeEncodeError, ValueError):
                notes.append(f"dropped {name}: unreadable")
                drop(name, "unreadable")
                continue
        lower = name.lower()
        kind: Literal["png", "text"]
        if lower.endswith(".png"):
            if len(data) > png_max:
                notes.append(f"dropped {name}: larger than {png_max // 1024} KiB")
                drop(name, "too_large", limit_kb=png_max // 1024)
                continue
            if not data.startswith(PNG_MAGIC):
                notes.append(f"dropped {name}: not a PNG image")
                drop(name, "not_png")
                continue
            size = png_size(data)
            if size is not None and (size[0] * size[1] > pixels_max or max(size) > side_max):
                notes.append(
                    f"dropped {name}: {size[0]}x{size[1]} pixels, images are returned up to "
                    f"{pixels_max:,} pixels and {side_max:,} on a side"
                )
                drop(
                    name,
                    "image_too_large",
                    width=size[0],
                    height=size[1],
                    pixels_max=pixels_max,
                    side_max=side_max,
                )
                continue
            kind = "png"
        elif lower.endswith(TEXT_SUFFIXES):
            if len(data) > TEXT_MAX:
                notes.append(f"dropped {name}: text files are returned up to 64 KiB")
                drop(name, "too_large", limit_kb=TEXT_MAX // 1024)
                continue
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                notes.append(f"dropped {name}: not UTF-8 text")
                drop(name, "not_utf8")
                continue
            kind = "text"
        else:
            notes.append(f"dropped {name}: only PNG images and text files are returned")
            drop(name, "kind")
            continue
        if name in seen:
            notes.append(f"dropped a second file named {name}")
            continue
        seen.add(name)
        accepted.append(OutputFile(name=name, data=data, kind=kind))
    return accepted, notes
