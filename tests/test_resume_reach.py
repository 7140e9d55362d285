"""A crawl cut short (--max-pages, SIGKILL) and then run in full stores every article (issue 20,
item 2): listings are read again, and the articles the full run does not fetch again (not due, or
stored by the run it resumes) have the links of their stored pages followed. The site is a
link-heavy listing of 15 articles, and 30 more reached only through "read more" links in articles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from archive.db import normalise_url
from archive.demo.server import SiteServer
from archive.models import Article, Crawl, Fetch
from tests.conftest import run_cli
from tests.hostile_site import write_site

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
ARTICLES, LISTED = 45, 15


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[SiteServer, list[str]]]:
    paths = write_site(tmp_path / "site", ARTICLES, listed=LISTED)
    with SiteServer(tmp_path / "site", delay=0.05) as server:
        yield server, paths


def stored(db: str) -> set[str]:
    engine = create_engine(normalise_url(db))
    with Session(engine) as session:
        urls = {urlsplit(u).path for u in session.scalars(select(Article.canonical_url))}
    engine.dispose()
    return urls


def fetches(db: str) -> int:
    engine = create_engine(normalise_url(db))
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(Fetch)) or 0
    except Exception:  # noqa: BLE001 - the schema may not exist yet
        return 0
    finally:
        engine.dispose()


def check_all_stored(db: str, paths: list[str]) -> None:
    assert stored(db) == set(paths), f"missing: {sorted(set(paths) - stored(db))}"
    assert run_cli("check", "--db", db).stdout.startswith(f"ok: {ARTICLES} articles, {ARTICLES} versions")


def test_max_pages_then_a_full_crawl_stores_every_article(db_url: str, site: tuple[SiteServer, list[str]]) -> None:
    server, paths = site
    run_cli("crawl", server.url, "--db", db_url, "--max-pages", "8")
    assert 0 < len(stored(db_url)) < ARTICLES
    full = run_cli("crawl", server.url, "--db", db_url)
    check_all_stored(db_url, paths)
    assert "not followed" in full.stdout  # the articles of the first run were not fetched again
    assert "the links of" in full.stdout and "stored page(s) not fetched again were followed" in full.stdout


def test_sigkill_then_a_full_crawl_stores_every_article(db_url: str, site: tuple[SiteServer, list[str]],
                                                         tmp_path: Path) -> None:
    server, paths = site
    sources = tmp_path / "sources.toml"
    # 0.2 s between requests: the crawl takes 10 s or more, so the kill lands mid-crawl even when
    # this process is starved of CPU (with no delay, a loaded run stored all 45 before the kill).
    sources.write_text(f'[[site]]\nname = "site"\nstart_urls = ["{server.url}"]\ndelay = 0.2\nconcurrency = 1\n')
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"}
    crawl = subprocess.Popen([sys.executable, "-m", "archive", "crawl", "--sources", str(sources), "--db", db_url],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + 60
    while fetches(db_url) < 10 and time.monotonic() < deadline and crawl.poll() is None:
        time.sleep(0.05)
    crawl.send_signal(signal.SIGKILL)
    crawl.wait(30)
    assert 0 < len(stored(db_url)) < ARTICLES, "the kill landed mid-crawl"
    full = run_cli("crawl", "--sources", str(sources), "--db", db_url)
    assert "resuming the interrupted crawl" in full.stderr
    check_all_stored(db_url, paths)
    engine = create_engine(normalise_url(db_url))
    with Session(engine) as session:
        last = session.scalars(select(Crawl).order_by(Crawl.id.desc()).limit(1)).one()
    engine.dispose()
    assert last.stats["finish_reason"] == "finished"
