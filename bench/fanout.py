"""The 09:30 fan-out: every group's review post and the thread for solutions started from
it, delivered through the real deliverer (claims, discord.py's request building, marks)
against the rule-enforcing Discord HTTP double with Discord's rate limits on (50 requests
a second in all, 5 per 5 seconds per channel and route; a 429 is counted). Before each
batch is written, the people its posts will name (each group's moderator) are looked up
over the same HTTP (``GET /guilds/{id}/members/{id}``, sharing the deliverer's pace), so
the figure counts those requests too; one group in ``LEFT_EVERY`` finds its moderator gone
and looks up the next one. Writing and delivering run together, as in the bot.

Time is simulated: the double and the deliverer's ``Pace`` share a manual clock that only
moves when the pace waits for the limits, so the rate is computed, not slept; the
processing itself is timed on the real clock and reported too (it must outrun 50 requests
a second for the computed rate to hold).

Prints one JSON object. Run: .venv/bin/python bench/fanout.py [--groups N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

# the repository in place of this folder (so a script named like a standard module could not
# hide the standard library's)
sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import discord
from sqlalchemy import func, insert, select

from bench.startup import populate
from bot.adapters.discord.delivery import (
    GLOBAL_PER_SECOND,
    DiscordChannelSender,
    Pace,
    deliver_pending,
)
from bot.adapters.discord.presence import MemberPresence
from bot.app import build_core
from bot.clock import ManualClock
from bot.config import Settings
from bot.schedule.scheduler import DutyScheduler
from bot.services.duty_runs import REVIEW_DUTY
from db.models import Group, Member, Problem, ProblemPick
from tests.discord.http_double import DiscordHTTP

REVIEW = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # Monday 09:30 in Seoul
CLAIM = 100  # posts claimed per batch
MEMBERS = 10  # members per group
LEFT_EVERY = 100  # one group in this many finds its moderator gone from the server


class _Patch:
    """``DiscordHTTP.install`` without pytest: the double answers the client's requests."""

    def setattr(self, target: object, name: str, value: object) -> None:
        setattr(target, name, value)


async def fan_out(groups: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", _env_file=None)  # type: ignore[call-arg]
        clock = ManualClock(REVIEW - timedelta(days=1))
        core = build_core(settings, clock)
        populate(core, groups, MEMBERS, clock.now())
        with core.services.transaction() as session:
            problem_ids = list(session.scalars(select(Problem.id).order_by(Problem.id)))
            rows = [
                {
                    "group_id": g + 1,
                    "for_date": REVIEW.date(),
                    "problem_id": problem_ids[g % len(problem_ids)],
                    "auto": True,
                    "created_at": clock.now(),
                    "updated_at": clock.now(),
                }
                for g in range(groups)
            ]
            session.execute(insert(ProblemPick), rows)
            channels = {g: c for g, c in session.execute(select(Group.id, Group.channel_id))}
        clock.set(REVIEW)

        # Discord's HTTP double with its limits on, on the simulated clock
        http = DiscordHTTP(clock)
        for group_id, channel_id in channels.items():
            http.channel(channel_id, f"study{group_id}")
        # every LEFT_EVERY-th group's moderator has left the server: found by the lookup,
        # they leave the group and the next member is looked up and named instead
        http.left_server = {
            10_000 + g * MEMBERS for g in range(0, groups, LEFT_EVERY)
        }  # (``populate``'s user ids: the first member of a group moderates first)
        client = discord.Client(intents=discord.Intents.none())
        http.install(_Patch(), client)  # type: ignore[arg-type]
        http.enforce_rate_limits()

        async def simulated_sleep(seconds: float) -> None:
            """Wait until ``seconds`` from now on the simulated clock (two tasks waiting
            for the same instant move it once)."""
            target = clock.now() + timedelta(seconds=seconds)
            if clock.now() < target:
                clock.set(target)
            await asyncio.sleep(0)

        # one pace for the member lookups and the posts, as in the bot
        pace = Pace(clock, simulated_sleep)

        async def get_member(guild_id: int, user_id: int) -> object:
            return await client.http.get_member(guild_id, user_id)

        presence = MemberPresence(get_member, clock, pace=pace)
        sender = DiscordChannelSender(client)

        # 09:30: the moment's job checks each batch's moderators and writes its posts,
        # while the deliverer, woken after each batch, sends them
        committed: list[float] = []
        wake = asyncio.Event()
        fired = False

        async def after_run() -> None:
            committed.append(time.perf_counter())
            wake.set()

        scheduler = DutyScheduler(core, after_run=after_run, presence_check=presence.gone)
        scheduler.build_jobs()

        async def fire() -> float:
            nonlocal fired
            start = time.perf_counter()
            await scheduler.fire_moment(REVIEW_DUTY, "Asia/Seoul", time_of_day(9, 30))
            fired = True
            wake.set()
            return time.perf_counter() - start

        async def deliver() -> None:
            while True:
                done = fired  # read before the claim: nothing is written after it
                wake.clear()
                claimed, _failed = await deliver_pending(core, sender, CLAIM, pace)
                if claimed == 0:
                    if done:
                        return
                    await wake.wait()

        t0 = time.perf_counter()
        write_s, _ = await asyncio.gather(fire(), deliver())
        total_s = time.perf_counter() - t0
        first_batch_s = committed[0] - t0 if committed else None
        await client.close()
        scheduler.shutdown()
        with core.services.reading() as session:
            left_groups = session.scalar(
                select(func.count()).select_from(Member).where(Member.active.is_(False))
            )

    accepted = [at for at, _ in http.accepted]
    elapsed = (accepted[-1] - accepted[0]).total_seconds() if len(accepted) > 1 else 0.0
    # whole one-second windows: the limit allows 50 in any second, bursts at a window's
    # edge included, so the span counts the last request's second too
    rate = len(accepted) / (elapsed + 1.0) if accepted else 0.0
    # fairness: the order the groups' review posts went out in, against group order
    channel_group = {c: g for g, c in channels.items()}
    first_post: dict[int, datetime] = {}
    for posted in http.posted:
        group = channel_group.get(posted.channel_id)
        if group is not None and group not in first_post:
            first_post[group] = posted.at
    order = sorted(first_post, key=lambda g: first_post[g])
    displacement = max((abs(i - (g - 1)) for i, g in enumerate(order)), default=0)
    waits = sorted((at - REVIEW).total_seconds() for at in first_post.values())
    lookups = sum(1 for _at, key in http.accepted if key.startswith("GET /guilds/"))
    return {
        "bench": "fanout",
        "groups": groups,
        "members_per_group": MEMBERS,
        "requests": len(accepted),
        "member_lookups": lookups,
        "members_found_gone": left_groups,
        "messages_posted": len(http.posted),
        "threads_started": len(http.threads),
        "rate_limited_429": http.rate_limited,
        "simulated_s": round(elapsed, 2),
        "requests_per_s": round(rate, 2),
        "global_limit_per_s": GLOBAL_PER_SECOND,
        "ratio_to_limit": round(rate / GLOBAL_PER_SECOND, 3),
        "groups_without_review_post": groups - len(first_post),
        "first_post_after_s": round(waits[0], 2) if waits else None,
        "median_group_wait_s": round(waits[len(waits) // 2], 1) if waits else None,
        "last_group_wait_s": round(waits[-1], 1) if waits else None,
        "max_order_displacement": displacement,
        "write_real_s": round(write_s, 3),
        "first_batch_committed_real_s": round(first_batch_s, 3) if first_batch_s else None,
        "total_real_s": round(total_s, 2),
        "real_requests_per_s": round(len(accepted) / total_s, 1) if total_s else None,
    }


def main() -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=10_000)
    args = parser.parse_args()
    return asyncio.run(fan_out(args.groups))


if __name__ == "__main__":
    print(json.dumps(main()))
