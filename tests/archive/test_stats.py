"""Stats: counts per site, month and ticker under the same filters as search; text bars."""

from __future__ import annotations

from archive.query import Filters, parse_bound
from archive.stats import bar, chart, collect, report
from archive.store import ArchiveStore
from tests import research


def test_counts(store: ArchiveStore) -> None:
    research.fill(store)
    stats = collect(store.engine, Filters())
    assert (stats.articles, stats.versions, stats.edited, stats.sites) == (4, 5, 1, 3)
    assert stats.per_site == [("news.example.com", 2), ("boerse.example.de", 1), ("markets.example.org", 1)]
    assert stats.per_month == [("2024-12", 1), ("2025-01", 3)]
    assert stats.top_tickers == [("AMD", 2), ("NVDA", 2), ("INTC", 1)]
    nvda = collect(store.engine, Filters(tickers=("NVDA",)), top=1)
    assert (nvda.articles, nvda.versions, nvda.per_site) == (2, 3, [("boerse.example.de", 1)])
    then = collect(store.engine, Filters(as_of=parse_bound("2025-02-01")))
    assert (then.versions, then.edited, then.top_tickers[0]) == (4, 0, ("NVDA", 2))


def test_bars_and_report() -> None:
    assert bar(10, 10, width=4) == "████"
    assert bar(5, 10, width=4) == "██"
    assert bar(1, 10, width=4) == "▍"          # 3.2 eighths, rounded
    assert bar(1, 1000, width=4) == "▏"        # never invisible when non-zero
    assert bar(0, 10) == ""
    assert chart("t", [("a", 2), ("bb", 1)], width=4).splitlines() == ["t", "  a   2  ████", "  bb  1  ██"]
    assert chart("t", []) == "t\n  (none)"


def test_report_reads_well(store: ArchiveStore) -> None:
    research.fill(store)
    text = report(collect(store.engine, Filters()))
    assert text.startswith("articles 4 · versions 5 · edited by the publisher 1 · sites 3")
    assert "articles per month published (UTC)\n  2024-12  1  " in text
    assert "█" in text
