"""Engines and schema: one place that knows SQLite's PRAGMAs and how to run the migrations.

Transactions on SQLite are SQLAlchemy's, not the sqlite3 module's: the module's legacy mode
runs SELECT and DDL outside any transaction, so a migration killed half way left half a schema
and a read-then-write could race another writer. Here every transaction begins with BEGIN, and
writes (`WRITE_OPTIONS`) with BEGIN IMMEDIATE: the write lock is taken before anything is read,
so two writers can never both compute the same next version.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from archive import config
from archive.errors import ArchiveError, BadInput
from archive.words import word_pairs

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
#: (backend, driver) pairs the archive is built and tested for: SQLite, and PostgreSQL through psycopg 3.
SUPPORTED_DRIVERS = {("sqlite", "pysqlite"), ("postgresql", "psycopg")}
#: The newest migration's revision (tests/archive/test_migrations.py checks it against alembic's
#: scripts): an archive already at it is opened without importing alembic and reading every
#: migration script, a noticeable share of the start-up of a crawl that finds nothing new.
SCHEMA_HEAD = "0016"
#: How long a SQLite writer waits for another writer's lock, in seconds, unless the URL says
#: otherwise (`sqlite:///archive.db?timeout=5`); after that the write fails as "locked".
DEFAULT_BUSY_TIMEOUT = 30.0
#: Execution options for a write transaction: BEGIN IMMEDIATE on SQLite (ignored elsewhere).
WRITE_OPTIONS: dict[str, Any] = {"archive_write": True}
#: Concurrent migrations of one PostgreSQL database queue on this advisory lock (any constant key).
_MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(1634890600)"
#: Alembic keeps its migration context in a module global: one migration per process at a time.
_MIGRATING = threading.Lock()
#: Tries of a migration refused because another process held the new file (see upgrade).
_MIGRATION_ATTEMPTS = 5


def normalise_url(url: str) -> str:
    """Accept a bare path as SQLite, and postgresql:// as the psycopg 3 driver the project installs."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """An engine for the archive at `url`; SQLite gets WAL, foreign keys, a busy timeout and real
    transactions (see the module docstring)."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BadInput(f"not a database URL: {url!r}") from exc
    try:
        driver = (parsed.get_backend_name(), parsed.get_driver_name())
    except (NoSuchModuleError, ImportError):
        driver = None
    if driver not in SUPPORTED_DRIVERS:
        raise BadInput(f"unsupported database {parsed.drivername}://: the archive runs on sqlite:///FILE and "
                       "postgresql://... (SQLAlchemy driver postgresql+psycopg)")
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and parsed.database and parsed.database != ":memory:":
        directory = Path(parsed.database).expanduser().resolve().parent
        if not directory.is_dir():
            raise BadInput(f"directory for the SQLite archive does not exist: {directory}")
    connect_args: dict[str, Any] = {}
    pool: dict[str, Any] = {} if sqlite else {"pool_size": pool_size(), "max_overflow": 0}
    if sqlite and "timeout" not in parsed.query:
        connect_args["timeout"] = DEFAULT_BUSY_TIMEOUT  # sqlite3's timeout is SQLite's busy timeout
    try:
        engine = create_engine(url, pool_pre_ping=not sqlite, connect_args=connect_args, **pool)
    except (NoSuchModuleError, ImportError) as exc:
        raise BadInput(f"no driver for {parsed.drivername}: pip install -e '.[postgres]' ({exc})") from exc
    except (TypeError, ValueError) as exc:
        raise BadInput(f"bad option in database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _postgresql_begin)
    return engine


def _sqlite_from_hint(self: SQLiteCompiler, table: Any, hint: str | None) -> str | None:
    """SQLite's `INDEXED BY` after a table name, from `Select.with_hint(..., "sqlite")`: SQLAlchemy's
    SQLite compiler renders no table hints (archive.query.counting is the one place that gives one)."""
    return hint if hint and hint.startswith("INDEXED BY ") else None


SQLiteCompiler.get_from_hint_text = _sqlite_from_hint  # type: ignore[method-assign]


def pool_size() -> int:
    """The db_pool_size setting (ARCHIVE_DB_POOL_SIZE, archive.toml; archive.config has its default)."""
    return int(config.load()["db_pool_size"])


def _sqlite_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None  # the module emits no BEGIN: _sqlite_begin does
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # The pair index's triggers (migration 0006) call it: a writer without it cannot add a version.
    dbapi_connection.create_function("archive_word_pairs", 1, word_pairs, deterministic=True)


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get("archive_write")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgresql_begin(connection: Connection) -> None:
    if connection.get_execution_options().get("archive_migrate"):
        connection.exec_driver_sql(_MIGRATION_LOCK)


def writer(engine: Engine) -> Engine:
    """The same engine, for write transactions (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(**WRITE_OPTIONS)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # noqa: PLC0415 - see SCHEMA_HEAD

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def _revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """The schema's revision(s) now (none for an empty database) and the newest."""
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415 - see SCHEMA_HEAD
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()), heads


def _at_head(engine: Engine) -> bool:
    """Whether the archive's schema is already the newest, asked in one query."""
    try:
        with engine.connect() as connection:
            return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))} \
                == {SCHEMA_HEAD}
    except Exception:  # no such table (a new archive), or anything odd: the full check decides
        return False


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it in an empty database).

    One transaction, holding the write lock (SQLite) or an advisory lock (PostgreSQL): two
    processes opening a new archive at once migrate it once, and a migration killed half way
    leaves the previous schema, not half of the next.
    """
    if _at_head(engine):
        return
    from alembic import command  # noqa: PLC0415 - see SCHEMA_HEAD

    for attempt in range(1, _MIGRATION_ATTEMPTS + 1):
        try:
            current, heads = _revisions(engine)
            if current == heads:  # already the newest: opening the archive writes nothing
                return
            if current:  # an existing archive: say so, a rebuilt index reads every version (minutes on a large archive)
                log.warning("upgrading the archive's schema from %s to %s; on a large archive this takes minutes",
                            ",".join(sorted(current)), ",".join(sorted(heads)))
            with _MIGRATING:
                command.upgrade(alembic_config(engine.execution_options(archive_migrate=True, **WRITE_OPTIONS)),
                                "head")
            return
        except ArchiveError:
            raise
        except Exception as exc:
            # A new SQLite file opened by two processes at once: while one switches it to WAL and
            # creates the schema, the other can be refused at once ("locked", no busy wait).
            # Once the first is done there is nothing left to do: look again.
            if attempt < _MIGRATION_ATTEMPTS and "database is locked" in str(exc):
                time.sleep(0.5 * attempt)
                continue
            raise ArchiveError(f"cannot migrate the archive at {engine.url.render_as_string()}: {exc}") from exc

