"""The Alembic migrations create exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from archive.db import SCHEMA_HEAD, alembic_config, make_engine, upgrade
from archive.models import Base
from archive.search_index import outside_models


def test_migrations_match_models(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)  # a second run is a no-op
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"include_name": outside_models}),
                                       Base.metadata)
    engine.dispose()
    assert differences == []


def test_schema_head_is_the_newest_migration(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An archive at SCHEMA_HEAD is opened without asking alembic: it must name the newest script,
    and an archive one migration behind must still be upgraded."""
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    assert set(ScriptDirectory.from_config(alembic_config(engine)).get_heads()) == {SCHEMA_HEAD}
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0008'")
        connection.exec_driver_sql("DROP INDEX ix_snapshot_unverified_canonical")
        connection.exec_driver_sql("DROP INDEX ix_snapshot_notes")  # 0011
        connection.exec_driver_sql("ALTER TABLE snapshot DROP COLUMN notes")
        connection.exec_driver_sql("DROP INDEX ix_snapshot_reading")  # 0012
        connection.exec_driver_sql("DROP INDEX ix_snapshot_authors")  # 0015
        connection.exec_driver_sql("DROP INDEX ix_snapshot_ticker_symbol_published_at")
        connection.exec_driver_sql("ALTER TABLE snapshot_ticker DROP COLUMN published_at")
        connection.exec_driver_sql("CREATE INDEX ix_snapshot_ticker_symbol_snapshot_id ON snapshot_ticker (symbol, snapshot_id)")
        connection.exec_driver_sql("DROP TABLE day_count")  # 0014
        connection.exec_driver_sql("DROP TABLE article_url")  # 0013
        connection.exec_driver_sql("DROP TABLE article_event")
        connection.exec_driver_sql("ALTER TABLE article DROP COLUMN removed_at")
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == SCHEMA_HEAD
        assert connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE name = "
                                          "'ix_snapshot_unverified_canonical'").scalar() is not None
        assert connection.exec_driver_sql("SELECT count(*) FROM snapshot WHERE notes IS NOT NULL").scalar() == 0
        assert connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE name = "
                                          "'ix_snapshot_reading'").scalar() is not None
        assert connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE name = "
                                          "'article_event'").scalar() is not None
        assert connection.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name IN "
                                          "('ix_snapshot_authors', 'ix_snapshot_ticker_symbol_published_at')").scalar() == 2
    engine.dispose()
