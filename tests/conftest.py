"""Shared fixtures: a fresh database per test on every backend, a core on a manual clock,
and a harness that acts as users of one study group.

Backends: every test that asks for ``database_url`` (directly or through ``core`` /
``harness``) runs once on SQLite and once on PostgreSQL. PostgreSQL runs when
``STUDYBOT_TEST_POSTGRES_URL`` is set (each test gets its own schema, dropped afterwards);
otherwise those runs are skipped, unless ``STUDYBOT_REQUIRE_POSTGRES=1`` makes that a
failure. Mark a test or module ``sqlite_only`` when the backend cannot matter.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.app import build_core
from bot.clock import ManualClock
from bot.commands import Call, UserRef
from bot.config import Settings
from bot.core import Core
from bot.replies import Reply
from bot.services.context import Actor
from bot.services.groups import get_group
from bot.services.users import ensure_user
from db.models import Base, Group, GroupAdmin

POSTGRES_ENV = "STUDYBOT_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "STUDYBOT_REQUIRE_POSTGRES"
BACKENDS = ("sqlite", "postgresql")

SEOUL = ZoneInfo("Asia/Seoul")
START = datetime(2026, 12, 7, 8, 0, tzinfo=SEOUL)  # a Monday, before the 09:30 review
GUILD_ID = 1234567890123456789  # a realistic (64-bit) Discord id


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: run a database test on SQLite only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every database test on each backend (``sqlite_only`` keeps it to SQLite)."""
    if "database_url" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        if "database_url" in str(marker.args[0]):
            return  # the test chose its backends itself
    sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
    backends = ["sqlite"] if sqlite_only else list(BACKENDS)
    metafunc.parametrize("database_url", backends, indirect=True)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter,
) -> Iterator[None]:
    """After everything else (the short summary included), say plainly when sandbox tests
    did not run: how many, and why, grouped by reason."""
    from tests.sandbox.conftest import REQUIRE_ENV, SKIP_PREFIX

    try:
        return (yield)
    finally:
        reasons: Counter[str] = Counter()
        for report in terminalreporter.stats.get("skipped", []):
            reason = _skip_reason(report)
            if report.nodeid.startswith("tests/sandbox/") or reason.startswith(SKIP_PREFIX):
                reasons[reason] += 1
        if reasons:
            count = sum(reasons.values())
            write = terminalreporter.write_line
            terminalreporter.write_sep("=", "the code sandbox did not run", yellow=True)
            write(f"{count} sandbox tests were SKIPPED; each reason and how many:", yellow=True)
            for reason, number in reasons.most_common():
                write(f"  {number} × {reason}")
            write(
                "To run them: scripts/system-packages.sh installs (or prints the command for) "
                f"bubblewrap, python3.11 and libseccomp2; run as root. {REQUIRE_ENV}=1 turns "
                "these skips into failures."
            )
        _broker_summary(terminalreporter)


def _broker_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly when the remote runners' tests (Redis, RabbitMQ) did not run."""
    from tests.remote.conftest import REQUIRE_ENV as BROKER_ENV
    from tests.remote.conftest import SKIP_PREFIX as BROKER_PREFIX

    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        reason = _skip_reason(report)
        if reason.startswith(BROKER_PREFIX):
            reasons[reason] += 1
    if reasons:
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "the remote runners' broker did not answer", yellow=True)
        count = sum(reasons.values())
        write(f"{count} remote runner tests were SKIPPED; each reason and how many:", yellow=True)
        for reason, number in reasons.most_common():
            write(f"  {number} × {reason}")
        write(
            "To run them: start Redis on 127.0.0.1:6379 (and RabbitMQ on 127.0.0.1:5672), or "
            f"point STUDYBOT_TEST_REDIS_URL / STUDYBOT_TEST_AMQP_URL at them. {BROKER_ENV}=1 "
            "turns these skips into failures."
        )


# --- databases -----------------------------------------------------------------------


def _libpq_url(url: str) -> str:
    """The URL psycopg itself understands (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The server's URL from the environment, checked once per run."""
    url = os.environ.get(POSTGRES_ENV)
    required = os.environ.get(REQUIRE_POSTGRES_ENV) == "1"
    if not url:
        reason = f"PostgreSQL tests need {POSTGRES_ENV}=postgresql://USER@HOST:PORT/DB"
        if required:
            pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_ENV} is not set", False)
        pytest.skip(reason)
    import psycopg

    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=5):
            pass
    except psycopg.Error as exc:
        message = f"PostgreSQL at {POSTGRES_ENV} is unreachable: {exc}"
        if required:
            pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1: {message}", False)
        pytest.skip(message)
    return url


def with_search_path(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` first (tables and Alembic's table go there)."""
    parsed = make_url(url)
    options = parsed.query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    options = f"{options} -csearch_path={schema}".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A URL on a new, empty schema of the server; the schema is dropped afterwards."""
    import psycopg

    schema = f"studybot_test_{uuid.uuid4().hex[:12]}"
    admin = _libpq_url(base_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(base_url, schema)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on the requested backend, private to this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'studybot.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    with postgres_schema(base) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file as ``build_core`` leaves it (migrated, seeded), built once per run.

    Copying it is much faster than migrating a new file for every test; the migrations
    themselves are tested on empty databases in tests/db.
    """
    path = tmp_path_factory.mktemp("template") / "studybot.db"
    settings = Settings(database_url=f"sqlite:///{path}", _env_file=None)  # type: ignore[call-arg]
    engine_of(build_core(settings, ManualClock(START))).dispose()
    return path


def fresh_sqlite(template: Path, folder: Path) -> str:
    """A database in ``folder`` as ``build_core`` leaves it, copied from the template."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "studybot.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


# --- the core --------------------------------------------------------------------------


def engine_of(core: Core) -> Engine:
    engine = core.services.session_factory.kw["bind"]
    assert isinstance(engine, Engine)
    return engine


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def core(request: pytest.FixtureRequest, settings: Settings, clock: ManualClock) -> Iterator[Core]:
    """``build_core`` on the test's database (it runs the migrations and seeds). A SQLite
    file starts as a copy of ``sqlite_template``, so there that finds nothing to do."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        shutil.copyfile(request.getfixturevalue("sqlite_template"), url.database)
    built = build_core(settings, clock)
    yield built
    built.close_sync()
    engine_of(built).dispose()


@dataclass
class Harness:
    """One study group (guild ``GUILD_ID``, default settings) and helpers to act in it."""

    core: Core
    clock: ManualClock
    group_id: int
    actors: dict[str, Actor] = field(default_factory=dict)

    # users -----------------------------------------------------------------------------

    def actor(self, name: str, *, platform_admin: bool = False) -> Actor:
        """The same actor for the same name (ids are stable, large Discord-like numbers)."""
        if name not in self.actors:
            user_id = 900_000_000_000_000_000 + len(self.actors) + 1
            self.actors[name] = Actor(user_id, name, platform_admin)
        known = self.actors[name]
        return Actor(known.user_id, known.name, platform_admin)

    def ref(self, name: str) -> UserRef:
        actor = self.actor(name)
        return UserRef(actor.user_id, actor.name)

    def join(self, *names: str) -> list[Actor]:
        """Each name runs ``/member join`` (in order, so that is the rotation order)."""
        joined = []
        for name in names:
            reply = self.invoke(name, "member join")
            assert reply.key == "member.joined", reply
            joined.append(self.actor(name))
        return joined

    def grant_admin(self, name: str) -> Actor:
        """Make ``name`` a group-granted admin (a ``GroupAdmin`` row)."""
        actor = self.actor(name)
        with self.transaction() as session:
            ensure_user(session, actor.user_id, actor.name, self.clock.now())
            session.add(GroupAdmin(group_id=self.group_id, user_id=actor.user_id))
        return actor

    # commands --------------------------------------------------------------------------

    def invoke(self, who: str | Actor, command: str, **options: Any) -> Reply:
        actor = self.actor(who) if isinstance(who, str) else who
        call = Call(self.group_id, actor)
        return self.core.invoke_sync(tuple(command.split()), call, options)

    # database and time -----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.core.services.transaction() as session:
            yield session

    @contextmanager
    def group(self) -> Iterator[tuple[Session, Group]]:
        """The group in a transaction, to call services directly."""
        with self.transaction() as session:
            yield session, get_group(session, self.group_id)

    def at(self, when: str | datetime) -> None:
        """Move the clock: an aware datetime, or a Seoul wall time '2026-12-08 09:30'."""
        if isinstance(when, str):
            when = datetime.fromisoformat(when).replace(tzinfo=SEOUL)
        self.clock.set(when)

    def today(self) -> date:
        return self.clock.now().astimezone(SEOUL).date()


@pytest.fixture
def harness(core: Core, clock: ManualClock) -> Harness:
    group_id = core.group_for_guild_sync(GUILD_ID, channel_id=42, channel_name="study")
    return Harness(core, clock, group_id)


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order, to compare before and after."""
    return {
        table.name: [
            tuple(row) for row in session.execute(select(table).order_by(*table.primary_key))
        ]
        for table in Base.metadata.sorted_tables
    }
