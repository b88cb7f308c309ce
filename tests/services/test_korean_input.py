"""What Koreans type is understood: 예/아니요 and 켬/끔 for yes/no, full-width digits and
signs (as a Korean input method types them) in numbers, dates and times, languages and
periods by their Korean names, and Korean time units in the console."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from bot.adapters.console.options import Invocation, convert_options
from bot.adapters.console.parser import ScriptError, parse_duration
from bot.commands import COMMANDS, UserRef
from bot.errors import InvalidInput
from bot.i18n import text
from bot.services.groups import parse_bool, parse_date, parse_locale, parse_time
from tests.conftest import Harness

pytestmark = pytest.mark.sqlite_only

MONDAY = date(2026, 12, 7)


@pytest.mark.parametrize("word", ["예", "네", "응", "켬", "켜기", "참", "on", "YES", "true", "１"])
def test_yes_words(word: str) -> None:
    assert parse_bool(word) is True


@pytest.mark.parametrize(
    "word", ["아니오", "아니요", "아니", "끔", "끄기", "거짓", "off", "No", "０"]
)
def test_no_words(word: str) -> None:
    assert parse_bool(word) is False


@pytest.mark.parametrize("word", ["글쎄", "maybe", "", "예예"])
def test_other_words_are_refused_in_korean(word: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_bool(word)
    assert caught.value.key == "error.bad_bool"
    said = text("ko", caught.value.key, caught.value.params)
    assert said.endswith("켬/끔 값이 아닙니다. 켬 또는 끔으로 적어 주세요.")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("０９：３０", time(9, 30)), ("１９:００", time(19, 0)), (" ９:０５ ", time(9, 5))],
)
def test_full_width_times(typed: str, expected: time) -> None:
    assert parse_time(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("２０２６－１２－２４", date(2026, 12, 24)),
        ("１２－０９", date(2026, 12, 9)),
        ("１２／７", date(2026, 12, 7)),
        ("１２．９", date(2026, 12, 9)),
    ],
)
def test_full_width_dates(typed: str, expected: date) -> None:
    assert parse_date(typed, MONDAY) == expected


def _options(path: str, **raw: str) -> dict[str, object]:
    command = COMMANDS[tuple(path.split())]
    return convert_options(Invocation(command, tuple(raw.items())), lambda name: UserRef(1, name))


def test_console_options_take_full_width_numbers_and_korean_yes_no() -> None:
    assert _options("mod schedule", days="１０") == {"days": 10}
    assert _options("progress log", note="메모", score="６６．７９", submitted="예") == {
        "note": "메모",
        "score": 66.79,
        "submitted": True,
    }
    assert _options("schedule set", holidays="아니요", reminder="３０") == {
        "holidays": False,
        "reminder": 30,
    }
    assert _options("competition task", name="absa", higher="끔") == {
        "name": "absa",
        "higher": False,
    }


def test_a_console_yes_no_refusal_says_what_to_write_in_korean() -> None:
    with pytest.raises(InvalidInput) as caught:
        _options("mod swap", **{"with": "bob", "force": "글쎄"})
    said = text("ko", caught.value.key, caught.value.params)
    assert said == (
        "force 옵션 값 '글쎄'를 이해할 수 없습니다. "
        "켬 또는 끔으로 적어 주세요 (예, 아니요도 됩니다)."
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("한국어", "ko"), ("한글", "ko"), ("영어", "en"), ("English", "en"), ("ＫＯ", "ko")],
)
def test_languages_by_name(typed: str, expected: str) -> None:
    assert parse_locale(typed) == expected


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_locale("일본어")
    assert refused.value.key == "error.bad_locale"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("30분", timedelta(minutes=30)),
        ("1시간 30분", timedelta(hours=1, minutes=30)),
        ("2시", timedelta(hours=2)),
        ("1일", timedelta(days=1)),
        ("９０초", timedelta(seconds=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
    ],
)
def test_console_durations_in_korean(typed: str, expected: timedelta) -> None:
    assert parse_duration(typed) == expected


@pytest.mark.parametrize("typed", ["30", "분", "1시간반", "1 week"])
def test_console_durations_that_mean_nothing_are_refused(typed: str) -> None:
    with pytest.raises(ScriptError):
        parse_duration(typed)


def test_periods_as_typed_in_korean(harness: Harness) -> None:
    harness.join("민수")
    for typed in ("주간", "일주일", "월간", "한 달"):
        assert harness.invoke("민수", "progress group", period=typed).key == "progress.group"
