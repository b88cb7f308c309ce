"""Running code from Discord: ``/lesson run``, ``/run`` (a form with a code box) and the
"Run Python" message command. The bot only submits code to its sandbox (``CodeRunner``);
the interaction is deferred at once, since runs take longer than Discord's 3 seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.adapters.discord.dispatch import THINKING, call_for, group_locale, respond
from bot.adapters.discord.errors import report_error
from bot.adapters.discord.rendering import render_reply
from bot.i18n import text
from bot.replies import Reply

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

RUN_FORM_PREFIX = "studybot:run:"
RUN_FORM_TIMEOUT = 3600.0
MAX_CODE = 4000  # Discord's longest text input


async def run_code(
    bot: StudyBot,
    interaction: discord.Interaction[Any],
    *,
    lesson_id: str | None = None,
    code: str | None = None,
) -> list[Reply]:
    """Run a lesson (``lesson_id``) or a snippet (``code``) and send the replies."""
    call = await call_for(bot, interaction)
    locale = await group_locale(bot.core, call.group_id)
    if not interaction.response.is_done():
        await interaction.response.defer(thinking=True)
        interaction.extras[THINKING] = True

    async def queued(reply: Reply) -> None:
        await interaction.followup.send(**render_reply(reply, locale).response_kwargs())

    runner = bot.code_runner
    if lesson_id is not None:
        replies = await runner.run_lesson(call, lesson_id, queued)
    else:
        replies = await runner.run_snippet(call, code or "", queued)
    for reply in replies:
        await respond(interaction, render_reply(reply, locale))
    return replies


class RunForm(discord.ui.Modal):
    """The ``/run`` form: one paragraph box for the code."""

    def __init__(self, locale: str, *, custom_id: str) -> None:
        super().__init__(
            title=text(locale, "discord.run_form.title"),
            custom_id=custom_id,
            timeout=RUN_FORM_TIMEOUT,
        )
        self.code: discord.ui.TextInput[RunForm] = discord.ui.TextInput(
            label=text(locale, "discord.run_form.code"),
            custom_id="code",
            style=discord.TextStyle.paragraph,
            placeholder=text(locale, "discord.run_form.code_hint"),
            max_length=MAX_CODE,
        )
        self.add_item(self.code)

    async def on_submit(self, interaction: discord.Interaction[StudyBot]) -> None:  # type: ignore[override]
        await run_code(interaction.client, interaction, code=self.code.value)

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[StudyBot], error: Exception
    ) -> None:
        await report_error(interaction, error)


async def open_run_form(bot: StudyBot, interaction: discord.Interaction[Any]) -> RunForm:
    call = await call_for(bot, interaction)  # refuses direct messages
    locale = await group_locale(bot.core, call.group_id)
    form = RunForm(locale, custom_id=f"{RUN_FORM_PREFIX}{interaction.id}")
    await interaction.response.send_modal(form)
    return form
