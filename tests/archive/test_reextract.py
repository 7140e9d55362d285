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
    # the publisher added an update notice: its body changed, and so did its notes
    assert (result.outcome, result.version, result.changed_fields) == ("changed", 3, ("body", "notes"))
    assert [(v, origin, changed) for v, origin, changed, _ in history(store)] == [
        (1, "fetch", []), (2, "reextract", ["title"]), (3, "fetch", ["body", "notes"])]


def before_notes_save(store: ArchiveStore, raw: bytes) -> None:
    """Store a page as the extractor before notes read it: the same, without notes."""
    page = dataclasses.replace(extract(raw, URL), notes=(), extractor_version="2026.12.5")
    store.save(page, Capture(url=URL, fetched_at=T0, raw=raw))


def test_notes_found_by_a_newer_extractor_are_not_an_edit(store: ArchiveStore) -> None:
    """A version stored before notes were extracted: re-reading its page finds the notice, which is
    the extractor's doing (origin reextract), and a later fetch of the same page is unchanged."""
    raw = article(paragraphs=LOREM + ["Correction: An earlier version of this article misstated the order's size."]
                  ).encode()
    before_notes_save(store, raw)
    result = store.save(extract(raw, URL), Capture(url=URL, fetched_at=T0 + timedelta(days=30), raw=raw + b" "))
    assert result.outcome == "unchanged"
    assert [(v, origin, changed) for v, origin, changed, _ in history(store)] == [
        (1, "fetch", []), (2, "reextract", ["notes"])]
    with Session(store.engine) as session:
        notes = session.scalars(select(Snapshot.notes).order_by(Snapshot.version)).all()
    assert notes == [None, ["Correction: An earlier version of this article misstated the order's size."]]


def test_a_page_without_notices_keeps_its_digest_across_the_notes_extractor(store: ArchiveStore) -> None:
    """Versions without notes hash as before notes existed: re-extraction leaves them unchanged."""
    raw = article().encode()
    before_notes_save(store, raw)
    assert store.reextract_article(1).outcome == "unchanged"
    assert [(v, origin) for v, origin, _, _ in history(store)] == [(1, "fetch")]


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
