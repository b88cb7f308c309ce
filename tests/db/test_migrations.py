"""Migrations build exactly the models' schema, both ways, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Integer,
    String,
    Time,
    column,
    insert,
    inspect,
    select,
    table,
    text,
)

from db.engine import make_engine, make_session_factory
from db.migrate import alembic_config, downgrade, upgrade
from db.models import Base, Group, Member, OutboxMessage, User
from db.types import UTCDateTime

BIG_ID = 1234567890123456789  # above 2**31: needs BIGINT everywhere
TABLES = {table.name for table in Base.metadata.sorted_tables}
# the settings of the groups these tests write (on the head schema and on an old one)
GROUP_SETTINGS = {
    "timezone": "Asia/Seoul",
    "study_days": "1,2,3,4,5",
    "review_time": time(9, 30),
    "problem_deadline": time(19, 0),
    "locale": "ko",
    "skip_holidays": True,
}


def test_upgrade_head_matches_models(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == TABLES | {"alembic_version"}
            head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head
            if conn.dialect.name == "postgresql":  # all of it in the test's own schema
                schema = conn.scalar(text("SELECT current_schema()"))
                assert schema.startswith("studybot_test_")
                found = conn.scalars(
                    text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"
                    ),
                    {"s": schema},
                )
                assert set(found) == TABLES | {"alembic_version"}
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_removes_everything(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)  # a second start-up finds nothing to do
    downgrade(database_url, "base")
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 0
    finally:
        engine.dispose()
    upgrade(database_url)  # and back up again
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_big_ids_and_aware_utc_datetimes_round_trip(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    seoul_time = datetime(2026, 12, 7, 9, 30, tzinfo=timezone(timedelta(hours=9)))
    try:
        with factory() as session, session.begin():
            group = Group(
                guild_id=BIG_ID, channel_id=BIG_ID + 1, created_at=seoul_time, **GROUP_SETTINGS
            )
            session.add_all([group, User(id=BIG_ID, name="big", created_at=seoul_time)])
            session.flush()
            session.add(
                Member(
                    group_id=group.id,
                    user_id=BIG_ID,
                    position=1,
                    active=True,
                    joined_at=seoul_time,
                )
            )
            session.add(OutboxMessage(group_id=group.id, body={"k": "v"}, created_at=seoul_time))
        with factory() as session:
            group = session.scalars(select(Group)).one()
            assert (group.guild_id, group.channel_id) == (BIG_ID, BIG_ID + 1)
            member = session.scalars(select(Member)).one()
            assert member.user_id == BIG_ID
            assert session.get(User, BIG_ID) is not None
            for value in (group.created_at, member.joined_at):
                assert value.tzinfo is UTC
                assert value == seoul_time
                assert value.hour == 0  # 09:30 in Seoul is 00:30 UTC
            assert member.left_at is None
            assert session.scalars(select(OutboxMessage)).one().body == {"k": "v"}
            assert group.review_time == time(9, 30)
    finally:
        engine.dispose()


def test_naive_datetimes_are_refused(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            session.add(User(id=1, name="naive", created_at=datetime(2026, 12, 7, 9, 30)))
            try:
                session.flush()
            except Exception as exc:  # wrapped by SQLAlchemy
                assert "naive datetime" in str(exc)
            else:
                raise AssertionError("a naive datetime was stored")
    finally:
        engine.dispose()


def test_upgrading_from_0002_keeps_groups_and_members_with_progress_defaults(
    database_url: str,
) -> None:
    """Existing groups get the 21:00 progress reminder, existing members reminder "on",
    and existing outbox posts stay channel posts."""
    upgrade(database_url, "0002")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    # the 0002 shape of the tables (typed, so each backend stores times its own way)
    groups = table(
        "groups",
        column("guild_id", BigInteger),
        column("timezone", String),
        column("study_days", String),
        column("review_time", Time),
        column("problem_deadline", Time),
        column("locale", String),
        column("skip_holidays", Boolean),
        column("created_at", UTCDateTime),
    )
    users = table(
        "users", column("id", BigInteger), column("name"), column("created_at", UTCDateTime)
    )
    members = table(
        "members",
        column("group_id", Integer),
        column("user_id", BigInteger),
        column("position", Integer),
        column("active", Boolean),
        column("joined_at", UTCDateTime),
    )
    outbox = table(
        "outbox",
        column("group_id", Integer),
        column("body", JSON),
        column("created_at", UTCDateTime),
        column("attempts", Integer),
    )
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(groups).values(guild_id=7, created_at=now, **GROUP_SETTINGS))
            group_id = conn.scalar(text("SELECT id FROM groups"))
            conn.execute(insert(users).values(id=BIG_ID, name="old", created_at=now))
            conn.execute(
                insert(members).values(
                    group_id=group_id, user_id=BIG_ID, position=1, active=True, joined_at=now
                )
            )
            conn.execute(
                insert(outbox).values(group_id=group_id, body={}, created_at=now, attempts=0)
            )
    finally:
        engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            group = session.scalars(select(Group)).one()
            assert (group.review_time, group.progress_time) == (time(9, 30), time(21, 0))
            assert session.scalars(select(Member)).one().progress_reminder == "on"
            assert session.scalars(select(OutboxMessage)).one().user_id is None
    finally:
        engine.dispose()


def test_0004_drops_admin_role_id_and_keeps_the_groups(database_url: str) -> None:
    """The never-read ``groups.admin_role_id`` goes; groups (which every table references)
    stay, with their members; a downgrade brings the column back, empty."""
    upgrade(database_url, "0003")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO groups (guild_id, timezone, study_days, review_time,"
                    " problem_deadline, locale, skip_holidays, admin_role_id, created_at)"
                    " VALUES (7, 'Asia/Seoul', '1,2,3,4,5', :review, :deadline, 'ko', :yes,"
                    " 99, :now)"
                ).bindparams(
                    review=time(9, 30),
                    deadline=time(19, 0),
                    yes=True,
                    now=datetime(2026, 12, 1, tzinfo=UTC),
                )
            )
        upgrade(database_url)
        columns = {c["name"] for c in inspect(engine).get_columns("groups")}
        assert "admin_role_id" not in columns
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT guild_id FROM groups")) == 7
        downgrade(database_url, "0003")
        engine.dispose()
        columns = {c["name"] for c in inspect(engine).get_columns("groups")}
        assert "admin_role_id" in columns
        with engine.connect() as conn:
            assert conn.execute(text("SELECT guild_id, admin_role_id FROM groups")).one() == (
                7,
                None,
            )
    finally:
        engine.dispose()
