"""Concurrent writers: threads hammering ArchiveStore.save through separate engines (as separate
processes would), and two real crawls into one database at once, on SQLite and PostgreSQL.
No fetch is lost, no version is lost or numbered twice, no article is created twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.check import check
from archive.extract import extract
from archive.models import Article, Fetch, Snapshot
from archive.store import ArchiveStore, Capture, SaveResult, content_fields, content_sha256
from support.faultserver import FaultServer
from tests.pages import LOREM, article

URLS = [f"https://news.example.com/markets/story-{n}.html" for n in range(4)]
THREADS, ROUNDS = 4, 6
ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "archive" / "demo" / "site"


def variant(url: str, thread: int, step: int):  # type: ignore[no-untyped-def]
    """A distinct edit of the story at `url`: every save must become a version of its own."""
    n = url[-6]
    paragraphs = [f"{p} Story {n}." for p in LOREM] + [f"Update {thread}-{step}: the desk revised this story."]
    return extract(article(f"Story {n} moves markets", paragraphs=paragraphs), url)


def test_threads_saving_the_same_articles_lose_nothing(db_url: str) -> None:
    pages = {(t, s, url): variant(url, t, s) for t in range(THREADS) for s in range(ROUNDS) for url in URLS}
    results: dict[tuple[int, int, str], SaveResult] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)
    T0 = datetime(2025, 1, 29, 12, tzinfo=timezone.utc)

    def writer(thread: int) -> None:
        store = ArchiveStore.open(db_url)  # its own engine and connections, like another process
        try:
            start.wait()
            for step in range(ROUNDS):
                for url in URLS:
                    capture = Capture(url=url, fetched_at=T0 + timedelta(seconds=step), raw=None)
                    results[(thread, step, url)] = store.save(pages[(thread, step, url)], capture)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            store.close()

    ArchiveStore.open(db_url).close()  # the schema first; concurrent first opens have their own test
    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors

    store = ArchiveStore.open(db_url)
    with Session(store.engine) as session:
        assert session.scalar(select(func.count()).select_from(Article)) == len(URLS)  # no duplicate article
        assert session.scalar(select(func.count()).select_from(Fetch)) == THREADS * ROUNDS * len(URLS)  # no lost fetch
        stored = defaultdict(set)
        for url, digest, version in session.execute(select(Article.canonical_url, Snapshot.content_sha256,
                                                           Snapshot.version).join(Snapshot)):
            stored[url].add((digest, version))
    for url in URLS:
        saved = {(content_sha256(content_fields(pages[(t, s, url)])), results[(t, s, url)].version)
                 for t in range(THREADS) for s in range(ROUNDS)}
        assert stored[url] == saved  # every edit is a version, with the number its writer was told
        assert sorted(v for _, v in saved) == list(range(1, THREADS * ROUNDS + 1))
    assert all(r.created for r in results.values())
    report = check(store.engine)
    store.close()
    assert report.ok, [p.line() for p in report.problems]


def test_concurrent_first_opens_migrate_once(db_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_it() -> None:
        try:
            start.wait()
            ArchiveStore.open(db_url).close()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def summary_fetches(stdout: str) -> int:
    """The "fetches" column of `archive crawl`'s summary row."""
    row = stdout.splitlines()[2].split()
    return int(row[1])


@pytest.mark.slow
def test_two_crawls_into_one_database_at_once(db_url: str) -> None:
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"}
    with FaultServer(root=SITE, slow=0.01) as server:
        crawls = [subprocess.Popen([sys.executable, "-m", "archive", "crawl", server.url, "--db", db_url],
                                   cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for _ in range(2)]
        outputs = [crawl.communicate(timeout=240) for crawl in crawls]
    for crawl, (out, err) in zip(crawls, outputs):
        assert crawl.returncode == 0, err[-3000:]
    reported = sum(summary_fetches(out) for out, _ in outputs)
    store = ArchiveStore.open(db_url)
    with Session(store.engine) as session:
        assert session.scalar(select(func.count()).select_from(Fetch)) == reported  # no fetch lost
        assert session.scalar(select(func.count()).select_from(Article)) == 35  # no article twice
        assert session.scalar(select(func.count()).select_from(Snapshot)) == 35  # same pages: one version each
    report = check(store.engine)
    store.close()
    assert report.ok, [p.line() for p in report.problems]
