"""The console's line grammar and option conversion, in-process."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.adapters.console.options import (
    IncompleteCommand,
    convert_options,
    find_command,
    usage,
)
from bot.adapters.console.parser import (
    Advance,
    Quit,
    ScriptError,
    SetTime,
    Speak,
    parse_duration,
    parse_line,
)
from bot.commands import COMMANDS, ChannelRef, UserRef
from bot.errors import InvalidInput
from bot.replies import Text


def users(name: str) -> UserRef:
    return UserRef(len(name), name)


def options(line: str) -> dict[str, object]:
    parsed = parse_line(line)
    assert isinstance(parsed, Speak)
    return convert_options(find_command(parsed.tokens), users)


def refusal(line: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        options(line)
    return caught.value


def test_speaker_and_quoted_values() -> None:
    parsed = parse_line('alice: /progress log note:"tokenizer baseline" score:0.812')
    assert parsed == Speak("alice", ("progress", "log", "note:tokenizer baseline", "score:0.812"))
    assert parse_line("민수 : /member join") == Speak("민수", ("member", "join"))


def test_comments_and_blank_lines_are_skipped() -> None:
    assert parse_line("# alice: /member join") is None
    assert parse_line("   ") is None


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("alice /member join", "console.bad_line"),
        ("alice: member join", "console.bad_line"),
        ("alice smith: /member join", "console.bad_line"),
        ('alice: /away from:"12-01', "console.bad_quoting"),
        (":sleep 1h", "console.unknown_control"),
        (":advance", "console.bad_duration"),
        (":advance 1h30", "console.bad_duration"),
        (":advance -5m", "console.bad_duration"),
        (":time tomorrow", "console.bad_time"),
    ],
)
def test_broken_lines(line: str, key: str) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_line(line)
    assert caught.value.key == key


def test_control_lines() -> None:
    assert parse_line(":advance 1h30m") == Advance(timedelta(hours=1, minutes=30))
    assert parse_line(":time 2026-12-01 18:59") == SetTime(datetime(2026, 12, 1, 18, 59))
    aware = parse_line(":time 2026-12-07T08:00+09:00")
    assert isinstance(aware, SetTime)
    assert aware.when.utcoffset() == timedelta(hours=9)
    assert parse_line(":quit") == Quit()


def test_durations_combine_units() -> None:
    assert parse_duration("1d2h3m4s") == timedelta(days=1, hours=2, minutes=3, seconds=4)
    assert parse_duration("90m") == timedelta(minutes=90)


def test_longest_command_path_wins() -> None:
    parsed = parse_line("alice: /away from:12-01 to:12-02")
    assert isinstance(parsed, Speak)
    invocation = find_command(parsed.tokens)
    assert invocation.command.path == ("away",)
    assert invocation.raw_options == (("from", "12-01"), ("to", "12-02"))
    assert find_command(("mod", "accept", "id:3")).command.path == ("mod", "accept")


def test_option_kinds_are_converted() -> None:
    assert options("a: /mod accept id:3") == {"id": 3}
    assert options("a: /mod swap with:@bob member:carol force:yes") == {
        "with": UserRef(3, "bob"),
        "member": UserRef(5, "carol"),
        "force": True,
    }
    assert options("a: /schedule set channel:#general holidays:off review_time:09:30") == {
        "channel": ChannelRef(1, "general"),
        "holidays": False,
        "review_time": "09:30",
    }


def test_unknown_command() -> None:
    error = refusal("alice: /fly high")
    assert (error.key, error.params) == ("error.unknown_command", {"name": "/fly high"})


def test_a_group_alone_or_an_unknown_subcommand_lists_the_groups_commands() -> None:
    alone = refusal("alice: /mod")
    assert isinstance(alone, IncompleteCommand)
    assert (alone.key, alone.params) == ("console.subcommands", {"group": "/mod"})
    unknown = refusal("alice: /MOD fly days:3")
    assert isinstance(unknown, IncompleteCommand)
    assert (unknown.key, unknown.params) == (
        "console.unknown_subcommand",
        {"group": "/mod", "name": "/MOD fly"},
    )
    mod = [c for c in COMMANDS.values() if c.path[0] == "mod"]
    assert [line.params["usage"] for line in unknown.lines] == [usage(c) for c in mod]
    assert unknown.lines[0] == Text(
        "console.help_command",
        {"usage": "/mod today", "description": Text("cmd.mod.today.description")},
    )


def test_unknown_option_lists_the_options() -> None:
    error = refusal("alice: /mod swap who:bob")
    assert error.key == "error.unknown_option"
    assert error.params == {"command": "/mod swap", "name": "who", "options": "with, member, force"}


def test_missing_required_option() -> None:
    error = refusal("alice: /mod swap force:on")
    assert (error.key, error.params) == (
        "error.missing_option",
        {"command": "/mod swap", "name": "with"},
    )


@pytest.mark.parametrize(
    ("line", "name", "value", "hint"),
    [
        ("a: /mod accept id:one", "id", "one", "console.hint_int"),
        ("a: /mod swap with:bob force:maybe", "force", "maybe", "console.hint_bool"),
        ("a: /member add user:@", "user", "@", "console.hint_user"),
        ("a: /schedule set channel:#", "channel", "#", "console.hint_channel"),
    ],
)
def test_bad_values(line: str, name: str, value: str, hint: str) -> None:
    error = refusal(line)
    assert error.key == "error.bad_option"
    assert error.params == {"name": name, "value": value, "hint": Text(hint)}


def test_users_are_resolved_only_when_every_option_is_fine() -> None:
    seen: list[str] = []

    def spy(name: str) -> UserRef:
        seen.append(name)
        return users(name)

    parsed = parse_line("a: /mod swap with:bob force:maybe")
    assert isinstance(parsed, Speak)
    with pytest.raises(InvalidInput):
        convert_options(find_command(parsed.tokens), spy)
    assert seen == []
