"""The ``/progress log`` form: opened when no note is given, submitted through discord.py's
own modal path. The core is replaced by a recorder here, so these tests pin what the form
sends to the command, whatever the command does with it (see ``test_discord_progress``).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.modals import FORM_FIELDS, FORM_PREFIX, parse_score
from bot.commands import Call
from bot.errors import InvalidInput
from bot.replies import Mention, Reply
from tests.discord.fakes import ALICE, BOB, Gateway, Person, Sent

FORM = 9  # the interaction callback type of a modal
PARAGRAPH = 2


class InvokeRecorder:
    """Stands in for ``Core.invoke``: records each call and answers a public message."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], Call, dict[str, Any]]] = []

    async def __call__(
        self,
        path: tuple[str, ...],
        call: Call,
        options: dict[str, Any],
        notify: Any = None,
    ) -> Reply:
        self.calls.append((path, call, options))
        return Reply.public("member.joined", name=Mention(call.actor.user_id, call.actor.name))


@pytest.fixture
def invoked(studybot: StudyBot, monkeypatch: pytest.MonkeyPatch) -> InvokeRecorder:
    recorder = InvokeRecorder()
    monkeypatch.setattr(studybot.core, "invoke", recorder)
    return recorder


async def log(gateway: Gateway, person: Person = ALICE, **options: Any) -> list[Sent]:
    return await gateway.command("progress log", person, **options)


async def test_log_without_a_note_opens_the_form(gateway: Gateway, invoked: InvokeRecorder) -> None:
    (form,) = await log(gateway)
    assert (form.via, form.type) == ("response", FORM)
    assert form.data["custom_id"].startswith(FORM_PREFIX)
    assert form.data["title"] == "오늘의 진행 기록"
    inputs = form.inputs
    assert tuple(inputs) == FORM_FIELDS == ("note", "task", "score", "model", "repro")
    note = inputs["note"]
    assert note["style"] == PARAGRAPH and note["required"] is True
    assert note["max_length"] == 500
    assert [inputs[name]["max_length"] for name in ("task", "model", "repro")] == [50, 100, 300]
    assert note["label"] == "오늘 한 일"
    assert all(inputs[name]["required"] is False for name in FORM_FIELDS[1:])
    assert inputs["score"]["placeholder"] == "예: 0.812"
    assert "value" not in inputs["task"]  # nothing given, nothing filled in
    assert invoked.calls == []  # nothing is logged until the form comes back


async def test_submitting_the_form_runs_the_command(
    gateway: Gateway, invoked: InvokeRecorder
) -> None:
    (form,) = await log(gateway)
    (answer,) = await gateway.submit(
        form,
        {"note": "  tokenizer baseline  ", "task": "sentiment", "score": "0.812", "model": "klue"},
    )
    ((path, call, options),) = invoked.calls
    assert path == ("progress", "log")
    assert call.actor.user_id == ALICE.id and call.actor.name == "alice"
    assert options == {
        "note": "tokenizer baseline",
        "task": "sentiment",
        "score": 0.812,
        "model": "klue",
    }
    assert (answer.via, answer.type) == ("response", 4) and not answer.ephemeral
    assert answer.content == "<@101> 님이 스터디에 참여했습니다. 환영합니다!"


async def test_options_fill_the_form_and_the_rest_travels_with_it(
    gateway: Gateway, invoked: InvokeRecorder
) -> None:
    (form,) = await log(gateway, task="sentiment", score=0.8, metric="f1", submitted=True)
    inputs = form.inputs
    assert inputs["task"]["value"] == "sentiment"
    assert inputs["score"]["value"] == "0.8"
    assert "value" not in inputs["note"]

    await gateway.submit(form, {"note": "ensemble of three seeds", "task": ""})
    ((_, _, options),) = invoked.calls
    # The task was cleared in the form; metric and submitted have no field and are kept.
    assert options == {
        "note": "ensemble of three seeds",
        "score": 0.8,
        "metric": "f1",
        "submitted": True,
    }


async def test_log_with_a_note_skips_the_form(gateway: Gateway, invoked: InvokeRecorder) -> None:
    (answer,) = await log(gateway, note="read the KLUE paper", score=0.5)
    assert answer.type == 4
    ((path, _, options),) = invoked.calls
    assert path == ("progress", "log")
    assert options == {"note": "read the KLUE paper", "score": 0.5}


async def test_a_score_that_is_not_a_number_is_refused_privately(
    gateway: Gateway, invoked: InvokeRecorder
) -> None:
    (form,) = await log(gateway)
    (refused,) = await gateway.submit(form, {"note": "baseline", "score": "0.8점"})
    assert refused.type == 4 and refused.ephemeral
    assert refused.content == "점수는 숫자로 적어 주세요 (예: 0.812). 입력한 값: '0.8점'"
    assert invoked.calls == []


async def test_two_members_writing_at_once_keep_their_own_forms(
    gateway: Gateway, invoked: InvokeRecorder
) -> None:
    (alices,) = await log(gateway, ALICE)
    (bobs,) = await log(gateway, BOB)
    assert alices.data["custom_id"] != bobs.data["custom_id"]

    await gateway.submit(bobs, {"note": "bob's note"}, BOB)
    await gateway.submit(alices, {"note": "alice's note"}, ALICE)
    logged = [(call.actor.user_id, options["note"]) for _, call, options in invoked.calls]
    assert logged == [(BOB.id, "bob's note"), (ALICE.id, "alice's note")]


async def test_the_form_speaks_the_groups_language(gateway: Gateway, studybot: StudyBot) -> None:
    await gateway.command("schedule set", ALICE, admin=True, locale="en")
    (form,) = await log(gateway)
    assert form.data["title"] == "Today's progress"
    assert form.inputs["note"]["label"] == "What did you do?"


async def test_the_form_is_refused_in_direct_messages(gateway: Gateway) -> None:
    (refused,) = await gateway.command("progress log", guild_id=None, user_locale="ko")
    assert refused.type == 4 and refused.ephemeral
    assert refused.content.startswith("스터디봇 명령은")


@pytest.mark.parametrize(
    ("typed", "score"), [("0.812", 0.812), (" 1e-3 ", 0.001), ("-2", -2.0), ("81", 81.0)]
)
def test_scores_are_read_as_numbers(typed: str, score: float) -> None:
    assert parse_score(typed) == score


@pytest.mark.parametrize("typed", ["", "abc", "0.8점", "81.2%", "nan", "inf", "0,812"])
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_score(typed)
    assert refused.value.key == "discord.bad_score"
    assert refused.value.params == {"value": typed}
