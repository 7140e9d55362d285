"""The web app's test archive: the demo site crawled twice (as `archive demo` does), plus a site
whose article carries hostile payloads, crawled twice (the second time edited), on SQLite and on
PostgreSQL. Built once per backend for the module, through the real CLI in child processes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from archive.demo.server import SiteServer
from tests.conftest import run_cli
from tests.web.hostile import write_site


def build(db_url: str, work: Path) -> None:
    run_cli("demo", "--db", db_url, "--port", "0", cwd=work)
    site = work / "hostile"
    write_site(site)
    with SiteServer(site) as server:
        run_cli("crawl", server.url + "/", "--db", db_url, "--no-throttle", cwd=work)
        write_site(site, edited=True)
        run_cli("crawl", server.url + "/", "--db", db_url, "--no-throttle", "--refresh-after", "0s", cwd=work)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def archive_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database URL holding the demo archive and the hostile article."""
    work = tmp_path_factory.mktemp("web")
    if request.param == "sqlite":
        url = f"sqlite:///{work / 'demo.db'}"
        build(url, work)
        yield url
        return
    server = request.getfixturevalue("postgres_server")
    name = f"archive_web_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        build(url, work)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
