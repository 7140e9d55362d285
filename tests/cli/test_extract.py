"""`archive extract URL-or-FILE`, through the real entry point: fields with their evidence, nothing
stored, and a URL fetched with the crawl's safety (address guard, size limit, timeout)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli
from support.faultserver import FaultServer
from tests.pages import article

PAGE = article(extra='<p>Shares of <a href="/quotes/?symbol=NVDA">Nvidia</a> rose.</p>')


def test_a_saved_file_shows_each_field_with_its_rule(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(PAGE)
    result = run_cli("extract", str(path), "--url", "https://news.example.com/markets/chips-rally-on-demand", cwd=tmp_path)
    out = result.stdout
    assert "title:      Chipmakers rally as data-center demand stays hot  [<h1>]" in out
    assert "Jane Doe, John Roe  [byline" in out and "2025-01-28T23:57:00-05:00  [visible]" in out
    assert "NVDA: link" in out and "structured data says article" in out
    assert list(tmp_path.iterdir()) == [path]  # nothing stored: no database, no file
    data = json.loads(run_cli("extract", str(path), "--json", cwd=tmp_path).stdout)
    assert data["title"] == "Chipmakers rally as data-center demand stays hot"
    assert data["evidence"]["published"] == "visible" and data["tickers"][0]["symbol"] == "NVDA"


def test_a_url_is_fetched_and_extracted(tmp_path: Path) -> None:
    with FaultServer({"/markets/story.html": PAGE.encode()}) as server:
        data = json.loads(run_cli("extract", f"{server.url.rstrip('/')}/markets/story.html", "--json", cwd=tmp_path).stdout)
    assert data["is_article"] and data["authors"] == ["Jane Doe", "John Roe"]
    assert data["url"].endswith("/markets/story.html")


def _refused(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVE_ALLOW_PRIVATE_ADDRESSES"}
    return subprocess.run([sys.executable, "-m", "archive", "extract", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_address_guard_refuses_private_and_metadata_addresses() -> None:
    with FaultServer({"/a.html": PAGE.encode()}) as server:
        for url in (f"{server.url.rstrip('/')}/a.html", "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd"):
            result = _refused(url)
            assert result.returncode == 1 and "Traceback" not in result.stderr
            assert result.stderr.count("\n") == 1 and ("refused" in result.stderr or "no such file" in result.stderr)


@pytest.mark.parametrize("fault, option, message", [
    ("huge", ("--max-bytes", "100000"), "limit"),
    ("gzip_bomb", ("--max-bytes", "100000"), "limit"),
    ("timeout", ("--timeout", "1"), "did not answer"),
    ("http_404", (), "HTTP 404"),
    ("redirect_file", (), "file:///etc/passwd"),  # never followed
])
def test_a_url_that_misbehaves_is_one_clear_line(fault: str, option: tuple[str, ...], message: str) -> None:
    with FaultServer(faults={"/bad.html": fault}, stall_seconds=5) as server:
        result = run_cli("extract", f"{server.url.rstrip('/')}/bad.html", *option, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_a_file_that_is_not_html_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(bytes(range(256)) * 10)
    result = run_cli("extract", str(path), check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "binary" in result.stderr


def test_a_saved_file_is_held_to_the_size_limit_and_may_be_gzipped(tmp_path: Path) -> None:
    """A saved file gets the limit a fetched page gets, unzipped or not: a gzip bomb is refused
    before it fills memory, a cut-short gzip file is refused, a whole one is read."""
    import gzip  # noqa: PLC0415

    zipped = tmp_path / "page.html.gz"
    zipped.write_bytes(gzip.compress(PAGE.encode()))
    data = json.loads(run_cli("extract", str(zipped), "--json", cwd=tmp_path).stdout)
    assert data["title"] == "Chipmakers rally as data-center demand stays hot"
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"<html><body>" + b" " * 5_000_000))
    cut = tmp_path / "cut.html.gz"
    cut.write_bytes(zipped.read_bytes()[:-20])
    big = tmp_path / "big.html"
    big.write_bytes(PAGE.encode() + b" " * 200_000)
    for path, message in ((bomb, "limit of 100000 bytes once unzipped"), (cut, "broken gzip"),
                          (big, "limit of 100000 bytes"), (tmp_path, "a directory")):
        result = run_cli("extract", str(path), "--max-bytes", "100000", check=False, cwd=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
