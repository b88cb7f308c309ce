"""One duty for many groups in one transaction: the start-up catch-up and a firing moment
(every group whose duty falls due at that instant) run through here, ``BATCH`` groups at a
time.

The review post, the duty every group has every study day, is built from a few queries
per batch (claims with ``INSERT ... ON CONFLICT DO NOTHING RETURNING``, the rotation's
facts read for all the batch's groups at once); it says exactly what ``ensure_review_post``
says for each group. The other duties run group by group inside the batch's transaction.
The guarantees are the single run's: the claims and the posts commit together, so a crash
leaves nothing, and a claim another process holds is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.schedule import duties
from bot.schedule.duties import Queued, ReviewFacts
from bot.services import duty_batch as reads
from bot.services.duty_runs import REVIEW_DUTY, claim_many
from db.models import Group

BATCH = 500  # groups per transaction


FIRST_BATCHES = (10, 100)  # a firing's first batches: the first posts go out at once


def firing_chunks(items: Sequence[int]) -> list[list[int]]:
    """``items`` cut for a firing moment: small batches first (``FIRST_BATCHES``; each one's
    members are checked over HTTP before it runs), then ``BATCH`` at a time."""
    found: list[list[int]] = []
    start = 0
    for size in FIRST_BATCHES:
        if start < len(items):
            step = min(size, BATCH)
            found.append(list(items[start : start + step]))
            start += step
    return found + chunks(items[start:])


def chunks(items: Sequence[int], size: int | None = None) -> list[list[int]]:
    """``items`` cut into lists of at most ``size`` (default ``BATCH``)."""
    step = size or BATCH
    return [list(items[i : i + step]) for i in range(0, len(items), step)]


def run_many(
    session: Session, duty: str, groups: Sequence[Group], day: date, now: datetime
) -> list[int]:
    """Run ``duty`` of ``day`` for each group (none paused); the ids of those that posted."""
    if duty == REVIEW_DUTY:
        return review_many(session, groups, day, now)
    run = duties.DUTIES[duty].run
    return [group.id for group in groups if run(session, group, day, now)]


def review_many(session: Session, groups: Sequence[Group], day: date, now: datetime) -> list[int]:
    """``ensure_review_post`` for many groups: the ids of those that posted."""
    calendars = reads.calendars_of(session, groups)
    studying = [g for g in groups if calendars[g.id].is_study_day(day)]
    claimed_ids = claim_many(session, REVIEW_DUTY, studying, day, now)
    claimed = [g for g in studying if g.id in claimed_ids]
    if not claimed:
        return []
    claimed_ids_list = [g.id for g in claimed]
    moderators = reads.moderators_many(session, claimed, day, now, calendars)
    problems, solvers = reads.problems_many(session, claimed_ids_list, day)
    tracking = reads.tracking_many(session, claimed_ids_list)
    quizzing = reads.quizzing_many(session, claimed_ids_list, day)
    named = {
        g.id: [m for m in (moderators.get(g.id), *solvers.get(g.id, [])) if m is not None]
        for g in claimed
    }
    reads.hold_named_users(session, named)
    batch: list[tuple[Group, list[Queued]]] = []
    for group in claimed:
        facts = ReviewFacts(
            moderators.get(group.id),
            problems.get(group.id),
            solvers.get(group.id, []),
            digest=group.id in tracking,
            quiz=group.id in quizzing,
        )
        batch.append((group, duties.review_posts(session, group, day, now, facts)))
    duties.enqueue_posts(session, batch, now)
    return claimed_ids_list
