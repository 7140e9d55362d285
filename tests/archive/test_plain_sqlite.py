"""The SQLite archive opened by ordinary tools, without this package: every table and view reads,
and full-text search works, with no custom SQL function (the sqlite3 module and shell as they come)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from archive.store import ArchiveStore
from tests import research

PHRASE = """SELECT title FROM snapshot WHERE id IN
            (SELECT rowid FROM snapshot_fts WHERE snapshot_fts MATCH '"export controls"') ORDER BY id"""


@pytest.fixture
def archive_file(tmp_path: Path) -> Path:
    store = ArchiveStore.open(f"sqlite:///{tmp_path / 'a.db'}")
    research.fill(store)
    store.close()
    return tmp_path / "a.db"


def test_every_table_and_the_index_read_without_the_package(archive_file: Path) -> None:
    with sqlite3.connect(archive_file) as plain:  # no archive_word_pairs registered
        names = [n for (n,) in plain.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
        for name in names:
            plain.execute(f'SELECT * FROM "{name}" LIMIT 5').fetchall()
        assert plain.execute(PHRASE).fetchall() == [("Chip stocks slide as export controls widen",),
                                                     ("Chip stocks slide as export controls widen",)]
        assert plain.execute("SELECT count(*) FROM snapshot_fts WHERE snapshot_fts MATCH 'chips OR chip*'"
                             ).fetchone() == (5,)  # versions
        # writing needs the function (the triggers compute the word pairs): refused, nothing half written
        with pytest.raises(sqlite3.OperationalError, match="no such function: archive_word_pairs"):
            plain.execute("UPDATE snapshot SET title = 'x' WHERE id = 1")
    store = ArchiveStore.open(f"sqlite:///{archive_file}")  # the package's own writers still index
    store.save(research.page("https://news.example.com/x.html", "Export controls tighten", "New export controls.",
                             "2025-03-01T10:00:00"))
    store.close()
    with sqlite3.connect(archive_file) as plain:
        assert ("Export controls tighten",) in plain.execute(PHRASE).fetchall()


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="no sqlite3 shell installed")
def test_the_sqlite3_shell_searches_the_archive(archive_file: Path) -> None:
    result = subprocess.run(["sqlite3", str(archive_file), PHRASE.replace("\n", " ")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines() == ["Chip stocks slide as export controls widen"] * 2
