"""Re-extraction is told apart from a publisher's edit, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.cli import cli
from archive.extract import extract
from archive.models import Snapshot
from archive.store import ArchiveStore, Capture
from tests.pages import LOREM, article

URL = "https://news.example.com/markets/chips.html"
T0 = datetime(2025, 1, 29, 12, 0, tzinfo=timezone.utc)


def old_extractor_save(store: ArchiveStore, raw: bytes) -> None:
    """Store a page as an older, worse extractor read it: a wrong title."""
    page = dataclasses.replace(extract(raw, URL), title="Chipmakers rally | Example Markets", extractor_version="old")
    store.save(page, Capture(url=URL, fetched_at=T0, raw=raw))


def history(store: ArchiveStore) -> list[tuple[int, str, list[str], datetime]]:
    with Session(store.engine) as session:
        return [(s.version, s.origin, s.changed_fields, s.fetched_at)
                for s in session.scalars(select(Snapshot).order_by(Snapshot.version))]


def test_reextract_adds_a_reextract_version_once(store: ArchiveStore) -> None:
    raw = article().encode()
    old_extractor_save(store, raw)
    first = store.reextract_article(1)
    assert (first.outcome, first.version, first.changed_fields) == ("reextracted", 2, ("title",))
    assert store.reextract_article(1).outcome == "unchanged"
    assert history(store) == [(1, "fetch", [], T0), (2, "reextract", ["title"], T0)]


def test_new_fetch_after_extractor_change_is_not_an_edit(store: ArchiveStore) -> None:
    raw = article().encode()
    old_extractor_save(store, raw)
    refetched = raw.replace(b"</footer>", b"<!-- ad slot 42 --></footer>")  # new bytes, same article
    result = store.save(extract(refetched, URL), Capture(url=URL, fetched_at=T0 + timedelta(hours=1), raw=refetched))
    assert result.outcome == "unchanged"
    assert [(v, origin, changed) for v, origin, changed, _ in history(store)] == [
        (1, "fetch", []), (2, "reextract", ["title"])]


def test_real_edit_after_extractor_change_lists_only_the_publishers_change(store: ArchiveStore) -> None:
    raw = article().encode()
    old_extractor_save(store, raw)
    edited = article(paragraphs=LOREM + ["Update: the company confirmed the order."]).encode()
    result = store.save(extract(edited, URL), Capture(url=URL, fetched_at=T0 + timedelta(hours=1), raw=edited))
    assert (result.outcome, result.version, result.changed_fields) == ("changed", 3, ("body",))
    assert [(v, origin, changed) for v, origin, changed, _ in history(store)] == [
        (1, "fetch", []), (2, "reextract", ["title"]), (3, "fetch", ["body"])]


def test_reextract_command(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    store = ArchiveStore.open(db)
    old_extractor_save(store, article().encode())
    store.close()
    result = CliRunner().invoke(cli, ["reextract", "--db", db])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2].split()[1:] == ["1", "1", "0", "0"]
    again = CliRunner().invoke(cli, ["reextract", "--db", db, "--site", "news.example.com"])
    assert again.output.splitlines()[2].split()[1:] == ["1", "0", "1", "0"]
