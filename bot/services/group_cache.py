"""Group rows and their days off, kept in the process between units of work.

Every command's unit of work begins with its group's row, most ask its calendar, and
both change rarely (``/schedule set``, ``/schedule dayoff``, a channel that fails, the bot
removed from a server). A session made by a factory that carries a ``GroupCache``
(``session.info[GROUP_CACHE]``) therefore puts a kept copy of the row into the session,
and hands the calendar the kept days off, instead of asking the database each time:

- a write to a group or to its days off committed through this process's sessions drops
  what is kept of that group (a bulk statement: of every group), and the session that
  wrote reads that group from the database for the rest of its life;
- a row read in a transaction that overlapped such a commit is not kept, so an older row
  never replaces the one just committed;
- a write by another process sharing the database (another shard's deliverer noting a
  delivery problem, an operator's tool) is seen within ``ttl_s`` seconds.

``ttl_s`` 0 keeps nothing: every unit reads its group again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.orm import (
    Mapper,
    ORMExecuteState,
    Session,
    SessionTransaction,
    make_transient_to_detached,
    object_session,
)
from sqlalchemy.orm.util import identity_key

from db.models import DayOff, Group

GROUP_CACHE = "studybot.group_cache"  # session.info key: the process's GroupCache
_WROTE = "studybot.group_cache.wrote"  # session.info key: groups this session wrote (set)
EVERY_GROUP = -1  # in that set: a statement that may have written any group
_BEGAN = "studybot.group_cache.began"  # session.info key: (generation, time) at BEGIN
T = TypeVar("T")
_COLUMNS = tuple(attr.key for attr in inspect(Group).column_attrs)


DaysOff = dict[date, str | None]  # a group's days off: day -> reason


class GroupCache:
    """Copies of group rows and of groups' days off, each valid for ``ttl_s`` seconds of
    ``monotonic`` time."""

    def __init__(self, ttl_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._rows: dict[int, tuple[float, Group]] = {}
        self._days_off: dict[int, tuple[float, DaysOff]] = {}
        self._generation = 0  # moves at every committed write to what is kept
        self._changed_at: dict[int, int] = {}  # group id -> generation of its last write
        self._all_changed_at = 0  # generation of the last write that may touch any group
        self._lock = threading.Lock()

    def mark(self) -> tuple[int, float]:
        """The generation and the time now: what a transaction beginning now may keep."""
        return self._generation, self._monotonic()

    def kept(self, group_id: int) -> Group | None:
        """The kept (detached) copy of a group's row, while it is fresh."""
        return self._fresh(self._rows, group_id)

    def kept_days_off(self, group_id: int) -> DaysOff | None:
        """The group's kept days off (never to be changed), while they are fresh."""
        return self._fresh(self._days_off, group_id)

    def keep(self, group: Group, began: tuple[int, float]) -> None:
        """Keep ``group`` as read in a transaction that began at ``began`` (``mark``),
        unless a write to what is kept was committed since then."""
        self._keep(self._rows, group.id, _detached_copy(group), began)

    def keep_days_off(self, group_id: int, days_off: DaysOff, began: tuple[int, float]) -> None:
        """``keep`` for a group's days off."""
        self._keep(self._days_off, group_id, dict(days_off), began)

    def forget(self, group_ids: AbstractSet[int]) -> None:
        """Forget what is kept of ``group_ids`` (of every group, when ``EVERY_GROUP`` is
        among them): writes to them were committed."""
        with self._lock:
            self._generation += 1
            if EVERY_GROUP in group_ids:
                self._all_changed_at = self._generation
                self._rows.clear()
                self._days_off.clear()
                return
            for group_id in group_ids:
                self._changed_at[group_id] = self._generation
                self._rows.pop(group_id, None)
                self._days_off.pop(group_id, None)

    def __len__(self) -> int:
        return len(self._rows) + len(self._days_off)

    def _fresh(self, kept: dict[int, tuple[float, T]], group_id: int) -> T | None:
        entry = kept.get(group_id)
        if entry is None:
            return None
        read_at, value = entry
        if self._monotonic() - read_at >= self.ttl_s:
            kept.pop(group_id, None)
            return None
        return value

    def _keep(
        self, kept: dict[int, tuple[float, T]], group_id: int, value: T, began: tuple[int, float]
    ) -> None:
        if self.ttl_s <= 0:
            return
        generation, read_at = began
        with self._lock:  # (not if the group changed since the reading transaction began)
            if max(self._changed_at.get(group_id, 0), self._all_changed_at) <= generation:
                kept[group_id] = (read_at, value)


def _detached_copy(group: Group) -> Group:
    """A copy of the row's columns, not in any session (never changed once kept)."""
    values = inspect(group).dict
    copy = Group(**{key: values[key] for key in _COLUMNS if key in values})
    make_transient_to_detached(copy)
    return copy


def load_group(session: Session, group_id: int) -> Group | None:
    """The group's row in ``session``: the session's own, a kept copy, or read."""
    cache: GroupCache | None = session.info.get(GROUP_CACHE)
    if cache is None:
        return session.get(Group, group_id)
    present = session.identity_map.get(identity_key(Group, group_id))
    if present is not None:  # (with whatever the unit changed in it)
        return session.get(Group, group_id)
    row = cache.kept(group_id)
    if row is not None:
        return session.merge(row, load=False)
    group = session.get(Group, group_id)
    began = session.info.get(_BEGAN)
    if group is not None and began is not None and not _wrote(session, group_id):
        cache.keep(group, began)
    return group


def _wrote(session: Session, group_id: int) -> bool:
    """Whether ``session`` wrote the group's kept rows (it reads them from the database)."""
    wrote: set[int] = session.info.get(_WROTE, ())
    return group_id in wrote or EVERY_GROUP in wrote


def kept_days_off(session: Session, group_id: int) -> DaysOff | None:
    """The group's days off as kept in the process (None: read them), unless ``session``
    has written days off or groups (it reads its own writes)."""
    cache = _cache_of(session)
    if cache is None or _wrote(session, group_id):
        return None
    return cache.kept_days_off(group_id)


def keep_days_off(session: Session, group_id: int, days_off: DaysOff) -> None:
    """Keep the group's days off as ``session`` read them from the database."""
    cache = _cache_of(session)
    began = session.info.get(_BEGAN)
    if cache is not None and began is not None and not _wrote(session, group_id):
        cache.keep_days_off(group_id, days_off, began)


def _cache_of(session: Session | None) -> GroupCache | None:
    return None if session is None else session.info.get(GROUP_CACHE)


@event.listens_for(Session, "after_begin")
def _note_begin(session: Session, _transaction: SessionTransaction, _connection: Any) -> None:
    cache = _cache_of(session)
    if cache is not None and _BEGAN not in session.info:
        session.info[_BEGAN] = cache.mark()


def _note_write(_mapper: Mapper[Any], _connection: Any, target: Group | DayOff) -> None:
    session = object_session(target)
    if _cache_of(session) is not None:
        assert session is not None
        group_id = target.id if isinstance(target, Group) else target.group_id
        session.info.setdefault(_WROTE, set()).add(group_id)


_KEPT = (Group, DayOff)  # the tables whose rows are kept
for _class in _KEPT:
    for _kind in ("after_insert", "after_update", "after_delete"):
        event.listen(_class, _kind, _note_write)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_write(state: ORMExecuteState) -> None:
    """``update(Group)``, ``delete(DayOff)``… run through a session write kept rows too."""
    if (state.is_update or state.is_delete) and _cache_of(state.session) is not None:
        mapper = state.bind_mapper
        if mapper is not None and mapper.class_ in _KEPT:
            state.session.info.setdefault(_WROTE, set()).add(EVERY_GROUP)


@event.listens_for(Session, "after_commit")
def _forget_after_write(session: Session) -> None:
    cache = _cache_of(session)
    wrote = session.info.pop(_WROTE, None)
    if cache is not None and wrote:
        cache.forget(wrote)
    session.info.pop(_BEGAN, None)  # the next transaction marks its own beginning


@event.listens_for(Session, "after_rollback")
def _forget_transaction(session: Session) -> None:
    session.info.pop(_BEGAN, None)
