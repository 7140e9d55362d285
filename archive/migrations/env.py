"""Alembic environment: the engine is handed in by archive.db.upgrade (no URL in an ini file)."""

from alembic import context

from archive.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
