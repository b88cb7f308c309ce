"""Command names: the tree matches the shared command table, Korean names are valid
Discord names, nothing shadows anything, and both catalogues say the same things."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.app_commands import TranslationContext, TranslationContextLocation, locale_str

import bot.i18n
from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.cogs.admin import table_path
from bot.adapters.discord.translator import StudyTranslator
from bot.commands import COMMANDS
from bot.services.problems import LANGUAGES
from tests.discord.fakes import OPTION_TYPES

NAME = re.compile(r"[-_'\w]{1,32}")  # Discord's name rule for letters of any script
HANGUL = re.compile(r"[가-힣]")
CATALOGUES = Path(bot.i18n.__file__).parent
# Required in the table, optional on Discord: left out, the command opens a form for it.
ASKED_IN_A_FORM = {("progress", "log"): ("note",), ("run",): ("code",)}


async def payloads(studybot: StudyBot) -> list[dict[str, Any]]:
    translator = studybot.tree.translator
    assert isinstance(translator, StudyTranslator)
    return [
        await command.get_translated_payload(studybot.tree, translator)
        for command in studybot.tree.get_commands()
    ]


def leaves(payload: dict[str, Any], parents: tuple[str, ...] = ()) -> list[Any]:
    """(path, payload) of every invocable command: groups' subcommands, or the command."""
    path = (*parents, payload["name"])
    subcommands = [o for o in payload.get("options", []) if o["type"] in (1, 2)]
    if not subcommands:
        return [(path, payload)]
    return [leaf for sub in subcommands for leaf in leaves(sub, path)]


def nodes(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Every named thing: the command or group, its subcommands, options and choices."""
    found = [payload]
    for option in payload.get("options", []):
        found += nodes(option)
    found += payload.get("choices", [])
    return found


async def test_tree_matches_the_command_table(studybot: StudyBot) -> None:
    """Each Discord command is in the table with the same options of the same types (the
    admin commands shown under /admin), and each area of the table (member, mod, away,
    schedule, problem, ...) is served completely."""
    slash = [p for p in await payloads(studybot) if p.get("type", 1) == 1]  # not menus
    found = {table_path(path): payload for p in slash for path, payload in leaves(p)}
    assert len(found) == sum(len(leaves(p)) for p in slash), "two commands run the same path"
    served = {path[0] for path in found}
    assert served >= {"member", "mod", "away", "schedule", "problem"}
    assert served == {path[0] for path in COMMANDS}, "an area of the table has no cog"
    assert set(found) == set(COMMANDS)
    for path, payload in found.items():
        options = {o["name"]: o.get("required", False) for o in payload["options"]}
        expected = {o.name: o.required for o in COMMANDS[path].options}
        for name in ASKED_IN_A_FORM.get(path, ()):
            expected[name] = False
        assert options == expected, path
        types = {o["name"]: o["type"] for o in payload["options"]}
        assert types == {o.name: OPTION_TYPES[o.kind] for o in COMMANDS[path].options}, path


async def test_every_name_and_description_has_korean(studybot: StudyBot) -> None:
    for payload in await payloads(studybot):
        if payload.get("type", 1) != 1:  # a context menu: any name up to 32, no description
            korean = payload["name_localizations"]["ko"]
            assert HANGUL.search(korean) and 1 <= len(korean) <= 32, korean
            assert 1 <= len(payload["name"]) <= 32
            continue
        for node in nodes(payload):
            korean = node["name_localizations"]["ko"]
            if "value" in node:  # a choice: free text (C++ is C++), at most 100 characters
                assert 1 <= len(korean) <= 100
                continue
            assert HANGUL.search(korean), (node["name"], korean)
            assert NAME.fullmatch(korean) and korean == korean.lower(), korean
            assert NAME.fullmatch(node["name"]) and node["name"] == node["name"].lower()
            description = node["description_localizations"]["ko"]
            assert HANGUL.search(description) and 1 <= len(description) <= 100
            assert 1 <= len(node["description"]) <= 100


async def test_translator_answers_korean_only(studybot: StudyBot) -> None:
    translator = StudyTranslator()
    context = TranslationContext(TranslationContextLocation.other, None)
    key = locale_str("join", key="cmd.member.join.name")
    assert await translator.translate(key, discord.Locale.korean, context) == "참여"
    assert await translator.translate(key, discord.Locale.japanese, context) is None
    assert await translator.translate(locale_str("x"), discord.Locale.korean, context) is None


async def test_no_command_or_option_shadows_another(studybot: StudyBot) -> None:
    def unique(siblings: list[dict[str, Any]], where: str) -> None:
        for language in ("en", "ko"):
            names = [
                s["name"] if language == "en" else s["name_localizations"]["ko"] for s in siblings
            ]
            assert len(names) == len(set(names)), (where, language, names)

    top = await payloads(studybot)
    unique(top, "top level")
    for payload in top:
        for node in nodes(payload):
            children = [o for o in node.get("options", []) if "type" in o]
            unique(children, node["name"])
            unique(node.get("choices", []), node["name"])


async def test_every_command_is_guild_only(studybot: StudyBot) -> None:
    for payload in await payloads(studybot):
        assert payload["dm_permission"] is False, payload["name"]


async def test_locale_option_offers_ko_and_en(studybot: StudyBot) -> None:
    (admin,) = [p for p in await payloads(studybot) if p["name"] == "admin"]
    (schedule,) = [o for o in admin["options"] if o["name"] == "schedule"]
    (set_command,) = [o for o in schedule["options"] if o["name"] == "set"]
    (locale,) = [o for o in set_command["options"] if o["name"] == "locale"]
    assert [c["value"] for c in locale["choices"]] == ["ko", "en"]
    assert locale["choices"][0]["name_localizations"]["ko"] == "한국어"


async def test_language_option_offers_the_known_languages(studybot: StudyBot) -> None:
    (problem,) = [p for p in await payloads(studybot) if p["name"] == "problem"]
    (solved,) = [o for o in problem["options"] if o["name"] == "solved"]
    (language,) = [o for o in solved["options"] if o["name"] == "language"]
    assert [c["value"] for c in language["choices"]] == list(LANGUAGES)
    assert language["choices"][0]["name_localizations"]["ko"] == "파이썬"
    assert solved["name_localizations"]["ko"] == "풀었어요"
    assert language.get("autocomplete", False) is False


async def test_progress_and_competition_speak_korean(studybot: StudyBot) -> None:
    top = {p["name"]: p for p in await payloads(studybot)}
    assert top["progress"]["name_localizations"]["ko"] == "기록"
    assert top["competition"]["name_localizations"]["ko"] == "대회"
    progress = {o["name"]: o for o in top["progress"]["options"]}
    group = {o["name"]: o for o in progress["group"]["options"]}
    assert [c["value"] for c in group["period"]["choices"]] == ["week", "month"]
    assert group["period"]["choices"][0]["name_localizations"]["ko"] == "주간"
    (mode,) = progress["reminder"]["options"]
    assert [c["value"] for c in mode["choices"]] == ["on", "off", "dm"]
    assert mode["choices"][2]["name_localizations"]["ko"] == "개인 메시지로 받기"
    log = {o["name"]: o for o in progress["log"]["options"]}
    assert log["score"]["type"] == 10 and log["submitted"]["type"] == 5  # number, boolean
    assert not any(o.get("required") for o in log.values())  # no note: the form opens
    assert "forget" not in progress  # an admin command: under /admin
    admin = {o["name"]: o for o in top["admin"]["options"]}
    assert admin["progress"]["name_localizations"]["ko"] == "기록"
    (forget,) = admin["progress"]["options"]
    assert forget["name_localizations"]["ko"] == "잊기"
    (forget_user,) = forget["options"]
    assert forget_user["type"] == 6  # a user picker


async def test_problem_options_autocomplete(studybot: StudyBot) -> None:
    (problem,) = [p for p in await payloads(studybot) if p["name"] == "problem"]
    completing = {
        (sub["name"], option["name"])
        for sub in problem["options"]
        for option in sub.get("options", [])
        if option.get("autocomplete")
    }
    assert completing == {("pick", "problem"), ("solved", "problem"), ("show", "problem")}


def _placeholders(template: str) -> set[str]:
    return bot.i18n.parameters(template)


@pytest.mark.parametrize("name", ["discord.json"])
def test_catalogues_agree(name: str) -> None:
    ko = json.loads((CATALOGUES / "ko" / name).read_text(encoding="utf-8"))
    en = json.loads((CATALOGUES / "en" / name).read_text(encoding="utf-8"))
    assert ko.keys() == en.keys()
    assert all(key.startswith(("cmd.", "discord.")) for key in ko)
    for key in ko:
        assert _placeholders(ko[key]) == _placeholders(en[key]), key


class KeyRecorder(StudyTranslator):
    def __init__(self) -> None:
        self.keys: list[str | None] = []

    async def translate(self, string: locale_str, locale: discord.Locale, context: Any) -> Any:
        self.keys.append(string.extras.get("key"))
        return await super().translate(string, locale, context)


async def test_every_text_comes_from_the_catalogue_and_all_are_used(studybot: StudyBot) -> None:
    recorder = KeyRecorder()
    for command in studybot.tree.get_commands():
        await command.get_translated_payload(studybot.tree, recorder)
    assert None not in recorder.keys  # nothing was written in code instead
    en = {  # discord.json, and features' own files (quiz.json)
        key
        for path in (CATALOGUES / "en").glob("*.json")
        for key in json.loads(path.read_text(encoding="utf-8"))
    }
    assert {key for key in en if key.startswith("cmd.")} == set(recorder.keys)
