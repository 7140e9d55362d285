"""Ticker rules, each on a small page of our own: strong evidence, weak evidence and chrome."""

from __future__ import annotations

import pytest

from archive.extract import extract
from archive.symbols import Listing, SymbolUniverse
from tests.pages import article

URL = "https://news.example.com/markets/story.html"
UNIVERSE = SymbolUniverse([Listing("NVDA", "NVIDIA Corp", "NASDAQ"), Listing("AI", "C3.ai", "NYSE"),
                           Listing("IT", "Gartner", "NYSE"), Listing("BRK.B", "Berkshire Hathaway", "NYSE"),
                           Listing("AP", "Ampco-Pittsburgh", "NYSE")], source="test-universe", version="1")


def tickers(extra: str, head: str = "", universe: SymbolUniverse = UNIVERSE) -> dict[str, object]:
    result = extract(article(extra=extra, head=head), URL, universe=universe)
    return {t.symbol: t for t in result.tickers}


@pytest.mark.parametrize("text, symbol, exchange, kind", [
    ("<p>Shares of $NVDA rose.</p>", "NVDA", None, "cashtag"),
    ("<p>Berkshire ($BRK.B) was flat.</p>", "BRK.B", None, "cashtag"),
    ("<p>Nvidia (NASDAQ: NVDA) rose.</p>", "NVDA", "NASDAQ", "exchange"),
    ("<p>Alibaba NYSE:BABA slipped.</p>", "BABA", "NYSE", "exchange"),
    ("<p>Apple (Nasdaq: AAPL) gained.</p>", "AAPL", "NASDAQ", "exchange"),
    ("<p>Nvidia (NASDAQ: <a href='/x'>NVDA</a>) rose.</p>", "NVDA", "NASDAQ", "exchange"),
    ("<p>Tesla Inc (<span>TSLA.O</span>) fell.</p>", "TSLA", "NASDAQ", "ric"),
    ("<p>Amazon.com (AMZN 3.60%) rose.</p>", "AMZN", None, "chip"),
    ("<p>Toyota (7203.T-JP) fell.</p>", "7203.T-JP", None, "foreign"),
    ("<p>See <a href='/quote/NVDA'>Nvidia</a>.</p>", "NVDA", None, "link"),
    ("<p>See <a href='/stocks/NYSE-BABA/'>Alibaba</a>.</p>", "BABA", "NYSE", "link"),
    ("<p>See <a href='/quote/nasdaq/amzn/'>Amazon</a>.</p>", "AMZN", "NASDAQ", "link"),
    ("<p>See <a href='/quote/BA:US'>Boeing</a>.</p>", "BA", None, "link"),
    ("<p>See <a href='/symbol/BRK-B'>Berkshire</a>.</p>", "BRK.B", None, "link"),
    ("<p>Nvidia (NVDA) rose.</p>", "NVDA", "NASDAQ", "name"),
])
def test_evidence_forms(text: str, symbol: str, exchange: str | None, kind: str) -> None:
    found = tickers(text)
    assert list(found) == [symbol]
    assert found[symbol].exchange == exchange  # type: ignore[attr-defined]
    assert kind in found[symbol].evidence  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [
    "<p>The CEO said AI demand in the US is strong and IT budgets are growing.</p>",
    "<p>Spending on Artificial Intelligence (AI) and Information Technology (IT) rose.</p>",
    "<p>SAN FRANCISCO (AP) — Shares rose.</p>",
    "<p>The stock costs $5 and the fund $12.50.</p>",
    "<p>Unlisted Corp (ZZZZ) rose.</p>",  # weak evidence, not in the universe
])
def test_words_that_are_not_tickers(text: str) -> None:
    assert tickers(text) == {}


def test_weak_evidence_needs_a_universe_that_lists_the_symbol() -> None:
    empty = SymbolUniverse([], source="empty", version="0")
    assert tickers("<p>Nvidia (NVDA) rose.</p>", universe=empty) == {}
    assert tickers("<p>C3.ai (AI) rose.</p>")["AI"].validated_by == "test-universe 1"  # type: ignore[attr-defined]


def test_validated_by_records_the_universe_and_strong_evidence_stands_alone() -> None:
    found = tickers("<p>$NVDA and $ZZZZ</p>")
    assert found["NVDA"].validated_by == "test-universe 1"  # type: ignore[attr-defined]
    assert found["ZZZZ"].validated_by is None  # type: ignore[attr-defined]


def test_navigation_tape_and_sidebar_symbols_are_not_the_articles() -> None:
    extra = ("<p>Text about $NVDA.</p><aside class='sidebar'><a href='/quote/TSLA'>TSLA</a> $AMD</aside>"
             "<div class='trending'><a href='/quote/META'>META</a></div>")
    assert list(tickers(extra)) == ["NVDA"]  # the nav tape's SPY/QQQ links are left out too


def test_stocks_mentioned_widget_outside_the_article_counts() -> None:
    page = article(extra="<p>Text.</p>").replace(
        "</main>", "<section><h2>Stocks Mentioned</h2><a href='/quote/nasdaq/amzn/'>Amazon</a></section></main>")
    found = {t.symbol: t for t in extract(page, URL, universe=UNIVERSE).tickers}
    assert list(found) == ["AMZN"] and found["AMZN"].evidence == ("widget",)


def test_json_ld_and_meta_tickers() -> None:
    head = ('<meta name="tickers" content="AMZN,ATVI">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "about": '
            '[{"@type": "Corporation", "tickerSymbol": "NYSE:BABA"}]}</script>')
    found = tickers("<p>Text.</p>", head=head)
    assert set(found) == {"AMZN", "ATVI", "BABA"}
    assert found["BABA"].exchange == "NYSE"  # type: ignore[attr-defined]


def test_mentions_are_counted() -> None:
    found = tickers("<p>$NVDA up. Nvidia (NASDAQ: NVDA) again; $NVDA.</p>")
    assert found["NVDA"].mentions == 3  # type: ignore[attr-defined]
