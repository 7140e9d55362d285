"""A site's time zone through the CLI: set in the sources file or learned from the site's pages,
the publisher's day in the export, and which day --since/--until mean."""

from __future__ import annotations

import json
from pathlib import Path

from archive.demo.server import SiteServer
from tests.conftest import run_cli
from tests.pages import article

UTC_META = '<meta property="article:published_time" content="2024-12-07T02:18:11Z">'


def _page(title: str, time_text: str = "", head: str = "") -> str:
    page = article(title, time_text=time_text or "x", head=head)
    return page if time_text else page.replace('<div class="publish-date">x</div>', "")


def _site(root: Path, pages: dict[str, str]) -> None:
    (root / "a").mkdir(parents=True, exist_ok=True)
    for name, html in pages.items():
        (root / "a" / name).write_text(html, encoding="utf-8")
    links = "".join(f'<li><a href="/a/{name}">{name}</a></li>' for name in sorted(pages))
    (root / "index.html").write_text(f"<html><head><title>Latest</title></head><body><ul>{links}</ul></body></html>")


def _sources(path: Path, server: SiteServer, *extra: str) -> Path:
    path.write_text("\n".join(["[[site]]", 'name = "local"', f'start_urls = ["{server.url}"]',
                               "allow = ['^/a/']", *extra]) + "\n")
    return path


def _export(db: str, *filters: str) -> dict[str, dict]:
    out = run_cli("export", "--db", db, "--format", "jsonl", "-o", "-", *filters).stdout
    return {Path(r["url"]).name: r for r in map(json.loads, out.splitlines())}


def test_the_sources_files_timezone_and_the_day_filters_mean(tmp_path: Path) -> None:
    root, db = tmp_path / "site", f"sqlite:///{tmp_path / 'archive.db'}"
    _site(root, {"zoneless.html": _page("Chipmakers rally into the close", "Jan 28, 2025 11:57 pm"),
                 "utc.html": _page("Lawmakers vote late into the night", head=UTC_META)})
    with SiteServer(root) as server:
        sources = _sources(tmp_path / "sources.toml", server, 'timezone = "America/New_York"')
        run_cli("crawl", "--sources", str(sources), "--db", db)
    records = _export(db)
    assert records["zoneless.html"]["published_at"] == "2025-01-28T23:57:00-05:00"
    assert records["zoneless.html"]["published_precision"] == "datetime"
    assert records["utc.html"]["published_at"] == "2024-12-06T21:18:11-05:00"  # the same instant
    assert records["utc.html"]["published_day"] == "2024-12-06"

    # a bare date is that day in UTC: the New York evening of the 6th is the 7th in UTC
    assert "utc.html" not in _export(db, "--until", "2024-12-06")
    assert "utc.html" in _export(db, "--since", "2024-12-07", "--until", "2024-12-07")
    # a time with an offset is that instant: the publisher's day in New York
    assert "utc.html" in _export(db, "--since", "2024-12-06T00:00-05:00", "--until", "2024-12-06T23:59:59-05:00")

    bad = _sources(tmp_path / "bad.toml", server, 'timezone = "Mars/Olympus"')
    refused = run_cli("crawl", "--sources", str(bad), "--db", db, check=False)
    assert refused.returncode != 0 and "unknown time zone 'Mars/Olympus'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_without_a_timezone_the_sites_offset_is_learned_from_its_stored_pages(tmp_path: Path) -> None:
    root, db = tmp_path / "site", f"sqlite:///{tmp_path / 'archive.db'}"
    shown = {f"offset{n}.html": _page(f"Markets story number {n} of the week",
                                      head=f'<meta property="article:published_time" content="2025-01-2{n}T10:00:00-05:00">')
             for n in range(3)}
    _site(root, shown)
    with SiteServer(root) as server:
        sources = _sources(tmp_path / "sources.toml", server)
        run_cli("crawl", "--sources", str(sources), "--db", db)
        _site(root, {**shown, "zoneless.html": _page("Chipmakers rally into the close", "Jan 28, 2025 11:57 pm"),
                     "utc.html": _page("Lawmakers vote late into the night", head=UTC_META)})
        run_cli("crawl", "--sources", str(sources), "--db", db)
    records = _export(db)
    assert records["zoneless.html"]["published_at"] == "2025-01-28T23:57:00-05:00"
    assert records["utc.html"]["published_at"] == "2024-12-06T21:18:11-05:00"
    assert records["utc.html"]["published_day"] == "2024-12-06"
    shown_text = run_cli("show", str(records["utc.html"]["article_id"]), "--db", db).stdout
    assert "published: 2024-12-06T21:18:11-05:00" in shown_text
