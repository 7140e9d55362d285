"""WARC export and import: round trip, hand-made edge cases, and a real Heritrix capture."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import archive
from archive.cli import cli
from archive.extract import extract
from archive.query import Filters
from archive.store import ArchiveStore, Capture
from archive.warc import export_warc, import_warc
from tests.conftest import SHARED, missing_prose
from tests.pages import LOREM, article

HERITRIX = SHARED / "fixtures" / "warc" / "archiveit-bitchmagazine-2013-04-11.warc.gz"
T0 = datetime(2025, 1, 29, 12, 0, tzinfo=timezone.utc)


def archive_with_history(db: str) -> None:
    """Two articles, one edited once, one fetched twice unchanged, plus a listing page."""
    store = ArchiveStore.open(db)
    pages = [("https://news.example.com/a.html", article("Chipmakers rally")),
             ("https://news.example.com/b.html", article("Banks lag", paragraphs=LOREM[::-1]))]
    for hour, (url, html) in enumerate(pages):
        headers = (("Content-Type", "text/html; charset=utf-8"), ("ETag", f'"v{hour}"'), ("Server", "demo/1.0"),
                   ("Content-Encoding", "gzip"))
        store.save(extract(html, url), Capture(url=url, fetched_at=T0 + timedelta(hours=hour), raw=html.encode(),
                                               content_type="text/html; charset=utf-8", etag=f'"v{hour}"',
                                               headers=headers))
    edited = article("Chipmakers rally", paragraphs=LOREM + ["Update: the rally faded."])
    url = pages[0][0]
    store.save(extract(edited, url), Capture(url=url, fetched_at=T0 + timedelta(days=1), raw=edited.encode(),
                                             content_type="text/html"))
    url, html = pages[1]
    store.save(extract(html, url), Capture(url=url, fetched_at=T0 + timedelta(days=1), raw=html.encode()))
    store.close()


def versions(db_path: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(db_path) as connection:
        return connection.execute("select a.canonical_url, s.version, s.content_sha256 from snapshot s "
                                  "join article a on a.id = s.article_id order by 1, 2").fetchall()


def test_round_trip_keeps_articles_versions_and_hashes(tmp_path: Path) -> None:
    source, target = tmp_path / "source.db", tmp_path / "target.db"
    archive_with_history(f"sqlite:///{source}")
    out = tmp_path / "out.warc.gz"
    exported = CliRunner().invoke(cli, ["export", "--db", f"sqlite:///{source}", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "wrote 4 captures" in exported.output  # every capture of the two articles
    only_b = CliRunner().invoke(cli, ["export", "--db", f"sqlite:///{source}", "--text", "faded",
                                      "--format", "warc", "-o", str(tmp_path / "b.warc.gz")])
    assert "wrote 2 captures" in only_b.output

    with out.open("rb") as handle:
        records, served = [], []
        for record in ArchiveIterator(handle, check_digests=True):
            records.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                            record.rec_headers.get_header("WARC-Date")))
            if record.rec_type == "response":
                served.append(dict(record.http_headers.headers))
    # headers as served (the body is stored decoded: no Content-Encoding), older fetches: the kept four
    assert served[0]["Server"] == "demo/1.0" and "Content-Encoding" not in served[0]
    assert served[0]["ETag"] == '"v0"' and int(served[0]["Content-Length"]) > 0
    assert "Server" not in served[-1] and served[-1]["Content-Type"].startswith("text/html")
    assert [kind for kind, _, _ in records].count("response") == 4
    assert [kind for kind, _, _ in records].count("metadata") == 4
    assert ("response", "https://news.example.com/a.html", "2025-01-29T12:00:00Z") in records

    result = CliRunner().invoke(cli, ["import-warc", str(out), "--db", f"sqlite:///{target}"])
    assert result.exit_code == 0, result.output
    assert versions(target) == versions(source)
    again = CliRunner().invoke(cli, ["import-warc", str(out), "--db", f"sqlite:///{target}"])
    assert again.output.splitlines()[2].split()[6] == "4"  # already imported: nothing added
    with sqlite3.connect(target) as connection:
        assert connection.execute("select count(*) from fetch").fetchone()[0] == 4


def test_warcio_checker_and_indexer_accept_the_export(tmp_path: Path) -> None:
    from warcio.cli import main as warcio_main
    archive_with_history(f"sqlite:///{tmp_path / 'a.db'}")
    out = tmp_path / "out.warc.gz"
    with out.open("wb") as handle:
        export_warc(ArchiveStore.open(f"sqlite:///{tmp_path / 'a.db'}").engine, Filters(), handle)
    with pytest.raises(SystemExit) as checked:
        warcio_main(["check", str(out)])
    assert checked.value.code == 0
    index = tmp_path / "index.cdxj"
    warcio_main(["index", "-f", "warc-type,warc-target-uri,warc-date", "-o", str(index), str(out)])
    lines = [json.loads(line) for line in index.read_text().splitlines()]
    assert sum(1 for line in lines if line["warc-type"] == "response") == 4


def handmade_warc(path: Path) -> None:
    """Multi-member gzip: a response, a revisit of it, an image, then a record cut short."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    html = article("Chipmakers rally").encode()
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record("https://news.example.com/a.html", "response",
                                                  payload=io.BytesIO(html), http_headers=http,
                                                  warc_headers_dict={"WARC-Date": "2025-01-29T12:00:00Z"}))
    revisit = writer.create_revisit_record("https://news.example.com/a.html", digest="sha1:AAAA",
                                           refers_to_uri="https://news.example.com/a.html",
                                           refers_to_date="2025-01-29T12:00:00Z", http_headers=http)
    revisit.rec_headers.replace_header("WARC-Date", "2025-01-30T12:00:00Z")
    writer.write_record(revisit)
    png = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record("https://news.example.com/logo.png", "response",
                                                  payload=io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(200)),
                                                  http_headers=png))
    last = io.BytesIO()
    tail_writer = WARCWriter(last, gzip=True)
    tail_writer.write_record(tail_writer.create_warc_record(
        "https://news.example.com/b.html", "response", payload=io.BytesIO(article("Banks lag").encode()),
        http_headers=http, warc_headers_dict={"WARC-Date": "2025-01-29T13:00:00Z"}))
    path.write_bytes(buffer.getvalue() + last.getvalue()[: len(last.getvalue()) // 2])


def test_handmade_warc_with_revisit_image_and_truncated_record(tmp_path: Path) -> None:
    path = tmp_path / "mixed.warc.gz"
    handmade_warc(path)
    store = ArchiveStore.open(f"sqlite:///{tmp_path / 'a.db'}")
    report = import_warc(store, [path])
    assert report.counts["new"] == 1 and report.counts["same_raw"] == 1 and report.counts["not_html"] == 1
    assert report.counts["broken"] == 1 and "broken record" in report.errors[0]
    with sqlite3.connect(tmp_path / "a.db") as connection:
        assert connection.execute("select url, outcome from fetch order by fetched_at").fetchall() == [
            ("https://news.example.com/a.html", "new"), ("https://news.example.com/a.html", "same_raw")]
    result = CliRunner().invoke(cli, ["import-warc", str(path), "--db", f"sqlite:///{tmp_path / 'a.db'}"])
    assert result.exit_code == 1 and "broken record" in result.output


@pytest.mark.skipif(not HERITRIX.exists(), reason="../shared/fixtures is absent")
def test_real_heritrix_warc_imports_its_ten_posts(tmp_path: Path) -> None:
    posts = {p["url"]: p for p in map(json.loads, HERITRIX.with_name(
        "archiveit-bitchmagazine-2013-04-11.posts.jsonl").read_text().splitlines())}
    result = CliRunner().invoke(cli, ["import-warc", str(HERITRIX), "--db", f"sqlite:///{tmp_path / 'a.db'}"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "a.db") as connection:
        rows = connection.execute("select s.url, s.title, s.authors, substr(s.published_at, 1, 10) "
                                  "from snapshot s").fetchall()
        tag_pages = connection.execute("select count(*) from fetch where outcome = 'not_article' and "
                                       "(url like '%/tag/%' or url like '%/category/%')").fetchone()[0]
    assert {url: (title, json.loads(authors), day) for url, title, authors, day in rows} == {
        url: (p["title"], p["authors"], p["published"]) for url, p in posts.items()}
    assert tag_pages >= 40


def test_import_reads_the_charset_of_the_recorded_header(tmp_path: Path) -> None:
    """ISO-8859-2 bytes named in the recorded Content-Type header only: imported as the server meant them."""
    title = "Akcje spółek technologicznych rosną, złoty słabnie"
    html = article(title).replace('<meta charset="utf-8">', "").encode("iso-8859-2")
    path = tmp_path / "latin2.warc.gz"
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=ISO-8859-2")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record("https://news.example.pl/a.html", "response",
                                                      payload=io.BytesIO(html), http_headers=http,
                                                      warc_headers_dict={"WARC-Date": "2025-01-29T12:00:00Z"}))
    db = f"sqlite:///{tmp_path / 'a.db'}"
    result = CliRunner().invoke(cli, ["import-warc", str(path), "--db", db])
    assert result.exit_code == 0, result.output
    shown = json.loads(CliRunner().invoke(cli, ["show", "https://news.example.pl/a.html", "--db", db, "--json"]).output)
    assert shown["title"] == title


@pytest.mark.skipif(not HERITRIX.exists(), reason="../shared/fixtures is absent")
def test_real_posts_read_from_their_article_region_keep_all_their_prose(monkeypatch: pytest.MonkeyPatch) -> None:
    """trafilatura reads a post's article region alone (archive/extract/body.py): on the ten real
    posts of the Heritrix capture every paragraph of prose the whole-page read finds is kept, and
    on most the site's donation and comment box after the post is left out (on the news
    roundups the region is too small a share of the page, and the whole page is read)."""
    from archive.extract import body

    posts = {json.loads(line)["url"] for line in HERITRIX.with_name(
        "archiveit-bitchmagazine-2013-04-11.posts.jsonl").read_text().splitlines()}
    pages = {}
    with HERITRIX.open("rb") as stream:
        for record in ArchiveIterator(stream):
            url = record.rec_headers.get_header("WARC-Target-URI")
            if record.rec_type == "response" and url in posts:
                pages[url] = record.content_stream().read()
    assert len(pages) == len(posts) == 10
    trimmed = 0
    for url, raw in pages.items():
        monkeypatch.setattr(body, "REGION_SHARE", 0.5)
        region = extract(raw, url).body
        monkeypatch.setattr(body, "REGION_SHARE", 10.0)  # never the region alone: the whole page
        whole = extract(raw, url).body
        trimmed += "501(c)3 nonprofit" in whole and "501(c)3 nonprofit" not in region
        assert [p for p in missing_prose(whole, region) if "501(c)3" not in p] == [], url
    assert trimmed >= 7


def test_the_python_api_exports_warc_by_file_name_or_format(tmp_path: Path) -> None:
    """archive.open(...).export("out.warc.gz") writes WARC (it fell through to Parquet), to a path or a binary file."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    archive_with_history(url)
    with archive.open(url) as db:
        assert db.export(tmp_path / "out.warc.gz") == 4
        assert db.export(str(tmp_path / "chips.warc"), "chipmakers") == 2
        with (tmp_path / "open.bin").open("wb") as handle:
            assert db.export(handle, format="warc") == 4
    for name, responses in (("out.warc.gz", 4), ("chips.warc", 2), ("open.bin", 4)):
        with (tmp_path / name).open("rb") as handle:
            types = [record.rec_type for record in ArchiveIterator(handle)]
        assert types[0] == "warcinfo" and types.count("response") == responses, name
    assert not list(tmp_path.glob("*.part"))


def test_cli_export_warc_counts_captures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    archive_with_history(url)
    result = CliRunner().invoke(cli, ["export", "--db", url, "-o", str(tmp_path / "x.warc.gz")])
    assert result.exit_code == 0 and "wrote 4 captures" in result.output
    result = CliRunner().invoke(cli, ["export", "--db", url, "--format", "warc", "-o", "-"])
    assert result.exit_code == 1 and "WARC cannot stream to stdout: give a file name, e.g. -o out.warc.gz" in \
        result.output
