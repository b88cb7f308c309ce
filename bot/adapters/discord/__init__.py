"""The Discord front end: slash commands, buttons and scheduled posts over the core.

``bot`` holds the ``StudyBot`` itself, ``cogs`` one extension per feature, ``dispatch``
how an interaction becomes a command call, ``rendering`` how a reply becomes a message,
``errors`` the one error handler, ``views`` the buttons, ``modals`` the forms,
``translator`` the Korean command names, ``delivery`` the outbox posts and ``main`` the
entry point.
"""

from bot.adapters.discord.bot import StudyBot
from bot.adapters.discord.main import run_discord

__all__ = ["StudyBot", "run_discord"]
