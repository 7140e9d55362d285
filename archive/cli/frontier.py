"""`archive crawl --frontier`: a worker of a crawl shared through Redis; `archive frontier ...`:
look at, seed and clear shared crawls. See docs/scaling-out.md and crawler/frontier.py."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import click
from sqlalchemy.exc import SQLAlchemyError

from archive.cli.base import cli, config_option
from archive.cli.crawling import finish, run_jobs
from archive.db import make_engine
from archive.recrawl import due_by_site
from archive.resume import settle_killed, unfinished_workers
from archive.text_table import render


def frontier_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--frontier/--frontier-name/--frontier-idle of `archive crawl`."""
    options = [
        config_option("frontier_url", "--frontier", "frontier_url",
                      help="Share the crawl with other workers through this Redis (redis://host:6379/0); "
                           "start the same command on more machines to add workers."),
        config_option("frontier_name", "--frontier-name",
                      help="Name of the shared crawl (default: derived from the command, so that the same "
                           "command joins the same crawl)."),
        config_option("frontier_idle", "--frontier-idle", type=click.FloatRange(min=0),
                      help="A worker stops when the shared queue stayed empty, with nothing claimed by any "
                           "worker, this many seconds."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def run_worker(frontier_url: str, name: str | None, idle: float, db_url: str, urls: tuple[str, ...], *,
               sources_path: Path | None, only: tuple[str, ...], since: datetime | None, due: bool,
               schedule: tuple[timedelta, ...], max_pages: int, depth: int, allow_private: bool,
               settings: dict[str, Any], verbose: bool) -> None:
    """Run one worker of a shared crawl. No job lock and no resume from the archive here: several
    workers run the same job at once, and an interrupted shared crawl resumes from its queue."""
    from crawler.runner import CrawlJob  # noqa: PLC0415 - starts Scrapy: import only when asked
    frontier = _frontier_module()

    server = frontier.connect(frontier_url)  # fail fast, before any fetching
    worker = frontier.worker_id()
    if sources_path is None:
        command: dict[str, Any] = {"spider": "site", "start_urls": sorted(urls), "depth": depth}
        name = name or frontier.crawl_name(command)
        job = CrawlJob(list(urls), db_url, max_pages, depth, allow_private, progress=sys.stderr.isatty(),
                       command={**command, "max_pages": max_pages, "frontier": name, "worker": worker},
                       settings={**settings, **frontier.settings(frontier_url, name, idle, max_pages, worker)})
    else:
        job, name = _sources_job(frontier, db_url, name, idle, frontier_url, sources_path, only, since, due,
                                 schedule, max_pages, depth, allow_private, settings, worker)
    click.echo(f"worker of shared crawl {name} at {frontier.public_url(frontier_url)}", err=True)
    job.before = lambda: _settle_dead_workers(frontier, server, name, db_url, quiet=True)
    stats = run_jobs([job], verbose)
    _settle_dead_workers(frontier, server, name, db_url)
    server.close()
    finish(db_url, stats, own_start=False)
    lost = [run["frontier/lost"] for run in stats if run.get("frontier/lost")]
    if lost:
        raise click.ClickException(lost[0])


def _settle_dead_workers(frontier: Any, server: Any, name: str, db_url: str, quiet: bool = False) -> None:
    """Give the runs of this crawl's killed workers an end and counts from their fetches, as a
    killed single-machine run gets when its job runs again (archive.resume.settle_killed). A worker
    is dead when its heartbeat key is gone; a run that names no worker (recorded by an older
    version) only when no worker of the crawl is alive."""
    engine = make_engine(db_url)
    try:
        state = frontier.Frontier(server, name)
        anyone_alive = bool(state.live_workers())

        def dead(worker: str | None) -> bool:
            return not server.exists(state.key("alive", worker)) if worker else not anyone_alive
        killed = [crawl_id for crawl_id, worker in unfinished_workers(engine, name) if dead(worker)]
        if killed:
            settle_killed(engine, killed)
    except (SQLAlchemyError, frontier.redis.RedisError) as exc:
        if not quiet:  # before the crawl, a new archive has no tables yet: the next worker settles them
            click.echo(f"could not settle the runs of killed workers: {exc}", err=True)
    finally:
        engine.dispose()


def _sources_job(frontier: Any, db_url: str, name: str | None, idle: float, frontier_url: str, sources_path: Path,
                 only: tuple[str, ...], since: datetime | None, due: bool, schedule: tuple[timedelta, ...],
                 max_pages: int, depth: int, allow_private: bool, settings: dict[str, Any],
                 worker: str) -> tuple[Any, str]:
    """The sources job of crawler.jobs.plan, as a worker: every worker reads the feeds and sitemaps
    and offers the due articles; the shared seen-set lets each URL through once per run."""
    from crawler.jobs import download_slots, job_command  # noqa: PLC0415
    from crawler.runner import CrawlJob  # noqa: PLC0415
    from crawler.sources import load_sources, recrawl_policies, recrawl_schedules  # noqa: PLC0415
    from crawler.spiders.sources import SourcesSpider  # noqa: PLC0415

    sources = load_sources(sources_path, only)
    command = job_command(sources_path, only, True, due)
    name = name or frontier.crawl_name(command)
    found = []
    if due:
        engine = make_engine(db_url)
        try:
            found, deferred = due_by_site(engine, recrawl_policies(sources), None, schedule)
        finally:
            engine.dispose()
        click.echo(f"{len(found)} article(s) due for a recrawl"
                   + (f" ({deferred} more left for later runs by recrawl_budget)" if deferred else ""), err=True)
    command.update(since=since.isoformat() if since else None, max_pages=max_pages, frontier=name, worker=worker,
                   schedule=[int(s.total_seconds()) for s in schedule] if due else None)
    job = CrawlJob([], db_url, max_pages, depth, allow_private, progress=sys.stderr.isatty(), spider=SourcesSpider,
                   spider_args={"sources": sources, "due": found, "since": since, "skip": (), "discover": True},
                   command=command, settings={**settings, "DOWNLOAD_SLOTS": download_slots(sources),
                                              "ARCHIVE_RECRAWL_SCHEDULES": recrawl_schedules(sources),
                                              **frontier.settings(frontier_url, name, idle, max_pages, worker)})
    return job, name


def _frontier_module() -> Any:
    try:
        from crawler import frontier  # noqa: PLC0415 - needs scrapy-redis: the `redis` extra
    except ImportError as exc:
        raise click.ClickException(f"shared crawls need the redis extra (pip install -e '.[redis]'): {exc}") from exc
    return frontier


redis_option = config_option("frontier_url", "--redis", "frontier_url", required=True,
                             help="The frontier's Redis (redis://host:6379/0).")


@cli.group("frontier")
def frontier_group() -> None:
    """Shared crawls in Redis (see archive crawl --frontier): status, seed, clear.

    \b
    Example:
        archive frontier status --redis redis://10.0.0.5:6379/0
        archive frontier seed crawl-3f2a9c1d0b7e https://www.example-news.com/markets/ --redis redis://10.0.0.5:6379/0
        archive frontier clear crawl-3f2a9c1d0b7e --redis redis://10.0.0.5:6379/0
    """


@frontier_group.command("status")
@click.argument("names", nargs=-1)
@redis_option
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per crawl, with each worker's counters (pages, articles, versions, "
                   "errors by kind, in flight per site, claims, queue, last heartbeat).")
def status(names: tuple[str, ...], frontier_url: str, as_json: bool) -> None:
    """Queue length, seen-set size, workers, their claims and counters, per shared crawl.

    Each worker's state: alive, stuck (claims but no page for 5 minutes) or dead (no heartbeat).
    Warns when Redis keeps nothing on disk (neither AOF nor RDB).

    \b
    Example:
        archive frontier status --redis redis://10.0.0.5:6379/0
    """
    import json  # noqa: PLC0415
    from dataclasses import asdict  # noqa: PLC0415

    frontier = _frontier_module()
    server = frontier.connect(frontier_url)
    warning = frontier.persistence_warning(server)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    found = list(names) or frontier.crawls(server)
    if not found:
        click.echo("no shared crawls")
        return
    rows, worker_rows, notes = [], [], []
    for name in found:
        state = frontier.Frontier(server, name).status()
        if as_json:
            click.echo(json.dumps(asdict(state)))
            continue
        alive = sum(w.alive for w in state.workers)
        rows.append([name, state.run, state.queued, state.seen, f"{alive}/{len(state.workers)}",
                     sum(w.claims for w in state.workers), state.recovered])
        for worker in state.workers:
            worker_rows.append(_worker_row(name, worker))
            if worker.state != "alive":
                notes.append(_stale_note(name, worker))
    if rows:
        click.echo(render(["crawl", "run", "queued", "seen (run)", "workers alive", "claimed", "recovered"], rows))
    if worker_rows:
        click.echo("\n" + render(["crawl", "worker", "state", "beat s ago", "pages", "articles", "versions", "errors",
                                  "claims", "in flight"], worker_rows, max_width=40))
    for note in notes:
        click.echo(note, err=True)


def _worker_row(crawl: str, worker: Any) -> list[Any]:
    counters = worker.counters
    errors = counters.get("errors", {})
    return [crawl, worker.worker, worker.state, "-" if worker.beat_age is None else f"{worker.beat_age:.0f}",
            counters.get("pages", "-"), counters.get("articles", "-"), counters.get("versions", "-"),
            sum(errors.values()) if errors else 0, worker.claims, sum(counters.get("in_flight", {}).values())]


def _stale_note(crawl: str, worker: Any) -> str:
    """One line on a worker that needs a look: dead (no heartbeat) or stuck (claims, no page)."""
    ago = "" if worker.beat_age is None else f" (last heartbeat {worker.beat_age:.0f} s ago)"
    if worker.state == "dead":
        return (f"warning: worker {worker.worker} of {crawl} is dead{ago}: the next live worker queues its "
                f"{worker.claims} claimed request(s) again")
    return (f"warning: worker {worker.worker} of {crawl} is stuck: it holds {worker.claims} request(s) but fetched "
            f"no page for over 5 minutes{ago}; look at its log, or stop it and its claims are queued again")


@frontier_group.command("seed")
@click.argument("name")
@click.argument("urls", nargs=-1, required=True)
@redis_option
def seed(name: str, urls: tuple[str, ...], frontier_url: str) -> None:
    """Queue URLs for the workers of a shared crawl (each once per run).

    \b
    Example:
        archive frontier seed crawl-3f2a9c1d0b7e https://www.example-news.com/markets/ --redis redis://10.0.0.5:6379/0
    """
    frontier = _frontier_module()
    added, seen = frontier.Frontier(frontier.connect(frontier_url), name).seed(urls)
    click.echo(f"{added} URL(s) queued, {seen} already seen in this run")


@frontier_group.command("clear")
@click.argument("name")
@redis_option
@click.option("--force", is_flag=True, help="Clear even while workers are alive.")
def clear(name: str, frontier_url: str, force: bool) -> None:
    """Delete a shared crawl: its queue, seen-set, workers and claims.

    \b
    Example:
        archive frontier clear crawl-3f2a9c1d0b7e --redis redis://10.0.0.5:6379/0
    """
    frontier = _frontier_module()
    state = frontier.Frontier(frontier.connect(frontier_url), name)
    alive = state.live_workers()
    if alive and not force:
        raise click.ClickException(f"{len(alive)} worker(s) of {name} are alive; stop them or use --force")
    click.echo(f"{state.clear()} key(s) of {name} deleted")
