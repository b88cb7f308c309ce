"""The local console: the bot in a terminal, over the same core as Discord."""

from bot.adapters.console.main import ConsoleOptions, run_console

__all__ = ["ConsoleOptions", "run_console"]
