"""`archive schedule`: discovery plus due recrawls, again and again, until stopped.

Each run is a child process (`archive crawl --sources ... --due`): Scrapy's reactor starts once
per process, and a run that crashes or is killed cannot take the scheduler with it. SIGTERM or
Ctrl-C while a run is working is passed on to it, so it stops cleanly (and the next run of the
same job resumes it); while waiting, the scheduler exits at once.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from archive.cli.base import cli, db_option, private_option
from archive.cli.crawling import refresh_settings, time_limit
from archive.errors import BadInput
from archive.recrawl import DEFAULT_SCHEDULE, format_schedule, parse_span


def ticks(every: timedelta | None, cron: str | None, start: datetime) -> Iterator[datetime]:
    """When runs are due: at once and then every `every`, or at each time the cron expression names."""
    if cron is not None:
        from cronsim import CronSim, CronSimError  # noqa: PLC0415
        try:
            yield from CronSim(cron, start)
        except CronSimError as exc:
            raise BadInput(f"not a cron expression: {cron!r} ({exc})") from exc
        return
    assert every is not None
    when = start
    while True:
        yield when
        when += every


def check_cron(cron: str) -> None:
    from cronsim import CronSim, CronSimError  # noqa: PLC0415
    try:
        CronSim(cron, datetime.now(timezone.utc))
    except CronSimError as exc:
        raise BadInput(f"not a cron expression: {cron!r} ({exc})") from exc


#: Seconds a run may outlast its time limit (it stops itself, finishing its requests in flight)
#: before the scheduler stops it, and then kills it.
OVERTIME = 120.0


class Runner:
    """Starts runs, passes a stop signal on to the running one, and sleeps interruptibly."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.stopping = threading.Event()
        self.child: subprocess.Popen[bytes] | None = None

    def stop(self, signum: int, _frame: Any) -> None:
        if self.stopping.is_set() and self.child is not None:
            self.child.kill()  # second signal: do not wait for the run to finish its pages
            return
        self.stopping.set()
        name = signal.Signals(signum).name
        if self.child is not None and self.child.poll() is None:
            self.echo(f"{_now()} {name}: stopping the current run cleanly (again to kill it)")
            self.child.send_signal(signal.SIGTERM)
        else:
            self.echo(f"{_now()} {name}: stopping")

    def wait_until(self, when: datetime) -> bool:
        """Sleep until `when`; False when a stop signal came first."""
        return not self.stopping.wait(max(0.0, (when - datetime.now(timezone.utc)).total_seconds()))

    def run(self, command: list[str], limit: float | None = None) -> int:
        """Run one crawl to its end. A run still going OVERTIME seconds after its time limit (which it
        enforces itself) is hung: it gets SIGTERM, and OVERTIME seconds later SIGKILL."""
        # Its own session: a Ctrl-C in the terminal reaches the scheduler only, which passes one SIGTERM on.
        self.child = subprocess.Popen(command, start_new_session=True)
        started, terminated = time.monotonic(), None
        try:
            while True:
                try:
                    return self.child.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    now = time.monotonic()
                    if limit is None or now - started < limit + OVERTIME:
                        continue
                    if terminated is None:
                        self.echo(f"{_now()} the run is still going {OVERTIME:.0f} s after its time limit: "
                                  "stopping it (SIGTERM)")
                        self.child.send_signal(signal.SIGTERM)
                        terminated = now
                    elif now - terminated > OVERTIME:
                        self.echo(f"{_now()} the run did not stop: killing it (the next run resumes it)")
                        self.child.kill()
                        terminated = float("inf")
        finally:
            self.child = None


@cli.command()
@click.option("--sources", "sources_path", type=click.Path(path_type=Path), required=True,
              help="The sources file each run crawls (read again at every run, so edits apply).")
@click.option("--only", multiple=True, help="Only this site of the sources file (repeatable).")
@click.option("--every", help="Run now and then at this interval, e.g. 30m, 6h.")
@click.option("--cron", help='Run at the times of a cron expression, e.g. "*/30 * * * *" (UTC).')
@click.option("--runs", type=click.IntRange(min=1), help="Stop after this many runs (default: until stopped).")
@click.option("--no-due", is_flag=True, help="Discovery only: do not revisit due articles.")
@click.option("--schedule", "schedule_text", default=format_schedule(DEFAULT_SCHEDULE), show_default=True,
              help="The recrawl schedule passed to each run (see archive recrawl).")
@click.option("--refresh-after", "refresh_after", default="due", show_default=True,
              help="Passed to each run (see archive crawl): a known article found again is requested "
                   "when its recrawl is due ('due'), or when its last fetch is older than a duration.")
@click.option("--max-pages", type=click.IntRange(min=0), default=0, help="Per run (0: no limit).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds to wait for a page.")
@click.option("--max-time", "max_time", metavar="DURATION",
              help="Per run: stop it cleanly after this long, e.g. 25m (default: the sources file's max_time).")
@db_option
@private_option
def schedule(sources_path: Path, only: tuple[str, ...], every: str | None, cron: str | None, runs: int | None,
             no_due: bool, schedule_text: str, refresh_after: str, max_pages: int, timeout: float,
             max_time: str | None, db_url: str, allow_private_addresses: bool) -> None:
    """Crawl the sources again and again: discovery plus due recrawls at each run.

    Each run is logged with its exit status; a failing run (or site) does not stop the
    schedule. Ctrl-C or SIGTERM stops cleanly: a run in progress finishes its requests in
    flight, and the next run resumes it. To let cron or a systemd timer do the scheduling
    instead, run `archive crawl --sources FILE --due` from it (see docs/scheduling.md).

    \b
    Example:
        archive schedule --sources sources.toml --every 30m
        archive schedule --sources sources.toml --cron "0 */2 * * *"
    """
    from crawler.sources import load_sources  # noqa: PLC0415
    if (every is None) == (cron is None):
        raise click.UsageError("give one of --every or --cron")
    interval = parse_span(every) if every is not None else None
    if interval is not None and interval < timedelta(seconds=1):
        raise BadInput("--every must be at least 1s")
    if cron is not None:
        check_cron(cron)
    refresh_settings(refresh_after, schedule_text)  # a bad value fails here, not at every run
    limit = time_limit(max_time)
    load_sources(sources_path, only)  # a bad file fails here, in one line, not at every run
    command = [sys.executable, "-m", "archive", "crawl", "--sources", str(sources_path), "--db", db_url,
               "--max-pages", str(max_pages), "--timeout", str(timeout), "--schedule", schedule_text,
               "--refresh-after", refresh_after,
               *(arg for site in only for arg in ("--only", site)), *([] if no_due else ["--due"]),
               *(["--max-time", max_time] if max_time else []),
               *(["--allow-private-addresses"] if allow_private_addresses else [])]
    runner = Runner(lambda line: click.echo(line, err=True))
    previous = {sig: signal.signal(sig, runner.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    failed = done = 0
    try:
        for when in ticks(interval, cron, datetime.now(timezone.utc)):
            if runs is not None and done >= runs:
                break
            if when < datetime.now(timezone.utc) - timedelta(seconds=1) and done:
                continue  # the previous run outlasted this slot: skip it rather than run twice at once
            if not runner.wait_until(when):
                break
            done += 1
            click.echo(f"{_now()} run {done} started", err=True)
            started = time.monotonic()
            status = runner.run(command, limit if limit is not None else file_limit(sources_path, only))
            took = time.monotonic() - started
            if status != 0:
                failed += 1
            click.echo(f"{_now()} run {done} {'finished' if status == 0 else f'failed (exit {status})'} "
                       f"in {took:.0f} s", err=True)
            if runner.stopping.is_set():
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed and runs is not None and not runner.stopping.is_set():
        raise click.ClickException(f"{failed} of {done} run(s) failed")


def file_limit(sources_path: Path, only: tuple[str, ...]) -> float | None:
    """The sources file's max_time for a run, read again at each run as the run reads it (None: none, or
    the file no longer loads: the run itself then fails in one line)."""
    from crawler.sources import load_sources, run_time_limit  # noqa: PLC0415
    try:
        return run_time_limit(load_sources(sources_path, only))
    except BadInput:
        return None


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
