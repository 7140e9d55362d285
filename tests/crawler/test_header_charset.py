"""A charset named only in the HTTP header is how the page is read: when crawled, re-extracted and
imported from a WARC, so that re-reading a stored page never invents an edit."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from archive.extract import extract
from archive.extract.page import charset_of, decode
from tests.conftest import run_cli
from support.faultserver import FaultServer
from tests.pages import article, listing

TITLE = "Akcje spółek technologicznych rosną, złoty słabnie"


def test_crawl_and_reextract_read_the_headers_charset(tmp_path: Path) -> None:
    page = article(TITLE, paragraphs=[f"{p} Zażółć gęślą jaźń." for p in (
        "Warszawska giełda zamknęła sesję wzrostami, a indeks WIG20 zyskał ponad dwa procent.",
        "Analitycy wskazują na napływ kapitału zagranicznego i lepsze od oczekiwań wyniki spółek.",
        "Złoty osłabił się wobec dolara po publikacji danych o inflacji w Stanach Zjednoczonych.")]).encode()
    db_path = tmp_path / "archive.db"
    db = f"sqlite:///{db_path}"
    with FaultServer({"/": listing(["/pl.html"]).encode(), "/pl.html": page},
                     faults={"/pl.html": "header_charset"}) as server:
        run_cli("crawl", server.url, "--db", db)
    with sqlite3.connect(db_path) as connection:
        (title, body), = connection.execute("select title, body from snapshot").fetchall()
        (content_type,), = connection.execute(
            "select r.content_type from raw_page r join snapshot s on s.raw_sha256 = r.sha256").fetchall()
    assert title == TITLE and "Zażółć gęślą jaźń" in body
    assert "iso-8859-2" in content_type
    # Re-reading the stored bytes must give the same content: no "reextract" version.
    again = run_cli("reextract", "--db", db)
    assert again.stdout.splitlines()[2].split()[1:] == ["1", "0", "1", "0"], again.stdout
    shown = json.loads(run_cli("show", "1", "--db", db, "--json").stdout)
    assert shown["version"] == 1 and shown["title"] == TITLE


def test_header_charset_comes_after_the_bytes_own_evidence() -> None:
    text = article(TITLE).replace('<meta charset="utf-8">', "")
    latin2 = text.encode("iso-8859-2")
    assert decode(latin2) != text  # what a detector makes of it
    assert decode(latin2, charset_of("text/html; charset=ISO-8859-2")) == text
    assert extract(latin2, "https://example.pl/a.html", content_type="text/html; charset=iso-8859-2").title == TITLE
    # Valid UTF-8 and a byte-order mark win over a wrong header; an unknown label is ignored.
    assert decode(text.encode("utf-8"), "iso8859-2") == text
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8"), "iso8859-2") == text
    assert charset_of('text/html; Charset="x-unknown-charset"') is None
    assert charset_of("text/html") is None and charset_of(None) is None
    assert charset_of("text/html;charset=windows-1250") == "cp1250"
