"""A rel=canonical is a claim, not proof: a same-site page that claims another article's URL must
not become a version of it unless the claimed page agrees (same title, or a near-duplicate body)
or the claim comes from the canonical URL itself. Through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from archive.demo.server import SiteServer
from tests.conftest import run_cli
from tests.pages import article

STORY = "Chipmakers rally as data-center demand stays hot"
FORGED = ["Reader comment: this stock is going to the moon, buy now before it is too late, everyone.",
          "Another reader: the company has been fined and its chief executive resigned this morning.",
          "A third reader: guidance was cut in half and the dividend suspended, sources say."] * 3


def query(db_url: str, sql: str, **params: object) -> list[tuple]:  # type: ignore[type-arg]
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def write(root: Path, name: str, html: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html)


def test_a_forged_canonical_does_not_make_a_version_and_a_true_one_still_maps(db_url: str, tmp_path: Path) -> None:
    root = tmp_path / "site"
    write(root, "index.html", '<html><body><a href="/news/8.html">8</a></body></html>')
    write(root, "news/8.html", article(STORY, time_text="Jan 28, 2025 11:57 pm ET"))
    with SiteServer(root) as server:
        run_cli("crawl", server.url, "--db", db_url)
        site = server.url.rstrip("/")
        canonical = '<link rel="canonical" href="/news/8.html">'
        # A comments page claiming the story's URL, with other text, another date and a ticker.
        write(root, "comments.html", article("Readers discuss the chip rally", paragraphs=FORGED, head=canonical,
                                             time_text="Feb 3, 2025 9:00 am ET", extra="<p>$NVDA to zero</p>"))
        # The story itself under another address (an AMP copy) and with a tracking query: both the same text.
        write(root, "amp/news/8.html", article(STORY, time_text="Jan 28, 2025 11:57 pm ET", head=canonical))
        write(root, "index.html", '<html><body><a href="/news/8.html">8</a> <a href="/comments.html">c</a> '
                                  '<a href="/amp/news/8.html">amp</a> <a href="/news/8.html?utm_source=x">t</a>'
                                  '</body></html>')
        result = run_cli("crawl", server.url, "--db", db_url, "--refresh-after", "0s")
    assert "Traceback" not in result.stderr
    story, = query(db_url, "select id from article where canonical_url = :u", u=f"{site}/news/8.html")[0]
    versions = query(db_url, "select version, url, origin from snapshot where article_id = :a", a=story)
    assert versions == [(1, f"{site}/news/8.html", "fetch")]  # no forged version 2
    comments, claim = query(db_url, "select a.id, s.unverified_canonical from article a join snapshot s "
                                    "on s.article_id = a.id where a.canonical_url = :u", u=f"{site}/comments.html")[0]
    assert comments != story and claim == f"{site}/news/8.html"  # kept as its own page, the claim recorded
    amp = query(db_url, "select article_id, outcome from \"fetch\" where url = :u", u=f"{site}/amp/news/8.html")
    assert amp == [(story, "unchanged")]  # the claimed page agrees: the copy maps to the story
    tracked = query(db_url, "select article_id from \"fetch\" where url like :u", u=f"{site}/news/8.html?%")
    assert tracked in ([], [(story,)])  # the crawler may drop the tracking query before fetching
    show = run_cli("show", f"{site}/news/8.html", "--db", db_url)
    assert "Readers discuss" not in show.stdout
