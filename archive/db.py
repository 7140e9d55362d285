"""Engines and schema: one place that knows SQLite's PRAGMAs and how to run the migrations."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from archive.errors import ArchiveError, BadInput

DEFAULT_DB_URL = "sqlite:///archive.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Accept a bare path as SQLite, and postgresql:// as the psycopg 3 driver the project installs."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """An engine for the archive at `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise BadInput(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        directory = Path(parsed.database).expanduser().resolve().parent
        if not directory.is_dir():
            raise BadInput(f"directory for the SQLite archive does not exist: {directory}")
    try:
        engine = create_engine(url, future=True, pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except (NoSuchModuleError, ImportError) as exc:
        raise BadInput(f"no driver for {parsed.drivername}: install the 'postgres' extra ({exc})") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (creates it in an empty database)."""
    try:
        command.upgrade(alembic_config(engine), "head")
    except ArchiveError:
        raise
    except Exception as exc:
        raise ArchiveError(f"cannot migrate the archive at {engine.url.render_as_string()}: {exc}") from exc



def env_db_url() -> str:
    return os.environ.get("ARCHIVE_DB_URL") or DEFAULT_DB_URL
