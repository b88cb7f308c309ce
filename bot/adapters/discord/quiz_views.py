"""The review quiz's buttons: "show answer", "knew it", "didn't", the choices and "next card".

They are persistent: the custom id carries everything a press needs (whose card, which card,
what the press means), and the bot registers ``QuizButton`` at start-up
(``add_dynamic_items``), so buttons sent before a restart keep working. A press by anyone
but the member the card was dealt to is refused before anything runs; the command it runs
acts on the presser's own cards only, and refuses a card no longer on their table.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.adapters.discord.client import bot_of
from bot.i18n import text
from bot.replies import Action, CommandRef

__all__ = ["QUIZ_ITEMS", "QuizButton", "is_quiz", "quiz_view"]

log = logging.getLogger(__name__)

PREFIX = "studybot:quiz"
TEMPLATE = (
    PREFIX + r":(?P<user>[0-9]{1,20}):(?P<press>reveal|knew|missed|next|c[1-5])"
    r":(?P<card>[a-z0-9.\-]{0,60})"
)
_STYLES = {
    "reveal": discord.ButtonStyle.primary,
    "knew": discord.ButtonStyle.success,
    "missed": discord.ButtonStyle.secondary,
    "next": discord.ButtonStyle.primary,
}


def custom_id(user_id: int, press: str, card_id: str) -> str:
    return f"{PREFIX}:{user_id}:{press}:{card_id}"


def command_of(press: str, card_id: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The command table's path and options a press runs."""
    if press == "next":
        return ("quiz",), {}
    if press == "reveal":
        return ("quiz", "reveal"), {"card": card_id}
    if press in ("knew", "missed"):
        return ("quiz", "grade"), {"result": press, "card": card_id}
    return ("quiz", "answer"), {"choice": int(press[1:]), "card": card_id}


class QuizButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    def __init__(self, user_id: int, press: str, card_id: str, label: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or press,
                style=_STYLES.get(press, discord.ButtonStyle.secondary),
                custom_id=custom_id(user_id, press, card_id),
            )
        )
        self.user_id = user_id
        self.press = press
        self.card_id = card_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> QuizButton:
        return cls(int(match["user"]), match["press"], match["card"], getattr(item, "label", None))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        if interaction.user.id != self.user_id:
            await refuse_other(bot, interaction)
            return
        path, options = command_of(self.press, self.card_id)
        await bot.press_button(interaction, path, options)


async def refuse_other(bot: Any, interaction: discord.Interaction[Any]) -> None:
    """Someone pressed another member's card: say so privately, run nothing. (The text
    names no command, so it needs none of the reply rendering, which imports this.)"""
    if not await bot.admit(interaction):
        return
    locale = "ko" if interaction.locale is discord.Locale.korean else bot.settings.default_locale
    try:
        await interaction.response.send_message(text(locale, "quiz.not_yours"), ephemeral=True)
    except discord.HTTPException:
        log.warning("could not refuse quiz button press %s", interaction.id, exc_info=True)


QUIZ_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (QuizButton,)


def is_quiz(actions: list[Action]) -> bool:
    return bool(actions) and all(action.kind.startswith("quiz_") for action in actions)


def _press(action: Action) -> tuple[str, str]:
    """(press, card id) from an action: its console command names the card."""
    ref = CommandRef.parse(action.command.removeprefix("/"))
    options = dict(ref.options)
    card = options.get("card", "")
    kind = action.kind.removeprefix("quiz_")
    if kind == "choice":
        return f"c{options['choice']}", card
    return kind, card


def quiz_view(actions: list[Action], locale: str) -> discord.ui.View | None:
    """A persistent view (no timeout) with one button per quiz action."""
    view = discord.ui.View(timeout=None)
    for action in actions:
        try:
            press, card = _press(action)
        except (KeyError, ValueError):
            log.warning("no quiz button for action %r", action)
            continue
        view.add_item(QuizButton(action.target_id, press, card, text(locale, action.label_key)))
    return view if view.children else None
