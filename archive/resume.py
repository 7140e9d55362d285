"""Crawl runs that did not finish, and what they already stored: how a crawl resumes.

A run of the same job (same sources file, sites and mode) after one that was stopped (Ctrl-C,
SIGTERM, SIGKILL, a power cut) skips the articles those runs already stored and fetches the rest.
The archive is the record of what was done: every stored page is committed as it arrives, so
this holds however the run ended. (Scrapy's own JOBDIR queue is written only on a clean close,
and its seen-set is buffered: after SIGKILL it can forget queued pages while still refusing
to fetch them again.)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from archive.models import Crawl, Fetch


def job_key(command: dict[str, Any]) -> str:
    """A stable name for what a crawl was asked to do (its command, without run-only options)."""
    return hashlib.sha256(json.dumps(command, sort_keys=True, default=str).encode()).hexdigest()[:16]


def interrupted_crawls(engine: Engine, job: str) -> list[int]:
    """The newest runs of `job` that did not finish, newest first (empty when the last one did)."""
    found: list[int] = []
    with Session(engine) as session:
        runs = session.execute(select(Crawl.id, Crawl.stats).where(Crawl.command["job"].as_string() == job)
                               .order_by(Crawl.id.desc()).limit(50))
        for crawl_id, stats in runs:
            if (stats or {}).get("finish_reason") == "finished":
                break
            found.append(crawl_id)
    return found


def articles_fetched_in(engine: Engine, crawl_ids: list[int]) -> set[str]:
    """URLs of the articles these runs fetched and stored (a 304 counts: it was checked)."""
    if not crawl_ids:
        return set()
    with Session(engine) as session:
        return set(session.scalars(select(Fetch.url).where(
            Fetch.crawl_id.in_(crawl_ids), Fetch.article_id.is_not(None), Fetch.outcome != "error")))


def settle_killed(engine: Engine, crawl_ids: list[int]) -> None:
    """Give runs that died without recording their end (SIGKILL) an end and counts from their fetches,
    so that `archive crawls` shows what they did."""
    with Session(engine) as session, session.begin():
        for crawl_id in crawl_ids:
            crawl = session.get(Crawl, crawl_id)
            if crawl is None or crawl.finished_at is not None:
                continue
            outcomes = dict(session.execute(select(Fetch.outcome, func.count()).where(Fetch.crawl_id == crawl_id)
                                            .group_by(Fetch.outcome)).all())
            last = session.scalar(select(func.max(Fetch.fetched_at)).where(Fetch.crawl_id == crawl_id))
            stats = {f"archive/{outcome}": count for outcome, count in outcomes.items()}
            stats.update({"archive/fetches": sum(outcomes.values()), "finish_reason": "killed"})
            session.execute(update(Crawl).where(Crawl.id == crawl_id)
                            .values(finished_at=last or crawl.started_at, stats=stats))


def unfinished_workers(engine: Engine, frontier: str) -> list[tuple[int, str | None]]:
    """(crawl id, worker id) of the runs of the shared crawl `frontier` that recorded no end: the
    workers still going, and those killed (whose heartbeat is gone: the caller asks Redis)."""
    with Session(engine) as session:
        rows = session.execute(select(Crawl.id, Crawl.command).where(
            Crawl.command["frontier"].as_string() == frontier, Crawl.finished_at.is_(None)))
        return [(crawl_id, (command or {}).get("worker")) for crawl_id, command in rows]


def recent_crawls(engine: Engine, *, limit: int = 50) -> list[Crawl]:
    """Crawl runs, newest first (what `archive crawls` and the web app's Crawls page list)."""
    with Session(engine) as session:
        return list(session.scalars(select(Crawl).order_by(Crawl.id.desc()).limit(limit)))


def error_kind(error: str | None) -> str:
    """The counted kind of a failed fetch: the word before the first colon of its error."""
    return (error or "error").split(":", 1)[0].strip() or "error"


def failed_fetches(engine: Engine, crawl_id: int, *, limit: int = 500) -> tuple[Crawl | None, list[Fetch]]:
    """A run and its failed fetches (URL, status, error), in the order they happened."""
    with Session(engine) as session:
        crawl = session.get(Crawl, crawl_id)
        failed = list(session.scalars(select(Fetch).where(Fetch.crawl_id == crawl_id, Fetch.outcome == "error")
                                      .order_by(Fetch.id).limit(limit)))
    return crawl, failed
