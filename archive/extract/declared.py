"""Tickers the publisher declares outside the page: a Google News sitemap's news:stock_tickers.

The publisher's own list is strong evidence ("news_sitemap"), merged into what the page shows.
Sitemaps list an article only for its first days, so a later refetch that found the article
elsewhere carries the declared tickers of the version before it forward: a sitemap dropping an
article must not look like the publisher removing its tickers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable

from archive.extract.model import Extracted, Ticker
from archive.symbols import load_universe, normalize_symbol

EVIDENCE = "news_sitemap"


def with_declared_tickers(page: Extracted, symbols: Iterable[str]) -> Extracted:
    """`page` with the declared symbols added (or their evidence added to those it found)."""
    declared = [s for s in (normalize_symbol(raw) for raw in symbols) if s]
    if not declared or not page.is_article:
        return page
    universe = load_universe()
    label = f"{universe.source} {universe.version}"
    tickers = {t.symbol: t for t in page.tickers}
    for symbol in declared:
        found = tickers.get(symbol)
        if found is None:
            listing = universe.get(symbol)
            tickers[symbol] = Ticker(symbol=symbol, exchange=listing.exchange if listing else None, mentions=0,
                                     evidence=(EVIDENCE,), validated_by=label if listing else None)
        elif EVIDENCE not in found.evidence:
            tickers[symbol] = replace(found, evidence=tuple(sorted({*found.evidence, EVIDENCE})))
    return replace(page, tickers=tuple(sorted(tickers.values(), key=lambda t: (-t.mentions, t.symbol))))


def carry_declared(page: Extracted, previous: Iterable[dict[str, Any]]) -> Extracted:
    """`page`, found without a sitemap's declaration, with the declared tickers of the previous
    version. (A page that came with a declaration stands as it is: the publisher's list may change.)"""
    if any(EVIDENCE in t.evidence for t in page.tickers):
        return page
    kept = [t["symbol"] for t in previous if EVIDENCE in (t.get("evidence") or ())]
    return with_declared_tickers(page, kept) if kept else page
