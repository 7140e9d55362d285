"""The `archive` group and the options its commands share.

The CLI is the composition root: it alone reads ARCHIVE_* environment variables (through
click's envvar=), configures logging, and may start a crawl (importing crawler/ lazily).
Commands live in the sibling modules, one module per family of verbs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError

from archive.db import DEFAULT_DB_URL, make_engine, normalise_url, upgrade
from archive.errors import ArchiveError, BadInput
from archive.query import Filters, parse_bound


class ArchiveGroup(click.Group):
    """Turns the archive's own errors into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiveError as exc:
            lines = str(exc).strip().splitlines() or [type(exc).__name__]
            raise click.ClickException(lines[0]) from exc


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--db", "db_url", envvar="ARCHIVE_DB_URL", default=DEFAULT_DB_URL, show_default=True,
                        help="Database URL (SQLite path or postgresql://...). Env: ARCHIVE_DB_URL.")(func)


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--ticker/--site/--since/--until, shared by search and export."""
    options = [
        click.option("--ticker", "tickers", multiple=True, help="Only articles about this ticker (repeatable)."),
        click.option("--site", "sites", multiple=True, help="Only this site, e.g. reuters.com (repeatable)."),
        click.option("--since", help="Published on or after this date/time (YYYY-MM-DD or ISO 8601)."),
        click.option("--until", help="Published on or before this date/time (a date includes the whole day)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_filters(text: str | None, tickers: tuple[str, ...], sites: tuple[str, ...],
                 since: str | None, until: str | None) -> Filters:
    return Filters(text=text or None, tickers=tickers, sites=sites,
                   since=parse_bound(since), until=parse_bound(until, end=True))


def open_engine(db_url: str, *, create: bool = False) -> Engine:
    """The archive's engine, its schema brought up to date. Only the commands that fill an archive
    (init, crawl, recrawl) pass `create`: for the others a SQLite file that is not there is a
    mistyped --db, and SQLite would silently make an empty archive that finds nothing."""
    missing = None if create else missing_sqlite_file(db_url)
    if missing is not None:
        raise BadInput(f"no archive at {missing}: check --db (archive init or archive crawl creates one)")
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


def missing_sqlite_file(db_url: str) -> Path | None:
    """The SQLite file `db_url` names, if it does not exist (None for other databases and :memory:)."""
    try:
        parsed = make_url(normalise_url(db_url))
    except ArgumentError:
        return None  # make_engine says what is wrong with it
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return None if path.exists() else path


@click.group(cls=ArchiveGroup)
@click.version_option(package_name="commentary-archive")
def cli() -> None:
    """An archive of market commentary: crawl it, keep every version, search and export it."""


def private_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--allow-private-addresses", is_flag=True, envvar="ARCHIVE_ALLOW_PRIVATE_ADDRESSES",
                        help="Also fetch loopback/private addresses (tests, local demos). "
                             "Env: ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1.")(func)
