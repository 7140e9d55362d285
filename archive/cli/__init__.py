"""The `archive` command. Each module adds one family of commands to the group in base.py."""

from archive.cli import crawl, crawls, read, reextract, symbols, warc  # noqa: F401 - importing registers the commands
from archive.cli import stats  # noqa: F401 - `archive stats`
from archive.cli import maintenance, schedule  # noqa: F401 - `archive check`, `archive backup`
from archive.cli import frontier  # noqa: F401 - `archive frontier`, `archive crawl --frontier`
from archive.cli import serve  # noqa: F401 - `archive serve`
from archive.cli import extract  # noqa: F401 - `archive extract URL-or-FILE`
from archive.cli.base import cli

__all__ = ["cli", "main"]


def main() -> None:
    cli(prog_name="archive")
