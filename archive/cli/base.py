"""The `archive` group and the options its commands share.

The CLI is the composition root: it loads the configuration (archive/config.py: options' defaults
come from ARCHIVE_* variables and archive.toml there), configures logging, and may start a crawl
(importing crawler/ lazily).
Commands live in the sibling modules, one module per family of verbs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import click
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError

from archive import config
from archive.config import KEYS, Config
from archive.db import make_engine, normalise_url, upgrade
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


def current_config() -> Config:
    """The configuration the `archive` group loaded (or, for a command run on its own, loaded now)."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(Config) if ctx is not None else None
    return found if found is not None else config.load()


def config_option(name: str, *decls: str, help: str, **kwargs: Any) -> Callable[..., Any]:
    """A click option whose default is configuration key `name` (its variable, archive.toml, its
    built-in default): the option given on the command line wins over all three."""
    key = KEYS[name]
    shown = key.shown or (str(key.default) if key.default is not None else None)
    if key.kind is bool:
        shown = None
    return click.option(*decls, default=lambda: current_config()[name], show_default=shown or False,
                        help=f"{help} Env: {key.env}; archive.toml: {name}.", **kwargs)


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return config_option("db_url", "--db", "db_url",
                         help="Database URL (SQLite path or postgresql://...).")(func)


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--ticker/--site/--since/--until, shared by search and export."""
    options = [
        click.option("--ticker", "tickers", multiple=True, help="Only articles about this ticker (repeatable)."),
        click.option("--site", "sites", multiple=True, help="Only this site, e.g. reuters.com (repeatable)."),
        click.option("--since", help="Published at or after this instant: YYYY-MM-DD is 00:00 UTC that day; "
                                     "an ISO 8601 time may carry an offset (2025-01-31T00:00-05:00)."),
        click.option("--until", help="Published at or before this instant: YYYY-MM-DD includes that whole day in "
                                     "UTC; an ISO 8601 time may carry an offset."),
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
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Read defaults from this archive.toml (default: ./archive.toml, then "
                   f"~/.config/archive/archive.toml). Env: {config.CONFIG_ENV}.")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """An archive of market commentary: crawl it, keep every version, search and export it.

    A value comes from the command line, else its ARCHIVE_* environment variable, else
    archive.toml, else its default (see docs/configuration.md).
    """
    ctx.obj = config.load(config_file)
    if config_file is not None:
        # What runs later in this process or in its workers (extraction reads data_dir) loads the
        # same file: --config FILE is ARCHIVE_CONFIG=FILE for them.
        previous = os.environ.get(config.CONFIG_ENV)
        os.environ[config.CONFIG_ENV] = str(config_file)
        ctx.call_on_close(lambda: _restore(config.CONFIG_ENV, previous))


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def private_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return config_option("allow_private_addresses", "--allow-private-addresses", is_flag=True,
                         help="Also fetch loopback/private addresses (tests, local demos).")(func)
