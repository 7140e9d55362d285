"""`archive init`, `archive crawl` and `archive demo`: the commands that write to the archive."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from archive.cli.base import cli, db_option, open_engine, private_option
from archive.db import make_engine
from archive.query import counts
from archive.table import render


@cli.command()
@db_option
def init(db_url: str) -> None:
    """Create the archive's tables (or migrate them to the newest schema).

    \b
    Example:
        archive init --db sqlite:///research.db
    """
    open_engine(db_url).dispose()
    click.echo(f"archive ready: {db_url}")


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@db_option
@click.option("--max-pages", type=click.IntRange(min=0), default=0, help="Stop after this many pages (0: no limit).")
@click.option("--depth", type=click.IntRange(min=0), default=0, help="Follow links this deep (0: no limit).")
@private_option
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              envvar="ARCHIVE_DOWNLOAD_TIMEOUT",
              help="Seconds to wait for a page; then it is recorded as a timeout. Env: ARCHIVE_DOWNLOAD_TIMEOUT.")
@click.option("-v", "--verbose", is_flag=True, help="Log Scrapy's progress.")
def crawl(urls: tuple[str, ...], db_url: str, max_pages: int, depth: int, allow_private_addresses: bool,
          timeout: float, verbose: bool) -> None:
    """Crawl sites from their start URLs (same-site links only) into the archive.

    Listing, tag and author pages are followed but only articles are kept.

    \b
    Example:
        archive crawl https://www.example-news.com/markets/ --max-pages 200
    """
    from urllib.parse import urlsplit
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise click.BadParameter(f"not an http(s) URL: {url}", param_hint="URLS")
    from crawler.run import CrawlJob, run_crawls
    open_engine(db_url).dispose()  # fail fast on a bad database, before any fetching
    job = CrawlJob(list(urls), db_url, max_pages, depth, allow_private_addresses, progress=sys.stderr.isatty(),
                   settings={"DOWNLOAD_TIMEOUT": timeout})
    stats = run_crawls([job],
                       log_level="INFO" if verbose else "WARNING")
    click.echo(crawl_summary(stats))
    engine = make_engine(db_url)
    try:
        click.echo("\n" + archive_summary(counts(engine)))
    except SQLAlchemyError as exc:
        click.echo(f"cannot read the archive's totals: {getattr(exc, 'orig', exc)}", err=True)
    finally:
        engine.dispose()
    lost, error = not_stored(stats)
    if lost:
        raise click.ClickException(f"{lost} page(s) fetched but not stored ({error}); "
                                   "fix the database and crawl again")


def not_stored(all_stats: list[dict[str, Any]]) -> tuple[int, str | None]:
    """How many pages the crawls fetched but could not write, and the last write error."""
    lost = sum(int(stats.get("archive/write_failed", 0)) for stats in all_stats)
    errors = [stats["archive/write_error"] for stats in all_stats if stats.get("archive/write_error")]
    return lost, errors[-1] if errors else None


def crawl_summary(all_stats: list[dict[str, Any]]) -> str:
    """One row per crawl: what it fetched and what it kept, errors by kind."""
    rows = []
    for number, stats in enumerate(all_stats, 1):
        get = lambda key: int(stats.get(f"archive/{key}", 0))  # noqa: E731
        errors = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("archive/errors/")}
        rows.append([number, get("fetches"), get("new"), get("changed"), get("unchanged") + get("same_raw"),
                     get("not_article"), get("error"),
                     ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "-"])
    return render(["crawl", "fetches", "new articles", "new versions", "unchanged", "not articles",
                   "errors", "error kinds"], rows, max_width=70)


def archive_summary(numbers: dict[str, int]) -> str:
    return render(["articles", "versions", "fetches", "errors", "raw pages", "near-duplicates"],
                  [[numbers["articles"], numbers["versions"], numbers["fetches"], numbers["errors"],
                    numbers["raw_pages"], numbers["duplicates"]]])


@cli.command()
@db_option
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Loopback port for the sample site (0 or a busy port: any free one).")
@click.option("--export", "export_path", default="demo-export.jsonl", show_default=True,
              help="Where to write the JSONL export of every version.")
def demo(db_url: str, port: int, export_path: str) -> None:
    """Crawl the bundled sample site twice (the second time with edited articles) and show the result.

    \b
    Example:
        archive demo --db sqlite:///demo.db
    """
    from archive.demo.run import run_demo  # noqa: PLC0415 - starts Scrapy: import only when asked
    run_demo(db_url, port, Path(export_path), echo=click.echo)
