"""The message catalogues: Korean and English say the same things, and every message the
code names exists in both."""

from __future__ import annotations

import ast
import inspect
import re
import string
from pathlib import Path

import pytest

import bot
from bot import errors
from bot.i18n import LOCALES, catalogue, render, text
from bot.replies import Mention, Reply, Text

BOT_DIR = Path(bot.__file__).parent
KEY_SHAPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
# Calls whose first argument is a message key.
KEY_CALLS = {"Reply", "public", "private", "Text"} | {
    name
    for name, value in vars(errors).items()
    if inspect.isclass(value) and issubclass(value, errors.DomainError)
}


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def keys_in_code() -> dict[str, set[str]]:
    """Message keys named by string literals in bot/**/*.py, with the files naming them.

    A literal counts when it is the first argument of Reply(...), Reply.public/private,
    Text(...) or a DomainError, is assigned to ``.key``, or looks like a key and starts
    with a prefix the catalogues use (``error.``, ``mod.``, ...).
    """
    prefixes = {key.split(".")[0] for locale in LOCALES for key in catalogue(locale)}
    found: dict[str, set[str]] = {}

    def add(value: object, path: Path) -> None:
        if isinstance(value, str):
            found.setdefault(value, set()).add(str(path.relative_to(BOT_DIR.parent)))

    for path in sorted(BOT_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _call_name(node) in KEY_CALLS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    add(first.value, path)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                if any(isinstance(t, ast.Attribute) and t.attr == "key" for t in node.targets):
                    add(node.value.value, path)
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and KEY_SHAPE.fullmatch(node.value)
                and node.value.split(".")[0] in prefixes
            ):
                add(node.value, path)
    return found


def test_catalogues_have_the_same_keys() -> None:
    ko, en = catalogue("ko"), catalogue("en")
    assert sorted(ko.keys() - en.keys()) == [], "only in Korean"
    assert sorted(en.keys() - ko.keys()) == [], "only in English"
    assert len(ko) > 50


def test_catalogues_have_the_same_placeholders() -> None:
    ko, en = catalogue("ko"), catalogue("en")
    differ = {
        key: (sorted(placeholders(ko[key])), sorted(placeholders(en[key])))
        for key in ko.keys() & en.keys()
        if placeholders(ko[key]) != placeholders(en[key])
    }
    assert differ == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_messages_are_non_empty_and_well_formed(locale: str) -> None:
    for key, template in catalogue(locale).items():
        assert KEY_SHAPE.fullmatch(key), key
        assert template.strip(), key
        for name in placeholders(template):
            assert name.isidentifier(), f"{key}: odd placeholder {{{name}}}"


def test_the_scan_finds_keys_in_the_code() -> None:
    found = keys_in_code()
    # Sanity: the scan sees keys used in each way (call argument, .key =, prefix).
    for key in ("mod.today", "error.admin_only", "schedule.updated", "calendar.holiday"):
        assert key in found, key


@pytest.mark.parametrize("locale", LOCALES)
def test_every_key_in_the_code_exists(locale: str) -> None:
    table = catalogue(locale)
    missing = {key: sorted(files) for key, files in keys_in_code().items() if key not in table}
    assert missing == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_weekday_names_exist(locale: str) -> None:  # built as f"weekday.{n}"
    assert all(f"weekday.{n}" in catalogue(locale) for n in range(1, 8))


def test_render_fills_nested_texts_mentions_and_dates() -> None:
    from datetime import date

    reply = Reply.private(
        "mod.today_no_study",
        day=date(2026, 12, 25),
        why=Text("calendar.holiday", {"name": "Christmas"}),
    )
    reply.lines.append(
        Text("mod.next_line", {"day": date(2026, 12, 28), "name": Mention(7, "alice")})
    )
    rendered = render(reply, "en")
    assert rendered.splitlines() == [
        "Fri 2026-12-25 is not a study day: it is a public holiday (Christmas).",
        "The next study day is Mon 2026-12-28; its moderator is alice.",
    ]
    assert "12월 25일(금)" in render(reply, "ko")
    assert text("en", "no.such.key") == "no.such.key"
