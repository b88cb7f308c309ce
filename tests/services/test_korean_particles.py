"""Korean particles take the form the word before them calls for, as a reader says it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n.particles import PARTICLES, attach, choose, ending

pytestmark = pytest.mark.sqlite_only


@pytest.mark.parametrize(
    ("word", "particle", "expected"),
    [
        # Hangul: a final consonant, ㄹ, none
        ("과제", "을", "과제를"),
        ("문제", "를", "문제를"),
        ("김민준", "를", "김민준을"),
        ("서울", "으로", "서울로"),
        ("부산", "로", "부산으로"),
        ("토마토", "으로", "토마토로"),
        ("하나", "은", "하나는"),
        ("책", "는", "책은"),
        ("민지", "이", "민지가"),
        ("서준", "가", "서준이"),
        ("사과", "과", "사과와"),
        ("수박", "와", "수박과"),
        ("물", "이나", "물이나"),
        ("차", "이나", "차나"),
        ("달", "이라", "달이라"),
        ("해", "라", "해라"),
        ("민준", "아", "민준아"),
        ("지수", "아", "지수야"),
        ("학생", "예요", "학생이에요"),
        ("의사", "이에요", "의사예요"),
        # numbers, read in Korean
        ("12899번", "을", "12899번을"),
        ("12899", "을", "12899를"),
        ("1", "을", "1을"),
        ("1", "으로", "1로"),
        ("2", "이", "2가"),
        ("3", "으로", "3으로"),
        ("4", "은", "4는"),
        ("5", "과", "5와"),
        ("6", "이", "6이"),
        ("7", "로", "7로"),
        ("8", "을", "8을"),
        ("9", "을", "9를"),
        ("0", "이", "0이"),
        ("10", "을", "10을"),
        ("20", "으로", "20으로"),
        ("100", "이", "100이"),
        ("1000", "은", "1000은"),
        ("1,000", "은", "1,000은"),
        ("10000", "이", "10000이"),
        ("100000000", "이", "100000000이"),
        ("1000000000000", "이", "1000000000000가"),  # 1조
        ("0.5", "를", "0.5를"),
        ("66.79", "을", "66.79를"),
        ("3.0", "이", "3.0이"),
        ("007", "을", "007을"),
        ("１２", "를", "１２를"),
        # Latin: acronyms by their letters' names, words as Korean writes them
        ("f1", "로", "f1로"),
        ("micro_f1", "으로", "micro_f1로"),
        ("F1", "이", "F1이"),
        ("mcc", "을", "mcc를"),
        ("MCC", "을", "MCC를"),
        ("sql", "을", "sql을"),
        ("SQL", "로", "SQL로"),
        ("auc", "은", "auc는"),
        ("LLM", "이", "LLM이"),
        ("dm", "으로", "dm으로"),
        ("Python", "을", "Python을"),
        ("python", "으로", "python으로"),
        ("PyTorch", "를", "PyTorch를"),
        ("java", "을", "java를"),
        ("kotlin", "과", "kotlin과"),
        ("bob", "이", "bob이"),
        ("alice", "가", "alice가"),
        ("carol", "으로", "carol로"),
        ("dora", "를", "dora를"),
        ("accuracy", "로", "accuracy로"),
        ("tokenizer", "을", "tokenizer를"),
        ("baseline", "이", "baseline이"),
        ("week", "을", "week를"),
        ("bot", "이", "bot이"),
        ("test", "을", "test를"),
        ("en", "으로", "en으로"),
        ("ko", "으로", "ko로"),
        ("join", "으로", "join으로"),
        ("show", "으로", "show로"),
        ("Asia/Seoul", "으로", "Asia/Seoul로"),
        # marks read through, a parenthesis skipped to the word before it
        ("'타겟'", "과", "'타겟'과"),
        ("[타일링]", "을", "[타일링]을"),
        ("`/member join`", "으로", "`/member join`으로"),
        ("`/멤버 참여`", "으로", "`/멤버 참여`로"),
        ('"f1"', "이", '"f1"이'),
        ("12월 7일(월)", "은", "12월 7일(월)은"),
        ("한 일(`note`)", "을", "한 일(`note`)을"),
        ("기록 #12 (12월 8일(화))", "을", "기록 #12 (12월 8일(화))를"),
        ("(메모)", "을", "(메모)를"),
        ("ㄱ", "이", "ㄱ이"),
        ("ㄹ", "으로", "ㄹ로"),
        ("50%", "를", "50%를"),
    ],
)
def test_attach(word: str, particle: str, expected: str) -> None:
    assert attach(word, particle) == expected


def test_either_form_names_the_particle() -> None:
    for consonant, vowel in set(PARTICLES.values()):
        assert choose("책", consonant) == choose("책", vowel) == consonant
        assert choose("차", consonant) == choose("차", vowel) == vowel


def test_text_without_a_clue_takes_the_vowel_form() -> None:
    assert ending("") == "vowel"
    assert ending("🎉") == "vowel"
    assert attach("", "을") == "를"


@given(st.text(max_size=30), st.sampled_from(sorted(PARTICLES)))
def test_any_text_gets_one_form_never_both(word: str, particle: str) -> None:
    form = choose(word, particle)
    assert form in PARTICLES[particle]
    assert "(" not in form


@given(st.integers(min_value=0, max_value=10**15))
def test_numbers_follow_their_korean_reading(number: int) -> None:
    assert ending(str(number)) == _reading_ending(number)


def _reading_ending(number: int) -> str:
    """The last syllable of a number read in Korean (일, 이, 삼, ..., 십, 백, 천, 만, 억, 조)."""
    if number == 0:
        return "consonant"  # 영
    units = ["", "십", "백", "천"]
    myriads = ["", "만", "억", "조"]
    digits = "영일이삼사오육칠팔구"
    last = ""
    for group_index in range(4):
        group = number // 10 ** (4 * group_index) % 10000
        if group:
            for place in range(4):
                digit = group // 10**place % 10
                if digit:
                    last = (digits[digit] if place == 0 else units[place]) + myriads[group_index]
                    break
            break
    syllable = last[-1]
    jong = (ord(syllable) - 0xAC00) % 28
    return "vowel" if jong == 0 else "rieul" if jong == 8 else "consonant"
