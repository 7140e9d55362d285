"""`archive check`, `archive backup` and `archive config`: is the archive whole, a safe copy of it,
and the configuration in use."""

from __future__ import annotations

import json
from pathlib import Path

import click

from archive import config
from archive.backup import backup as run_backup
from archive.check import check as run_check
from archive.cli.base import cli, db_option, open_engine
from archive.config import KEYS, Config
from archive.text_table import render


@cli.command()
@db_option
@click.option("--quick", is_flag=True, help="Skip decompressing and hashing every stored raw page.")
def check(db_url: str, quick: bool) -> None:
    """Check the archive's integrity; exit status 1 with one line per kind of problem.

    Checks that every reference resolves, every raw page named by a fetch or version is stored
    and matches its sha256, versions run 1..n per article with latest_version = n, each version's
    content hash matches its fields, and the ticker, fingerprint and full-text indexes and the
    day counts agree.
    Safe while a crawl runs.

    \b
    Example:
        archive check --db sqlite:///research.db
    """
    engine = open_engine(db_url)
    try:
        report = run_check(engine, blobs=not quick)
    finally:
        engine.dispose()
    for problem in report.problems:
        click.echo(problem.line())
    click.echo(report.summary(), err=not report.ok)
    if not report.ok:
        raise SystemExit(1)


@cli.command()
@click.argument("dest", type=click.Path(path_type=Path))
@db_option
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
def backup(dest: Path, db_url: str, force: bool) -> None:
    """Copy a SQLite archive to DEST consistently, even while a crawl is writing to it.

    Uses SQLite's online backup API (one read transaction: the copy is the archive as of one
    commit). For PostgreSQL use pg_dump.

    \b
    Example:
        archive backup backups/archive-2025-01-31.db --db sqlite:///archive.db
    """
    result = run_backup(db_url, dest, overwrite=force)
    click.echo(f"backed up to {result.path} ({result.size / 1e6:.1f} MB in {result.seconds:.1f} s)")


@cli.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object: key -> {value, source, env}.")
@click.pass_context
def config_command(ctx: click.Context, as_json: bool) -> None:
    """Show every configuration key's value and where it came from.

    A value comes from the command line, else its ARCHIVE_* environment variable, else the
    archive.toml in use (`--config FILE`, ARCHIVE_CONFIG, ./archive.toml, then
    ~/.config/archive/archive.toml), else its default.

    \b
    Example:
        archive config
        archive --config lab.toml config --json
    """
    loaded = ctx.find_object(Config) or config.load()
    if as_json:
        click.echo(json.dumps({name: {"value": None if value is None else str(value) if isinstance(value, Path)
                                      else value, "source": loaded.sources[name], "env": KEYS[name].env}
                               for name, value in loaded.values.items()}, indent=2))
        return
    rows = [[name, "" if value is None else str(value), loaded.sources[name]] for name, value in loaded.values.items()]
    click.echo(f"config file: {loaded.file or 'none'}")
    click.echo(render(["key", "value", "source"], rows, max_width=70))
