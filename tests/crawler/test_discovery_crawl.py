"""End to end: `archive crawl --sources` on a local site with a feed, a news sitemap, listings,
validators (and a section without), robots.txt; then conditional refetches, a due recrawl of an
edited article, and a crawl killed with SIGKILL that resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from archive.demo.server import SiteServer
from archive.models import Article, Crawl, Fetch, Snapshot
from tests.conftest import run_cli
from tests.discovery_site import ARTICLES, DECLARED_ONLY, DISALLOWED, MANIFEST, NO_VALIDATORS, build, sources_file

pytestmark = pytest.mark.slow
EDITED = "/analysis/meta-capex-guidance.html"


def crawl(db: str, sources: Path, *extra: str) -> dict:
    """Run `archive crawl --sources` and return the stats of the crawl row it wrote."""
    run_cli("crawl", "--sources", str(sources), "--db", db, *extra)
    return last_crawl(db).stats


def last_crawl(db: str) -> Crawl:
    engine = create_engine(db)
    with Session(engine) as session:
        crawl = session.scalars(select(Crawl).order_by(Crawl.id.desc()).limit(1)).one()
    engine.dispose()
    return crawl


def counts(db: str) -> tuple[int, int]:
    engine = create_engine(db)
    with Session(engine) as session:
        result = session.scalar(select(func.count(Article.id))), session.scalar(select(func.count(Snapshot.id)))
    engine.dispose()
    return result  # type: ignore[return-value]


def paths(requests: list[str]) -> list[str]:
    return [urlsplit(r).path for r in requests]


def test_discover_refetch_conditionally_and_recrawl_an_edit(tmp_path: Path) -> None:
    root = build(tmp_path / "site")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with SiteServer(root, without_validators=(NO_VALIDATORS,)) as server:
        sources = sources_file(tmp_path / "sources.toml", server)

        first = crawl(db, sources)
        asked = paths(server.requests)
        assert {"/feed.xml", "/sitemap-index.xml", "/news-sitemap.xml", "/robots.txt"} <= set(asked)
        assert not [p for p in asked if p.startswith(DISALLOWED)], "robots.txt disallows it"
        assert first["archive/robots_disallowed"] >= 1
        engine = create_engine(db)
        with Session(engine) as session:
            stored = {urlsplit(u).path for u in session.scalars(select(Article.canonical_url))}
            declared = session.scalars(select(Snapshot.tickers).join(Article).where(
                Article.canonical_url.endswith(MANIFEST[0]["path"]))).one()
        assert stored == set(ARTICLES), "every article, and no listing, tag, author or quote page"
        assert {t["symbol"] for t in declared} >= {DECLARED_ONLY, *MANIFEST[0]["tickers"]}
        assert "news_sitemap" in next(t for t in declared if t["symbol"] == DECLARED_ONLY)["evidence"]
        assert counts(db) == (len(ARTICLES), len(ARTICLES))

        before = len(server.requests)
        second = crawl(db, sources, "--refresh-after", "0s")  # every known article asked for again
        again = server.requests[before:]
        assert second.get("archive/new", 0) == 0 and second.get("archive/changed", 0) == 0
        assert counts(db) == (len(ARTICLES), len(ARTICLES)), "no versions from an unchanged site"
        answered_304 = paths(server.not_modified)
        assert second["archive/not_modified"] == len(answered_304) > 0
        assert all(p.removesuffix(".html") + ".html" in ARTICLES for p in answered_304), answered_304
        assert not [p for p in paths(server.conditional) if p.startswith(NO_VALIDATORS)]
        assert second.get("archive/same_raw", 0) >= 1, "without validators the raw-hash shortcut answers"
        assert "/feed.xml" in paths(again)
        with Session(engine) as session:
            outcomes = dict(session.execute(select(Fetch.outcome, func.count()).where(
                Fetch.crawl_id == last_crawl(db).id).group_by(Fetch.outcome)).all())
        assert outcomes["not_modified"] == len(answered_304)

        # The publisher edits one article; a recrawl when it is due stores the edit.
        page = root / EDITED.lstrip("/")
        page.write_text(page.read_text(encoding="utf-8").replace(
            "</p>", " Update: the company later raised its guidance.</p>", 1), encoding="utf-8")
        published = datetime.fromisoformat(next(m["published"] for m in MANIFEST if m["path"] == EDITED))
        age = int((datetime.now(timezone.utc) - published).total_seconds()) + 10  # due 10 s from now
        listed = run_cli("recrawl", "--due", "--db", db, "--schedule", f"{age}s", "--list").stdout
        assert EDITED not in listed, "not due yet"
        time.sleep(max(0.0, (published.timestamp() + age) - time.time()) + 0.5)
        listed = run_cli("recrawl", "--due", "--db", db, "--schedule", f"{age}s", "--list").stdout
        assert EDITED in listed
        before = len(server.requests)
        run_cli("recrawl", "--due", "--db", db, "--schedule", f"{age}s")
        assert paths(server.requests[before:]).count(EDITED) == 1
        assert EDITED in paths(server.conditional[-1:])
        recrawled = last_crawl(db).stats
        assert recrawled["archive/changed"] == 1
        with Session(engine) as session:
            versions = session.execute(select(Snapshot.version, Snapshot.changed_fields).join(Article).where(
                Article.canonical_url.endswith(EDITED)).order_by(Snapshot.version)).all()
        engine.dispose()
        # the edit added an "Update:" notice: the body changed, and the version carries the note
        assert [(v, list(c)) for v, c in versions] == [(1, []), (2, ["body", "notes"])]
        assert counts(db) == (len(ARTICLES), len(ARTICLES) + 1)

        # A plain run leaves known articles to the recrawl schedule: none is due, none is requested;
        # so does a run with a window (--refresh-after 1h: none was fetched longer ago than that).
        for window in ((), ("--refresh-after", "1h")):
            before = len(server.requests)
            fresh = crawl(db, sources, *window)
            assert not [p for p in paths(server.requests[before:]) if p in ARTICLES]
            assert fresh["archive/skipped_fresh"] >= len(ARTICLES) - 1 and "/feed.xml" in paths(server.requests[before:])
            assert counts(db) == (len(ARTICLES), len(ARTICLES) + 1)

        listing = run_cli("crawls", "--db", db).stdout
        assert "304" in listing.splitlines()[0]


def test_a_crawl_killed_midway_resumes_without_duplicates(tmp_path: Path) -> None:
    root = build(tmp_path / "site")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = create_engine(db)
    with SiteServer(root, delay=0.05) as server:
        sources = sources_file(tmp_path / "sources.toml", server, concurrency="1")
        env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"}
        child = subprocess.Popen([sys.executable, "-m", "archive", "crawl", "--sources", str(sources), "--db", db],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stored = 0
        deadline = time.monotonic() + 120
        while stored < 10 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.2)
            try:
                with Session(engine) as session:
                    stored = session.scalar(select(func.count(Article.id))) or 0
            except Exception:  # noqa: BLE001 - the child may not have created the tables yet
                stored = 0
        assert child.poll() is None, "the crawl ended before it could be killed"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        killed_at = len(server.requests)
        with Session(engine) as session:
            done = {urlsplit(u).path for u in session.scalars(
                select(Fetch.url).where(Fetch.article_id.is_not(None)))}
        assert 10 <= len(done) < len(ARTICLES)

        resumed = run_cli("crawl", "--sources", str(sources), "--db", db)
        assert "resuming the interrupted crawl" in resumed.stderr
        after = paths(server.requests[killed_at:])
        assert not done & set(after), "articles stored before the kill are not fetched again"
        with Session(engine) as session:
            assert {urlsplit(u).path for u in session.scalars(select(Article.canonical_url))} == set(ARTICLES)
            assert session.scalar(select(func.count(Snapshot.id))) == len(ARTICLES), "one version each"
            runs = session.scalars(select(Crawl).order_by(Crawl.id)).all()
        engine.dispose()
        assert [r.stats["finish_reason"] for r in runs] == ["killed", "finished"]
        assert runs[1].command["resumes"] == runs[0].id
        assert json.loads(run_cli("crawls", "--db", db, "--json").stdout.splitlines()[0])["id"] == runs[1].id

        # The next run after a finished one starts afresh (nothing is skipped).
        third = run_cli("crawl", "--sources", str(sources), "--db", db)
        assert "resuming" not in third.stderr
