"""The Programmers problem catalogue: seeding from the shipped CSV, lookup and search."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.errors import InvalidInput, NotFound
from bot.replies import OptionRef
from bot.services import freetext
from bot.services.bounds import MAX_BIG_ID, big_id
from db.models import Problem

PROBLEM_URL = "https://school.programmers.co.kr/learn/courses/30/lessons/{id}"
_URL_ID = re.compile(r"programmers\.co\.kr/learn/courses/\d+/lessons/(\d+)")
KINDS = ("algorithm", "sql")


@dataclass(frozen=True)
class CatalogueRow:
    id: int
    title: str
    level: int
    kind: str


def problem_url(problem_id: int) -> str:
    return PROBLEM_URL.format(id=problem_id)


def shipped_rows() -> list[CatalogueRow]:
    """The level-2 catalogue shipped with the bot (see bot/data/PROVENANCE.md)."""
    text = resources.files("bot.data").joinpath("programmers_lv2.csv").read_text("utf-8")
    rows = []
    for record in csv.DictReader(io.StringIO(text)):
        kind = record["kind"].strip()
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} for problem {record['id']}")
        rows.append(
            CatalogueRow(
                id=int(record["id"]),
                title=record["title"].strip(),
                level=int(record["level"]),
                kind=kind,
            )
        )
    return rows


def new_problem(row: CatalogueRow, origin: str, now: datetime) -> Problem:
    return Problem(
        id=row.id,
        title=row.title,
        level=row.level,
        kind=row.kind,
        part_title=None,
        origin=origin,
        added_at=now,
        updated_at=now,
    )


def seed(session: Session, now: datetime) -> int:
    """Insert shipped problems that are not in the table yet; never overwrite. Returns count."""
    known = set(session.scalars(select(Problem.id)))
    added = 0
    for row in shipped_rows():
        if row.id in known:
            continue
        session.add(new_problem(row, "seed", now))
        added += 1
    session.flush()
    return added


def get(session: Session, problem_id: int) -> Problem:
    if not 1 <= problem_id <= MAX_BIG_ID:  # no such row, and the database could not ask
        raise NotFound("error.problem_missing", id=problem_id)
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise NotFound("error.problem_missing", id=problem_id)
    return problem


def search(session: Session, text: str, limit: int = 25) -> list[Problem]:
    """Title search: every word must appear (case- and space-insensitive), ids match too."""
    words = [w for w in re.split(r"\s+", text.strip().lower()) if w]
    query = select(Problem).order_by(Problem.id)
    for word in words:
        pattern = f"%{_escape_like(word)}%"
        query = query.where(
            or_(
                func.lower(Problem.title).like(pattern, escape="\\"),
                func.replace(func.lower(Problem.title), " ", "").like(pattern, escape="\\"),
                func.cast(Problem.id, type_=Problem.title.type).like(pattern, escape="\\"),
            )
        )
    return list(session.scalars(query.limit(limit)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _problem_id(digits: str) -> int:
    """A problem number as typed: 1 up to the database's largest integer."""
    return big_id(OptionRef("problem show", "problem"), int(digits))


def resolve(session: Session, text: str) -> Problem:
    """An id, a problem URL, or a title that matches exactly one problem."""
    value = text.strip()
    if not value:
        raise InvalidInput("error.problem_query_empty")
    match = _URL_ID.search(value)
    if match:
        return get(session, _problem_id(match[1]))
    if value.isdecimal():
        return get(session, _problem_id(value))
    found = search(session, value, limit=10)
    exact = [p for p in found if p.title.replace(" ", "") == value.replace(" ", "")]
    if len(exact) == 1:
        return exact[0]
    if len(found) == 1:
        return found[0]
    if not found:
        raise NotFound("error.problem_no_match", query=freetext.echo(value))
    raise InvalidInput(
        "error.problem_ambiguous",
        query=freetext.echo(value),
        candidates=", ".join(f"{p.id} {p.title}" for p in found[:5]),
    )


@dataclass
class SyncPlan:
    added: list[CatalogueRow]
    renamed: list[tuple[int, str, str]]  # id, old title, new title
    unchanged: int
    other_levels: int  # answers of another level, ignored

    @property
    def empty(self) -> bool:
        return not self.added and not self.renamed


def plan_sync(session: Session, fetched: list[CatalogueRow], level: int = 2) -> SyncPlan:
    """What a sync would change: new problems added, renamed titles updated, nothing removed."""
    known = {p.id: p for p in session.scalars(select(Problem))}
    added, renamed, unchanged, other = [], [], 0, 0
    for row in fetched:
        if row.level != level:
            other += 1
            continue
        current = known.get(row.id)
        if current is None:
            added.append(row)
        elif current.title != row.title:
            renamed.append((row.id, current.title, row.title))
        else:
            unchanged += 1
    return SyncPlan(added, renamed, unchanged, other)


def sync(
    session: Session, now: datetime, fetched: list[CatalogueRow], level: int, dry_run: bool
) -> SyncPlan:
    """Plan a sync and, unless ``dry_run``, apply it in the caller's transaction."""
    plan = plan_sync(session, fetched, level)
    if not dry_run:
        apply_sync(session, plan, now)
    return plan


def _row(problem: Problem) -> CatalogueRow:
    return CatalogueRow(problem.id, problem.title, problem.level, problem.kind)


def listing(session: Session, now: datetime, kind: str | None = None) -> list[CatalogueRow]:
    """Every problem of the catalogue (of one kind), by id."""
    query = select(Problem).order_by(Problem.id)
    if kind:
        query = query.where(Problem.kind == kind)
    return [_row(problem) for problem in session.scalars(query)]


def find(session: Session, now: datetime, problem_id: int) -> CatalogueRow | None:
    if not 1 <= problem_id <= MAX_BIG_ID:
        return None
    problem = session.get(Problem, problem_id)
    return None if problem is None else _row(problem)


def apply_sync(session: Session, plan: SyncPlan, now: datetime) -> None:
    for row in plan.added:
        session.add(new_problem(row, "sync", now))
    for problem_id, _old, new in plan.renamed:
        problem = get(session, problem_id)
        problem.title = new
        problem.updated_at = now
    session.flush()
