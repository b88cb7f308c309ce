"""The ``studybot`` command line: one module per subcommand group, wired up in ``main``."""

from bot.cli.main import main

__all__ = ["main"]
