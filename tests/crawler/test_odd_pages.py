"""Odd but ordinary pages through the real `archive crawl`: meta-refresh loops and stray NUL bytes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_cli
from support.faultserver import FaultServer
from tests.pages import article, listing

pytestmark = pytest.mark.slow


def refresh(target: str, delay: int = 0) -> bytes:
    return (f'<!DOCTYPE html><html><head><meta http-equiv="refresh" content="{delay}; url={target}">'
            f"<title>Moved</title></head><body><p>Moved to {target}</p></body></html>").encode()


def fetch_rows(db: Path) -> dict[str, tuple[str, str | None]]:
    with sqlite3.connect(db) as connection:
        return {url: (outcome, error) for url, outcome, error in connection.execute("select url, outcome, error from fetch")}


def test_meta_refresh_loops_leave_a_fetch_row(tmp_path: Path) -> None:
    """Scrapy followed each refresh; the one back into the chain was dropped as a duplicate request,
    and the pages left no trace. A page that refreshes itself is the page."""
    pages = {"/": listing(["/a.html", "/self.html", "/ticker.html"]).encode(),
             "/a.html": refresh("/b.html"), "/b.html": refresh("/a.html"),
             "/self.html": refresh("/self.html"),
             "/ticker.html": article("Markets live: stocks edge higher", head='<meta http-equiv="refresh" content="5">').encode()}
    with FaultServer(pages) as server:
        result = run_cli("crawl", server.url, "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 0, result.stderr
    rows = fetch_rows(tmp_path / "a.db")
    assert rows[server.url + "a.html"][0] == "error" and rows[server.url + "a.html"][1].startswith("redirect_loop: ")
    assert rows[server.url + "self.html"][0] in ("not_article", "new")  # read as the page it is
    assert rows[server.url + "ticker.html"][0] == "new"  # a live page that reloads itself every 5 s


@pytest.mark.parametrize("where", ["after the doctype", "in the title", "in the body"])
def test_a_stray_nul_byte_does_not_make_a_page_binary(tmp_path: Path, where: str) -> None:
    """One NUL near the top rejected the whole page as not_html; it is dropped and the page read."""
    html = article("Chipmakers rally as data-center demand stays hot").encode()
    anchor = {"after the doctype": b"<html", "in the title": b"Chipmakers", "in the body": b"<p>"}[where]
    at = html.index(anchor)
    page = html[:at] + b"\x00" + html[at:]
    with FaultServer({"/": listing(["/story.html"]).encode(), "/story.html": page}) as server:
        result = run_cli("crawl", server.url, "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 0, result.stderr
    assert fetch_rows(tmp_path / "a.db")[server.url + "story.html"] == ("new", None)
    shown = run_cli("show", server.url + "story.html", "--db", f"sqlite:///{tmp_path / 'a.db'}").stdout
    assert shown.startswith("Chipmakers rally as data-center demand stays hot\n") and "\x00" not in shown


def test_binary_data_is_still_not_html(tmp_path: Path) -> None:
    page = b"<html>" + bytes(range(256)) * 20
    with FaultServer({"/": listing(["/blob.html"]).encode(), "/blob.html": page}) as server:
        run_cli("crawl", server.url, "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    outcome, error = fetch_rows(tmp_path / "a.db")[server.url + "blob.html"]
    assert error is not None and error.startswith("not_html: ")
