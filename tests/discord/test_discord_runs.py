"""/lesson run, /run (code option or form) and "Run Python" on a message, through the
command tree, with a fake sandbox (the real one is tested in tests/sandbox and
tests/console/test_lesson_runs.py)."""

from __future__ import annotations

import pytest

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.runs import RUN_FORM_PREFIX
from bot.services.code_runs import CodeRunner
from sandbox.result import OutputFile, RunResult
from tests.discord.fakes import ALICE, BOB, Gateway, message_payload
from tests.services.test_code_runs import PNG, FakeSandbox

DEFERRED = 5
FORM = 9
PARAGRAPH = 2


@pytest.fixture
def sandbox(studybot: StudyBot) -> FakeSandbox:
    box = FakeSandbox(RunResult(status="ok", stdout="2\n", wall_ms=420, device="cuda:0"))
    studybot.core.runner = CodeRunner.with_sandbox(studybot.core.services, box)
    return box


async def test_lesson_run_defers_then_posts_output_and_images(
    gateway: Gateway, sandbox: FakeSandbox
) -> None:
    sandbox.result = RunResult(
        status="ok",
        stdout="grad: tensor([2., 4.])\n",
        wall_ms=1500,
        device="cuda:0",
        files=(OutputFile("plot.png", PNG, "png"),),
    )
    deferred, result = await gateway.command("lesson run", BOB, id="backward-gradient")
    assert (deferred.via, deferred.type) == ("response", DEFERRED)
    assert result.via == "edit"
    first, *rest = result.content.split("\n")
    assert first.startswith("레슨 `backward-gradient` (")
    assert first.endswith(": 완료 · cuda:0 · 1.50초")
    assert rest == ["```", "grad: tensor([2., 4.])", "```"]
    assert result.files == [("plot.png", PNG)]
    assert sandbox.jobs[0][1].kind == "lesson"


async def test_run_with_code_needs_membership_and_neutralises_mentions(
    gateway: Gateway, sandbox: FakeSandbox
) -> None:
    *_, refused = await gateway.command("run", ALICE, code="print(1)")
    assert refused.ephemeral and "`/멤버 참여`" in refused.content
    assert sandbox.jobs == []

    await gateway.command("member join", ALICE)
    sandbox.result = RunResult(status="ok", stdout="@everyone ``` <@102>\n")
    _deferred, result = await gateway.command("run", ALICE, code="print('@everyone')")
    assert "@everyone" not in result.content
    assert "@\u200beveryone" in result.content and "<@\u200b102>" in result.content
    assert result.content.count("```") == 2
    assert sandbox.jobs[0] == ("print('@everyone')", sandbox.jobs[0][1])
    assert sandbox.jobs[0][1].member_id == ALICE.id


async def test_queue_position_is_sent_before_the_result(
    gateway: Gateway, sandbox: FakeSandbox
) -> None:
    await gateway.command("member join", ALICE)
    sandbox.position = 3
    deferred, waiting, queued, result = await gateway.command("run", ALICE, code="print(2)")
    assert deferred.type == DEFERRED and not deferred.ephemeral  # the result will be public
    # "thinking…" becomes a public waiting line first, or Discord would turn the private
    # notice into an edit of it that everyone sees
    assert waiting.via == "edit" and waiting.content == "코드를 실행할 차례를 기다리고 있습니다…"
    assert queued.via == "followup" and not queued.edits_original
    assert queued.ephemeral and queued.content.startswith("대기 3번째입니다.")
    assert result.via == "edit" and not result.ephemeral and "```\n2\n```" in result.content


async def test_run_without_code_opens_a_form_that_runs_it(
    gateway: Gateway, sandbox: FakeSandbox
) -> None:
    await gateway.command("member join", ALICE)
    (form,) = await gateway.command("run", ALICE)
    assert (form.via, form.type) == ("response", FORM)
    assert form.data["custom_id"].startswith(RUN_FORM_PREFIX)
    assert form.data["title"] == "파이썬 실행"
    assert form.inputs["code"]["style"] == PARAGRAPH
    assert sandbox.jobs == []

    answers = await gateway.submit(form, {"code": "print(1+1)"}, ALICE)
    assert answers[0].type == DEFERRED
    assert "```\n2\n```" in answers[-1].content
    assert sandbox.jobs[0][0] == "print(1+1)"


async def test_run_python_on_a_message_runs_its_python_block(
    gateway: Gateway, sandbox: FakeSandbox
) -> None:
    await gateway.command("member join", ALICE)
    content = "try this:\n```\nignored\n```\n```python\nprint(1 + 1)\n```"
    message = message_payload(content, [])
    data = {
        "id": "2",
        "name": "Run Python",
        "type": 3,
        "target_id": message["id"],
        "resolved": {"messages": {message["id"]: message}},
    }
    answers = await gateway.send_command(data, ALICE)
    assert answers[0].type == DEFERRED
    assert "```\n2\n```" in answers[-1].content
    assert sandbox.jobs[0][0] == "print(1 + 1)"


async def test_without_a_sandbox_runs_say_why(gateway: Gateway, studybot: StudyBot) -> None:
    studybot.core.runner = CodeRunner(studybot.core.services, None, reason="bubblewrap is missing")
    *_, refused = await gateway.command("lesson run", BOB, id="backward-gradient")
    assert refused.ephemeral
    assert refused.content == "여기서는 코드를 실행할 수 없습니다: bubblewrap is missing"
