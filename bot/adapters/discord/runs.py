"""The ``/run`` form: a box for the code when ``/run`` is given none. It opens at once (see
``modals``); submitting it runs ``/run`` through the command table like any other command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.adapters.discord.client import bot_of
from bot.adapters.discord.dispatch import form_locale
from bot.adapters.discord.errors import report_error
from bot.adapters.discord.options import MAX_CODE
from bot.i18n import text

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

RUN_FORM_PREFIX = "studybot:run:"
RUN_FORM_TIMEOUT = 3600.0
RUN = ("run",)


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

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await bot_of(interaction).run_command(interaction, RUN, {"code": self.code.value})

    # discord.py's own Modal.on_error drops BaseView.on_error's item argument; mypy sees
    # that narrowing in every subclass
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception
    ) -> None:
        await report_error(interaction, error)


async def open_run_form(bot: StudyBot, interaction: discord.Interaction[Any]) -> RunForm:
    locale = form_locale(bot, interaction)  # refuses direct messages
    form = RunForm(locale, custom_id=f"{RUN_FORM_PREFIX}{interaction.id}")
    await interaction.response.send_modal(form)
    return form
