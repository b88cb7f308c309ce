"""Command names and descriptions from the message catalogue.

Every name, description and choice of the slash commands is a ``locale_str`` whose
``key`` extra names a ``cmd.*`` catalogue entry: the English catalogue gives the base text
Discord shows by default, the Korean one the ``ko`` localisation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict, TypeVar

import discord
from discord import app_commands
from discord.app_commands import TranslationContextTypes, locale_str

from bot.i18n import catalogue

__all__ = [
    "StudyTranslator",
    "cmd_choice",
    "cmd_desc",
    "cmd_name",
    "command_texts",
    "option_texts",
]

T = TypeVar("T")

BASE_LOCALE = "en"
TRANSLATED = {discord.Locale.korean: "ko"}


def _catalogued(key: str) -> locale_str:
    try:
        base = catalogue(BASE_LOCALE)[key]
    except KeyError:
        raise KeyError(f"missing command text {key!r} in the {BASE_LOCALE} catalogue") from None
    return locale_str(base, key=key)


def cmd_name(path: str) -> locale_str:
    """The name of a group, command or option: ``cmd_name("member add user")``."""
    return _catalogued("cmd." + path.replace(" ", ".") + ".name")


def cmd_desc(path: str) -> locale_str:
    return _catalogued("cmd." + path.replace(" ", ".") + ".description")


def cmd_choice(option: str, value: str) -> app_commands.Choice[str]:
    return app_commands.Choice(name=_catalogued(f"cmd.choice.{option}.{value}"), value=value)


class StudyTranslator(app_commands.Translator):
    """Looks up the Korean text of a catalogued string; other locales use the base."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        language = TRANSLATED.get(locale)
        key = string.extras.get("key")
        if language is None or key is None:
            return None
        return catalogue(language).get(key)


class CommandTexts(TypedDict):
    name: locale_str
    description: locale_str


def command_texts(path: str) -> CommandTexts:
    """``name`` and ``description`` for a command or group: ``**command_texts("mod swap")``."""
    return {"name": cmd_name(path), "description": cmd_desc(path)}


def option_texts(path: str, **params: str) -> Callable[[T], T]:
    """Name and describe a command's parameters from the catalogue.

    ``params`` maps each Python parameter to its option name: ``with_="with"``.
    """
    names = {param: cmd_name(f"{path} {option}") for param, option in params.items()}
    descriptions = {param: cmd_desc(f"{path} {option}") for param, option in params.items()}

    def decorate(func: T) -> T:
        return app_commands.rename(**names)(app_commands.describe(**descriptions)(func))

    return decorate
