"""The console's messages exist in both languages with the same placeholders."""

from __future__ import annotations

import json
from pathlib import Path

import bot.i18n

I18N = Path(bot.i18n.__file__).parent


def placeholders(template: str) -> set[str]:
    return bot.i18n.parameters(template)


def test_console_catalogues_match() -> None:
    ko = json.loads((I18N / "ko" / "console.json").read_text(encoding="utf-8"))
    en = json.loads((I18N / "en" / "console.json").read_text(encoding="utf-8"))
    assert ko.keys() == en.keys()
    assert all(key.startswith("console.") for key in ko)
    for key in ko:
        assert placeholders(ko[key]) == placeholders(en[key]), key
