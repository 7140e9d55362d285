"""`archive demo`: serve the sample site, crawl it twice, and show what the archive kept.

Part of the CLI's composition root (it starts crawls), so it imports crawler/ lazily.
The second crawl serves `site_revised/` over `site/`: three articles edited by their
"publisher", which the archive must record as new versions and nothing else.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Callable

from archive.db import make_engine, upgrade
from archive.demo.server import SiteServer
from archive.errors import ArchiveError
from archive.export import export_rows, write_jsonl
from archive.query import Filters, counts, search
from archive.records import local_time
from archive.summaries import archive_summary, crawl_summary
from archive.text_table import render

SITE = Path(__file__).with_name("site")
REVISED = Path(__file__).with_name("site_revised")


def run_demo(db_url: str, port: int, export_path: Path, echo: Callable[[str], None] = print) -> None:
    from crawler.runner import CrawlJob, run_crawls

    engine = make_engine(db_url)
    upgrade(engine)
    try:
        server = SiteServer(SITE, port)
    except ArchiveError:
        server = SiteServer(SITE, 0)  # the usual port is taken: any free one
    with server:
        echo(f"serving the sample site at {server.url} and crawling it into {db_url}")

        def revise() -> None:
            server.overlay = REVISED
            echo("the publisher edits 3 articles; crawling again ...")

        progress = sys.stderr.isatty()
        jobs = [CrawlJob([server.url], db_url, allow_private=True, throttle=False, progress=progress),
                # The publisher's edits come seconds later here, not hours: the second crawl asks
                # for every known article again (conditionally) instead of waiting until it is due.
                CrawlJob([server.url], db_url, allow_private=True, throttle=False, progress=progress,
                         before=revise, settings={"ARCHIVE_REFRESH_AFTER": 0})]
        stats = run_crawls(jobs)
    echo("\n" + crawl_summary(stats))
    echo("\nThe archive now holds:\n" + archive_summary(counts(engine)))

    results = search(engine, Filters(tickers=("NVDA",)), limit=5)
    echo('\nSample search: archive search --ticker NVDA')
    echo(render(["id", "published", "v", "title"],
                [[a.id, local_time(s.published_at, s.published_offset_min, s.published_precision) or "-",
                  s.version, s.title] for s, a in results]))
    edited = search(engine, Filters(), limit=1000)
    edited = [(s, a) for s, a in edited if s.version > 1]
    if edited:
        echo("\nEdited articles: archive show ID --versions")
        echo(render(["id", "versions", "last change", "title"],
                    [[a.id, s.version, s.changed_fields, s.title] for s, a in edited]))
    with export_path.open("w", encoding="utf-8") as handle:
        written = write_jsonl(export_rows(engine, Filters(), all_versions=True), handle)
    echo(f"\nExported {written} versions (all) to {export_path.resolve()}")
    engine.dispose()
    echo(browse_hint(db_url))


def browse_hint(db_url: str) -> str:
    """Where the demo's archive is and how to look at it from a fresh shell, the web app last."""
    needs = "" if importlib.util.find_spec("starlette") else "   (first: pip install -e '.[web]')"
    return (f"\nThe demo's archive is {db_url} (apart from ./archive.db, which the other commands use by default)."
            "\nLook at it from the project's folder:"
            "\n  . .venv/bin/activate                      # puts `archive` on PATH"
            f"\n  export ARCHIVE_DB_URL={db_url}"
            "\n  archive search --ticker NVDA"
            "\n  archive search '\"export framework\"'"
            "\n  archive show ID --versions                 # an ID from the search"
            "\n  archive export --ticker NVDA -o nvda.csv"
            "\nBrowse it (search, attention over time, every version side by side):"
            f"\n  archive serve --db {db_url} --open{needs}")
