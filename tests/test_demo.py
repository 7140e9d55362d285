"""`archive demo` end to end: the bundled site crawled twice, edits recorded as versions, a valid export."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from archive.demo.run import REVISED, SITE
from tests.conftest import SCHEMA, run_cli

pytestmark = pytest.mark.slow


def test_demo_crawls_twice_and_records_the_edits(tmp_path: Path) -> None:
    result = run_cli("demo", "--port", "0", cwd=tmp_path)
    articles = json.loads((SITE / "manifest.json").read_text())
    revised = json.loads((REVISED / "manifest.json").read_text())

    assert "Sample search: archive search --ticker NVDA" in result.stdout
    # its dates are the ones `archive search` shows: local time with the publisher's offset
    sample = result.stdout.split("Sample search: archive search --ticker NVDA\n", 1)[1].split("\n\n", 1)[0]
    searched = run_cli("search", "--ticker", "NVDA", "--limit", "5", "--db", "sqlite:///demo-archive.db", cwd=tmp_path)
    published = lambda table, at: {line.split()[0]: line.split()[at] for line in table.splitlines()[2:]}  # noqa: E731
    assert published(sample, 1) == published(searched.stdout, 1) and published(sample, 1)
    assert any("T" in when for when in published(sample, 1).values())  # a time with its offset, not a date
    assert "Edited articles" in result.stdout
    assert "  archive serve --db sqlite:///" in result.stdout.splitlines()[-1]  # it ends saying how to browse
    assert not (tmp_path / "archive.db").exists()  # the other commands' default stays untouched
    assert "The demo's archive is sqlite:///demo-archive.db" in result.stdout
    assert "export ARCHIVE_DB_URL=sqlite:///demo-archive.db" in result.stdout
    with sqlite3.connect(tmp_path / "demo-archive.db") as db:  # the demo's own file
        assert db.execute("select count(*) from article").fetchone()[0] == len(articles)
        assert db.execute("select count(*) from snapshot").fetchone()[0] == len(articles) + len(revised)
        assert db.execute("select count(*) from fetch where outcome = 'error'").fetchone()[0] == 0
        duplicates = db.execute("select a.canonical_url, o.canonical_url from article a "
                                "join article o on o.id = a.duplicate_of_id").fetchall()
    path = lambda url: "/" + url.split("/", 3)[-1]  # noqa: E731 - the port differs from run to run
    # the pair is published at the same instant, so either may be the one seen first
    assert [{path(a), path(o)} for a, o in duplicates] == \
        [{e["path"], e["duplicate_of"]} for e in articles if e["duplicate_of"]]

    lines = [json.loads(line) for line in (tmp_path / "demo-export.jsonl").read_text().splitlines()]
    assert len(lines) == len(articles) + len(revised)
    schema = json.loads(SCHEMA.read_text())
    for line in lines:
        jsonschema.validate(line, schema)
    second_versions = {line["url"].split("/", 3)[-1]: sorted(line["changed_fields"])
                       for line in lines if line["version"] == 2}
    assert second_versions == {item["path"].lstrip("/"): sorted(item["changed_fields"]) for item in revised}


def test_demo_keeps_to_its_own_file_and_replaces_it(tmp_path: Path) -> None:
    """ARCHIVE_DB_URL names the user's archive: the demo never writes there, and starts its own file afresh."""
    import os
    import subprocess
    import sys
    (tmp_path / "demo-archive.db").write_bytes(b"left by an earlier demo")
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1", "ARCHIVE_DB_URL": "sqlite:///mine.db"}
    result = subprocess.run([sys.executable, "-m", "archive", "demo", "--port", "0"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "mine.db").exists()
    with sqlite3.connect(tmp_path / "demo-archive.db") as db:
        assert db.execute("select count(*) from article").fetchone()[0] == \
            len(json.loads((SITE / "manifest.json").read_text()))
