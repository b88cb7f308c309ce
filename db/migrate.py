"""Run Alembic migrations programmatically with a given database URL, and back up an
SQLite database file while the bot may be using it."""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

_HERE = Path(__file__).parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(_HERE / "alembic.ini"))
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def backup_sqlite(database: Path, target: Path, *, force: bool = False) -> int:
    """Copy the SQLite database ``database`` to ``target`` with SQLite's online backup API
    and return the copy's size in bytes.

    The copy is one consistent snapshot, even while other processes write (committed work
    still in the write-ahead log included, unfinished transactions not), and a standalone
    file (rollback journal, no ``-wal`` beside it). It is written beside ``target`` first
    and put in place at the end, so a failed backup leaves no partial file. Raises
    ``FileNotFoundError`` when ``database`` is not a file and ``FileExistsError`` when
    ``target`` exists and ``force`` is false; other problems raise ``OSError`` or
    ``sqlite3.Error``.
    """
    if not database.is_file():
        raise FileNotFoundError(str(database))
    if target.exists() and not force:
        raise FileExistsError(str(target))
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        os.chmod(partial, stat.S_IMODE(database.stat().st_mode))  # as private as the original
        # mode=rw: never create an empty database where the bot's should be
        source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=rw", uri=True)
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)  # all pages in one step: one read snapshot
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
        finally:
            source.close()
        _put_in_place(Path(partial), target, force=force)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return target.stat().st_size


def _put_in_place(partial: Path, target: Path, *, force: bool) -> None:
    if force:
        os.replace(partial, target)
        return
    try:
        os.link(partial, target)  # fails when target appeared meanwhile: never overwrite
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        if target.exists():
            raise FileExistsError(str(target)) from None
        os.replace(partial, target)
    else:
        partial.unlink()
