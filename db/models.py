"""Typed SQLAlchemy models. Discord ids are BIGINT; times are aware UTC."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Group(Base):
    """A study group: one per Discord server (the console uses guild id 0)."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guild_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    channel_id: Mapped[int | None] = mapped_column(BigInteger)
    channel_name: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    study_days: Mapped[str] = mapped_column(String(20))  # ISO weekdays "1,2,3,4,5"
    review_time: Mapped[time] = mapped_column(Time)
    problem_deadline: Mapped[time] = mapped_column(Time)
    locale: Mapped[str] = mapped_column(String(5))
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    problem_reminder_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    # local time of the daily "log your progress" reminder
    progress_time: Mapped[time] = mapped_column(
        Time, default=time(21, 0), server_default="21:00:00"
    )
    # who last set the channel (told privately when posts cannot be delivered there)
    channel_set_by: Mapped[int | None] = mapped_column(BigInteger)
    # the last post that could not be delivered for good, and why (shown by /schedule show);
    # cleared when a post is delivered again or the channel changes
    delivery_problem: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    delivery_problem_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the server removed the bot: duties pause until it is back
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class User(Base):
    """A person, keyed by Discord user id (console users get small ids)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupAdmin(Base):
    """An explicitly granted admin (besides Manage Server or the admin role)."""

    __tablename__ = "group_admins"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class Member(Base):
    """A user's membership of a group; leaving keeps the row (and history)."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    position: Mapped[int] = mapped_column(Integer)  # stable rotation order
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the progress reminder: on (named in the channel) | off | dm (a private message)
    progress_reminder: Mapped[str] = mapped_column(String(4), default="on", server_default="on")


class Away(Base):
    """A member's declared absence, inclusive of both dates."""

    __tablename__ = "away_periods"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DayOff(Base):
    __tablename__ = "days_off"
    __table_args__ = (UniqueConstraint("group_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200))


class ModAssignment(Base):
    """Who moderates a study day. Past and today's rows are history; future rows are pins."""

    __tablename__ = "mod_assignments"
    __table_args__ = (UniqueConstraint("group_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    day: Mapped[date] = mapped_column(Date)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    source: Mapped[str] = mapped_column(String(20))  # rotation | swap | skip
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SwapRequest(Base):
    __tablename__ = "swap_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    first_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    second_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    first_day: Mapped[date] = mapped_column(Date)
    second_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # pending|accepted|declined|forced|stale
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DutyRun(Base):
    """The claim that a daily duty ran for (group, duty, local date): at most one row."""

    __tablename__ = "duty_runs"
    __table_args__ = (
        UniqueConstraint("group_id", "duty", "local_date"),
        # the start-up catch-up: runs of a few days, and each group's latest run
        Index("ix_duty_runs_local_date", "local_date"),
        Index("ix_duty_runs_group_ran", "group_id", "ran_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    duty: Mapped[str] = mapped_column(String(40))
    local_date: Mapped[date] = mapped_column(Date)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(20))  # posted | skipped


class OutboxMessage(Base):
    """A post committed with the state change that caused it; front ends deliver it."""

    __tablename__ = "outbox"
    __table_args__ = (
        # what the deliverer scans: the undelivered rows only (the sent ones pile up)
        Index(
            "ix_outbox_undelivered",
            "id",
            sqlite_where=text("sent_at IS NULL AND failed_at IS NULL"),
            postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    # None: a post in the group's channel; else deliver privately (a DM) to this user
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # delivery: retried with backoff until next_attempt_at; dropped when expires_at passed
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # given up for good (a permanent error, or expired): when, and why (a message key)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure: Mapped[str | None] = mapped_column(String(200))
    # what Discord made of it: the message, and the thread started from it
    discord_message_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    # a post that belongs in the thread started from another post (the review's)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))


class BotState(Base):
    """Small facts the program keeps about itself (e.g. the hash of the commands last
    synced to Discord), one row per key."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Problem(Base):
    """A Programmers problem, keyed by the site's id (ids are never reused)."""

    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # algorithm | sql
    part_title: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(20))  # seed | sync
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProblemPick(Base):
    """The problem a group reviews on a study day (picked by the moderator or the bot)."""

    __tablename__ = "problem_picks"
    __table_args__ = (UniqueConstraint("group_id", "for_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    for_date: Mapped[date] = mapped_column(Date)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"))
    picked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    auto: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProblemPickEvent(Base):
    """Audit log of picks: pick, repick, auto, reroll."""

    __tablename__ = "problem_pick_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    for_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    old_problem_id: Mapped[int | None] = mapped_column(BigInteger)
    new_problem_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProblemSolve(Base):
    """A member's report that they solved a problem (no public API exists to check)."""

    __tablename__ = "problem_solves"
    __table_args__ = (UniqueConstraint("group_id", "problem_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    link: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Competition(Base):
    """The competition a group works on: one row per group, every field optional."""

    __tablename__ = "competitions"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    deadline: Mapped[date | None] = mapped_column(Date)  # the last day to submit
    daily_limit: Mapped[int | None] = mapped_column(Integer)  # submissions a day; None: no limit
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CompetitionTask(Base):
    """A task of the group's competition, with its metric and which way is better."""

    __tablename__ = "competition_tasks"
    __table_args__ = (UniqueConstraint("group_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    name: Mapped[str] = mapped_column(String(50))
    metric: Mapped[str] = mapped_column(String(30))
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProgressEntry(Base):
    """What a member did for the competition, counted for the group's local date when
    logged. Deleting an entry deletes the row; its number is never given to another
    (members refer to entries by number, so SQLite must not reuse ids either)."""

    __tablename__ = "progress_entries"
    __table_args__ = (
        Index("ix_progress_entries_group_day", "group_id", "local_date"),
        Index("ix_progress_entries_member_day", "member_id", "local_date"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    local_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500))
    task: Mapped[str | None] = mapped_column(String(50))
    metric: Mapped[str | None] = mapped_column(String(30))
    score: Mapped[float | None] = mapped_column(Float)  # on the leaderboard's scale
    model: Mapped[str | None] = mapped_column(String(100))
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    repro: Mapped[str | None] = mapped_column(String(300))  # seed, commit or config
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuizCard(Base):
    """A member's place in the review schedule of one lesson card (cards themselves live
    with the lessons' metadata; `card_id` names one). Dates are the group's local dates."""

    __tablename__ = "quiz_cards"
    __table_args__ = (
        UniqueConstraint("member_id", "card_id"),
        Index("ix_quiz_cards_member_due", "member_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    card_id: Mapped[str] = mapped_column(String(80))
    box: Mapped[int] = mapped_column(Integer, default=1)  # Leitner box, 1 = the first
    recalls: Mapped[int] = mapped_column(Integer, default=0)  # on separate days
    due_on: Mapped[date] = mapped_column(Date)
    last_answered_on: Mapped[date | None] = mapped_column(Date)  # a recall counts once a day
    learned_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuizReview(Base):
    """One answer to a card (kept for the statistics and the digest)."""

    __tablename__ = "quiz_reviews"
    __table_args__ = (Index("ix_quiz_reviews_member_day", "member_id", "local_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    card_id: Mapped[str] = mapped_column(String(80))
    local_date: Mapped[date] = mapped_column(Date)
    knew: Mapped[bool] = mapped_column(Boolean)
    box_after: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuizMember(Base):
    """A member's quiz state: the card on the table (and whether its answer was shown),
    the optional daily nudge time (local) and the local date of the last nudge."""

    __tablename__ = "quiz_members"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    current_card_id: Mapped[str | None] = mapped_column(String(80))
    revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    nudge_time: Mapped[time | None] = mapped_column(Time)
    nudged_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
