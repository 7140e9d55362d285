"""Alembic environment: the engine is handed in by archive.db.upgrade (no URL in an ini file)."""

from alembic import context

from archive.models import Base
from archive.search_index import outside_models

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      include_name=outside_models)  # the full-text index is not a model
    with context.begin_transaction():
        context.run_migrations()
