"""The outbox: posts committed with the state change that caused them.

A front end claims pending rows, delivers them and marks them sent. A claim is an atomic
conditional update, so two deliverers never post the same row; a claim that is never
confirmed (the deliverer died) may be retaken after ``CLAIM_TIMEOUT``. The front end sends
each row with the nonce ``nonce_of(row id)``, so a row sent again after such a crash is
one message on Discord's side too.

A row with a ``user_id`` is private: the front end delivers it to that user alone (a
direct message on Discord, ``[@name]`` in the console), never in the channel. A row with
a ``parent_id`` belongs in the thread started from its parent's message (the review
post's): it waits until the parent is delivered and goes into that thread.

Delivery that fails for a while (Discord down, rate limited, the network) is retried with
exponential backoff: ``FIRST_DELAY`` doubling up to ``MAX_DELAY`` between attempts, for
about ``GIVE_UP_AFTER`` (``MAX_ATTEMPTS`` attempts), then given up. A failure that cannot
heal by waiting (the bot lacks access or a permission, the channel is gone, a member
takes no direct messages) stops the row at once. A row past its ``expires_at`` (a
reminder after its deadline) is dropped, not sent late. Either way the row keeps why
(``failure``, a message key); channel posts that fail for good are reported to the
group's admins (``Group.delivery_problem``, shown by ``/schedule show``, and a direct
message to whoever set the channel, else to the server's owner). Rows of one lane (the
group's channel, or one member's direct messages) are delivered in order: a row waiting
for its next attempt holds back the later rows of its lane.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot import i18n
from bot.errors import Conflict, NotFound
from bot.replies import Reply, Text, reply_from_json, reply_to_json
from bot.services.bounds import MAX_ROW_ID
from bot.services.calendar import local_today, zone
from bot.services.dates import mark_years
from bot.services.users import ensure_user
from db.models import Group, OutboxMessage, User

CLAIM_TIMEOUT = timedelta(minutes=2)  # within Discord's nonce window of a few minutes
FIRST_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(minutes=10)
GIVE_UP_AFTER = timedelta(hours=24)
SCAN_LIMIT = 1000  # undelivered rows looked at per claim
MAX_ERROR = 2000
MAX_NONCE = 25  # Discord's limit on a message nonce

# why a row was given up (message keys, kept in ``OutboxMessage.failure``)
EXPIRED = "delivery.failure.expired"
GAVE_UP = "delivery.failure.gave_up"
MISSING_ACCESS = "delivery.failure.missing_access"
MISSING_PERMISSIONS = "delivery.failure.missing_permissions"
UNKNOWN_CHANNEL = "delivery.failure.unknown_channel"
NO_CHANNEL = "delivery.failure.no_channel"
DM_CLOSED = "delivery.failure.dm_closed"
REJECTED = "delivery.failure.rejected"
PARENT_FAILED = "delivery.failure.parent_failed"
FAILURES = (
    EXPIRED,
    GAVE_UP,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    UNKNOWN_CHANNEL,
    NO_CHANNEL,
    DM_CLOSED,
    REJECTED,
    PARENT_FAILED,
)
# failures of a channel post that the group's admins are told about: they can fix them
REPORTED = frozenset({MISSING_ACCESS, MISSING_PERMISSIONS, UNKNOWN_CHANNEL, NO_CHANNEL, GAVE_UP})
# the permissions a channel post may need (names as discord.py spells them); their
# display names are the catalogue's ``permission.<name>``
PERMISSIONS = (
    "view_channel",
    "send_messages",
    "embed_links",
    "attach_files",
    "create_public_threads",
    "send_messages_in_threads",
)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 5 s, 10 s, 20 s ... at most 10 min."""
    if attempts >= 20:  # far past the cap; keeps the power small
        return MAX_DELAY
    delay: timedelta = FIRST_DELAY * (1 << max(attempts - 1, 0))
    return min(delay, MAX_DELAY)


def _attempts_within(window: timedelta) -> int:
    attempts, waited = 1, timedelta(0)
    while waited + backoff(attempts) < window:
        waited += backoff(attempts)
        attempts += 1
    return attempts


MAX_ATTEMPTS = _attempts_within(GIVE_UP_AFTER)  # 150: the last one about 24 h after the first


def nonce_of(row_id: int) -> str:
    """The row's message nonce: the same on every attempt, so Discord keeps one message."""
    nonce = f"sb{row_id}"
    assert len(nonce) <= MAX_NONCE
    return nonce


@dataclass(frozen=True)
class Pending:
    id: int
    group_id: int
    guild_id: int
    channel_id: int | None
    locale: str
    reply: Reply
    user_id: int | None = None  # deliver privately (a DM) to this user, not in the channel
    expires_at: datetime | None = None  # dropped, not delivered, from this instant
    parent_id: int | None = None  # goes into the thread started from this row's message
    parent_message_id: int | None = None  # the parent's message, once delivered
    thread_id: int | None = None  # the thread started from it, once started

    @property
    def nonce(self) -> str:
        return nonce_of(self.id)

    @property
    def thread_name(self) -> str | None:
        return self.reply.thread

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


def enqueue(
    session: Session,
    group: Group,
    reply: Reply,
    now: datetime,
    user_id: int | None = None,
    *,
    expires_at: datetime | None = None,
    parent: OutboxMessage | None = None,
    flush: bool = True,
) -> OutboxMessage:
    """Queue ``reply`` for the group's channel, or privately for ``user_id``; dropped if not
    delivered before ``expires_at``. With ``parent`` (written already: it has its id) it
    goes into the thread started from the parent's message (and expires with it unless
    given its own time). ``flush=False`` leaves the insert to the caller's next flush
    (many posts written at once)."""
    if parent is not None and expires_at is None:
        expires_at = parent.expires_at
    if parent is not None and parent.id is None:
        raise ValueError("the parent post must be written before its thread's posts")
    mark_years(reply, local_today(group, now))  # dates of another year show it
    row = OutboxMessage(
        group_id=group.id,
        body=reply_to_json(reply),
        user_id=user_id,
        created_at=now,
        attempts=0,
        expires_at=expires_at,
        parent_id=parent.id if parent is not None else None,
    )
    session.add(row)
    if flush:
        session.flush()
    return row


# --- claiming ----------------------------------------------------------------------


def _claimable(now: datetime) -> Any:
    stale = now - CLAIM_TIMEOUT
    return (
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < stale),
        or_(
            OutboxMessage.next_attempt_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.expires_at <= now,  # due to be dropped
        ),
    )


def claim(session: Session, now: datetime, limit: int = 20) -> list[Pending]:
    """Claim up to ``limit`` posts due for an attempt, oldest first (commit to make it stick).

    A row is due when it is neither sent nor given up, not claimed (or its claim is stale)
    and its next attempt is not in the future, or it has expired (the deliverer drops it).
    A row waiting for its next attempt holds back the later rows of its lane, and a row for
    a thread waits for its parent (which may be claimed in the same batch: the batch is
    delivered in order).
    """
    stale = now - CLAIM_TIMEOUT
    candidates = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.group_id,
            OutboxMessage.user_id,
            OutboxMessage.parent_id,
            OutboxMessage.claimed_at,
            OutboxMessage.next_attempt_at,
            OutboxMessage.expires_at,
        )
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(SCAN_LIMIT)
    ).all()
    parents = {c.parent_id for c in candidates if c.parent_id is not None}
    delivered_parents: set[int] = set()
    failed_parents: set[int] = set()
    if parents:
        for parent_id, sent_at, failed_at in session.execute(
            select(OutboxMessage.id, OutboxMessage.sent_at, OutboxMessage.failed_at).where(
                OutboxMessage.id.in_(parents)
            )
        ):
            if sent_at is not None:
                delivered_parents.add(parent_id)
            elif failed_at is not None:
                failed_parents.add(parent_id)
    held: set[tuple[int, int | None]] = set()
    chosen: list[int] = []
    chosen_ids: set[int] = set()
    for candidate in candidates:
        lane = (candidate.group_id, candidate.user_id)
        if lane in held:
            continue
        expired = candidate.expires_at is not None and candidate.expires_at <= now
        waits = candidate.next_attempt_at is not None and candidate.next_attempt_at > now
        if waits and not expired:  # (an expired row is handed out to be dropped)
            held.add(lane)  # waiting for its next attempt: the lane keeps its order
            continue
        if candidate.claimed_at is not None and candidate.claimed_at >= stale:
            continue  # being delivered by someone else right now
        parent = candidate.parent_id
        if parent in failed_parents:  # its thread will never be
            fail(session, candidate.id, now, PARENT_FAILED)
            continue
        if parent is not None and parent not in delivered_parents and parent not in chosen_ids:
            held.add(lane)
            continue
        chosen.append(candidate.id)
        chosen_ids.add(candidate.id)
        if len(chosen) >= limit:
            break
    if not chosen:
        return []
    # one conditional update claims them all; a row someone else took meanwhile is not
    # returned (a thread's post whose parent went that way is released by the deliverer)
    taken = set(
        session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(chosen), *_claimable(now))
            .values(claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
    )
    rows = {
        row.id: row
        for row in session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(taken))
            .execution_options(populate_existing=True)
        )
    }
    return _pending_many(session, [rows[i] for i in chosen if i in taken])


def _pending_many(session: Session, rows: list[OutboxMessage]) -> list[Pending]:
    """``_pending`` for many rows: their groups and parents read once."""
    groups = {
        g.id: g
        for g in session.scalars(select(Group).where(Group.id.in_({r.group_id for r in rows})))
    }
    parent_ids = {r.parent_id for r in rows if r.parent_id is not None}
    parents: dict[int, tuple[int | None, int | None]] = {}
    if parent_ids:
        parents = {
            parent_id: (message_id, thread_id)
            for parent_id, message_id, thread_id in session.execute(
                select(
                    OutboxMessage.id, OutboxMessage.discord_message_id, OutboxMessage.thread_id
                ).where(OutboxMessage.id.in_(parent_ids))
            )
        }
    found = []
    for row in rows:
        group = groups[row.group_id]
        parent_message, thread = (
            parents.get(row.parent_id, (None, None)) if row.parent_id is not None else (None, None)
        )
        found.append(
            Pending(
                id=row.id,
                group_id=group.id,
                guild_id=group.guild_id,
                channel_id=group.channel_id,
                locale=group.locale,
                reply=reply_from_json(row.body),
                user_id=row.user_id,
                expires_at=row.expires_at,
                parent_id=row.parent_id,
                parent_message_id=parent_message,
                thread_id=thread,
            )
        )
    return found


# --- outcomes --------------------------------------------------------------------------


def _row(session: Session, row_id: int) -> OutboxMessage:
    if not 1 <= row_id <= MAX_ROW_ID:  # no such row, and the database could not ask
        raise NotFound("outbox.not_found", id=row_id)
    row = session.get(OutboxMessage, row_id)
    if row is None:
        raise NotFound("outbox.not_found", id=row_id)
    return row


def mark_sent(
    session: Session, row_id: int, now: datetime, discord_message_id: int | None = None
) -> None:
    """Delivered (as ``discord_message_id`` on Discord). A channel post that arrives clears
    the group's delivery problem: the channel works again."""
    row = _row(session, row_id)
    row.sent_at = now
    row.claimed_at = None
    row.next_attempt_at = None
    if discord_message_id is not None:
        row.discord_message_id = discord_message_id
    if row.user_id is None:
        group = session.get(Group, row.group_id)
        if group is not None and group.delivery_problem:
            clear_problem(group)


def mark_thread(session: Session, row_id: int, thread_id: int) -> None:
    """The thread started from the row's message (its children are posted there)."""
    _row(session, row_id).thread_id = thread_id


def mark_failed(
    session: Session,
    row_id: int,
    error: str,
    now: datetime,
    retry_after: float | None = None,
) -> None:
    """A failure that may heal: try again after the backoff (at least ``retry_after``
    seconds, a rate limit's), or give up after ``MAX_ATTEMPTS``."""
    row = _row(session, row_id)
    if row.attempts >= MAX_ATTEMPTS:
        fail(session, row_id, now, GAVE_UP, error)
        return
    delay = backoff(row.attempts)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, timedelta(seconds=retry_after))
    row.claimed_at = None
    row.last_error = error[:MAX_ERROR]
    row.next_attempt_at = now + delay


def release(session: Session, row_ids: Iterable[int]) -> int:
    """Hand claimed rows back untried (an earlier row of their lane failed, or the process
    stops): the claim's attempt does not count. Returns how many were still claimed."""
    released = 0
    for row_id in row_ids:
        taken = session.scalar(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.claimed_at.is_not(None),
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
            )
            .values(claimed_at=None, attempts=OutboxMessage.attempts - 1)
            .returning(OutboxMessage.id)
        )
        released += taken is not None
    return released


@dataclass(frozen=True)
class Admin:
    """Someone to tell about a delivery problem (the front end knows the server's owner)."""

    user_id: int
    name: str


def fail(
    session: Session,
    row_id: int,
    now: datetime,
    failure: str,
    error: str | None = None,
    *,
    missing: Sequence[str] = (),
    owner: Admin | None = None,
) -> None:
    """Give the row up for good (``failure``: why, a message key). Rows waiting for it (its
    thread's posts) are given up with it. A channel post that fails in a way the admins
    can fix becomes the group's delivery problem; ``missing`` names the permissions the
    bot lacks there, ``owner`` is told when nobody set the channel."""
    row = _row(session, row_id)
    row.failed_at = now
    row.failure = failure
    row.claimed_at = None
    row.next_attempt_at = None
    if error is not None:
        row.last_error = error[:MAX_ERROR]
    for child in session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.parent_id == row.id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
        )
    ):
        fail(session, child.id, now, PARENT_FAILED)
    if row.user_id is None and failure in REPORTED:
        group = session.get(Group, row.group_id)
        assert group is not None
        report_problem(session, group, row, now, failure, missing, owner)


# --- the group's delivery problem -----------------------------------------------------


def post_kind(body: dict[str, Any]) -> Text:
    """What a stored post is, for people: ``delivery.post.<its key>`` (or a general name)."""
    key = f"delivery.post.{body.get('key')}"
    return Text(key) if key in i18n.catalogue(i18n.DEFAULT_LOCALE) else Text("delivery.post.other")


def _local(group: Group, when: datetime) -> tuple[date, time]:
    local = when.astimezone(zone(group))
    return local.date(), local.time().replace(second=0, microsecond=0)


def report_problem(
    session: Session,
    group: Group,
    row: OutboxMessage,
    now: datetime,
    failure: str,
    missing: Sequence[str],
    owner: Admin | None,
) -> None:
    """Keep the problem on the group and, when it is news, tell an admin privately."""
    problem = {
        "row": row.id,
        "failure": failure,
        "missing": [name for name in PERMISSIONS if name in missing],
        "channel": group.channel_name,
        "post": row.body.get("key"),
        "created_at": row.created_at.isoformat(),
    }
    known = group.delivery_problem or {}
    news = any(known.get(k) != problem[k] for k in ("failure", "missing", "channel"))
    group.delivery_problem = problem
    group.delivery_problem_at = now
    if not news:
        return
    recipient = None
    if group.channel_set_by is not None and session.get(User, group.channel_set_by) is not None:
        recipient = group.channel_set_by
    elif owner is not None:
        recipient = ensure_user(session, owner.user_id, owner.name, now).id
    if recipient is None:
        return
    alert = Reply.private("delivery.alert", channel=group.channel_name or "-")
    alert.lines = problem_lines(group, problem)
    alert.lines.append(Text("delivery.alert_fix"))
    enqueue(session, group, alert, now, user_id=recipient)


def problem_lines(group: Group, problem: dict[str, Any]) -> list[Text]:
    """The problem as lines of a reply: which post, when, why and what is missing."""
    day, at = _local(group, datetime.fromisoformat(problem["created_at"]))
    lines = [
        Text(
            "delivery.problem_post",
            {"post": post_kind({"key": problem.get("post")}), "day": day, "time": at},
        ),
        Text("delivery.problem_reason", {"failure": Text(problem["failure"])}),
    ]
    if problem.get("missing"):
        names = [Text(f"permission.{name}") for name in problem["missing"]]
        lines.append(Text("delivery.missing", {"permissions": names}))
    return lines


def clear_problem(group: Group) -> None:
    group.delivery_problem = None
    group.delivery_problem_at = None


def problem_report(group: Group) -> list[Text]:
    """``/schedule show``'s lines about the group's delivery problem (none when fine)."""
    if not group.delivery_problem:
        return []
    return [Text("delivery.problem_title"), *problem_lines(group, group.delivery_problem)]


# --- operators ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One outbox row as ``studybot outbox list`` shows it."""

    id: int
    group: int
    guild: int
    channel: int | None
    user: int | None
    parent: int | None
    key: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    expires_at: datetime | None
    failed_at: datetime | None
    failure: str | None
    last_error: str | None
    sent_at: datetime | None
    discord_message_id: int | None
    thread_id: int | None

    @property
    def state(self) -> str:
        if self.sent_at is not None:
            return "sent"
        return "failed" if self.failed_at is not None else "pending"

    def as_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "id": self.id,
            "group": self.group,
            "guild": self.guild,
            "channel": self.channel,
            "user": self.user,
            "parent": self.parent,
            "key": self.key,
            "state": self.state,
            "created_at": iso(self.created_at),
            "attempts": self.attempts,
            "next_attempt_at": iso(self.next_attempt_at),
            "expires_at": iso(self.expires_at),
            "failed_at": iso(self.failed_at),
            "failure": self.failure,
            "last_error": self.last_error,
            "sent_at": iso(self.sent_at),
            "discord_message_id": self.discord_message_id,
            "thread_id": self.thread_id,
        }


RECENT = timedelta(hours=24)


def listing(session: Session, now: datetime, failed_only: bool = False) -> list[Row]:
    """Rows not delivered (waiting or given up) and those delivered in the last 24 hours;
    ``failed_only``: the given-up ones."""
    query = select(OutboxMessage, Group).join(Group, Group.id == OutboxMessage.group_id)
    if failed_only:
        query = query.where(OutboxMessage.failed_at.is_not(None))
    else:
        query = query.where(
            or_(OutboxMessage.sent_at.is_(None), OutboxMessage.sent_at >= now - RECENT)
        )
    return [
        Row(
            id=row.id,
            group=group.id,
            guild=group.guild_id,
            channel=group.channel_id if row.user_id is None else None,
            user=row.user_id,
            parent=row.parent_id,
            key=str(row.body.get("key")),
            created_at=row.created_at,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            expires_at=row.expires_at,
            failed_at=row.failed_at,
            failure=row.failure,
            last_error=row.last_error,
            sent_at=row.sent_at,
            discord_message_id=row.discord_message_id,
            thread_id=row.thread_id,
        )
        for row, group in session.execute(query.order_by(OutboxMessage.id)).all()
    ]


@dataclass(frozen=True)
class Retried:
    ids: list[int]  # queued again
    expired: list[int]  # given up, but past their moment: left as they are


def _requeue(session: Session, row: OutboxMessage, now: datetime) -> None:
    if row.parent_id is not None:  # its thread's post needs the parent delivered first
        parent = _row(session, row.parent_id)
        if parent.failed_at is not None and parent.sent_at is None:
            _requeue(session, parent, now)
    row.failed_at = None
    row.failure = None
    row.claimed_at = None
    row.attempts = 0
    row.next_attempt_at = now


def retry(session: Session, now: datetime, row_id: int | None = None) -> Retried:
    """Queue given-up rows again (one, or all with ``row_id=None``): attempted at once, with
    a fresh day of retries. A row whose moment has passed stays given up."""
    if row_id is not None:
        row = _row(session, row_id)
        if row.sent_at is not None:
            raise Conflict("outbox.already_sent", id=row_id)
        if row.expires_at is not None and now >= row.expires_at:
            raise Conflict("outbox.retry_expired", id=row_id)
        rows = [row]
    else:
        rows = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.failed_at.is_not(None), OutboxMessage.sent_at.is_(None))
                .order_by(OutboxMessage.id)
            )
        )
    done = Retried([], [])
    for row in rows:
        if row.expires_at is not None and now >= row.expires_at:
            done.expired.append(row.id)
            continue
        _requeue(session, row, now)
        done.ids.append(row.id)
    return done
