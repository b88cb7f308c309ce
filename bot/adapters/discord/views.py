"""Buttons for reply actions. They survive restarts: the custom id carries all they need,
and the bot registers the item class at start-up (``add_dynamic_items``)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.adapters.discord.client import bot_of
from bot.i18n import text
from bot.replies import Action

if TYPE_CHECKING:
    pass

__all__ = ["DYNAMIC_ITEMS", "SwapButton", "actions_view"]

log = logging.getLogger(__name__)

SWAP_TEMPLATE = r"studybot:swap:(?P<action>accept|decline):(?P<id>[0-9]+)"
_STYLES = {"accept": discord.ButtonStyle.success, "decline": discord.ButtonStyle.secondary}


class SwapButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=SWAP_TEMPLATE):
    """Accept or decline one swap request: runs ``/mod accept|decline id:<id>``."""

    def __init__(self, action: str, request_id: int, label: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or action,
                style=_STYLES[action],
                custom_id=f"studybot:swap:{action}:{request_id}",
            )
        )
        self.action = action
        self.request_id = request_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SwapButton:
        label = getattr(item, "label", None)
        return cls(match["action"], int(match["id"]), label)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await bot_of(interaction).press_button(
            interaction, ("mod", self.action), {"id": self.request_id}
        )


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (SwapButton,)

_ACTION_KINDS = {"swap_accept": "accept", "swap_decline": "decline"}


def actions_view(actions: list[Action], locale: str) -> discord.ui.View | None:
    """A persistent view (no timeout) with one button per known action; None for none."""
    buttons = []
    for action in actions:
        kind = _ACTION_KINDS.get(action.kind)
        if kind is None:
            log.warning("no button for reply action %r", action.kind)
            continue
        buttons.append(SwapButton(kind, action.target_id, text(locale, action.label_key)))
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(button)
    return view
