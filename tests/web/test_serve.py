"""`archive serve` as a user starts it, and the token that guards it off loopback."""

from __future__ import annotations

import json
import socket
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from starlette.testclient import TestClient

from archive.store import ArchiveStore
from archive.web import create_app
from archive.web.app import CSP
from tests.conftest import run_cli
from tests.research import fill
from tests.web.serving import serving


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[str, ArchiveStore]]:
    url = f"sqlite:///{tmp_path / 'small.db'}"
    store = ArchiveStore.open(url)
    fill(store)
    yield url, store
    store.close()


def test_token_as_bearer_or_login_cookie(small: tuple[str, ArchiveStore]) -> None:
    client = TestClient(create_app(small[1].engine, token="s3cret"), follow_redirects=False)
    page = client.get("/search?q=chips")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fsearch%3Fq%3Dchips"
    assert client.get("/api/search").status_code == 401
    assert client.get("/export.csv").status_code == 401 and client.get("/edits.atom").status_code == 401
    assert client.get("/api/search", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/search", headers={"Authorization": "Bearer s3cret"}).json()["total"] == 4
    login = client.get("/login?next=/search")
    assert login.status_code == 200 and login.headers["content-security-policy"] == CSP
    refused = client.post("/login", content="token=nope&next=/search",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert refused.status_code == 401 and "archive_token" not in refused.cookies
    elsewhere = client.post("/login", content="token=s3cret&next=//evil.example/",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert elsewhere.status_code == 303 and elsewhere.headers["location"] == "/"  # never off the site
    cookie = elsewhere.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert client.get("/search?q=chips").status_code == 200  # the cookie is kept by the client


def test_serve_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    result = run_cli("serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--host", "0.0.0.0", check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "warning: serving on 0.0.0.0: anyone who can reach this address can read the archive",
        "Error: --host 0.0.0.0 needs --token (or ARCHIVE_WEB_TOKEN), or --no-auth to serve it to anyone"]
    assert not (tmp_path / "x.db").exists()  # refused before the archive was opened


def test_serve_without_the_extra_says_how_to_install_it(tmp_path: Path) -> None:
    shim = tmp_path / "shim"
    (shim / "starlette").mkdir(parents=True)
    (shim / "starlette" / "__init__.py").write_text("raise ImportError('No module named starlette')\n")
    env = {**os.environ, "PYTHONPATH": f"{shim}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run([sys.executable, "-m", "archive", "serve", "--db", f"sqlite:///{tmp_path / 'x.db'}"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == "Error: archive serve needs the web extra: pip install 'commentary-archive[web]'\n"


def test_serve_answers_over_http_on_loopback(small: tuple[str, ArchiveStore]) -> None:
    with serving(small[0]) as base:
        with urllib.request.urlopen(base + "/api/search?q=export+controls") as response:
            assert response.headers["Content-Security-Policy"] == CSP
            assert json.load(response)["total"] == 2
        with urllib.request.urlopen(base + "/search?q=export+controls") as response:
            assert response.status == 200 and b"<mark>export</mark>" in response.read()


def test_serve_on_port_0_prints_and_opens_the_port_it_bound(small: tuple[str, ArchiveStore], tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(f"import sys, pathlib\npathlib.Path({str(opened)!r}).write_text(sys.argv[1])\n")
    env = {**os.environ, "BROWSER": f"{sys.executable} {browser} %s"}
    with serving(small[0], "--open", env=env) as base:
        port = int(base.rsplit(":", 1)[1])
        assert port != 0
        with urllib.request.urlopen(base + "/api/search?q=export+controls") as response:
            assert json.load(response)["total"] == 2
        deadline = time.monotonic() + 30
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert opened.read_text() == base + "/"  # the browser is sent to the bound port, not to :0


def test_serve_on_a_port_in_use_says_so_in_one_line(small: tuple[str, ArchiveStore]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--db", small[0], "--port", str(port), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert len(result.stderr.splitlines()) == 1
