"""End to end through the real `archive` entry point: crawl a local site, edit a page, crawl again."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import SCHEMA, run_cli
from tests.pages import LOREM, article, listing

pytestmark = pytest.mark.slow

TICKER_LINE = '<p>Shares of Nvidia (NASDAQ: NVDA) rose while $AMD lagged.</p>'


def write_site(root: Path) -> None:
    (root / "markets").mkdir()
    (root / "index.html").write_text(listing([
        "/markets/a1.html?utm_source=newsletter&utm_medium=email", "/markets/a1.html#comments",
        "/markets/a2.html", "/markets/a3.html", "/markets/", "/broken/truncated.html",
        "/broken/binary.html", "/broken/empty.html", "/missing.html"]))
    (root / "markets" / "index.html").write_text(listing(["/markets/a1.html", "/markets/a2.html"], "Markets"))
    (root / "markets" / "a1.html").write_text(article("Chipmakers rally on demand", extra=TICKER_LINE))
    (root / "markets" / "a2.html").write_text(article("Banks lag as yields fall", paragraphs=LOREM[::-1]))
    (root / "markets" / "a3.html").write_text(article("Oil slips on supply", paragraphs=LOREM[1:],
                                                      time_text="Feb 3, 2025 2:05 PM GMT"))
    (root / "quote").mkdir()
    for symbol in ("SPY", "QQQ"):  # linked from every article's market tape
        (root / "quote" / f"{symbol}.html").write_text(listing(["/markets/a1.html"], symbol))
    broken = root / "broken"
    broken.mkdir()
    full = article("This page is cut short")
    (broken / "truncated.html").write_text(full[: len(full) // 2])
    (broken / "binary.html").write_bytes(bytes(range(256)) * 40)
    (broken / "empty.html").write_bytes(b"")


def db_rows(path: Path, query: str) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


def test_crawl_edit_recrawl_export(site: tuple[Path, object], tmp_path: Path) -> None:
    root, server = site
    write_site(root)
    db_path = tmp_path / "archive.db"
    db = f"sqlite:///{db_path}"

    first = run_cli("crawl", server.url, "--db", db)  # type: ignore[attr-defined]
    summary_row = first.stdout.splitlines()[2]
    # The articles link to each other: links to pages this crawl fetched are no "known articles".
    assert "not due for a revisit" not in first.stdout
    assert summary_row.split()[2] == "3"  # new articles
    for counted in ("empty 1", "http_404 1", "not_html 1", "truncated 1"):
        assert counted in summary_row  # malformed pages are counted by kind; the crawl went on
    articles = db_rows(db_path, "select canonical_url, latest_version from article order by canonical_url")
    assert [(url.rsplit("/", 1)[1], v) for url, v in articles] == [("a1.html", 1), ("a2.html", 1), ("a3.html", 1)]
    errors = dict(db_rows(db_path, "select url, error from fetch where outcome = 'error'"))
    kinds = {url.rsplit("/", 1)[1]: error.split(":")[0] for url, error in errors.items()}
    assert kinds == {"truncated.html": "truncated", "binary.html": "not_html", "empty.html": "empty",
                     "missing.html": "http_404"}
    assert db_rows(db_path, "select count(*) from fetch where outcome = 'not_article'")[0][0] == 4  # the listings
    (served,) = db_rows(db_path, "select headers from fetch where url like '%a2.html' limit 1")[0]
    assert ["Content-Type", "text/html; charset=utf-8"] in json.loads(served)  # kept for WARC export

    (root / "markets" / "a2.html").write_text(article("Banks lag as yields fall",
                                                      paragraphs=LOREM[::-1] + ["Update: shares recovered later."]))
    # Moments later no article is due for a revisit: by default none is requested again...
    asked = len(server.requests)  # type: ignore[attr-defined]
    unchanged = run_cli("crawl", server.url, "--db", db)  # type: ignore[attr-defined]
    assert unchanged.stdout.splitlines()[2].split()[2:4] == ["0", "0"]
    assert "link(s) to articles archived by earlier crawls and not due for a revisit" in unchanged.stdout
    assert not [p for p in server.requests[asked:] if p.startswith("/markets/a")]  # type: ignore[attr-defined]
    # ...unless asked: --refresh-after 0s asks again for every one, and finds the edit.
    second = run_cli("crawl", server.url, "--db", db, "--refresh-after", "0s")  # type: ignore[attr-defined]
    summary = second.stdout.splitlines()[2].split()
    assert summary[2:4] == ["0", "1"]  # no new article, one new version
    assert summary[0] == "3" == str(db_rows(db_path, "select max(id) from crawl")[0][0])  # the run's id
    versions = dict(db_rows(db_path, "select canonical_url, latest_version from article"))
    assert sorted(versions.values()) == [1, 1, 2]
    assert db_rows(db_path, "select count(*) from fetch where outcome = 'same_raw'")[0][0] >= 2

    out = tmp_path / "all.jsonl"
    run_cli("export", "--db", db, "--all-versions", "-o", str(out))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 4
    schema = json.loads(SCHEMA.read_text())
    for line in lines:
        jsonschema.validate(line, schema)
    edited = [line for line in lines if line["canonical_url"].endswith("a2.html")]
    assert [(e["version"], e["changed_fields"], e["notes"]) for e in edited] == [
        (1, [], []), (2, ["body", "notes"], ["Update: shares recovered later."])]  # the edit added a notice
    assert edited[1]["body"].endswith("Update: shares recovered later.")

    latest = run_cli("export", "--db", db, "-o", "-").stdout.splitlines()
    assert len(latest) == 3

    nvda = run_cli("export", "--db", db, "--ticker", "NVDA", "-o", "-").stdout.splitlines()
    assert [json.loads(line)["title"] for line in nvda] == ["Chipmakers rally on demand"]
    gmt = json.loads(run_cli("export", "--db", db, "--since", "2025-02-03", "--until", "2025-02-03",
                             "-o", "-").stdout)
    assert gmt["published_at"] == "2025-02-03T14:05:00+00:00"

    history = run_cli("show", server.url + "markets/a2.html?utm_source=x", "--versions", "--db", db).stdout  # type: ignore[attr-defined]
    assert "2 version(s)" in history and "body" in history and "first version" in history

    found = run_cli("search", "chipmakers", "--db", db, "--json").stdout.splitlines()
    assert [json.loads(line)["title"] for line in found] == ["Chipmakers rally on demand"]


def test_verbose_logs_scrapy_progress_and_no_remote_control(site: tuple[Path, object], tmp_path: Path) -> None:
    """-v shows Scrapy's own log (the project's WARNING level used to win over it); Scrapy's
    remote-control server, which runs code sent to it, is never started."""
    root, server = site
    (root / "index.html").write_text(article("Chipmakers rally on demand", extra=TICKER_LINE))
    quiet = run_cli("crawl", server.url, "--db", f"sqlite:///{tmp_path / 'q.db'}")  # type: ignore[attr-defined]
    verbose = run_cli("crawl", server.url, "--db", f"sqlite:///{tmp_path / 'v.db'}", "-v")  # type: ignore[attr-defined]
    assert "[scrapy.core.engine] INFO: Spider opened" in verbose.stderr
    assert "INFO" not in quiet.stderr
    assert "scrapy.extensions.remote_control" not in verbose.stderr
    assert "Remote control" not in verbose.stderr


def test_max_pages_is_a_limit_on_requests(tmp_path: Path) -> None:
    """--max-pages 5 on the 35-article demo site sends 5 page requests, not 5 plus all in flight
    and waiting (it made 18); `archive crawls` shows why the run ended."""
    from archive.demo.run import SITE
    from support.faultserver import FaultServer

    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with FaultServer(root=SITE, slow=0.05, seed=1) as server:
        result = run_cli("crawl", server.url, "--db", db, "--max-pages", "5")
        pages = [path for path in server.requests if path != "/robots.txt"]
    assert len(pages) == 5, pages
    fetched = db_rows(tmp_path / "archive.db", "select url from fetch")
    html = [path for path in pages if not path.endswith(".xml")]  # a linked feed is not kept as a page
    assert len(fetched) == len(html), (pages, fetched, result.stdout, result.stderr)  # each page is kept
    assert "(max pages)" in run_cli("crawls", "--db", db).stdout
