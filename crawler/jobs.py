"""Build a discovery or recrawl job from a sources file: its spider, politeness, resume and lock.

One job name (archive.resume.job_key) per (sources file, sites, mode): a run of the same job
after an interrupted one resumes it, and a lock file under the data directory keeps two runs of
the same job on one machine from working at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator, Sequence

from archive.db import make_engine
from archive.errors import BadInput
from archive.recrawl import DEFAULT_SCHEDULE, Due, due_by_site
from archive.resume import articles_fetched_in, interrupted_crawls, job_key, settle_killed
from archive.symbols import default_data_dir
from archive.urls import site_of
from crawler.conditional import FOLLOW_STORED
from crawler.runner import CrawlJob
from crawler.sources import Source, load_sources, recrawl_policies, recrawl_schedules, run_time_limit
from crawler.spiders.sources import SourcesSpider, slot_of

log = logging.getLogger(__name__)


@dataclass
class SourcesJob:
    """What a sources/recrawl run will do, for the CLI to show before it starts."""

    job: CrawlJob
    key: str
    sources: list[Source]
    due: list[Due] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    skipped: int = 0
    deferred: int = 0  # due articles left for a later run by the sites' recrawl_budget


def plan(db_url: str, sources_path: Path | None, only: tuple[str, ...] = (), *, discover: bool = True,
         recrawl: bool = False, schedule: Sequence[timedelta] = DEFAULT_SCHEDULE, since: datetime | None = None,
         max_pages: int = 0, depth: int = 0, allow_private: bool = False, progress: bool = False,
         settings: dict | None = None, now: datetime | None = None, max_time: float | None = None) -> SourcesJob:
    """The job for `archive crawl --sources` (discover) and `archive recrawl --due` (recrawl).
    `max_time` (seconds) is the run's time limit; None: the sources file's max_time, if any."""
    sources = load_sources(sources_path, only) if sources_path is not None else []
    if discover and not sources:
        raise BadInput("discovery needs a sources file (--sources)")
    command = job_command(sources_path, only, discover, recrawl)
    key = job_key(command)
    engine = make_engine(db_url)
    try:
        resumed = interrupted_crawls(engine, key)
        skip = articles_fetched_in(engine, resumed)
        settle_killed(engine, resumed)
        due, deferred = due_by_site(engine, recrawl_policies(sources), now, schedule) if recrawl else ([], 0)
    finally:
        engine.dispose()
    if recrawl and not sources:  # every site of the archive, each with its own download slot
        sources = [Source(name=site, sites=frozenset({site})) for site in sorted({site_of(d.url) for d in due})]
    command.update(job=key, since=since.isoformat() if since else None, max_pages=max_pages,
                   schedule=[int(s.total_seconds()) for s in schedule] if recrawl else None,
                   resumes=resumed[0] if resumed else None)
    if max_time is None:
        max_time = run_time_limit(sources)
    command["max_time"] = max_time or None
    job = CrawlJob([], db_url, max_pages, depth, allow_private, max_time=max_time or 0, progress=progress,
                   spider=SourcesSpider,
                   spider_args={"sources": sources, "due": due, "since": since, "skip": skip, "discover": discover},
                   command=command, settings={**(settings or {}), "DOWNLOAD_SLOTS": download_slots(sources),
                                              "ARCHIVE_RECRAWL_SCHEDULES": recrawl_schedules(sources),
                                              FOLLOW_STORED: bool(resumed)})
    return SourcesJob(job, key, sources, due, resumed, len(skip), deferred)


def site_job(db_url: str, urls: Sequence[str], max_pages: int = 0, depth: int = 0, allow_private: bool = False,
             **options: Any) -> CrawlJob:
    """The job for `archive crawl URL...`. Such runs take no lock and skip nothing, but when the last
    run from the same start URLs did not finish, this one follows the stored links of the articles it
    does not fetch again (FOLLOW_STORED), so that it reaches the pages that run never did."""
    key = job_key({"spider": "site", "start_urls": sorted(urls)})
    engine = make_engine(db_url)
    try:
        unfinished = interrupted_crawls(engine, key)
    finally:
        engine.dispose()
    settings = {**options.pop("settings", {}), FOLLOW_STORED: bool(unfinished)}
    command = {"spider": "site", "start_urls": list(urls), "max_pages": max_pages, "depth": depth, "job": key}
    return CrawlJob(list(urls), db_url, max_pages, depth, allow_private, settings=settings, command=command, **options)


def job_command(sources_path: Path | None, only: tuple[str, ...], discover: bool, recrawl: bool) -> dict:
    """What names a job: the same sources file, sites and mode make the same job."""
    return {"spider": "sources", "sources": str(sources_path.resolve()) if sources_path else None,
            "only": sorted(only), "discover": discover, "recrawl": recrawl}


def download_slots(sources: Sequence[Source]) -> dict[str, dict[str, float | int]]:
    """Scrapy DOWNLOAD_SLOTS for the sites that set their own delay or concurrency."""
    slots: dict[str, dict[str, float | int]] = {}
    for source in sources:
        slot: dict[str, float | int] = {}
        if source.delay is not None:
            slot["delay"] = source.delay
        if source.concurrency is not None:
            slot["concurrency"] = max(1, source.concurrency)
        if slot:
            slots[slot_of(source)] = slot
    return slots


@contextmanager
def job_lock(db_url: str, key: str, data_dir: Path | None = None) -> Iterator[Path]:
    """Hold the job's lock file for the run; a second run of the same job is refused in one line.
    The kernel releases the lock when the process dies, however it dies."""
    folder = (data_dir or default_data_dir()) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(f'{db_url}|{key}'.encode()).hexdigest()[:16]}.lock"
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise BadInput(f"this crawl is already running (pid {handle.read().strip() or '?'}; lock {path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
