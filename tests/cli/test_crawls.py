"""`archive crawls` lists runs with what they did."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from archive.cli import cli
from archive.store import ArchiveStore


def test_crawls_lists_runs_newest_first(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    store = ArchiveStore.open(db)
    first = store.begin_crawl({"spider": "site", "start_urls": ["https://a.example.com/"]})
    store.finish_crawl(first, {"archive/fetches": 10, "archive/new": 4, "archive/errors/http_404": 2})
    store.begin_crawl({"sources": "sources.toml", "only": ["example-news"]})
    store.close()
    result = CliRunner().invoke(cli, ["crawls", "--db", db])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2].split()[0] == "2" and "running/stopped" in lines[2] and "sources.toml (example-news)" in lines[2]
    assert lines[3].split()[0] == "1" and "https://a.example.com/" in lines[3] and "http_404 2" in lines[3]
    as_json = [json.loads(line) for line in CliRunner().invoke(cli, ["crawls", "--db", db, "--json"]).output.splitlines()]
    assert [run["id"] for run in as_json] == [2, 1] and as_json[1]["stats"]["archive/new"] == 4


def test_no_crawls_yet(tmp_path: Path) -> None:
    ArchiveStore.open(f"sqlite:///{tmp_path / 'a.db'}").close()
    result = CliRunner().invoke(cli, ["crawls", "--db", f"sqlite:///{tmp_path / 'a.db'}"])
    assert result.exit_code == 0 and "no crawls yet" in result.output


def test_crawls_name_recrawls_due_runs_and_resumed_runs(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    store = ArchiveStore.open(db)
    store.begin_crawl({"spider": "sources", "sources": None, "discover": False, "recrawl": True})
    store.begin_crawl({"spider": "sources", "sources": "s.toml", "discover": True, "recrawl": True, "resumes": 1})
    store.close()
    lines = CliRunner().invoke(cli, ["crawls", "--db", db]).output.splitlines()
    assert "s.toml + due (resumed)" in lines[2] and "recrawl --due" in lines[3]


def test_crawls_errors_lists_a_runs_failed_urls(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from archive.store import Capture

    db = f"sqlite:///{tmp_path / 'a.db'}"
    store = ArchiveStore.open(db)
    first = store.begin_crawl({"spider": "site", "start_urls": ["https://a.example.com/"]})
    at = datetime(2025, 3, 1, 12, 0, 5, tzinfo=timezone.utc)
    store.save_error(Capture(url="https://a.example.com/gone.html", fetched_at=at, status=404, crawl_id=first),
                     "http_404: the server answered 404 Not Found")
    store.save_error(Capture(url="https://a.example.com/slow.html", fetched_at=at, status=None, crawl_id=first),
                     "timeout: no answer within 30 s")
    store.finish_crawl(first, {"archive/fetches": 2, "archive/errors/http_404": 1, "archive/errors/timeout": 1})
    second = store.begin_crawl({"spider": "site", "start_urls": ["https://b.example.com/"]})
    store.save_error(Capture(url="https://b.example.com/x.html", fetched_at=at, status=500, crawl_id=second),
                     "http_500: server error")
    store.close()

    latest = CliRunner().invoke(cli, ["crawls", "--errors", "--db", db])
    assert latest.exit_code == 0, latest.output
    assert "https://b.example.com/x.html" in latest.output and "a.example.com" not in latest.output

    result = CliRunner().invoke(cli, ["crawls", "--db", db, "--errors", str(first)])
    assert result.exit_code == 0, result.output
    header, _rule, *rows = result.output.splitlines()
    assert header.split() == ["when", "(UTC)", "kind", "status", "url", "message"]
    assert rows[0].split()[:5] == ["2025-03-01", "12:00:05", "http_404", "404", "https://a.example.com/gone.html"]
    assert rows[0].endswith("the server answered 404 Not Found")
    assert rows[1].split()[2:5] == ["timeout", "-", "https://a.example.com/slow.html"]

    as_json = [json.loads(line) for line in
               CliRunner().invoke(cli, ["crawls", "--db", db, "--errors", str(first), "--json"]).output.splitlines()]
    assert [(e["url"], e["kind"], e["status"]) for e in as_json] == [
        ("https://a.example.com/gone.html", "http_404", 404), ("https://a.example.com/slow.html", "timeout", None)]
    assert as_json[0]["fetched_at"].startswith("2025-03-01T12:00:05") and as_json[0]["crawl_id"] == first

    missing = CliRunner().invoke(cli, ["crawls", "--db", db, "--errors", "99"])
    assert missing.exit_code == 1 and "no crawl 99" in missing.output
