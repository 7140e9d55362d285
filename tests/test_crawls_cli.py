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
