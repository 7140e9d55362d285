"""Crash safety: a crawl killed with SIGKILL at random moments leaves an archive that passes
`archive check`, with no half-written version, and the next run completes the work. A backup
taken while a crawl writes opens and passes the check too."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from archive.db import normalise_url
from archive.models import Article, Snapshot
from tests.conftest import run_cli
from support.faultserver import FaultServer

pytestmark = pytest.mark.slow

SITE = Path(__file__).resolve().parents[1] / "archive" / "demo" / "site"
ARTICLES = 35  # the bundled sample site's articles (archive/demo/site/manifest.json)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(root=SITE, slow=0.05, seed=1) as site:  # ~6 s per crawl: kills land mid-crawl
        yield site


def start_crawl(url: str, db: str, *options: str) -> subprocess.Popen[str]:
    """`archive crawl` in its own process group, as a terminal runs it (Ctrl-C reaches the group)."""
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"}
    return subprocess.Popen([sys.executable, "-m", "archive", "crawl", url, "--db", db, *options], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def totals(db: str) -> tuple[int, int, int]:
    engine = create_engine(normalise_url(db))
    try:
        with Session(engine) as session:
            fetches = session.scalar(text('SELECT count(*) FROM "fetch"')) or 0
            return (session.scalar(select(func.count()).select_from(Article)) or 0,
                    session.scalar(select(func.count()).select_from(Snapshot)) or 0, fetches)
    except Exception:  # noqa: BLE001 - the schema may not exist yet
        return 0, 0, 0
    finally:
        engine.dispose()


def test_sigkill_at_random_moments_loses_nothing(db_url: str, server: FaultServer) -> None:
    rng = random.Random(20260101)
    kills = 4 if db_url.startswith("sqlite") else 3
    hit_running = 0
    for attempt in range(kills):
        crawl = start_crawl(server.url, db_url)
        time.sleep(rng.uniform(0.3, 1.5) if attempt == 0 else rng.uniform(1.5, 4.0))
        if crawl.poll() is None:
            hit_running += 1
        crawl.send_signal(signal.SIGKILL)
        crawl.wait(30)
        checked = run_cli("check", "--db", db_url, check=False)
        if "Error: no archive at" in checked.stderr:  # killed before the crawl created its archive
            continue
        assert checked.returncode == 0, f"after kill {attempt + 1}:\n{checked.stdout}{checked.stderr}"
        articles, versions, fetches = totals(db_url)
        # one version per article: nothing written twice, nothing half
        assert versions == articles, f"after kill {attempt + 1}: {articles} articles, {versions} versions"
    assert hit_running >= kills - 1, f"only {hit_running} of {kills} kills hit a running crawl"

    final = run_cli("crawl", server.url, "--db", db_url)
    checked = run_cli("check", "--db", db_url)
    assert checked.stdout.startswith(f"ok: {ARTICLES} articles, {ARTICLES} versions"), final.stdout + checked.stdout


def test_backup_during_a_crawl_opens_and_passes_check(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    # The site answers 20 requests and holds the rest until released, so the crawl is still going
    # when 15 fetches are stored however fast or slow the machine is (polling a free-running crawl
    # raced it: a CI run under load once finished before the backup).
    with FaultServer(root=SITE, hold_after=20) as held:
        crawl = start_crawl(held.url, db)
        try:
            deadline = time.monotonic() + 60
            while totals(db)[2] < 15 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert crawl.poll() is None, "the crawl ended before the backup could run during it"
            # The crawl is also stopped where it is (mid-crawl, a write transaction perhaps open)
            # while the backup runs.
            os.killpg(crawl.pid, signal.SIGSTOP)
            try:
                run_cli("backup", str(tmp_path / "copy.db"), "--db", db)
            finally:
                os.killpg(crawl.pid, signal.SIGCONT)
        finally:
            held.release()
            crawl.wait(60)
    assert crawl.returncode == 0, crawl.stderr.read() if crawl.stderr else ""
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    checked = run_cli("check", "--db", copy)
    articles, versions, fetches = totals(copy)
    assert checked.stdout.startswith("ok:") and fetches >= 15 and articles == versions
    assert totals(db)[2] > fetches  # the copy is one consistent moment, before the crawl finished


def test_ctrl_c_stops_cleanly_and_the_next_run_resumes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    # Slow answers: the pages already downloaded when Ctrl-C lands are still stored, and on a loaded
    # machine a fast site was all downloaded before 10 fetches had been written.
    with FaultServer(root=SITE, slow=0.25, seed=1) as server:
        ctrl_c_then_resume(server, db)


def ctrl_c_then_resume(server: FaultServer, db: str) -> None:
    crawl = start_crawl(server.url, db)
    deadline = time.monotonic() + 30
    while totals(db)[2] < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    asked = time.monotonic()
    os.killpg(crawl.pid, signal.SIGINT)  # Ctrl-C: the crawl and its extraction workers all get it
    crawl.wait(60)
    assert crawl.returncode == 0 and time.monotonic() - asked < 15  # the requests in flight, not the whole site
    articles, _, fetches = totals(db)
    assert articles < ARTICLES
    engine = create_engine(normalise_url(db))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT finished_at FROM crawl")).scalar() is not None  # closed properly
        errors = connection.execute(text("SELECT error FROM fetch WHERE outcome = 'error'")).scalars().all()
    engine.dispose()
    assert errors == []  # pages in flight were finished, not failed by the interruption
    run_cli("crawl", server.url, "--db", db)
    assert run_cli("check", "--db", db).stdout.startswith(f"ok: {ARTICLES} articles, {ARTICLES} versions")


def test_ctrl_c_starts_nothing_new_and_the_run_shows_as_interrupted(tmp_path: Path) -> None:
    """With a delay between requests, the requests waiting for their site's turn are not sent after
    Ctrl-C (a crawl with a 2 s delay went on for 31 s and 14 pages); `archive crawls` says the run
    was interrupted, and the next run resumes it."""
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with FaultServer(root=SITE, slow=0.05, seed=1) as server:
        crawl = start_crawl(server.url, db, "--delay", "1")
        deadline = time.monotonic() + 60
        while totals(db)[2] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert crawl.poll() is None, "the crawl ended before Ctrl-C"
        sent = len(server.requests)
        os.killpg(crawl.pid, signal.SIGINT)
        crawl.wait(60)
        after = server.requests[sent:]
        assert crawl.returncode == 0
        assert len(after) <= 1, after  # at most one request that was already leaving; 1 s apart
        assert "(interrupted)" in run_cli("crawls", "--db", db).stdout
        articles = totals(db)[0]
        assert articles < ARTICLES
        run_cli("crawl", server.url, "--db", db)
    assert run_cli("check", "--db", db).stdout.startswith(f"ok: {ARTICLES} articles, {ARTICLES} versions")
