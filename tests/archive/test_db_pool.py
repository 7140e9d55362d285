"""db_pool_size (ARCHIVE_DB_POOL_SIZE): the most connections one process keeps to PostgreSQL (archive.db)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from archive.config import default
from archive.db import make_engine
from archive.errors import BadInput

URL = "postgresql://archive@127.0.0.1:1/archive"  # never connected to


def test_the_pool_is_the_default_or_the_setting_and_never_overflows(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("psycopg")
    monkeypatch.delenv("ARCHIVE_DB_POOL_SIZE", raising=False)
    engine = make_engine(URL)
    assert (engine.pool.size(), engine.pool._max_overflow) == (default("db_pool_size"), 0)  # type: ignore[attr-defined]
    monkeypatch.setenv("ARCHIVE_DB_POOL_SIZE", "2")
    assert make_engine(URL).pool.size() == 2  # type: ignore[attr-defined]
    for bad in ("0", "-1", "many"):
        monkeypatch.setenv("ARCHIVE_DB_POOL_SIZE", bad)
        with pytest.raises(BadInput, match="ARCHIVE_DB_POOL_SIZE"):
            make_engine(URL)


def test_a_bad_pool_size_is_one_line_through_the_cli() -> None:
    pytest.importorskip("psycopg")
    result = subprocess.run([sys.executable, "-m", "archive", "crawls", "--db", URL], capture_output=True, text=True,
                            env={**os.environ, "ARCHIVE_DB_POOL_SIZE": "many"}, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == \
        "Error: ARCHIVE_DB_POOL_SIZE: db_pool_size = 'many' is not a whole number of at least 1"
