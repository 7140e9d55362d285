"""The `archive` command: a thin layer over the library (crawl, search, export, show, demo).

The CLI is the composition root: it alone reads ARCHIVE_* environment variables (through
click's envvar=), configures logging, and may start a crawl (importing crawler/ lazily).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, TextIO

import click

from archive.db import DEFAULT_DB_URL, make_engine, upgrade
from archive.errors import ArchiveError
from archive.export import export_rows, local_time, write_jsonl
from archive.query import Filters, counts, find_article, parse_bound, search as run_search
from archive.table import render


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


def open_engine(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    upgrade(engine)
    return engine


@click.group(cls=ArchiveGroup)
@click.version_option(package_name="commentary-archive")
def cli() -> None:
    """An archive of market commentary: crawl it, keep every version, search and export it."""


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


def private_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--allow-private-addresses", is_flag=True, envvar="ARCHIVE_ALLOW_PRIVATE_ADDRESSES",
                        help="Also fetch loopback/private addresses (tests, local demos). "
                             "Env: ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1.")(func)


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@db_option
@click.option("--max-pages", type=click.IntRange(min=0), default=0, help="Stop after this many pages (0: no limit).")
@click.option("--depth", type=click.IntRange(min=0), default=0, help="Follow links this deep (0: no limit).")
@private_option
@click.option("-v", "--verbose", is_flag=True, help="Log Scrapy's progress.")
def crawl(urls: tuple[str, ...], db_url: str, max_pages: int, depth: int, allow_private_addresses: bool,
          verbose: bool) -> None:
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
    job = CrawlJob(list(urls), db_url, max_pages, depth, allow_private_addresses, progress=sys.stderr.isatty())
    stats = run_crawls([job],
                       log_level="INFO" if verbose else "WARNING")
    click.echo(crawl_summary(stats))
    engine = make_engine(db_url)
    click.echo("\n" + archive_summary(counts(engine)))
    engine.dispose()


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
@click.argument("text", nargs=-1)
@filter_options
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per result, per line.")
def search(text: tuple[str, ...], db_url: str, limit: int, offset: int, as_json: bool, **filters: Any) -> None:
    """Find articles (latest versions) by words in title or body, newest first.

    \b
    Example:
        archive search chips --ticker NVDA --since 2025-01-01
    """
    engine = open_engine(db_url)
    results = run_search(engine, make_filters(" ".join(text), **filters), limit=limit, offset=offset)
    if as_json:
        from archive.export import row
        for snapshot, article in results:
            item = row(snapshot, article)
            item.pop("body")
            click.echo(json.dumps(item, ensure_ascii=False))
        return
    if not results:
        click.echo("no matching articles", err=True)
        return
    click.echo(render(["id", "published", "site", "v", "tickers", "title"], [
        [a.id, local_time(s.published_at, s.published_offset_min, s.published_precision) or "-",
         a.site, s.version, [t["symbol"] for t in s.tickers][:4], s.title] for s, a in results]))


@cli.command()
@filter_options
@db_option
@click.option("-o", "--output", required=True, help="JSONL file to write, or - for stdout.")
@click.option("--all-versions", is_flag=True, help="Every version of each article, not only the latest.")
@click.option("--text", help="Only articles whose title or body contains these words.")
def export(db_url: str, output: str, all_versions: bool, text: str | None, **filters: Any) -> None:
    """Write matching articles as JSON lines (schema: docs/export-schema.json).

    \b
    Example:
        archive export --ticker NVDA --since 2025-01-01 --until 2025-01-31 --all-versions -o nvda.jsonl
    """
    engine = open_engine(db_url)
    rows = export_rows(engine, make_filters(text, **filters), all_versions=all_versions)
    if output == "-":
        write_jsonl(rows, sys.stdout)
        return
    target = Path(output)
    if target.is_dir() or not target.parent.is_dir():
        raise click.BadParameter(f"cannot write to {output}: not a file in an existing directory",
                                 param_hint="-o/--output")
    partial = target.with_name(target.name + ".part")
    with partial.open("w", encoding="utf-8") as handle:
        written = write_jsonl(rows, handle)
    os.replace(partial, target)  # never leave half an export under the real name
    click.echo(f"wrote {written} lines to {target}", err=True)


@cli.command()
@click.argument("key")
@db_option
@click.option("--versions", is_flag=True, help="List every version with what changed in it.")
@click.option("--json", "as_json", is_flag=True, help="The latest version (or all, with --versions) as JSON.")
def show(key: str, db_url: str, versions: bool, as_json: bool) -> None:
    """Show an article by id or URL; --versions lists its history.

    \b
    Example:
        archive show https://www.example-news.com/markets/fed-holds.html --versions
    """
    from archive.export import row
    history = find_article(open_engine(db_url), key)
    article, snaps = history.article, history.versions
    if as_json:
        for snap in snaps if versions else snaps[-1:]:
            click.echo(json.dumps(row(snap, article), ensure_ascii=False))
        return
    latest = snaps[-1]
    click.echo(f"{latest.title}\n{article.canonical_url}")
    click.echo(f"article {article.id} · site {article.site} · {len(snaps)} version(s) · {history.fetches} fetch(es)"
               f" · first seen {article.first_seen_at:%Y-%m-%d %H:%M} UTC")
    click.echo(f"authors: {', '.join(latest.authors) or '-'}{' (AI-generated)' if latest.ai_generated else ''}")
    click.echo(f"published: {local_time(latest.published_at, latest.published_offset_min, latest.published_precision) or '-'}")
    click.echo(f"tickers: {', '.join(t['symbol'] for t in latest.tickers) or '-'}")
    if history.duplicate_of_url:
        click.echo(f"near-duplicate of: {history.duplicate_of_url}")
    if versions:
        click.echo("\n" + render(["version", "fetched (UTC)", "changed", "words", "content sha256", "title"], [
            [s.version, f"{s.fetched_at:%Y-%m-%d %H:%M:%S}", s.changed_fields or ["first version"],
             s.word_count, s.content_sha256[:12], s.title] for s in snaps]))
    else:
        click.echo("\n" + latest.body)


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
    from archive.demo.run import run_demo
    run_demo(db_url, port, Path(export_path), echo=click.echo)


def main() -> None:
    cli(prog_name="archive")


if __name__ == "__main__":
    main()
