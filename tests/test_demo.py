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
    assert "Edited articles" in result.stdout
    assert "  archive serve --db sqlite:///" in result.stdout.splitlines()[-1]  # it ends saying how to browse
    with sqlite3.connect(tmp_path / "archive.db") as db:  # the default: ./archive.db
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
