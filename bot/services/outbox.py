"""The outbox: posts committed with the state change that caused them.

A front end claims pending rows, delivers them and marks them sent. A claim is an atomic
conditional update, so two deliverers never post the same row; a claim that is never
confirmed (the deliverer died) may be retaken after ``CLAIM_TIMEOUT``.

A row with a ``user_id`` is private: the front end delivers it to that user alone (a
direct message on Discord, ``[@name]`` in the console), never in the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.replies import Reply, reply_from_json, reply_to_json
from db.models import Group, OutboxMessage

CLAIM_TIMEOUT = timedelta(minutes=5)
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Pending:
    id: int
    group_id: int
    guild_id: int
    channel_id: int | None
    locale: str
    reply: Reply
    user_id: int | None = None  # deliver privately (a DM) to this user, not in the channel


def enqueue(
    session: Session, group: Group, reply: Reply, now: datetime, user_id: int | None = None
) -> OutboxMessage:
    """Queue ``reply`` for the group's channel, or privately for ``user_id``."""
    row = OutboxMessage(
        group_id=group.id,
        body=reply_to_json(reply),
        user_id=user_id,
        created_at=now,
        attempts=0,
    )
    session.add(row)
    session.flush()
    return row


def claim(session: Session, now: datetime, limit: int = 20) -> list[Pending]:
    """Claim up to ``limit`` undelivered posts, oldest first (commit to make it stick)."""
    stale = now - CLAIM_TIMEOUT
    candidates = session.scalars(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.attempts < MAX_ATTEMPTS,
            or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < stale),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    claimed: list[Pending] = []
    for row_id in candidates:
        taken = session.scalar(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.sent_at.is_(None),
                or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < stale),
            )
            .values(claimed_at=now, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id)
        )
        if taken is None:
            continue  # someone else took it
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        group = session.get(Group, row.group_id)
        assert group is not None
        claimed.append(
            Pending(
                id=row.id,
                group_id=group.id,
                guild_id=group.guild_id,
                channel_id=group.channel_id,
                locale=group.locale,
                reply=reply_from_json(row.body),
                user_id=row.user_id,
            )
        )
    return claimed


def mark_sent(session: Session, message_id: int, now: datetime) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(sent_at=now))


def mark_failed(session: Session, message_id: int, error: str) -> None:
    """Release the claim so a later pass retries (until MAX_ATTEMPTS)."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(claimed_at=None, last_error=error[:2000])
    )
