"""`archive schedule`: repeated runs, a failing run that does not stop it, a clean SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from archive.cli.schedule import ticks
from archive.demo.server import SiteServer
from archive.models import Crawl
from archive.resume import job_key
from crawler.jobs import job_command, job_lock
from tests.conftest import run_cli
from tests.discovery_site import build, sources_file


def crawl_rows(db: str) -> list[Crawl]:
    engine = create_engine(db)
    with Session(engine) as session:
        rows = list(session.scalars(select(Crawl).order_by(Crawl.id)))
    engine.dispose()
    return rows


def test_ticks_every_and_cron() -> None:
    start = datetime(2025, 1, 1, 10, 7, tzinfo=timezone.utc)
    every = ticks(timedelta(minutes=30), None, start)
    assert [next(every) for _ in range(3)] == [start, start + timedelta(minutes=30), start + timedelta(hours=1)]
    cron = ticks(None, "*/30 * * * *", start)
    assert [next(cron) for _ in range(2)] == [start.replace(minute=30), start.replace(hour=11, minute=0)]


def test_bad_schedule_options_are_one_line_errors(tmp_path: Path) -> None:
    sources = tmp_path / "s.toml"
    sources.write_text('[[site]]\nname = "a"\nfeeds = ["https://a.example.com/feed.xml"]\n')
    for args, message in [(["--cron", "every day"], "not a cron expression"),
                          ([], "give one of --every or --cron"),
                          (["--every", "soon"], "not a duration")]:
        result = run_cli("schedule", "--sources", str(sources), *args, check=False)
        assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_runs_repeat_and_a_failing_run_does_not_stop_the_schedule(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(tmp_path / "data"))
    root = build(tmp_path / "site")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with SiteServer(root) as server:
        sources = sources_file(tmp_path / "sources.toml", server)
        result = run_cli("schedule", "--sources", str(sources), "--db", db, "--every", "1s", "--runs", "2")
        assert "run 1 finished" in result.stderr and "run 2 finished" in result.stderr
        first, second = crawl_rows(db)
        assert first.stats["archive/new"] > 0 and second.stats.get("archive/new", 0) == 0
        # The second run, a second later: every article is known and none is due, so none is asked for.
        assert second.stats.get("archive/not_modified", 0) == 0 and second.stats["archive/skipped_fresh"] > 0
        assert second.command["recrawl"] is True

        # Another process holds this job's lock: both runs fail, the schedule goes on to the second.
        key = job_key(job_command(sources, (), True, True))
        with job_lock(db, key, tmp_path / "data"):
            result = run_cli("schedule", "--sources", str(sources), "--db", db, "--every", "1s", "--runs", "2",
                             check=False)
        assert "run 1 failed (exit 1)" in result.stderr and "run 2 failed (exit 1)" in result.stderr
        assert "this crawl is already running" in result.stderr
        assert result.returncode == 1 and "2 of 2 run(s) failed" in result.stderr
        assert len(crawl_rows(db)) == 2


@pytest.mark.slow
def test_sigterm_stops_the_running_crawl_cleanly(tmp_path: Path) -> None:
    root = build(tmp_path / "site")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with SiteServer(root, delay=0.1) as server:
        sources = sources_file(tmp_path / "sources.toml", server, concurrency="1")
        env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1", "ARCHIVE_DATA_DIR": str(tmp_path / "data")}
        scheduler = subprocess.Popen([sys.executable, "-m", "archive", "schedule", "--sources", str(sources),
                                      "--db", db, "--every", "1h"], env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(server.requests) < 15 and time.monotonic() < deadline:
            time.sleep(0.2)
        scheduler.send_signal(signal.SIGTERM)
        _, stderr = scheduler.communicate(timeout=60)
    assert scheduler.returncode == 0, stderr
    assert "stopping the current run cleanly" in stderr
    (run,) = crawl_rows(db)
    assert run.finished_at is not None and run.stats["finish_reason"] == "shutdown"
    engine = create_engine(db)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Crawl)) == 1
    engine.dispose()


def test_a_run_hung_past_its_time_limit_is_stopped_then_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run stops itself at its time limit; one that does not (hung) must not block the schedule."""
    from archive.cli import schedule as module
    monkeypatch.setattr(module, "OVERTIME", 0.5)
    said: list[str] = []
    deaf = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"
    status = module.Runner(said.append).run([sys.executable, "-c", deaf], limit=0.1)
    assert status == -signal.SIGKILL
    assert "stopping it (SIGTERM)" in said[0] and "killing it" in said[1]
