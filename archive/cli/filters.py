"""The filter options that search, export and stats share, on top of base.filter_options.

One decorator, so that the three commands accept exactly the same filters and the same
spelling of them; values become an archive.query.Filters in one place.
"""

from __future__ import annotations

from typing import Any, Callable

import click

from archive.cli.base import filter_options
from archive.query import Filters, parse_bound


def research_filters(func: Callable[..., Any]) -> Callable[..., Any]:
    """--ticker/--site/--since/--until (base), plus --author, --language, --ai-generated, --edited,
    --has-notes, --removed, --as-of."""
    options = [
        click.option("--author", "authors", multiple=True,
                     help="Only articles by this author (part of the name, any case; repeatable)."),
        click.option("--language", "languages", multiple=True,
                     help="Only this language, e.g. en (also matches en-US; repeatable)."),
        click.option("--ai-generated/--not-ai-generated", "ai_generated", default=None,
                     help="Only articles whose byline says an AI wrote them (or only those it does not)."),
        click.option("--edited", "--has-versions", "edited", is_flag=True,
                     help="Only articles the publisher edited after the first version."),
        click.option("--has-notes", "has_notes", is_flag=True,
                     help="Only versions whose body carries a publisher's correction or update notice "
                          "(\"Correction:\", \"Editor's note:\", \"An earlier version of this article ...\"): "
                          "the `notes` field."),
        click.option("--removed", "removed", is_flag=True,
                     help="Only articles the publisher took down (404/410 or a redirect away, seen twice an hour "
                          "apart) and has not put back."),
        click.option("--as-of", "as_of",
                     help="Read each article as it stood at this instant: the latest version fetched by then "
                          "(ISO 8601, e.g. 2025-02-01T00:00Z; a bare date is 00:00 UTC; now)."),
    ]
    for option in reversed(options):
        func = option(func)
    return filter_options(func)


def build_filters(text: str | None, *, tickers: tuple[str, ...], sites: tuple[str, ...], since: str | None,
                  until: str | None, authors: tuple[str, ...], languages: tuple[str, ...],
                  ai_generated: bool | None, edited: bool, as_of: str | None, has_notes: bool = False,
                  removed: bool = False) -> Filters:
    """Filters from the options above (a malformed query or date raises BadInput: one line)."""
    return Filters(text=text or None, tickers=tickers, sites=sites, since=parse_bound(since),
                   until=parse_bound(until, end=True), authors=authors, languages=languages,
                   ai_generated=ai_generated, edited=edited, has_notes=has_notes, as_of=parse_bound(as_of),
                   removed=removed)
