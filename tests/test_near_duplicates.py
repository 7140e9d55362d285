"""Distinct articles kept distinct: templated commentary about different companies is never linked as
near-duplicates, while the wire copy and the republished copy of a story are. Through a crawl of
local sites with the CLI, on the pages of support/stories.py (bench/near_duplicates.py measures them)."""

from __future__ import annotations

import itertools
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import create_engine, text

from archive import fingerprint
from archive.demo.server import SiteServer
from archive.duplicates import Story, same_story, specifics
from archive.extract import extract
from archive.store import content_fields
from support.stories import pairs, syndicated_pages, templated_pages, write_pages
from tests.conftest import run_cli


def links(db_url: str) -> set[frozenset[str]]:
    """The linked pairs (copy, original) as pairs of URL paths."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("select copy.canonical_url, original.canonical_url from article copy "
                                           "join article original on original.id = copy.duplicate_of_id")).all()
    finally:
        engine.dispose()
    return {frozenset("/" + url.split("/", 3)[3] for url in row) for row in rows}


def candidates(pages: list) -> set[frozenset[str]]:  # type: ignore[type-arg]
    """Pairs whose bodies share a MinHash band: the ones the archive's lookup can find at all."""
    bands = {p.path: set(enumerate(fingerprint.band_hashes(fingerprint.signature(
        content_fields(extract(p.html, "https://x.example" + p.path))["body"])))) for p in pages}
    return {frozenset({a, b}) for a, b in itertools.combinations(bands, 2) if bands[a] & bands[b]}


def test_templated_pages_stay_distinct_and_syndicated_copies_are_linked(tmp_path: Path) -> None:
    templated, syndicated = templated_pages(), syndicated_pages()
    folders = write_pages(tmp_path / "sites", templated + syndicated)
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    with ExitStack() as stack:
        servers = {site: stack.enter_context(SiteServer(folder)) for site, folder in folders.items()}
        result = run_cli("crawl", *(server.url for server in servers.values()), "--db", db)
    assert "Traceback" not in result.stderr
    linked = links(db)
    templated_paths = {page.path for page in templated}
    assert not any(pair & templated_paths for pair in linked), "a templated page was linked to another"
    truth = pairs(syndicated)
    findable = truth & candidates(syndicated)
    assert findable and linked == findable  # each findable copy linked to its own story, nothing else
    copy = next(p for p in syndicated if p.site == "news" and any(p.path in pair for pair in findable))
    show = run_cli("show", servers["news"].url.rstrip("/") + copy.path, "--db", db)
    assert "near-duplicate of:" in show.stdout


def test_the_rule_on_every_pair_of_the_two_sets() -> None:
    """archive.duplicates.same_story over every pair of near-duplicate bodies (no band lookup):
    no templated pair, every syndicated pair."""
    pages = templated_pages() + syndicated_pages()
    facts = {}
    for page in pages:
        url = "https://x.example" + page.path
        extracted = extract(page.html, url)
        fields = content_fields(extracted)
        facts[page.path] = (Story(url, url, fields["title"], frozenset(fields["tickers"]), extracted.published_at,
                                  fields["body"]), fingerprint.signature(fields["body"]))
    near = {frozenset({a, b}) for a, b in itertools.combinations(facts, 2)
            if fingerprint.similarity(facts[a][1], facts[b][1]) >= fingerprint.THRESHOLD}
    templated_near = {pair for pair in near if all(path.startswith("/stocks/") for path in pair)}
    assert templated_near, "the templated pages must be near-duplicates by body alone, or this proves nothing"
    accepted = {pair for pair in near if same_story(*(facts[path][0] for path in pair))}
    assert accepted == pairs(pages)


def test_specifics_are_names_and_figures_inside_sentences() -> None:
    found = specifics("Shares of Acme Corp rose 2.5% to $1,200.50 on Tuesday. Analysts were upbeat.")
    assert {"acme", "corp", "2.5", "1200.50", "tuesday"} <= found and "shares" not in found and "analysts" not in found
