"""Values from other people's servers that do not fit the archive's columns: an over-long <html lang>,
og:site_name, ETag, Last-Modified, Content-Type or URL, a NUL byte. Each is kept bounded or becomes
one counted error, the same way on SQLite and PostgreSQL; the crawl (or import) goes on and every
good page around them is stored."""

from __future__ import annotations

import io
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.demo.server import BackgroundServer
from tests.conftest import run_cli
from tests.pages import LOREM, article

GOOD = [f"/good-{i}.html" for i in range(8)]
LONG_QUERY = "q=" + "a" * 2100  # the URL is over the archive's 2,048 bytes, under Scrapy's 2,083
LONG_URL_PATH = "/long.html?" + LONG_QUERY[:2083 - len("http://127.0.0.1:65535/long.html?")]


def good_page(i: int) -> bytes:
    return article(f"Good story number {i} about markets", paragraphs=[f"Story {i}: {p}" for p in LOREM]).encode()


def hostile_pages() -> dict[str, tuple[dict[str, str], bytes]]:
    """path -> (extra response headers, body): one hostile value each, then the good pages."""
    plain = lambda title: article(title, paragraphs=[f"{title}. {p}" for p in LOREM])  # noqa: E731
    pages: dict[str, tuple[dict[str, str], bytes]] = {
        "/lang.html": ({}, plain("A page with a long language").replace('<html lang="en">', f'<html lang="{"x" * 40}">').encode()),
        "/site-name.html": ({}, plain("A page with a long site name").replace(
            'content="Example Markets"', f'content="{"S" * 400}"').encode()),
        "/etag.html": ({"ETag": '"' + "e" * 1000 + '"'}, plain("A page with a long ETag").encode()),
        "/modified.html": ({"Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT" + " x" * 100},
                           plain("A page with a long Last-Modified").encode()),
        "/type.html": ({"Content-Type": "text/html; charset=utf-8; x=" + "y" * 300},
                       plain("A page with a long Content-Type").encode()),
        "/long.html": ({}, plain("A page at a long URL").encode()),
        "/nul-header.html": ({"ETag": '"a\x00b"', "X-Note": "before\x00after"}, plain("A page with NUL headers").encode()),
        "/canonical.html": ({}, plain("A page claiming a long canonical").replace(
            "</head>", f'<link rel="canonical" href="/c?q={"z" * 3000}"></head>').encode()),
    }
    pages.update({path: ({}, good_page(i)) for i, path in enumerate(GOOD)})
    links = "".join(f'<li><a href="{path if path != "/long.html" else LONG_URL_PATH}">page</a></li>' for path in pages)
    pages["/"] = ({}, f"<html><body><ul>{links}</ul></body></html>".encode())
    return pages


class HeaderServer(BackgroundServer):
    """Serves `pages` (path -> (headers, body)) on loopback, with the headers given."""

    def __init__(self, pages: dict[str, tuple[dict[str, str], bytes]]) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(self.path)
                headers, body = pages.get(self.path.split("?")[0], ({}, None))  # type: ignore[assignment]
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                headers = {"Content-Type": "text/html; charset=utf-8", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._listen(("127.0.0.1", 0), Handler)


@pytest.fixture
def hostile_site() -> Iterator[HeaderServer]:
    with HeaderServer(hostile_pages()) as server:
        yield server


def query(db_url: str, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_hostile_values_are_bounded_and_every_good_page_is_stored(db_url: str, hostile_site: HeaderServer) -> None:
    result = run_cli("crawl", hostile_site.url, "--db", db_url, "--max-pages", "0", check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "writes in a row failed" not in result.stderr
    site = hostile_site.url.rstrip("/")
    stored = {url for url, in query(db_url, "select url from snapshot")}
    assert {site + path for path in GOOD} <= stored
    for path in ("/lang.html", "/site-name.html", "/etag.html", "/modified.html", "/type.html", "/nul-header.html"):
        assert site + path in stored, path
    language, = query(db_url, f"select language from snapshot where url = '{site}/lang.html'")[0]
    assert language == "x" * 16
    site_name, = query(db_url, f"select site_name from snapshot where url = '{site}/site-name.html'")[0]
    assert site_name == "S" * 255
    etag, = query(db_url, f"select etag from \"fetch\" where url = '{site}/etag.html'")[0]
    assert etag is None  # a validator cut short would be a wrong one: not kept
    nul_etag, = query(db_url, f"select etag from \"fetch\" where url = '{site}/nul-header.html'")[0]
    assert nul_etag == '"ab"'  # PostgreSQL refuses a NUL in text: dropped, on both databases
    modified, = query(db_url, f"select last_modified from \"fetch\" where url = '{site}/modified.html'")[0]
    assert modified is None
    content_type, = query(db_url, "select content_type from raw_page where content_type like '%yyyy%'")[0]
    assert len(content_type) == 200 and content_type.startswith("text/html; charset=utf-8")
    # The page at a URL the archive cannot keep is one counted error; the long canonical claim is ignored.
    assert "url_too_long 1" in result.stdout
    errors = query(db_url, "select url, error from \"fetch\" where outcome = 'error' and error not like 'http_404%'")
    assert len(errors) == 1 and errors[0][1].startswith("url_too_long: ") and len(errors[0][0]) <= 2048
    assert site + "/canonical.html" in {url for url, in query(db_url, "select canonical_url from article")}


def hostile_warc(path: Path) -> list[str]:
    """A WARC holding the same hostile values, a NUL in a WARC-Target-URI and a 3,000-byte URL,
    between good records; returns the good records' URLs."""
    good = []
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)

        def record(url: str, body: bytes, headers: dict[str, str] | None = None) -> None:
            http = StatusAndHeaders("200 OK", list({"Content-Type": "text/html; charset=utf-8",
                                                    **(headers or {})}.items()), protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          length=len(body), http_headers=http))

        site = "https://news.example.com"
        for path_, (headers, body) in hostile_pages().items():
            if path_ in ("/", "/long.html"):
                continue
            record(site + path_, body, headers)
            if path_ in GOOD:
                good.append(site + path_)
        record(site + "/long.html?q=" + "a" * 3000, good_page(100))
        record(site + "/nul\x00.html", good_page(101))
        record(site + "/after.html", good_page(102))
        good.append(site + "/after.html")
    return good


def test_import_warc_with_hostile_values_keeps_every_good_record(db_url: str, tmp_path: Path) -> None:
    warc, after = tmp_path / "hostile.warc.gz", tmp_path / "after.warc.gz"
    good = hostile_warc(warc)
    with open(after, "wb") as stream:  # a second file: an import must not stop at the first
        body = good_page(200)
        WARCWriter(stream, gzip=True).write_record(WARCWriter(stream).create_warc_record(
            "https://news.example.com/second-file.html", "response", payload=io.BytesIO(body), length=len(body),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")))
    result = run_cli("import-warc", str(warc), str(after), "--db", db_url, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    stored = {url for url, in query(db_url, "select url from snapshot")}
    assert set(good) | {"https://news.example.com/second-file.html",
                        "https://news.example.com/nul%00.html"} <= stored  # a NUL is kept percent-encoded
    language, = query(db_url, "select language from snapshot where url like '%/lang.html'")[0]
    assert language == "x" * 16
    errors = query(db_url, "select url, error from \"fetch\" where outcome = 'error'")
    assert len(errors) == 1 and errors[0][1].startswith("url_too_long: ") and len(errors[0][0]) <= 2048


def test_import_warc_skips_only_the_record_with_a_bad_date_or_status(db_url: str, tmp_path: Path) -> None:
    """A bad WARC-Date or HTTP status in one record skips that record; the records after it in the
    same file are imported (the whole rest of the file was lost)."""
    warc = tmp_path / "bad-values.warc.gz"
    with open(warc, "wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for number, (date, status) in enumerate([(None, "200 OK"), ("yesterday", "200 OK"), (None, "2x0 OK"),
                                                 ("2025-13-45T00:00:00Z", "200 OK"), (None, "200 OK")]):
            body = good_page(300 + number)
            http = StatusAndHeaders(status, [("Content-Type", "text/html")], protocol="HTTP/1.1")
            record = writer.create_warc_record(f"https://news.example.com/{number}.html", "response",
                                               payload=io.BytesIO(body), length=len(body), http_headers=http)
            if date:
                record.rec_headers.replace_header("WARC-Date", date)
            writer.write_record(record)
    result = run_cli("import-warc", str(warc), "--db", db_url, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("skipped the record for") == 3
    stored = {url for url, in query(db_url, "select url from snapshot")}
    assert stored == {"https://news.example.com/0.html", "https://news.example.com/4.html"}
    row = result.stdout.splitlines()[2].split()
    assert row[0] == "5" and row[5] == "3"  # five records, three of them errors
