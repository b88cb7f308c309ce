"""Composition root: builds the parts from settings and hands each what it needs."""

from __future__ import annotations

import logging

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.core import Core
from bot.services import catalogue
from bot.services.context import Services
from db.engine import make_engine, make_session_factory
from db.migrate import upgrade


def build_core(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> Core:
    """Engine, sessions, clock and services for one process (migrated and seeded)."""
    if migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    services = Services(
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
        settings=settings,
    )
    if migrate:
        with services.transaction() as session:
            catalogue.seed(session, services.clock.now())
    return Core(services)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # libraries that narrate routine work at INFO (matplotlib builds its font cache on a
    # fresh machine's first chart) speak only when something is wrong
    for name in ("alembic", "matplotlib"):
        logging.getLogger(name).setLevel(logging.WARNING)
