"""A versioned archive of market commentary.

For notebooks and scripts::

    import archive
    db = archive.open("sqlite:///archive.db")
    db.search('"export controls" AND chips', ticker="NVDA", since="2025-01-01")

The API lives in archive.api and is imported on first use, so that `import archive.extract`
(in crawler worker processes) does not pay for the database layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archive import config  # small, no dependencies: the configured db_url for open()

if TYPE_CHECKING:
    from archive.api import Archive, ArticleHistory, Version

__all__ = ["open", "Archive", "ArticleHistory", "Version"]


def open(url: str | None = None, *, migrate: bool = True) -> "Archive":  # noqa: A001 - archive.open, like io.open
    """Open the archive at a database URL (or a bare SQLite path): see archive.api.Archive. Without
    one, the archive the CLI would use (db_url: ARCHIVE_DB_URL, archive.toml, sqlite:///archive.db)."""
    from archive.api import Archive  # noqa: PLC0415 - lazy, see the module docstring

    if url is None:
        url = config.load()["db_url"]
    return Archive.open(url, migrate=migrate)


def __getattr__(name: str) -> Any:
    if name in ("Archive", "ArticleHistory", "Version"):
        from archive import api  # noqa: PLC0415

        return getattr(api, name)
    raise AttributeError(f"module 'archive' has no attribute {name!r}")
