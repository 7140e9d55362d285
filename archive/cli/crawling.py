"""What the commands that crawl share: Scrapy settings from their options, running the jobs in
this process, and printing their summary (archive/summaries.py).

`archive crawl` and `archive recrawl` (cli/crawl.py), a shared-crawl worker (cli/frontier.py) and
`archive schedule` (cli/schedule.py) use it; it imports none of them, so that none of them needs an
import inside a function to reach another.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from archive.db import make_engine
from archive.query import counts
from archive.recrawl import REFRESH_DUE, parse_schedule, parse_span
from archive.summaries import archive_summary, crawl_summary


#: Scrapy's finish reason for a crawl stopped by CLOSESPIDER_TIMEOUT (--max-time), as the crawl row records it.
TIME_LIMIT = "closespider_timeout"


def time_limit(max_time: str | None) -> float | None:
    """--max-time in seconds (None: not given); a one-line error when it is not a duration."""
    if max_time is None:
        return None
    seconds = parse_span(max_time).total_seconds()
    if seconds <= 0:
        raise click.BadParameter("must be longer than 0s", param_hint="--max-time")
    return seconds


def politeness(timeout: float, concurrency: int | None, delay: float | None, throttle: bool) -> dict[str, Any]:
    """Scrapy settings from the crawl options (crawler.politeness enforces them)."""
    settings: dict[str, Any] = {"DOWNLOAD_TIMEOUT": timeout, "AUTOTHROTTLE_ENABLED": throttle}
    if delay is not None:
        settings["DOWNLOAD_DELAY"] = delay
    if concurrency is not None:
        settings["CONCURRENT_REQUESTS_PER_DOMAIN"] = concurrency
        settings["CONCURRENT_REQUESTS"] = max(16, concurrency)
    return settings


def run_jobs(jobs: list[Any], verbose: bool) -> list[dict[str, Any]]:
    from crawler.runner import run_crawls  # noqa: PLC0415 - starts Scrapy: import only when asked
    return run_crawls(jobs, log_level="INFO" if verbose else "WARNING")


def finish(db_url: str, stats: list[dict[str, Any]], own_start: bool = True) -> None:
    """Print what the crawls did and the archive's totals; exit non-zero if pages were lost, or
    (`own_start`) if none of the start URLs could be fetched. A worker of a shared crawl passes
    False: its start URLs go to the shared queue, and another worker may fetch them."""
    click.echo(crawl_summary(stats))
    if any(run.get("finish_reason") == TIME_LIMIT for run in stats):
        click.echo("stopped at the time limit (--max-time / max_time): the pages in flight were stored; "
                   "the next run of this crawl resumes it", err=True)
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
    unreached = no_start_fetched(stats) if own_start else None
    if unreached:
        raise click.ClickException(unreached)


def no_start_fetched(all_stats: list[dict[str, Any]]) -> str | None:
    """Why a crawl fetched none of its start URLs (one line), or None if it fetched any, had none,
    or some were never tried: a worker of a shared crawl leaves a start URL that another worker
    already asked for to that worker."""
    started = sum(int(stats.get("archive/start_urls", 0)) for stats in all_stats)
    fetched = sum(int(stats.get("archive/start_fetched", 0)) for stats in all_stats)
    failed = sum(int(stats.get("archive/start_failed", 0)) for stats in all_stats)
    if not started or fetched or failed < started:
        return None
    errors = [stats["archive/start_error"] for stats in all_stats if stats.get("archive/start_error")]
    why = f" (last: {errors[-1][:300]})" if errors else ""
    return f"none of the {started} start URL(s) could be fetched{why}"


def not_stored(all_stats: list[dict[str, Any]]) -> tuple[int, str | None]:
    """How many pages the crawls fetched but could not write, and the last write error."""
    lost = sum(int(stats.get("archive/write_failed", 0)) for stats in all_stats)
    errors = [stats["archive/write_error"] for stats in all_stats if stats.get("archive/write_error")]
    return lost, errors[-1] if errors else None


def refresh_settings(refresh_after: str, schedule_text: str) -> dict[str, Any]:
    """--refresh-after and --schedule as the crawler's settings (a one-line BadInput when wrong)."""
    after: str | float = REFRESH_DUE if refresh_after.strip().lower() == REFRESH_DUE \
        else parse_span(refresh_after).total_seconds()
    return {"ARCHIVE_REFRESH_AFTER": after,
            "ARCHIVE_RECRAWL_SCHEDULE": [age.total_seconds() for age in parse_schedule(schedule_text)]}
