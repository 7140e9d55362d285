"""Precision and recall of the near-duplicate link (`duplicate_of`) on templated and syndicated pages.

Usage:  python bench/near_duplicates.py [--companies 12]

The pages are support/stories.py's: commentary pages made from one template about different
companies (no two may be linked), and news stories served twice, as the wire copy and a
newspaper's republished copy (each pair must be linked). Every page is extracted and saved into a
fresh SQLite archive through ArchiveStore.save, the crawler's path, in page order; a link joins a
copy to its original ("archive"). For comparison, on the same pages: the body-only rule the archive
used before archive/duplicates.py ("body only": MinHash Jaccard >= THRESHOLD among the candidates
the band lookup finds), and archive.duplicates' rule over all pairs of near-duplicate bodies,
without the band lookup ("all pairs": what the rule itself gets right, apart from the lookup,
which misses a pair now and then: 16 bands of 8 rows find a pair at Jaccard 0.8 98% of the time).

Precision: the share of linked pairs that are the same story (1.0 when nothing is linked);
recall: the share of same-story pairs that are linked (templated pages have none: "-").
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from archive import fingerprint  # noqa: E402
from archive.duplicates import Story, same_story  # noqa: E402
from archive.extract import extract  # noqa: E402
from archive.models import Article  # noqa: E402
from archive.store import ArchiveStore, Capture, content_fields  # noqa: E402
from support.stories import Page, pairs, syndicated_pages, templated_pages  # noqa: E402

HOSTS = {"markets": "https://markets.example.org", "wire": "https://wire.example.com",
         "news": "https://dailyledger.example.net"}


def url_of(page: Page) -> str:
    return HOSTS[page.site] + page.path


def archived_links(pages: list[Page]) -> set[frozenset[str]]:
    """The pairs of paths the archive links (copy -> original), after saving every page."""
    with tempfile.TemporaryDirectory() as folder:
        store = ArchiveStore.open(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            at = datetime(2025, 1, 28, 23, 0, tzinfo=timezone.utc)
            for page in pages:
                store.save(extract(page.html, url_of(page)), Capture(url=url_of(page), fetched_at=at,
                                                                      raw=page.html.encode()))
            with Session(store.engine) as session:
                urls = dict(session.execute(select(Article.id, Article.canonical_url)).all())
                linked = session.execute(select(Article.id, Article.duplicate_of_id)
                                         .where(Article.duplicate_of_id.is_not(None))).all()
        finally:
            store.close()
    path = {url_of(page): page.path for page in pages}
    return {frozenset({path[urls[a]], path[urls[b]]}) for a, b in linked}


def _facts(pages: list[Page]) -> dict[str, tuple[Story, Any]]:
    """Each page's story facts (archive.duplicates) and body signature, as the archive computes them."""
    found = {}
    for page in pages:
        extracted = extract(page.html, url_of(page))
        fields = content_fields(extracted)
        found[page.path] = (Story(url_of(page), url_of(page), fields["title"], frozenset(fields["tickers"]),
                                  extracted.published_at, fields["body"]), fingerprint.signature(fields["body"]))
    return found


def body_only_links(pages: list[Page], *, lookup: bool = True) -> set[frozenset[str]]:
    """The pairs the body-only rule links: MinHash similarity at or above THRESHOLD, among the
    candidates the band lookup finds (`lookup`; else among all pairs)."""
    facts = _facts(pages)
    return {frozenset({a, b}) for a, b in itertools.combinations(facts, 2)
            if _near(facts[a][1], facts[b][1], lookup)}


def rule_links(pages: list[Page]) -> set[frozenset[str]]:
    """The pairs archive.duplicates.same_story accepts among all near-duplicate bodies (no band
    lookup): the rule's own precision and recall, apart from the lookup's misses."""
    facts = _facts(pages)
    return {frozenset({a, b}) for a, b in itertools.combinations(facts, 2)
            if _near(facts[a][1], facts[b][1], False) and same_story(facts[a][0], facts[b][0])}


def _near(a: Any, b: Any, lookup: bool) -> bool:
    if a is None or b is None or fingerprint.similarity(a, b) < fingerprint.THRESHOLD:
        return False
    return not lookup or any(x == y for x, y in zip(fingerprint.band_hashes(a), fingerprint.band_hashes(b)))


def scores(linked: set[frozenset[str]], truth: set[frozenset[str]]) -> tuple[float, float | None]:
    precision = len(linked & truth) / len(linked) if linked else 1.0
    recall = len(linked & truth) / len(truth) if truth else None
    return precision, recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=12, help="templated pages (at most 12)")
    args = parser.parse_args()
    sets = {"templated": templated_pages(args.companies), "syndicated": syndicated_pages()}
    sets["both"] = sets["templated"] + sets["syndicated"]
    print(f"{'set':<11} {'pages':>5} {'same-story pairs':>16}   {'rule':<10} {'links':>5} {'precision':>9} {'recall':>6}")
    for name, pages in sets.items():
        truth = pairs(pages)
        for rule, linked in (("body only", body_only_links(pages)), ("archive", archived_links(pages)),
                             ("all pairs", rule_links(pages))):
            precision, recall = scores(linked, truth)
            print(f"{name:<11} {len(pages):>5} {len(truth):>16}   {rule:<10} {len(linked):>5} {precision:>9.2f} "
                  f"{'-' if recall is None else f'{recall:.2f}':>6}")


if __name__ == "__main__":
    main()
