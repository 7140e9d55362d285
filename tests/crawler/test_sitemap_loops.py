"""Sitemap indexes that list themselves or each other end by themselves (issue 20, item 1), and
every run has a wall-clock limit: --max-time, or max_time in the sources file, also for
`archive schedule` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from archive.demo.server import SiteServer
from archive.models import Article, Crawl, Fetch
from tests.conftest import run_cli
from tests.hostile_site import news_sitemap, sitemap_index, urlset, write_site

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def crawl_bounded(*args: str, seconds: float = 120) -> subprocess.CompletedProcess[str]:
    """`archive ...` in a child process that must end by itself within `seconds` (a hang fails the test)."""
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"}
    try:
        return subprocess.run([sys.executable, "-m", "archive", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=seconds)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"archive {' '.join(args[:2])} did not end within {seconds} s") from exc


def sources(path: Path, server: SiteServer, *lines: str, sitemaps: tuple[str, ...] = (), start: bool = False,
            defaults: tuple[str, ...] = ()) -> Path:
    url = server.url.rstrip("/")
    text = ["[defaults]", "delay = 0", *defaults, "[[site]]", 'name = "loops"',
            f"sitemaps = [{', '.join(repr(url + s) for s in sitemaps)}]",
            *([f'start_urls = ["{url}/"]'] if start else []), *lines]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def stored(db: str) -> set[str]:
    engine = create_engine(db)
    with Session(engine) as session:
        urls = {urlsplit(u).path for u in session.scalars(select(Article.canonical_url))}
    engine.dispose()
    return urls


def runs(db: str) -> list[Crawl]:
    engine = create_engine(db)
    with Session(engine) as session:
        found = list(session.scalars(select(Crawl).order_by(Crawl.id)))
    engine.dispose()
    return found


def test_self_and_mutually_listing_sitemap_indexes_end_and_every_article_is_fetched(tmp_path: Path) -> None:
    root = tmp_path / "site"
    paths = write_site(root, 6)
    (root / "self.xml").write_text(sitemap_index("/self.xml", "/a.xml"), encoding="utf-8")
    (root / "a.xml").write_text(sitemap_index("/b.xml", "/a-urls.xml"), encoding="utf-8")
    (root / "b.xml").write_text(sitemap_index("/a.xml", "/b-urls.xml", "/self.xml"), encoding="utf-8")
    (root / "a-urls.xml").write_text(urlset(*paths[:3]), encoding="utf-8")
    (root / "b-urls.xml").write_text(urlset(*paths[3:]), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with SiteServer(root) as server:
        file = sources(tmp_path / "sources.toml", server, sitemaps=("/self.xml",))
        first = crawl_bounded("crawl", "--sources", str(file), "--db", db)
        assert first.returncode == 0, first.stderr
        asked = Counter(urlsplit(p).path for p in server.requests)
        assert {p: asked[p] for p in ("/self.xml", "/a.xml", "/b.xml", "/a-urls.xml", "/b-urls.xml")} == \
            dict.fromkeys(("/self.xml", "/a.xml", "/b.xml", "/a-urls.xml", "/b-urls.xml"), 1)
        assert stored(db) == set(paths)
        assert "3 listed sitemap(s) not read: loop 3" in first.stdout
        assert first.stderr.count("sitemap not read (loop)") == 1  # logged once, counted each time
        assert runs(db)[-1].stats["crawl/sitemaps_refused/loop"] == 3

        again = crawl_bounded("crawl", "--sources", str(file), "--db", db)  # the job's lock was released
        assert again.returncode == 0 and "already running" not in again.stderr, again.stderr


def test_max_time_stops_a_run_cleanly_and_the_next_run_resumes(tmp_path: Path) -> None:
    root = tmp_path / "site"
    paths = write_site(root, 40)
    (root / "sitemap.xml").write_text(urlset(*paths), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with SiteServer(root, delay=0.3) as server:  # 40 pages one at a time: far more than the limit
        file = sources(tmp_path / "sources.toml", server, "concurrency = 1", sitemaps=("/sitemap.xml",),
                       defaults=('max_time = "2s"',))
        scheduled = crawl_bounded("schedule", "--sources", str(file), "--db", db, "--every", "1h", "--runs", "1",
                                  "--no-due")
        assert scheduled.returncode == 0, scheduled.stderr
        assert "stopped at the time limit" in scheduled.stderr
        first = runs(db)[-1]
        assert first.stats["finish_reason"] == "closespider_timeout" and first.finished_at is not None
        assert 0 < len(stored(db)) < len(paths)
        engine = create_engine(db)
        with Session(engine) as session:
            assert session.scalars(select(Fetch.error).where(Fetch.outcome == "error")).all() == []
        engine.dispose()
        assert "(time limit)" in run_cli("crawls", "--db", db).stdout

        rest = crawl_bounded("crawl", "--sources", str(file), "--db", db, "--max-time", "10m")
        assert rest.returncode == 0 and "resuming the interrupted crawl" in rest.stderr, rest.stderr
        assert "stopped at the time limit" not in rest.stderr
        assert stored(db) == set(paths)  # and not the listing the articles link to
        assert runs(db)[-1].stats["finish_reason"] == "finished"


@pytest.mark.parametrize("value, message", [("soon", "not a duration"), ("0s", "longer than 0s")])
def test_a_bad_max_time_is_one_line(tmp_path: Path, value: str, message: str) -> None:
    file = tmp_path / "sources.toml"
    file.write_text(f'[[site]]\nname = "x"\nstart_urls = ["http://127.0.0.1:9/"]\nmax_time = "{value}"\n')
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    for args in (("crawl", "--sources", str(file)), ("crawl", "http://127.0.0.1:9/", "--max-time", value)):
        result = run_cli(*args, "--db", db, check=False)
        assert result.returncode != 0 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_child_sitemaps_on_hosts_the_sources_file_does_not_name_are_not_read(tmp_path: Path) -> None:
    """The sitemaps protocol's cross-submission rule: a child on the index's host, or on a host the
    site's entry names (here its start page's), is read; one elsewhere is refused and counted."""
    own, named, elsewhere = tmp_path / "own", tmp_path / "named", tmp_path / "elsewhere"
    own_paths = write_site(own, 2)
    write_site(named, 3)
    write_site(elsewhere, 3)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with SiteServer(own) as site, SiteServer(named) as partner, SiteServer(elsewhere) as stranger:
        (own / "index.xml").write_text(sitemap_index("/own.xml", f"{partner.url}named.xml",
                                                     f"{stranger.url}stranger.xml"), encoding="utf-8")
        (own / "own.xml").write_text(urlset(*own_paths), encoding="utf-8")
        (named / "named.xml").write_text(urlset("/news/3.html"), encoding="utf-8")
        (elsewhere / "stranger.xml").write_text(urlset("/news/1.html"), encoding="utf-8")
        file = sources(tmp_path / "sources.toml", site, f'start_urls = ["{partner.url}"]', sitemaps=("/index.xml",))
        result = crawl_bounded("crawl", "--sources", str(file), "--db", db)
        assert result.returncode == 0, result.stderr
        assert stranger.requests == []  # not even robots.txt: nothing of that host is fetched
        assert "/named.xml" in partner.requests
        engine = create_engine(db)
        with Session(engine) as session:
            urls = set(session.scalars(select(Article.canonical_url)))
        engine.dispose()
        assert {site.url + p.lstrip("/") for p in own_paths} | {partner.url + "news/3.html"} <= urls
        assert not any(u.startswith(stranger.url) for u in urls)
        assert runs(db)[-1].stats["crawl/sitemaps_refused/off_site"] == 1
        assert "1 listed sitemap(s) not read: off site 1" in result.stdout


def test_a_news_sitemap_over_the_page_size_limit_is_read_up_to_the_protocols_50_mb(tmp_path: Path) -> None:
    """Issue 20, item 11: an 18.8 MB news sitemap passes DOWNLOAD_MAXSIZE (8 MiB, sized for pages)
    but not the sitemaps protocol's 50 MB: it is read and its articles fetched, not dropped as too_large."""
    root = tmp_path / "site"
    paths = write_site(root, 3)
    sitemap = news_sitemap(paths, 19_000_000)
    assert len(sitemap) > 18_800_000
    (root / "news-sitemap.xml").write_bytes(sitemap)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with SiteServer(root) as server:
        file = sources(tmp_path / "sources.toml", server, sitemaps=("/news-sitemap.xml",))
        result = crawl_bounded("crawl", "--sources", str(file), "--db", db, "--since", "2026-01-01")
        assert result.returncode == 0, result.stderr
        assert "too_large" not in result.stdout + result.stderr
        assert stored(db) == set(paths)
        assert server.requests.count("/news-sitemap.xml") == 1
        assert not any(p.startswith("/archive/") for p in server.requests)  # the padding, older than --since
