"""`archive check` finds each kind of damage (one line per kind, exit status 1) and passes a whole
archive; `archive backup` makes a copy that passes it, and refuses what would lose data."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

import pytest
import zstandard
from click.testing import CliRunner
from sqlalchemy import Connection, text

from archive.backup import backup
from archive.check import check
from archive.cli import cli
from archive.errors import BadInput
from archive.extract import extract
from archive.store import ArchiveStore, Capture
from tests.pages import LOREM, article

T0 = "2025-01-29T12:00:00+00:00"


@pytest.fixture
def filled(db_url: str) -> Iterator[ArchiveStore]:
    """Three articles, one of them with two versions, and a failed fetch: every table has rows."""
    from datetime import datetime, timezone
    store = ArchiveStore.open(db_url)
    when = datetime(2025, 1, 29, 12, tzinfo=timezone.utc)
    for name, paragraphs in (("a", LOREM), ("b", LOREM[::-1]), ("a", LOREM + ["A correction was added."]),
                             ("c", [p.upper() for p in LOREM])):
        url = f"https://news.example.com/{name}.html"
        raw = article(f"Story {name}", paragraphs=paragraphs, extra="<p>Shares of $NVDA rose.</p>").encode()
        store.save(extract(raw, url), Capture(url=url, fetched_at=when, raw=raw))
    store.save_error(Capture(url="https://news.example.com/gone.html", fetched_at=when, status=404), "http_404: HTTP 404")
    yield store
    store.close()


def damage(store: ArchiveStore, *statements: str) -> None:
    """Write past the constraints, as a crash, a bug or a hand edit could."""
    with store.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET session_replication_role = replica"))  # no FK triggers
        else:
            connection.exec_driver_sql("COMMIT")  # leave the implicit transaction: PRAGMA needs none
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.exec_driver_sql("BEGIN")
        for statement in statements:
            connection.execute(text(statement))
        connection.commit()


def kinds(store: ArchiveStore) -> set[str]:
    return {problem.kind for problem in check(store.engine).problems}


def test_a_whole_archive_passes(filled: ArchiveStore) -> None:
    report = check(filled.engine)
    assert report.ok, [p.line() for p in report.problems]
    assert report.checked == {"articles": 3, "versions": 4, "fetches": 5, "raw pages": 4}


@pytest.mark.parametrize("statements, kind", [
    (["DELETE FROM raw_page WHERE sha256 = (SELECT raw_sha256 FROM snapshot WHERE version = 2)"], "missing_raw"),
    (["UPDATE \"fetch\" SET article_id = 9999 WHERE outcome = 'new'"], "foreign_key"),
    (["UPDATE snapshot SET version = 3 WHERE version = 2"], "version_gap"),
    (["UPDATE article SET latest_version = 7 WHERE latest_version = 2"], "latest_version"),
    (["INSERT INTO article (canonical_url, site, first_seen_at, last_fetched_at, latest_version) "
      "VALUES ('https://news.example.com/ghost', 'news.example.com', '2025-01-29 12:00:00', '2025-01-29 12:00:00', 1)"],
     "article_without_versions"),
    (["INSERT INTO \"fetch\" (url, fetched_at, outcome) VALUES ('https://news.example.com/x', '2025-01-29 12:00:00', 'changed')"],
     "fetch_without_version"),
    (["UPDATE snapshot SET title = 'Tampered' WHERE version = 1 AND article_id = (SELECT min(id) FROM article)"],
     "content_hash"),
    (["DELETE FROM snapshot_ticker WHERE snapshot_id = (SELECT min(id) FROM snapshot)"], "ticker_index"),
    (["UPDATE snapshot_ticker SET published_at = NULL WHERE snapshot_id = (SELECT min(snapshot_id) FROM snapshot_ticker)"],
     "ticker_index"),
    (["DELETE FROM minhash_band WHERE article_id = (SELECT min(id) FROM article) AND band < 3"], "minhash_index"),
    (["UPDATE \"fetch\" SET outcome = 'exploded' WHERE outcome = 'error'"], "fetch_outcome"),
    (["UPDATE \"fetch\" SET error = NULL WHERE outcome = 'error'"], "fetch_error"),
    (["UPDATE \"fetch\" SET error = 'http_500: HTTP 500' WHERE outcome = 'new'"], "fetch_error"),
    (["UPDATE \"fetch\" SET article_id = NULL WHERE outcome = 'changed'"], "fetch_without_article"),
    (["UPDATE \"fetch\" SET status = 999 WHERE outcome = 'error'"], "fetch_status"),
    (["UPDATE \"fetch\" SET crawl_id = 4242"], "foreign_key"),
    (["UPDATE \"fetch\" SET raw_sha256 = 'f00d' WHERE outcome = 'new'"], "missing_raw"),
])
def test_each_kind_of_damage_is_found(filled: ArchiveStore, statements: list[str], kind: str) -> None:
    damage(filled, *statements)
    assert kind in kinds(filled)


def test_corrupt_raw_bytes_are_found(filled: ArchiveStore) -> None:
    other = zstandard.ZstdCompressor().compress(b"<html>not the page that was fetched</html>")
    with filled.engine.begin() as connection:
        connection.execute(text("UPDATE raw_page SET zstd = :z WHERE sha256 = (SELECT min(sha256) FROM raw_page)"),
                           {"z": other})
    assert "raw_corrupt" in kinds(filled)
    assert "raw_corrupt" not in {p.kind for p in check(filled.engine, blobs=False).problems}


def test_full_text_index_out_of_step_is_found(filled: ArchiveStore) -> None:
    with filled.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            pytest.skip("FTS5 is SQLite's; PostgreSQL's generated column cannot drift")
        if not _has_fts(connection):
            pytest.skip("no full-text index in this schema")
    damage(filled, "INSERT INTO snapshot_fts(snapshot_fts, rowid, title, body) "
                   "SELECT 'delete', id, title, body FROM snapshot WHERE id = (SELECT min(id) FROM snapshot)")
    assert "search_index" in kinds(filled)


def _has_fts(connection: Connection) -> bool:
    return bool(connection.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'snapshot_fts'")).first())


def test_cli_checks_fetch_rows(filled: ArchiveStore, db_url: str) -> None:
    """`archive check` did not look at fetch rows: an unknown outcome and an error without its text passed."""
    damage(filled, "UPDATE \"fetch\" SET outcome = 'exploded' WHERE outcome = 'error'",
           "INSERT INTO \"fetch\" (url, fetched_at, outcome) VALUES ('https://news.example.com/y', '2025-01-29 12:00:00', 'error')")
    bad = CliRunner().invoke(cli, ["check", "--db", db_url])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    lines = bad.stdout.splitlines()
    assert sorted(line.split(":")[0] for line in lines) == ["fetch_error", "fetch_outcome"]
    assert "fetch_outcome: 1 fetch(es) whose outcome is none of new, changed" in bad.stdout


def test_cli_prints_one_line_per_kind_and_exits_1(filled: ArchiveStore, db_url: str) -> None:
    ok = CliRunner().invoke(cli, ["check", "--db", db_url])
    assert ok.exit_code == 0 and ok.output.startswith("ok: 3 articles, 4 versions")
    damage(filled, "UPDATE article SET latest_version = 7 WHERE latest_version = 2",
           "UPDATE snapshot SET title = 'Tampered' WHERE version = 1 AND article_id = (SELECT min(id) FROM article)")
    bad = CliRunner().invoke(cli, ["check", "--db", db_url])
    assert bad.exit_code == 1
    lines = bad.stdout.splitlines()
    # a latest_version naming no version also leaves the day counts out of step with a recount
    assert sorted(line.split(":")[0] for line in lines) == ["content_hash", "day_counts", "latest_version"]
    assert all("(e.g. " in line for line in lines)
    assert "Traceback" not in bad.output


def test_a_damaged_sqlite_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    store = ArchiveStore.open(f"sqlite:///{path}")
    for i in range(30):
        url = f"https://news.example.com/{i}.html"
        store.save(extract(article(f"Story number {i}", paragraphs=[f"{p} {i}" for p in LOREM]), url))
    store.close()
    data = bytearray(path.read_bytes())
    data[len(data) // 2: len(data) // 2 + 8192] = b"\xde\xad\xbe\xef" * 2048
    path.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["check", "--db", f"sqlite:///{path}"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert 1 <= len(result.output.strip().splitlines()) <= 12


# -- backup ----------------------------------------------------------------------------------------
def sqlite_store(tmp_path: Path) -> tuple[str, ArchiveStore]:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    store = ArchiveStore.open(url)
    store.save(extract(article(), "https://news.example.com/a.html"))
    return url, store


def test_backup_is_a_single_file_that_passes_check(tmp_path: Path) -> None:
    url, store = sqlite_store(tmp_path)
    result = backup(url, tmp_path / "copy.db")
    store.close()
    assert result.path == (tmp_path / "copy.db").resolve() and not (tmp_path / "copy.db-wal").exists()
    with sqlite3.connect(result.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copy = ArchiveStore.open(f"sqlite:///{result.path}")
    assert check(copy.engine).ok and check(copy.engine).checked["articles"] == 1
    copy.close()


def test_backup_refuses_to_overwrite(tmp_path: Path) -> None:
    url, store = sqlite_store(tmp_path)
    with pytest.raises(BadInput, match="archive itself"):
        backup(url, tmp_path / "archive.db", overwrite=True)
    with pytest.raises(BadInput, match="archive itself"):
        backup(url, tmp_path, overwrite=True)  # a directory: the same name inside it
    backup(url, tmp_path / "copy.db")
    with pytest.raises(BadInput, match="--force"):
        backup(url, tmp_path / "copy.db")
    backup(url, tmp_path / "copy.db", overwrite=True)
    store.close()


def test_backup_of_postgresql_points_to_pg_dump() -> None:
    result = CliRunner().invoke(cli, ["backup", "/tmp/x.db", "--db", "postgresql://nobody@127.0.0.1:1/archive"])
    assert result.exit_code == 1 and "pg_dump" in result.output and result.output.count("\n") == 1
