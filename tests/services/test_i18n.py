"""The message catalogues: Korean and English say the same things, and every message the
code names exists in both."""

from __future__ import annotations

import ast
import inspect
import re
from datetime import date
from pathlib import Path

import pytest

import bot
from bot import errors
from bot.i18n import (
    LOCALES,
    catalogue,
    discord_commands,
    fields,
    fill,
    parameters,
    render,
    text,
)
from bot.i18n.particles import PARTICLES
from bot.replies import CommandRef, Mention, OptionRef, Reply, Text, reply_from_json, reply_to_json

BOT_DIR = Path(bot.__file__).parent
KEY_SHAPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
# Calls whose first argument is a message key.
KEY_CALLS = {"Reply", "public", "private", "Text"} | {
    name
    for name, value in vars(errors).items()
    if inspect.isclass(value) and issubclass(value, errors.DomainError)
}


def placeholders(template: str) -> set[str]:
    return parameters(template)


FIELD_SHAPES = (
    re.compile(r"[A-Za-z_]\w*"),  # a parameter
    re.compile(r"[A-Za-z_]\w*\|[^|{}]+\|[^|{}]+"),  # a plural choice
    re.compile(r"/[a-z]+(?: [a-z]+)*(?: [a-z_]+:(?:[^{}]|\{[A-Za-z_]\w*\})*)*"),  # a command
    re.compile(r"option:[a-z]+(?: [a-z]+)* [a-z_]+"),  # an option
)


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


# English dates always show their year (Wed 2027-12-01); Korean ones add it when needed
SAME_BUT_YEAR = {"input.date_with_year"}


def test_catalogues_have_the_same_placeholders() -> None:
    ko, en = catalogue("ko"), catalogue("en")
    differ = {
        key: (sorted(placeholders(ko[key])), sorted(placeholders(en[key])))
        for key in ko.keys() & en.keys()
        if placeholders(ko[key]) != placeholders(en[key])
        and not (key in SAME_BUT_YEAR and placeholders(ko[key]) - placeholders(en[key]) == {"year"})
    }
    assert differ == {}


@pytest.mark.parametrize("locale", LOCALES)
def test_messages_are_non_empty_and_well_formed(locale: str) -> None:
    for key, template in catalogue(locale).items():
        assert KEY_SHAPE.fullmatch(key), key
        assert template.strip(), key
        for _, field in fields(template):
            if field is None or field in PARTICLES:
                continue
            assert any(shape.fullmatch(field) for shape in FIELD_SHAPES), f"{key}: odd {{{field}}}"


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


def test_particles_follow_the_text_before_them() -> None:
    """``{을}`` and friends take their form from what precedes them as it is read: the
    value of a parameter, a mention's name (not ``<@id>``), a number, a Latin word."""

    def discord(mention: Mention) -> str:
        return f"<@{mention.user_id}>"

    def rendered(key: str, **params: object) -> str:
        return text("ko", key, params, discord)

    assert rendered("schedule.day_off_added", day=date(2026, 12, 8), reason="-") == (
        "12월 8일(화)을 쉬는 날로 정했습니다 (사유: -)."
    )
    assert rendered(
        "problem.solved", name=Mention(7, "민지"), title="타일링", language="python"
    ) == ("<@7> 님이 [타일링]을 풀었습니다! (언어: python)")
    assert rendered("error.progress_metric_mismatch", task="감성", metric="f1", given="acc") == (
        "감성 과제의 지표는 f1입니다(acc 아님). `metric` 옵션을 빼거나 f1로 적어 주세요."
    )
    assert rendered("error.problem_no_match", query="타겟") == (
        "'타겟'과 맞는 문제가 없습니다. 번호, 문제 링크, 제목 일부로 찾아 보세요."
    )
    assert rendered("error.problem_no_match", query="mcc").startswith("'mcc'와 맞는")
    assert rendered("error.progress_entry_missing", id=12).startswith("기록 #12를 찾을 수")
    assert rendered("error.progress_entry_missing", id=10).startswith("기록 #10을 찾을 수")


def test_a_particle_after_a_mention_follows_the_name_shown() -> None:
    def discord(mention: Mention) -> str:
        return f"<@{mention.user_id}>"

    assert fill(
        "ko", "{a}{와} {b}{이}", {"a": Mention(1, "서준"), "b": Mention(2, "하나")}, discord
    ) == ("<@1>과 <@2>가")
    assert fill("ko", "{x}{을}", {"x": Text("progress.field_note")}) == "한 일(`note`)을"
    assert fill("ko", "{x}{으로}", {"x": [Mention(1, "bob"), Mention(2, "carol")]}, discord) == (
        "<@1>, <@2>로"
    )
    template_params = {"title": "[x]", "day": "-"}
    assert text("ko", "error.problem_repeat", template_params).startswith("[[x]]는")
    reply = Reply.public("mod.swap_declined", a=Mention(1, "서준"), b=Mention(2, "하나"))
    assert render(reply, "ko") == "서준 님과 하나 님의 교대 요청이 취소되었습니다."


def test_plural_choice_in_english() -> None:
    assert text("en", "member.list", {"count": 1}) == "1 member (rotation order):"
    assert text("en", "member.list", {"count": 3}) == "3 members (rotation order):"
    assert text("en", "progress.digest", {"day": "Mon", "count": 1}).endswith("1 entry")
    assert text("en", "progress.digest", {"day": "Mon", "count": 0}).endswith("0 entries")


def _shown(path: tuple[str, ...]) -> tuple[str, ...]:
    return ("admin", *path) if path == ("member", "add") else path


def test_commands_show_as_each_front_end_types_them() -> None:
    """The console shows the command table's names (what its users type); Discord shows
    Korean names to a Korean reader and a clickable mention in English when it knows the
    command's id."""
    discord = discord_commands(_shown, {"member": 42})
    assert text("ko", "error.not_member") == "먼저 `/member join`으로 스터디에 참여하세요."
    assert (
        text("ko", "error.not_member", command=discord)
        == "먼저 `/멤버 참여`로 스터디에 참여하세요."
    )
    assert text("en", "error.not_member", command=discord) == (
        "Join the study group first with </member join:42>."
    )
    assert text("en", "error.not_member") == "Join the study group first with `/member join`."
    away = "예정된 부재가 없습니다. `/부재 시작:날짜 끝:날짜`로 등록하세요."
    assert text("ko", "away.none", command=discord) == away
    assert text("en", "away.none", command=discord).endswith("`/away from:DATE to:DATE`.")
    assert text("ko", "lessons.run_hint", {"id": "l01"}) == "실행: `/lesson run id:l01`"
    assert (
        text("ko", "lessons.run_hint", {"id": "l01"}, command=discord)
        == "실행: `/레슨 실행 아이디:l01`"
    )
    needs = text("ko", "error.progress_score_needs_task", {"tasks": "감성"}, command=discord)
    assert needs == "어느 과제의 점수인지 `과제` 옵션으로 알려 주세요. 과제: 감성"


def test_a_command_reference_as_a_parameter() -> None:
    discord = discord_commands(_shown)
    ref = CommandRef.parse("member add user:민지")
    assert ref == CommandRef("member add", (("user", "민지"),))
    assert text("ko", "mod.schedule_line", {"day": "-", "name": ref}) == "- `/member add user:민지`"
    shown = text("ko", "mod.schedule_line", {"day": "-", "name": ref}, command=discord)
    assert shown == "- `/관리 멤버 추가 사용자:민지`"
    forced = CommandRef("problem pick", (("force", "true"),))
    assert text("ko", "mod.schedule_line", {"day": "-", "name": forced}, command=discord) == (
        "- `/문제 고르기 강제:켬`"
    )
    option = OptionRef("progress log", "note")
    assert (
        text("ko", "mod.schedule_line", {"day": "-", "name": option}, command=discord) == "- `메모`"
    )
    stored = reply_to_json(Reply.public("mod.schedule_line", day="-", name=[ref, option]))
    assert reply_from_json(stored).params["name"] == [ref, option]


def test_braces_and_missing_parameters() -> None:
    assert parameters("{{literal}} {a}{을} {/lesson run id:{id}} {n|x|xs} {option:away from}") == {
        "a",
        "id",
        "n",
    }
    assert text("en", "mod.today", {"day": "Mon"}) == "Mon: today's moderator is {name}."
