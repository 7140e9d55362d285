"""Shared fixtures: archives on SQLite and (when configured) PostgreSQL, local sites, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text

from archive.db import normalise_url
from archive.demo.server import SiteServer
from archive.store import ArchiveStore
from support.scratch import scratch_postgres

#: ../shared beside the checkout; ARCHIVE_SHARED names another place (a git worktree sits elsewhere).
SHARED = Path(os.environ.get("ARCHIVE_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
FIXTURES = SHARED / "fixtures" / "pages"
SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "export-schema.json"


def service_url(variable: str, name: str, ping: Callable[[str], None]) -> str:
    """The URL in `variable`: a test needing it is skipped when it is unset (a laptop), and fails,
    never skips, when it is set but the service does not answer (CI must run those tests)."""
    url = os.environ.get(variable) or None
    if not url:
        pytest.skip(f"{variable} is not set")
    try:
        ping(url)
    except Exception as exc:  # noqa: BLE001 - any failure to connect must fail the test run
        pytest.fail(f"{variable} is set but {name} does not answer: {exc}")
    return url


def _ping_postgres(url: str) -> None:
    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server URL (ARCHIVE_TEST_POSTGRES_URL)."""
    return normalise_url(service_url("ARCHIVE_TEST_POSTGRES_URL", "PostgreSQL", _ping_postgres))


@pytest.fixture
def postgres_db(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with scratch_postgres(postgres_server, "archive_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty archive database URL, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'archive.db'}"
    return request.getfixturevalue("postgres_db")


@pytest.fixture
def store(db_url: str) -> Iterator[ArchiveStore]:
    archive = ArchiveStore.open(db_url)
    yield archive
    archive.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, SiteServer]]:
    """An empty folder served on a loopback port: tests write pages into it."""
    root = tmp_path / "site"
    root.mkdir()
    with SiteServer(root) as server:
        yield root, server


def run_cli(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `archive` entry point in a child process (Scrapy's reactor starts once per process)."""
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"}
    result = subprocess.run([sys.executable, "-m", "archive", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"archive {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def fixture_page(name: str) -> bytes:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip("../shared/fixtures is absent")
    return path.read_bytes()


#: A paragraph this long is article prose, not a notice or a bullet.
PROSE_CHARS = 200


def missing_prose(full: str, kept: str) -> list[str]:
    """The paragraphs of prose in body `full` that body `kept` lost: less than 90 % of their
    words are in it (paragraph breaks and furniture around them may differ)."""
    words_kept = Counter(kept.split())
    missing = []
    for paragraph in (p for p in full.split("\n\n") if len(p) >= PROSE_CHARS):
        words = Counter(paragraph.split())
        if sum((words & words_kept).values()) < 0.9 * sum(words.values()):
            missing.append(paragraph)
    return missing


def _ping_redis(url: str) -> None:
    import redis  # noqa: PLC0415 - only the frontier tests need the client

    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.ping()
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis URL for shared-crawl tests (ARCHIVE_TEST_REDIS_URL)."""
    return service_url("ARCHIVE_TEST_REDIS_URL", "Redis", _ping_redis)


@pytest.fixture
def frontier_name(redis_server: str) -> Iterator[str]:
    """A shared-crawl name (so a Redis key prefix) of its own for one test; its keys are deleted afterwards."""
    import redis  # noqa: PLC0415

    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(redis_server)
    keys = list(client.scan_iter(match=f"archive:{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session", autouse=True)
def no_user_configuration(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tester's own ~/.config/archive/archive.toml (archive/config.py) must not change results."""
    saved = {name: os.environ.get(name) for name in ("XDG_CONFIG_HOME", "ARCHIVE_CONFIG")}
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("xdg-config"))
    os.environ.pop("ARCHIVE_CONFIG", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
