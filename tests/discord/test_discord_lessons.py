"""/lesson list and /lesson show through the command tree, with id autocomplete."""

from __future__ import annotations

from tests.discord.fakes import ALICE, Gateway


async def test_list_is_private_and_grouped_by_day(gateway: Gateway) -> None:
    (listing,) = await gateway.command("lesson list", ALICE)
    assert listing.via == "response" and listing.ephemeral
    assert listing.content.startswith(
        "파이토치 레슨 11개: `/레슨 보기 아이디:…`로 보고, `/레슨 실행 아이디:…`로 실행합니다."
    )
    assert "\n1일 차\n• `backward-gradient` — " in listing.content
    assert len(listing.content) <= 2000


async def test_show_posts_the_lesson_with_its_code_attached(gateway: Gateway) -> None:
    (shown,) = await gateway.command("lesson show", ALICE, id="backward-gradient")
    assert not shown.ephemeral
    assert shown.content.startswith("1일 차 · ")
    assert "질문: " in shown.content
    assert "실행: `/레슨 실행 아이디:backward-gradient`" in shown.content
    assert len(shown.content) <= 2000
    (name, data) = shown.files[0]
    assert name == "l01_backward_gradient.py"
    assert b"LESSON = {" in data


async def test_unknown_lesson_is_refused_privately(gateway: Gateway) -> None:
    (refused,) = await gateway.command("lesson show", ALICE, id="nope")
    assert refused.ephemeral
    assert refused.content.startswith("`nope` 레슨이 없습니다.")


async def test_lesson_id_autocomplete(gateway: Gateway) -> None:
    choices = await gateway.autocomplete("lesson show", "id", "xavier")
    values = [c["value"] for c in choices]
    assert "xavier-vs-normal-saturation" in values and "he-vs-xavier-relu" in values
    assert all(c["name"].startswith("DAY") for c in choices)
    assert len(await gateway.autocomplete("lesson show", "id", "")) == 11
