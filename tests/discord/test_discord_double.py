"""The Discord double refuses what Discord refuses and shows what Discord shows: one test
per rule, each proving that a violation is caught (with the exception discord.py raises).

The interactions here are driven by hand through discord.py's own API, not through the
bot, so each rule is seen on its own.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import discord
import pytest

from bot.clock import ManualClock
from tests.discord import discord_rules as rules
from tests.discord.fakes import (
    ALICE,
    BOB,
    CHANNEL_ID,
    DEFERRED,
    MODAL,
    Gateway,
    Recorder,
)

pytestmark = pytest.mark.sqlite_only

MENTIONS_BOB = f"<@{BOB.id}> please have a look"


def later(clock: ManualClock, seconds: float) -> None:
    clock.advance(timedelta(seconds=seconds))


async def answered(gateway: Gateway, **kwargs: Any) -> discord.Interaction[Any]:
    """An interaction already answered with a public message."""
    interaction = gateway.interaction(**kwargs)
    await interaction.response.send_message("ok")
    return interaction


# --- messages ----------------------------------------------------------------------------


async def test_content_longer_than_2000_characters_is_refused(gateway: Gateway) -> None:
    interaction = gateway.interaction()
    with pytest.raises(discord.HTTPException) as refused:
        await interaction.response.send_message("가" * (rules.MAX_CONTENT + 1))
    assert (refused.value.status, refused.value.code) == (400, rules.INVALID_FORM_BODY)
    await interaction.response.send_message("가" * rules.MAX_CONTENT)  # exactly 2,000 is fine


async def test_more_than_10_attachments_are_refused(gateway: Gateway) -> None:
    def files(count: int) -> list[discord.File]:
        return [discord.File(io.BytesIO(b"x"), filename=f"{n}.txt") for n in range(count)]

    interaction = await answered(gateway)
    with pytest.raises(discord.HTTPException) as refused:
        await interaction.followup.send("files", files=files(rules.MAX_ATTACHMENTS + 1))
    assert (refused.value.status, refused.value.code) == (400, rules.INVALID_FORM_BODY)
    await interaction.followup.send("files", files=files(rules.MAX_ATTACHMENTS))


@pytest.mark.parametrize(
    "embed",
    [
        discord.Embed(description="x" * 4097),
        discord.Embed(title="x" * 257),
        discord.Embed(title="x" * 256, description="x" * 4096)
        .add_field(name="x" * 256, value="x" * 1024)
        .add_field(name="n", value="x" * 1024)
        .set_footer(text="x" * 1024),  # each part fits; together 6,000+ characters do not
    ],
    ids=["description", "title", "total"],
)
async def test_embed_limits_are_enforced(gateway: Gateway, embed: discord.Embed) -> None:
    interaction = gateway.interaction()
    with pytest.raises(discord.HTTPException) as refused:
        await interaction.response.send_message(embed=embed)
    assert refused.value.code == rules.INVALID_FORM_BODY


def buttons(*specs: tuple[str, str]) -> discord.ui.View:
    """A view of buttons given as (custom_id, label)."""
    view = discord.ui.View()
    for custom_id, label in specs:
        view.add_item(discord.ui.Button(custom_id=custom_id, label=label))
    return view


@pytest.mark.parametrize(
    "view",
    [
        buttons(("x" * (rules.CUSTOM_ID + 1), "ok")),
        buttons(("a", "x" * (rules.BUTTON_LABEL + 1))),
        buttons(("same", "one"), ("same", "two")),
    ],
    ids=["custom_id", "label", "duplicate_custom_id"],
)
async def test_button_limits_are_enforced(gateway: Gateway, view: discord.ui.View) -> None:
    interaction = gateway.interaction()
    with pytest.raises(discord.HTTPException) as refused:
        await interaction.response.send_message("pick", view=view)
    assert refused.value.code == rules.INVALID_FORM_BODY
    fits = buttons(("x" * rules.CUSTOM_ID, "x" * rules.BUTTON_LABEL), ("b", "ok"))
    await interaction.response.send_message("pick", view=fits)


# --- acknowledging -----------------------------------------------------------------------


async def test_a_first_answer_after_3_seconds_is_an_unknown_interaction(
    gateway: Gateway, clock: ManualClock
) -> None:
    in_time = gateway.interaction(age=2.9)
    await in_time.response.defer(thinking=True)

    late = gateway.interaction(age=2.0)
    later(clock, 1.5)  # 3.5 s after it was created, by the clock that minted its id
    with pytest.raises(discord.NotFound) as refused:
        await late.response.defer(thinking=True)
    assert refused.value.code == rules.UNKNOWN_INTERACTION


async def test_a_second_first_answer_is_already_acknowledged(gateway: Gateway) -> None:
    """discord.py stops a second answer on the same object; Discord stops one from another
    process (here: another object for the same interaction)."""
    payload = gateway.payload()
    first = discord.Interaction(data=payload, state=gateway.bot._connection)  # type: ignore[arg-type]
    twin = discord.Interaction(data=payload, state=gateway.bot._connection)  # type: ignore[arg-type]
    await first.response.send_message("one")
    with pytest.raises(discord.HTTPException) as refused:
        await twin.response.send_message("two")
    assert (refused.value.status, refused.value.code) == (400, rules.ALREADY_ACKNOWLEDGED)


async def test_follow_ups_need_a_first_answer(gateway: Gateway) -> None:
    interaction = gateway.interaction()
    with pytest.raises(discord.NotFound) as refused:
        await interaction.followup.send("too early")
    assert refused.value.code == rules.UNKNOWN_WEBHOOK


@pytest.mark.parametrize("action", ["followup", "edit", "delete"])
async def test_the_token_expires_after_15_minutes(
    gateway: Gateway, clock: ManualClock, action: str
) -> None:
    interaction = await answered(gateway)
    later(clock, rules.TOKEN_LIFETIME_S - 1)
    await interaction.edit_original_response(content="still in time")

    later(clock, 1)
    with pytest.raises(discord.HTTPException) as refused:
        if action == "followup":
            await interaction.followup.send("too late")
        elif action == "edit":
            await interaction.edit_original_response(content="too late")
        else:
            await interaction.delete_original_response()
    assert (refused.value.status, refused.value.code) == (401, rules.INVALID_WEBHOOK_TOKEN)


# --- what Discord shows ------------------------------------------------------------------


async def test_an_edit_never_notifies(gateway: Gateway, recorder: Recorder) -> None:
    interaction = gateway.interaction()
    await interaction.response.send_message(MENTIONS_BOB)
    await interaction.edit_original_response(content=MENTIONS_BOB + " (edited)")
    await interaction.followup.send(MENTIONS_BOB, ephemeral=True)
    await interaction.followup.send(
        MENTIONS_BOB, allowed_mentions=discord.AllowedMentions(users=False)
    )
    new, edit, private, muted = recorder.for_interaction(interaction.id)
    assert new.notified == {BOB.id}
    assert edit.via == "edit" and edit.notified == frozenset()
    assert private.ephemeral and private.notified == frozenset()  # only the caller sees it
    assert muted.notified == frozenset()  # its allowed mentions let nobody through


async def test_the_first_follow_up_after_thinking_edits_it_and_keeps_it_public(
    gateway: Gateway, recorder: Recorder
) -> None:
    interaction = gateway.interaction()
    await interaction.response.defer(thinking=True)  # public "thinking…"
    await interaction.followup.send(MENTIONS_BOB, ephemeral=True)  # meant to be private
    await interaction.followup.send("second", ephemeral=True)
    thinking, first, second = recorder.for_interaction(interaction.id)
    assert thinking.type == DEFERRED and not thinking.ephemeral
    assert first.asked_ephemeral and first.edits_original
    assert not first.ephemeral  # everyone sees it
    assert first.notified == frozenset()  # it is an edit: nobody is notified
    assert second.ephemeral and not second.edits_original  # a new message from then on


async def test_after_thinking_is_deleted_a_follow_up_is_new(
    gateway: Gateway, recorder: Recorder
) -> None:
    interaction = gateway.interaction()
    await interaction.response.defer(thinking=True)
    await interaction.delete_original_response()
    await interaction.followup.send("private", ephemeral=True)
    _thinking, _deleted, private = recorder.for_interaction(interaction.id)
    assert private.ephemeral and not private.edits_original
    with pytest.raises(discord.NotFound) as gone:
        await interaction.edit_original_response(content="the message is gone")
    assert gone.value.code == rules.UNKNOWN_MESSAGE


async def test_a_private_deferral_keeps_the_answer_private(
    gateway: Gateway, recorder: Recorder
) -> None:
    interaction = gateway.interaction()
    await interaction.response.defer(thinking=True, ephemeral=True)
    await interaction.followup.send(MENTIONS_BOB)  # meant to be public
    thinking, answer = recorder.for_interaction(interaction.id)
    assert thinking.ephemeral and answer.edits_original and answer.ephemeral


# --- what a test arms --------------------------------------------------------------------


async def test_429_is_waited_out_like_discord_py_does(
    gateway: Gateway, recorder: Recorder, clock: ManualClock
) -> None:
    interaction = await answered(gateway)
    before = clock.now()
    recorder.rate_limit("followup", retry_after=1.5)
    await interaction.followup.send("after a wait")
    assert clock.now() - before == timedelta(seconds=1.5) and recorder.waited == 1.5

    recorder.rate_limit("followup", retry_after=2.0, times=5)  # discord.py gives up
    with pytest.raises(discord.HTTPException) as limited:
        await interaction.followup.send("never")
    assert limited.value.status == 429
    assert limited.value.response.headers["Retry-After"] == "2.0"


async def test_a_429_on_the_first_answer_can_make_it_late(
    gateway: Gateway, recorder: Recorder
) -> None:
    """The wait counts: an answer rate-limited past the 3 seconds is refused."""
    interaction = gateway.interaction(age=1.0)
    recorder.rate_limit("response", retry_after=2.5)
    with pytest.raises(discord.NotFound) as refused:
        await interaction.response.send_message("too late after the wait")
    assert refused.value.code == rules.UNKNOWN_INTERACTION


async def test_armed_403_and_404_carry_discords_codes(
    gateway: Gateway, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    interaction = await answered(gateway)
    recorder.fail("followup", 403, rules.MISSING_PERMISSIONS)
    with pytest.raises(discord.Forbidden) as forbidden:
        await interaction.followup.send("no")
    assert (forbidden.value.status, forbidden.value.code) == (403, rules.MISSING_PERMISSIONS)
    await interaction.followup.send("the refusal was used up")

    recorder.install_channels(monkeypatch)
    recorder.fail("channel", 404, rules.UNKNOWN_CHANNEL)
    channel = gateway.bot.get_partial_messageable(CHANNEL_ID)
    with pytest.raises(discord.NotFound) as missing:
        await channel.send("into the void")
    assert missing.value.code == rules.UNKNOWN_CHANNEL
    await channel.send(MENTIONS_BOB)
    (post,) = recorder.posts
    assert post.channel_id == CHANNEL_ID and post.notified == {BOB.id}


# --- forms and autocomplete --------------------------------------------------------------


async def test_a_form_prefill_longer_than_its_field_is_refused(
    gateway: Gateway, recorder: Recorder
) -> None:
    form = discord.ui.Modal(title="form", custom_id="f")
    form.add_item(
        discord.ui.TextInput(label="short", custom_id="s", max_length=5, default="123456")
    )
    interaction = gateway.interaction()
    with pytest.raises(discord.HTTPException) as refused:
        await interaction.response.send_modal(form)
    assert refused.value.code == rules.INVALID_FORM_BODY

    fits = discord.ui.Modal(title="form", custom_id="g")
    fits.add_item(discord.ui.TextInput(label="short", custom_id="s", max_length=5, default="12345"))
    await interaction.response.send_modal(fits)
    assert recorder.for_interaction(interaction.id)[-1].type == MODAL


async def test_more_than_25_autocomplete_choices_are_refused(gateway: Gateway) -> None:
    interaction = gateway.interaction(kind=4)
    choices = [discord.app_commands.Choice(name=str(n), value=str(n)) for n in range(26)]
    with pytest.raises(discord.HTTPException) as refused:
        await interaction.response.autocomplete(choices)
    assert refused.value.code == rules.INVALID_FORM_BODY


async def test_interactions_are_created_by_the_clock(gateway: Gateway, clock: ManualClock) -> None:
    """Ids are snowflakes: discord.py reads the creation time from them."""
    interaction = gateway.interaction(person=ALICE, age=5.25)
    assert interaction.user.id == ALICE.id
    assert interaction.created_at == clock.now() - timedelta(seconds=5.25)
    assert gateway.interaction().id != gateway.interaction().id  # same time, other ids
