"""Forms (Discord modals): what a command asks for when it needs more than one line.

``/progress log`` without a note opens ``ProgressLogForm``: a paragraph for the note and
short fields for the task, score, model and how to reproduce it (Discord allows five
inputs). Options given with the command fill the form in advance (cut to the field's
length), or (the metric and whether it was submitted, which have no field) travel with it.
Submitting runs the command like the slash command would.

A form is the interaction's first answer: it opens at once, in the group's language as
last seen (else the member's own), without waiting on the database.

Each opening has its own custom id, so two members writing at once never share a form; a
form nobody submits is forgotten after ``FORM_TIMEOUT``. A form open while the bot
restarts cannot be submitted (Discord says the interaction failed): its contents lived in
the bot's memory only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import discord

from bot.adapters.discord.client import bot_of
from bot.adapters.discord.dispatch import form_locale
from bot.adapters.discord.errors import report_error
from bot.errors import InvalidInput
from bot.i18n import text
from bot.services.competition import MAX_TASK
from bot.services.progress import MAX_MODEL, MAX_NOTE, MAX_REPRO

if TYPE_CHECKING:
    from bot.adapters.discord.bot import StudyBot

__all__ = [
    "FORM_FIELDS",
    "FORM_PREFIX",
    "FORM_TIMEOUT",
    "ProgressLogForm",
    "open_progress_form",
    "parse_score",
]

PROGRESS_LOG = ("progress", "log")
FORM_PREFIX = "studybot:progress:log:"
FORM_TIMEOUT = 3600.0  # seconds an unsubmitted form is kept
MAX_SCORE_TEXT = 40
FORM_FIELDS = ("note", "task", "score", "model", "repro")  # the order they are shown in


def parse_score(raw: str) -> float:
    """A typed score as a number; anything else is refused with a message that says how."""
    try:
        value = float(raw.strip())
    except ValueError:
        raise InvalidInput("discord.bad_score", value=raw) from None
    if not math.isfinite(value):
        raise InvalidInput("discord.bad_score", value=raw)
    return value


def _prefill(value: Any, limit: int) -> str | None:
    """A field's value given in advance, never longer than the field takes."""
    return None if value is None else str(value)[:limit]


class ProgressLogForm(discord.ui.Modal):
    """The ``/progress log`` form, in the group's language."""

    def __init__(self, locale: str, given: dict[str, Any], *, custom_id: str) -> None:
        super().__init__(
            title=text(locale, "discord.progress_form.title"),
            custom_id=custom_id,
            timeout=FORM_TIMEOUT,
        )
        # What the form has no field for is carried to the command as it was given.
        self.carried = {k: v for k, v in given.items() if k not in FORM_FIELDS and v is not None}

        def field(name: str, limit: int, **kwargs: Any) -> discord.ui.TextInput[ProgressLogForm]:
            hint = kwargs.pop("hint", None)
            return discord.ui.TextInput(
                label=text(locale, f"discord.progress_form.{name}"),
                custom_id=name,
                placeholder=text(locale, hint) if hint else None,
                default=_prefill(given.get(name), limit),
                max_length=limit,
                **kwargs,
            )

        paragraph = discord.TextStyle.paragraph
        self.note = field("note", MAX_NOTE, style=paragraph, hint="discord.progress_form.note_hint")
        self.task = field("task", MAX_TASK, required=False)
        self.score = field(
            "score", MAX_SCORE_TEXT, required=False, hint="discord.progress_form.score_hint"
        )
        self.model = field("model", MAX_MODEL, required=False)
        self.repro = field(
            "repro", MAX_REPRO, required=False, hint="discord.progress_form.repro_hint"
        )
        for item in (self.note, self.task, self.score, self.model, self.repro):
            self.add_item(item)

    def options(self) -> dict[str, Any]:
        """What was typed, as the command's options: blank optional fields are not given."""
        options = dict(self.carried)
        options["note"] = self.note.value.strip()
        for item in (self.task, self.score, self.model, self.repro):
            value = item.value.strip()
            if value:
                options[item.custom_id] = value
        if "score" in options:
            options["score"] = parse_score(options["score"])
        return options

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        await bot_of(interaction).run_command(interaction, PROGRESS_LOG, self.options())

    # discord.py's own Modal.on_error drops BaseView.on_error's item argument; mypy sees
    # that narrowing in every subclass
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception
    ) -> None:
        await report_error(interaction, error)


async def open_progress_form(
    bot: StudyBot, interaction: discord.Interaction[Any], given: dict[str, Any]
) -> ProgressLogForm:
    """Answer the interaction with the form, filled in with the options ``given``."""
    locale = form_locale(bot, interaction)  # refuses direct messages
    form = ProgressLogForm(locale, given, custom_id=f"{FORM_PREFIX}{interaction.id}")
    await interaction.response.send_modal(form)
    return form
