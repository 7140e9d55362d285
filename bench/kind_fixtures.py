"""Article / not-article over the fixture pages (all of them articles), and each page's link
density: what the link-density rule in archive.extract.kind was measured on.

    python bench/kind_fixtures.py [--show-densest 10]
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from archive.errors import ExtractionError
from archive.extract import extract
from archive.extract.kind import link_share
from archive.extract.page import load_page
from archive.extract.regions import article_root, drop_navigation, memo, wrapper_limit

#: ../shared/fixtures beside the checkout (or beside a parent folder of it: a worktree under wt/).
FIXTURES = next((folder / "shared" / "fixtures" for folder in Path(__file__).resolve().parents[1:]
                 if (folder / "shared" / "fixtures").is_dir()), Path("../shared/fixtures"))


def pages() -> list[tuple[str, str, bytes]]:
    """(id, url, html) of every fixture page: the corpus and the hand-checked pages."""
    found = []
    for folder in (FIXTURES / "corpus", FIXTURES / "pages"):
        for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            data = (folder / entry["file"]).read_bytes()
            url = entry["url"] or f"https://{entry.get('site') or 'example.com'}/fixture/{entry['id']}"  # a few have none
            found.append((entry["id"], url, gzip.decompress(data) if entry["file"].endswith(".gz") else data))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show-densest", type=int, default=10)
    args = parser.parse_args()
    rows = []
    failed = []
    for page_id, url, html in pages():
        try:
            extracted = extract(html, url)
        except ExtractionError as exc:
            failed.append(f"{page_id}: {exc.kind}")
            continue
        page = load_page(html, url)
        with memo():
            drop_navigation(page)  # as extraction measures it
            density = link_share(article_root(page), wrapper_limit(page))
        rows.append((density, page_id, extracted.is_article, extracted.kind_reason))
    articles = sum(1 for r in rows if r[2])
    print(f"{len(rows)} fixture pages (all articles): {articles} classified article, {len(rows) - articles} not; "
          f"{len(failed)} not extracted ({', '.join(failed)})")
    for density, page_id, is_article, reason in sorted(rows, reverse=True)[:args.show_densest]:
        print(f"  {density:.2f}  {page_id:30} {'article' if is_article else 'NOT article'}: {reason}")
    for page_id, reason in sorted((r[1], r[3]) for r in rows if not r[2]):
        print(f"  not article: {page_id}: {reason}")


if __name__ == "__main__":
    main()
