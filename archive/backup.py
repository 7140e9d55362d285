"""`archive backup`: a consistent copy of a SQLite archive, safe to take while a crawl writes to it.

Copying the file (and its -wal) by hand while a crawl commits can catch a transaction half in
the main file and half in the log. SQLite's online backup API copies every page under one read
transaction instead: the copy is the archive exactly as of one commit. In WAL mode that read does
not block the crawl's writes. The copy is written beside its destination and renamed into place
only when complete, as one self-contained file (rollback journal, no -wal to carry along).
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from archive.db import DEFAULT_BUSY_TIMEOUT, normalise_url
from archive.errors import ArchiveError, BadInput, NotFound


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    seconds: float


def sqlite_path(db_url: str) -> Path:
    """The file of a SQLite archive URL; BadInput for other databases (PostgreSQL has pg_dump)."""
    url = make_url(normalise_url(db_url))
    if url.get_backend_name() != "sqlite":
        raise BadInput(f"archive backup copies SQLite archives; for {url.get_backend_name()} use its own "
                       f"tool, e.g. pg_dump --format=custom --file=archive.dump {url.database or 'DBNAME'}")
    if not url.database or url.database == ":memory:":
        raise BadInput("an in-memory archive cannot be backed up")
    return Path(url.database).expanduser().resolve()


def backup(db_url: str, dest: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the archive at `db_url` to `dest` (a file, or a directory to put it in)."""
    source = sqlite_path(db_url)
    if not source.is_file():
        raise NotFound(f"no SQLite archive at {source}")
    dest = Path(dest).expanduser()
    if dest.is_dir():
        dest = dest / source.name
    dest = dest.resolve()
    if dest == source or dest.name in (source.name + "-wal", source.name + "-shm") and dest.parent == source.parent:
        raise BadInput(f"the backup cannot overwrite the archive itself: {dest}")
    if not dest.parent.is_dir():
        raise BadInput(f"directory for the backup does not exist: {dest.parent}")
    if dest.exists() and not overwrite:
        raise BadInput(f"{dest} exists (use --force to replace it)")
    partial = dest.with_name(dest.name + ".part")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        with closing(sqlite3.connect(source, timeout=DEFAULT_BUSY_TIMEOUT)) as src, \
                closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)  # all pages in one step: one read transaction, one consistent state
            dst.execute("PRAGMA journal_mode=DELETE")
            (result,) = dst.execute("PRAGMA quick_check").fetchone()
            if result != "ok":
                raise ArchiveError(f"the copy fails SQLite's quick_check: {result}")
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise ArchiveError(f"backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(dest, dest.stat().st_size, time.monotonic() - started)
