"""Take a test archive's schema back to an earlier migration, data kept, as an archive written
by an older release would be; the next open upgrades it again (what a user's upgrade does)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine

from archive.db import WRITE_OPTIONS, alembic_config


def downgrade_to(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine.execution_options(archive_migrate=True, **WRITE_OPTIONS)), revision)
