"""Korean particles (조사) chosen from the word before them.

Korean writes 을/를, 은/는, 이/가, 과/와, 으로/로 ... differently after a final consonant
(받침) and after a vowel; 으로/로 also takes 로 after ㄹ. Printing both forms at once, one
in brackets, reads like a machine wrote it, so the catalogues name a particle (``{을}``) and the
renderer picks the form from the text before it, the way a Korean reader would say it:

- Hangul: the last syllable's final consonant (Unicode decomposition: (code - 0xAC00) % 28).
- Digits: the Korean reading of the number's end — 1 일, 2 이, 3 삼, 6 육, 7 칠, 8 팔,
  0 영; round numbers by their unit: 10 십, 100 백, 1000 천, 10000 만, 10⁸ 억, 10¹² 조
  (``12899번``, ``f1로``, ``10을``, ``20000을``, ``0.5를``).
- Latin letters: an acronym (``SQL``, ``mcc``, ``F``) by the name of its last letter as
  Koreans say it (에스큐엘 → ``SQL을``, 엠씨씨 → ``mcc를``); a word by a small rule of how
  loanwords are written in Hangul (``Python`` 파이썬 → 을, ``bob`` 밥 → 을,
  ``carol`` 캐럴 → 로, ``accuracy`` 애큐러시 → 를, ``tokenizer`` 토크나이저 → 를).
- Closing quotes, square brackets and code marks are read through (``'{value}'을`` follows
  the value); a round parenthesis is skipped to the word before it, as in ``서울(Seoul)은``.

The set of particles is ``PARTICLES``; ``choose`` and ``attach`` are the whole API.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = ["PARTICLES", "Ending", "attach", "choose", "ending"]

Ending = Literal["consonant", "rieul", "vowel"]

# particle name (either form may be written) → (after a consonant, after a vowel)
_FORMS: tuple[tuple[str, str], ...] = (
    ("을", "를"),
    ("은", "는"),
    ("이", "가"),
    ("과", "와"),
    ("으로", "로"),
    ("이나", "나"),
    ("이랑", "랑"),
    ("이며", "며"),
    ("이라", "라"),
    ("이에요", "예요"),
    ("아", "야"),
)
PARTICLES: dict[str, tuple[str, str]] = {form: pair for pair in _FORMS for form in pair}

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL_JONG = 8  # index of ㄹ among the final consonants

# compatibility jamo as a word's last letter, read by their names (기역, 니은, ..., 아, 야)
_JAMO_CONSONANTS = "ㄱㄲㄳㄴㄵㄶㄷㄸㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅃㅄㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"

# digits read as Korean numbers: 영 일 이 삼 사 오 육 칠 팔 구
_DIGIT: dict[str, Ending] = {
    "0": "consonant",
    "1": "rieul",
    "2": "vowel",
    "3": "consonant",
    "4": "vowel",
    "5": "vowel",
    "6": "consonant",
    "7": "rieul",
    "8": "rieul",
    "9": "vowel",
}
# the unit a round number ends in, by its count of trailing zeros: 십 백 천 만 ... 억 ... 조
_SMALL_UNITS: dict[int, Ending] = {1: "consonant", 2: "consonant", 3: "consonant"}
_MYRIADS: dict[int, Ending] = {1: "consonant", 2: "consonant", 3: "vowel", 4: "consonant"}

# Latin letters by their Korean names: 에이 비 씨 디 이 에프 지 에이치 아이 제이 케이 엘 엠
# 엔 오 피 큐 알 에스 티 유 브이 더블유 엑스 와이 제트
_LETTER: dict[str, Ending] = {letter: "vowel" for letter in "abcdefghijkopqstuvwxy"}
_LETTER.update({"l": "rieul", "r": "rieul", "m": "consonant", "n": "consonant", "z": "vowel"})

_VOWEL_LETTERS = set("aeiouy")
# read through to the word inside: quotes, square brackets, code marks, emphasis, ...
_TRANSPARENT = set("'\"`’”»」』]}>*_~.,!?…:;") | {" ", "\u00a0"}
_CLOSE_OPEN = {")": "(", "）": "（"}
_SYMBOLS: dict[str, Ending] = {
    "%": "vowel",  # 퍼센트
    "+": "vowel",  # 플러스
    "#": "vowel",  # 샵
    "/": "vowel",  # 슬래시
    "&": "consonant",  # 앤드
    "=": "vowel",  # 이퀄
    "°": "vowel",  # 도
    "℃": "vowel",
}
_NUMBER_END = re.compile(r"(\d[\d,]*)(?:\.(\d+))?$")
_WORD_END = re.compile(r"[A-Za-z]+$")


def ending(text: str) -> Ending:
    """How ``text`` ends when read aloud in Korean: with a consonant, with ㄹ, or with a
    vowel (also the answer for text that gives no clue, such as an emoji)."""
    end = len(text)
    while end > 0:
        char = text[end - 1]
        if char in _CLOSE_OPEN:
            start = _opening(text, end - 1)
            before = text[:start].rstrip()
            if before:  # 서울(Seoul)은: the word before the parenthesis decides
                end = len(before)
                continue
            end -= 1  # "(text)" alone: read what is inside
            continue
        if char in _TRANSPARENT:
            end -= 1
            continue
        return _ending_at(text[:end])
    return "vowel"


def _opening(text: str, close: int) -> int:
    """Index of the parenthesis that the one at ``close`` closes (0 when unbalanced)."""
    closing = text[close]
    opening = _CLOSE_OPEN[closing]
    depth = 0
    for index in range(close, -1, -1):
        if text[index] == closing:
            depth += 1
        elif text[index] == opening:
            depth -= 1
            if depth == 0:
                return index
    return 0


def _ending_at(text: str) -> Ending:
    char = text[-1]
    code = ord(char)
    if _HANGUL_FIRST <= code <= _HANGUL_LAST:
        jong = (code - _HANGUL_FIRST) % 28
        if jong == 0:
            return "vowel"
        return "rieul" if jong == _RIEUL_JONG else "consonant"
    if char in _JAMO_CONSONANTS:
        return "rieul" if char == "ㄹ" else "consonant"  # 리을; 기역, 니은, ...
    if "ㅏ" <= char <= "ㅣ":
        return "vowel"
    if char.isdigit() and char.isascii():
        return _number_ending(text)
    if "０" <= char <= "９":
        return _number_ending(text[:-1] + chr(code - ord("０") + ord("0")))
    if char.isascii() and char.isalpha():
        match = _WORD_END.search(text)
        assert match is not None
        return _latin_ending(match.group())
    return _SYMBOLS.get(char, "vowel")


def _number_ending(text: str) -> Ending:
    match = _NUMBER_END.search(text)
    assert match is not None
    whole, fraction = match.group(1).replace(",", ""), match.group(2)
    if fraction:  # 0.5 → 영 점 오: digits after the point are read one by one
        return _DIGIT[fraction[-1]]
    if _is_exponent(text, match.start()):  # 1e+06: read the exponent's digits
        return _DIGIT[whole[-1]]
    zeros = len(whole) - len(whole.rstrip("0"))
    if zeros == 0:
        return _DIGIT[whole[-1]]  # 12899 → 구, 007 → 칠
    if whole.startswith("0"):
        return "consonant"  # 0 영; a zero-padded code like 0010 is read digit by digit
    if zeros >= 4:  # 만, 억, 조, 경 close the reading: 20000 이만, 250000000000000 이백오십조
        return _MYRIADS.get(zeros // 4, "consonant")
    return _SMALL_UNITS[zeros]  # 십, 백, 천


def _is_exponent(text: str, start: int) -> bool:
    head = text[:start].rstrip("+-")
    return len(head) >= 2 and head[-1] in "eE" and head[-2].isdigit()


def _latin_ending(word: str) -> Ending:
    lower = word.lower()
    if len(lower) == 1 or word.isupper() or not _VOWEL_LETTERS & set(lower):
        return _LETTER[lower[-1]]  # an acronym: SQL 에스큐엘, mcc 엠씨씨, F1's F 에프
    return _loanword_ending(lower)


def _loanword_ending(word: str) -> Ending:
    """The last sound of an English word as Korean writes it (외래어 표기법, roughly):
    l → ㄹ (캐럴); m, n, ng → a consonant (파이썬); r → a vowel (토크나이저); a short vowel
    before b, p, t, k, ck → a consonant (밥, 톱, 봇, 백); other stops and fricatives end in
    으 (테스트, 로그); a silent e leaves the consonant before it (라인, 코드)."""
    last = word[-1]
    if last == "e" and len(word) > 2 and word[-2] not in _VOWEL_LETTERS:
        before = word[-2]
        if before in "mn":
            return "consonant"  # time 타임, line 라인
        return "vowel"  # code 코드, base 베이스, table 테이블, core 코어
    if last == "l":
        return "rieul"
    if last in "mn" or word.endswith("ng"):
        return "consonant"
    if word.endswith("ck") or (last in "bptk" and _short_vowel_before(word)):
        return "consonant"
    return "vowel"


def _short_vowel_before(word: str) -> bool:
    """A single vowel letter before the last letter (bob, top, bot), not a pair (week)."""
    return (
        len(word) >= 2
        and word[-2] in "aeiou"
        and (len(word) == 2 or word[-3] not in _VOWEL_LETTERS)
    )


def choose(text: str, particle: str) -> str:
    """The form of ``particle`` (either form may be given: 을 or 를) that follows ``text``."""
    with_consonant, with_vowel = PARTICLES[particle]
    end = ending(text)
    if with_consonant == "으로":
        return "으로" if end == "consonant" else "로"
    return with_consonant if end != "vowel" else with_vowel


def attach(text: str, particle: str) -> str:
    """``text`` followed by the right form of ``particle``: ``attach("f1", "로")`` → f1로."""
    return text + choose(text, particle)
