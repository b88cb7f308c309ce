"""Autocomplete: timezones and the group's pending swap requests."""

from __future__ import annotations

from bot.adapters.discord.options import MAX_CHOICES, timezone_choices
from tests.discord.fakes import ALICE, BOB, Gateway


async def test_timezone_autocomplete_through_the_tree(gateway: Gateway) -> None:
    choices = await gateway.autocomplete("schedule set", "timezone", "seoul")
    assert [c["value"] for c in choices] == ["Asia/Seoul"]

    choices = await gateway.autocomplete("schedule set", "timezone", "")
    assert len(choices) == MAX_CHOICES == 25
    assert choices[0] == {"name": "Asia/Seoul", "value": "Asia/Seoul"}


def test_timezone_choices_prefer_prefix_matches() -> None:
    names = [c.value for c in timezone_choices("Asia/")]
    assert len(names) == 25 and all(n.startswith("Asia/") for n in names)
    assert timezone_choices("london")[0].value == "Europe/London"
    assert [c.value for c in timezone_choices("york")] == ["America/New_York"]
    assert timezone_choices("no such zone") == []


async def test_swap_id_autocomplete_lists_pending_requests(gateway: Gateway) -> None:
    assert await gateway.autocomplete("mod accept", "id", "") == []
    await gateway.command("member join", ALICE)
    await gateway.command("member join", BOB)
    await gateway.command("mod swap", ALICE, with_=BOB)

    (choice,) = await gateway.autocomplete("mod accept", "id", "", BOB)
    assert choice["value"] == 1
    assert choice["name"] == "1번: alice 12월 7일(월) ↔ bob 12월 8일(화)"
    assert await gateway.autocomplete("mod decline", "id", "2") == []

    await gateway.command("mod accept", BOB, id=1)
    assert await gateway.autocomplete("mod accept", "id", "") == []
