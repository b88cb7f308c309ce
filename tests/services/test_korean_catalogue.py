"""Every message of both catalogues, rendered with sample parameters, reads naturally.

The walk renders each message (every ``bot/i18n/<locale>/*.json`` file) with samples that
end in a consonant, in ㄹ, in a vowel, in digits and in Latin letters, as the console and
as Discord show it, and fails on:

- a mechanical particle pair (``을(를)``, ``(으)로``, ``이/가``) or a particle in the wrong form
  after a sample (``김민준를``, ``토마토을``, ``서울으로``);
- a field left unresolved (``{을}``, ``{/member join}``);
- in Korean, an English word outside literal code: option names, on/off, command names
  (proper nouns, metric names and format literals are allowed, below);
- in English, a "(s)" plural.

It also checks that every command or option a message names exists in the command table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from bot.adapters.discord.cogs.admin import discord_path
from bot.commands import COMMANDS
from bot.i18n import (
    LOCALES,
    CommandStyle,
    catalogue,
    discord_commands,
    fields,
    parameters,
    text,
    typed_command,
)
from bot.i18n.particles import PARTICLES
from bot.replies import CommandRef, Mention, OptionRef, Text

pytestmark = pytest.mark.sqlite_only

DISCORD = discord_commands(discord_path)
MENTIONED = discord_commands(discord_path, {path[0]: 1000 + i for i, path in enumerate(COMMANDS)})
STYLES: dict[str, CommandStyle] = {"console": typed_command, "discord": DISCORD}

# (sample, how it ends): consonant, ㄹ, vowel
HANGUL_SAMPLES = [
    (Mention(1, "김민준"), "consonant"),
    (Mention(2, "토마토"), "vowel"),
    ("서울", "rieul"),
    ("과제명", "consonant"),
    ("베이스라인", "consonant"),
    ("리뷰", "vowel"),
]
NUMBER_SAMPLES = [(12899, "vowel"), (1, "rieul"), (10, "consonant"), (3, "consonant"), (2, "vowel")]
LATIN_SAMPLES = [
    ("f1", "rieul"),
    ("sql", "rieul"),
    ("mcc", "vowel"),
    ("Python", "consonant"),
    ("bob", "consonant"),
    ("accuracy", "vowel"),
]
OTHER_SAMPLES: list[Any] = [
    date(2026, 12, 7),
    [date(2026, 12, 8), date(2026, 12, 9)],
    Text("common.on"),
    None,
    0.5,
]

# the forms a particle must not take after a word ending so
WRONG_AFTER = {
    "consonant": ("를", "는", "가", "와", "로", "랑", "며", "예요", "야"),
    "rieul": ("를", "는", "가", "와", "으로", "랑", "며", "예요", "야"),
    "vowel": ("을", "은", "과", "으로", "이나", "이랑", "이며", "이에요"),
}
MECHANICAL = re.compile(
    r"을\s*\(를\)|를\s*\(을\)|은\s*\(는\)|는\s*\(은\)|이\s*\(가\)|가\s*\(이\)|와\s*\(과\)|과\s*\(와\)"
    r"|\(으\)\s*로|\(이\)\s*(?:나|라|랑|며|다|에요)|\(아\)|\(야\)"
    r"|을/를|를/을|은/는|는/은|이/가|가/이|와/과|과/와|으로/로"
)
ENGLISH_PLURAL = re.compile(r"[a-z]\((?:s|es|ies)\)")

# Latin words a Korean message may show: proper nouns, product and format names, metric
# names, a timezone's name; literal code stays in backticks.
ALLOWED_LATIN = {
    "Python",
    "PyTorch",
    "GitHub",
    "SQL",
    "MySQL",
    "Oracle",
    "PostgreSQL",
    "SQLite",
    "CSV",
    "README",
    "UTF-8",
    "KiB",
    "Lv",
    "D",  # D-7, the countdown Koreans write
    "C",
    "C++",
    "Java",
    "Go",
    "Asia/Seoul",
    "accuracy",
    "F1",
    "klue/roberta-base",
    "e-5",  # 3e-5, a learning rate
}
ALLOWED_PATTERN = re.compile(r"Lv\d*|D-\d+")  # a problem's level (Lv2), a countdown (D-7)
# messages that are code themselves (a form's example code)
CODE_MESSAGES = {"discord.run_form.code_hint"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_+\-/.]*[A-Za-z0-9+]|[A-Za-z]")
CODE_SPAN = re.compile(r"```\w*|`[^`\n]*`")
URL = re.compile(r"https?://\S+")


def samples(template: str, value: Any) -> dict[str, Any]:
    return dict.fromkeys(parameters(template), value)


def all_messages() -> Iterator[tuple[str, str, str]]:
    for locale in LOCALES:
        for key, template in sorted(catalogue(locale).items()):
            yield locale, key, template


def korean_samples() -> list[tuple[Any, str]]:
    return HANGUL_SAMPLES + NUMBER_SAMPLES


def _spoken(value: Any) -> str:
    return value.name if isinstance(value, Mention) else str(value)


def _allowed(word: str) -> bool:
    if word in ALLOWED_LATIN or ALLOWED_PATTERN.fullmatch(word):
        return True
    return "/" in word and all(_allowed(part) for part in word.split("/"))


def _latin_outside_code(rendered: str) -> list[str]:
    stripped = CODE_SPAN.sub(" ", URL.sub(" ", rendered))
    return [word for word in LATIN_WORD.findall(stripped) if not _allowed(word)]


@pytest.mark.parametrize("style", sorted(STYLES))
@pytest.mark.parametrize("locale", LOCALES)
def test_no_mechanical_particles_or_unresolved_fields(locale: str, style: str) -> None:
    problems: dict[str, str] = {}
    for sample, _ in HANGUL_SAMPLES + NUMBER_SAMPLES + LATIN_SAMPLES:
        for key, template in catalogue(locale).items():
            rendered = text(locale, key, samples(template, sample), command=STYLES[style])
            if MECHANICAL.search(rendered):
                problems[key] = rendered
            if "{" in rendered and "{{" not in template and "{" not in _spoken(sample):
                problems[key] = rendered
    assert problems == {}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_particles_follow_the_sample_before_them(style: str) -> None:
    wrong: dict[str, str] = {}
    for sample, end in HANGUL_SAMPLES + NUMBER_SAMPLES + LATIN_SAMPLES:
        word = re.escape(_spoken(sample))
        forms = "|".join(WRONG_AFTER[end])
        pattern = re.compile(rf"(?<![\w가-힣]){word}['\"`\]]*(?:{forms})(?![가-힣])")
        for key, template in catalogue("ko").items():
            if not any(field in PARTICLES for _, field in fields(template)):
                continue
            rendered = text("ko", key, samples(template, sample), command=STYLES[style])
            if pattern.search(rendered):
                wrong[f"{key} after {_spoken(sample)}"] = rendered
    assert wrong == {}


def test_no_english_in_korean_messages() -> None:
    """Discord's Korean reader sees Korean command and option names; nothing else is
    English but proper nouns and literal code (in backticks) such as the console's lines."""
    found: dict[str, list[str]] = {}
    for key, template in catalogue("ko").items():
        if key in CODE_MESSAGES:
            continue
        for sample, _ in korean_samples():
            for style in (DISCORD, typed_command):
                rendered = text("ko", key, samples(template, sample), command=style)
                latin = _latin_outside_code(rendered)
                if latin:
                    found[key] = latin
    assert found == {}


def test_commands_shown_to_a_korean_reader_are_korean() -> None:
    """On Discord a Korean message names commands, options and their values in Korean."""
    found: dict[str, str] = {}
    for key, template in catalogue("ko").items():
        if not any(f and f.startswith(("/", "option:")) for _, f in fields(template)):
            continue
        for style in (DISCORD, MENTIONED):

            def marked(
                ref: CommandRef | OptionRef, locale: str, style: CommandStyle = style
            ) -> str:
                return "«" + style(ref, locale) + "»"

            rendered = text("ko", key, samples(template, "과제"), command=marked)
            for shown in re.findall(r"«([^»]*)»", rendered):
                if any(not _allowed(word) for word in LATIN_WORD.findall(shown)):
                    found[key] = rendered
                if "</" in shown:  # a mention shows the English name whatever the reader
                    found[key] = rendered
    assert found == {}


def test_english_mode_has_no_parenthesised_plurals() -> None:
    found = {}
    for key, template in catalogue("en").items():
        for count in (1, 2):
            rendered = text("en", key, samples(template, count))
            if ENGLISH_PLURAL.search(rendered):
                found[key] = rendered
    assert found == {}


def test_command_and_option_references_exist() -> None:
    """Every ``{/command option:...}`` and ``{option:command name}`` names a command of the
    table and options it has, so each front end can show it."""
    bad: list[str] = []
    for locale, key, template in all_messages():
        for _, field in fields(template):
            if field is None:
                continue
            if field.startswith("/"):
                ref = CommandRef.parse(field[1:])
                command = COMMANDS.get(ref.words)
                names = {o.name for o in command.options} if command else set()
                if command is None or any(name not in names for name, _ in ref.options):
                    bad.append(f"{locale} {key}: {field}")
            elif field.startswith("option:"):
                path, _, option = field.removeprefix("option:").rpartition(" ")
                command = COMMANDS.get(tuple(path.split()))
                if command is None or option not in {o.name for o in command.options}:
                    bad.append(f"{locale} {key}: {field}")
    assert bad == []


def test_the_walk_covers_every_catalogue_file() -> None:
    import json
    from pathlib import Path

    import bot.i18n

    folder = Path(bot.i18n.__file__).parent
    for locale in LOCALES:
        files = sorted((folder / locale).glob("*.json"))
        assert len(files) >= 8
        for path in files:
            keys = json.loads(path.read_text(encoding="utf-8")).keys()
            assert keys <= catalogue(locale).keys(), path


@pytest.mark.parametrize("sample", OTHER_SAMPLES, ids=repr)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_renders_with_other_values(locale: str, sample: Any) -> None:
    for key, template in catalogue(locale).items():
        rendered = text(locale, key, samples(template, sample), command=MENTIONED)
        assert rendered.strip(), key
        assert not MECHANICAL.search(rendered), key
