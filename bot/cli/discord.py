"""`studybot discord commands [--json]` and `studybot discord sync`: the slash commands as
Discord gets them.

``commands --json`` prints the payloads a sync would send (one JSON array, translations
included, in a stable order) so an operator can diff two versions; it needs no token, no
network and no database. ``sync`` logs in over HTTP (no gateway connection), pushes them
to the sync target now (``STUDYBOT_DEV_GUILD_ID``, else global) and records their hash,
so the next start does not sync them again.

discord.py is imported only when one of these runs: other subcommands start without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.cli.parsing import Subparsers
from bot.config import Settings
from bot.i18n import text


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("discord", help="the slash commands as Discord gets them")
    actions = parser.add_subparsers(dest="discord_action", required=True, metavar="ACTION")
    listing = actions.add_parser("commands", help="the command payloads a sync would send")
    listing.add_argument("--json", action="store_true", help="one JSON array of payloads")
    listing.set_defaults(handler=show_commands)
    sync = actions.add_parser("sync", help="push the commands to Discord now (needs the token)")
    sync.add_argument("--db", metavar="URL", help="database URL (default: the settings' one)")
    sync.set_defaults(handler=sync_commands)


def show_commands(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.discord.main import command_payloads

    payloads = asyncio.run(command_payloads(settings))
    if args.json:
        print(json.dumps(payloads, ensure_ascii=False, indent=2, sort_keys=True))
        return 0
    for payload in payloads:
        prefix = "/" if payload.get("type", 1) == 1 else ""
        print(f"{prefix}{payload['name']}\t{payload.get('description', '')}")
    return 0


def sync_commands(args: argparse.Namespace, settings: Settings) -> int:
    from bot.adapters.discord.main import push_commands

    if args.db:
        settings = settings.model_copy(update={"database_url": args.db})
    count = asyncio.run(push_commands(settings))
    locale = settings.default_locale
    if settings.dev_guild_id is None:
        print(text(locale, "access.synced_global", {"count": count}))
    else:
        print(text(locale, "access.synced_guild", {"count": count, "guild": settings.dev_guild_id}))
    sys.stdout.flush()
    return 0
