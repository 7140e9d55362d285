"""`archive init`, `archive crawl`, `archive recrawl` and `archive demo`: the commands that write to the archive.

What they share with `archive schedule`, the shared-crawl worker and the demo (settings from the
options, running the jobs, the summary) is in archive/cli/crawling.py."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import click

from archive.cli.base import cli, config_option, db_option, open_engine, private_option
from archive.cli.crawling import finish, politeness, refresh_settings, run_jobs, time_limit
from archive.cli.frontier import frontier_options, run_worker
from archive.db import make_engine
from archive.demo.run import run_demo
from archive.query import parse_bound
from archive.recrawl import DEFAULT_SCHEDULE, due_by_site, format_schedule, parse_schedule
from archive.resume import job_key
from archive.text_table import render


@cli.command()
@db_option
def init(db_url: str) -> None:
    """Create the archive's tables (or migrate them to the newest schema).

    \b
    Example:
        archive init --db sqlite:///research.db
    """
    open_engine(db_url, create=True).dispose()
    click.echo(f"archive ready: {db_url}")


def crawl_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by `archive crawl` and `archive recrawl`."""
    options = [
        db_option,
        click.option("--max-pages", type=click.IntRange(min=0), default=0,
                     help="Stop after this many pages (0: no limit)."),
        private_option,
        config_option("download_timeout", "--timeout", type=click.FloatRange(min=0.1),
                      help="Seconds to wait for a page; then it is recorded as a timeout."),
        click.option("--concurrency", type=click.IntRange(min=1), default=None,
                     help="Requests in flight per site (default 4; a sources file's own setting wins). "
                          "Raise it only for servers you run or may load."),
        click.option("--delay", type=click.FloatRange(min=0), default=None,
                     help="Seconds between the starts of two requests to a site (default 0; a sources file's "
                          "own setting wins; a longer robots.txt Crawl-delay or AutoThrottle wins over both)."),
        click.option("--throttle/--no-throttle", default=True, show_default=True,
                     help="AutoThrottle: slow down further for a site whose answers slow down."),
        click.option("--max-time", "max_time", default=None, metavar="DURATION",
                     help="Stop the run cleanly after this long (e.g. 30m, 2h): the requests in flight finish, "
                          "nothing new starts, and the next run resumes. Default: the sources file's max_time, "
                          "else no limit."),
        click.option("-v", "--verbose", is_flag=True, help="Log Scrapy's progress."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def schedule_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--schedule", "schedule_text", default=format_schedule(DEFAULT_SCHEDULE),
                        show_default=True, help="Ages after publication (or after a seen edit) at which an "
                                                "article is revisited; then never.")(func)


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--sources", "sources_path", type=click.Path(path_type=Path),
              help="A sources file (see sources.example.toml): sites, feeds, sitemaps, URL rules, politeness.")
@click.option("--only", multiple=True, help="Only this site of the sources file (repeatable).")
@click.option("--since", help="Skip feed and sitemap entries older than this (YYYY-MM-DD or ISO 8601).")
@click.option("--due", is_flag=True, help="Also revisit the sources' articles that are due (see archive recrawl).")
@schedule_option
@click.option("--depth", type=click.IntRange(min=0), default=0, help="Follow links this deep (0: no limit).")
@click.option("--refresh-after", "refresh_after", default="due", show_default=True,
              help="When to request again a known article the crawl finds a link to: 'due', when its "
                   "recrawl is due by --schedule; a duration (e.g. 1h), when its last fetch is older; "
                   "0s: every one found, conditionally.")
@crawl_options
@frontier_options
def crawl(urls: tuple[str, ...], sources_path: Path | None, only: tuple[str, ...], since: str | None, due: bool,
          schedule_text: str, depth: int, refresh_after: str, db_url: str, max_pages: int, allow_private_addresses: bool,
          timeout: float, concurrency: int | None, delay: float | None, throttle: bool, max_time: str | None,
          verbose: bool, frontier_url: str | None = None, frontier_name: str | None = None,
          frontier_idle: float = 30.0) -> None:
    """Crawl sites into the archive: from start URLs (same-site links only), or from a sources
    file's feeds, sitemaps and start pages.

    Listing, tag and author pages are followed but only articles are kept. Known articles are
    refetched with If-None-Match / If-Modified-Since. A sources crawl that was stopped (Ctrl-C,
    SIGKILL) resumes on its next run without fetching again what it already stored.

    \b
    Example:
        archive crawl https://www.example-news.com/markets/ --max-pages 200
        archive crawl --sources sources.toml --only example-news --since 2025-01-01 --due
    """
    if sources_path is None:
        if not urls:
            raise click.UsageError("give start URLs or --sources FILE")
        if only or since or due:
            raise click.UsageError("--only, --since and --due need --sources")
    elif urls:
        raise click.UsageError("give start URLs or --sources FILE, not both")
    for url in urls:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - "Port out of range 0-65535": Scrapy could make no request of it
        except ValueError as exc:
            raise click.BadParameter(f"{exc}: {url}", param_hint="URLS") from None
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise click.BadParameter(f"not an http(s) URL: {url}", param_hint="URLS")
    seconds = time_limit(max_time)
    from pipelines.workers import start_fork_server  # noqa: PLC0415 - the crawl's side, like crawler.jobs below
    start_fork_server()  # the extraction workers' imports overlap this process's own start-up
    open_engine(db_url, create=True).dispose()  # fail fast on a bad database, before any fetching
    settings = {**politeness(timeout, concurrency, delay, throttle), **refresh_settings(refresh_after, schedule_text)}
    if frontier_url:  # one worker of a crawl shared through Redis (archive/cli/frontier.py)
        run_worker(frontier_url, frontier_name, frontier_idle, db_url, urls, sources_path=sources_path, only=only,
                   since=parse_bound(since), due=due, schedule=parse_schedule(schedule_text), max_pages=max_pages,
                   depth=depth, allow_private=allow_private_addresses,
                   settings={**settings, **({"CLOSESPIDER_TIMEOUT": seconds} if seconds else {})}, verbose=verbose)
        return
    if sources_path is not None:
        run_sources(db_url, sources_path, only, discover=True, recrawl=due, schedule=parse_schedule(schedule_text),
                    since=parse_bound(since), max_pages=max_pages, depth=depth, allow_private=allow_private_addresses,
                    settings=settings, verbose=verbose, max_time=seconds)
        return
    from crawler.jobs import site_job  # noqa: PLC0415 - starts Scrapy: import only when asked
    job = site_job(db_url, urls, max_pages, depth, allow_private_addresses, max_time=seconds or 0,
                   throttle=throttle, progress=sys.stderr.isatty(), settings=settings)
    finish(db_url, run_jobs([job], verbose))


@cli.command()
@click.option("--due", is_flag=True, required=True, help="Revisit the articles whose next checkpoint has passed.")
@click.option("--sources", "sources_path", type=click.Path(path_type=Path),
              help="Only these sources' sites, with their politeness (default: every site in the archive).")
@click.option("--only", multiple=True, help="Only this site of the sources file (repeatable).")
@schedule_option
@click.option("--list", "list_only", is_flag=True, help="Show what is due; fetch nothing.")
@crawl_options
def recrawl(due: bool, sources_path: Path | None, only: tuple[str, ...], schedule_text: str, list_only: bool,
            db_url: str, max_pages: int, allow_private_addresses: bool, timeout: float, concurrency: int | None,
            delay: float | None, throttle: bool, max_time: str | None, verbose: bool) -> None:
    """Revisit known articles on a decaying schedule after publication: commentary gets edited
    in its first days.

    An article is due at each age of --schedule after it was published; an edit seen restarts
    its schedule. Refetches are conditional (a 304 costs no extraction); a new version is
    stored only when the content changed.

    \b
    Example:
        archive recrawl --due
        archive recrawl --due --schedule 30m,2h,12h,2d --list
    """
    if only and sources_path is None:
        raise click.UsageError("--only needs --sources")
    seconds = time_limit(max_time)
    open_engine(db_url, create=True).dispose()
    schedule = parse_schedule(schedule_text)
    if list_only:
        from crawler.sources import load_sources, recrawl_policies  # noqa: PLC0415
        policies = recrawl_policies(load_sources(sources_path, only)) if sources_path else []
        engine = make_engine(db_url)
        try:
            found, deferred = due_by_site(engine, policies, schedule=schedule)
        finally:
            engine.dispose()
        if deferred:
            click.echo(f"{deferred} more due article(s) left for later runs by recrawl_budget", err=True)
        click.echo(render(["article", "due since (UTC)", "validators", "url"],
                          [[d.article_id, f"{d.due_at:%Y-%m-%d %H:%M}",
                            ", ".join(n for n, v in (("ETag", d.etag), ("Last-Modified", d.last_modified)) if v) or "-",
                            d.url] for d in found], max_width=90) if found else "nothing is due")
        return
    run_sources(db_url, sources_path, only, discover=False, recrawl=True, schedule=schedule, since=None,
                max_pages=max_pages, depth=1, allow_private=allow_private_addresses,
                settings=politeness(timeout, concurrency, delay, throttle), verbose=verbose, max_time=seconds)


def run_sources(db_url: str, sources_path: Path | None, only: tuple[str, ...], *, discover: bool, recrawl: bool,
                schedule: tuple[timedelta, ...], since: datetime | None, max_pages: int, depth: int,
                allow_private: bool, settings: dict[str, Any], verbose: bool, max_time: float | None = None) -> None:
    """Run one discovery and/or recrawl job under its lock, resuming an interrupted run of it.
    `max_time`: seconds the run may take (None: the sources file's max_time, if any)."""
    from crawler.jobs import job_command, job_lock, plan  # noqa: PLC0415 - starts Scrapy: import only when asked
    key = job_key(job_command(sources_path, only, discover, recrawl))
    with job_lock(db_url, key):
        planned = plan(db_url, sources_path, only, discover=discover, recrawl=recrawl, schedule=schedule,
                       since=since, max_pages=max_pages, depth=depth, allow_private=allow_private,
                       progress=sys.stderr.isatty(), settings=settings, max_time=max_time)
        if planned.resumed:
            click.echo(f"resuming the interrupted crawl {planned.resumed[0]}: "
                       f"{planned.skipped} article(s) it stored are not fetched again", err=True)
        if recrawl:
            click.echo(f"{len(planned.due)} article(s) due for a recrawl" + (
                f" ({planned.deferred} more left for later runs by recrawl_budget)" if planned.deferred else ""),
                err=True)
        if not discover and not planned.due:
            click.echo("nothing to recrawl")
            return
        finish(db_url, run_jobs([planned.job], verbose))


DEMO_DB = "demo-archive.db"


@cli.command()
@click.option("--db", "db_url", default=f"sqlite:///{DEMO_DB}", show_default=True,
              help="Database URL for the demo's archive (not ARCHIVE_DB_URL: the demo never writes into "
                   "your archive). The default file is replaced on each run.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Loopback port for the sample site (0 or a busy port: any free one).")
@click.option("--export", "export_path", default="demo-export.jsonl", show_default=True,
              help="Where to write the JSONL export of every version.")
def demo(db_url: str, port: int, export_path: str) -> None:
    """Crawl the bundled sample site twice (the second time with edited articles) and show the result.

    The archive goes into its own file, ./demo-archive.db, apart from ./archive.db that the other
    commands use by default, so a first real crawl does not mix with the demo's articles.

    \b
    Example:
        archive demo
        archive search --ticker NVDA --db sqlite:///demo-archive.db
    """
    if db_url == f"sqlite:///{DEMO_DB}":
        for suffix in ("", "-wal", "-shm"):
            Path(DEMO_DB + suffix).unlink(missing_ok=True)  # each demo starts from an empty archive
    run_demo(db_url, port, Path(export_path), echo=click.echo)
