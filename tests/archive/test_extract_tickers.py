"""Ticker evidence classes on pages of our own: each form a real financial site uses, and chrome that is not the article's."""

from __future__ import annotations

import json

import pytest

from archive.extract import extract
from tests.pages import article

URL = "https://news.example.com/markets/chips.html"
#: Chrome every page below carries: a market tape and a trending box with quote links and data attributes.
CHROME = ('<div class="market-tape"><a href="/quote?symbol=SPY">SPY</a> <span data-symbol="QQQ">QQQ</span></div>'
          '<aside class="trending"><a href="/quotes/?symbol=AMZN">Amazon</a></aside>')


def tickers(extra: str = "", head: str = "") -> dict[str, object]:
    page = article(extra=extra, head=head).replace("<main>", "<main>" + CHROME)
    return {t.symbol: t for t in extract(page, URL).tickers}


@pytest.mark.parametrize("href, symbol", [
    ("/quotes/?symbol=GILD", "GILD"),
    ("https://markets.example.com/quote?stockTicker=MSFT", "MSFT"),
    ("/stocks/quote.php?s=AMD", "AMD"),
    ("/research/overview?ticker=AKAM", "AKAM"),
    ("/quote/NVDA", "NVDA"),
    # a view of the quote page around the symbol, an ISO 10383 market code, Google Finance's
    # SYMBOL:EXCHANGE, a Reuters code under /companies/
    ("https://www.example.com/stock/quote/NVDA", "NVDA"),
    ("https://www.example.com/stock/NVDA/summary", "NVDA"),
    ("https://www.example.com/stocks/xnas/nvda/quote", "NVDA"),
    ("https://www.example.com/finance/quote/NVDA:NASDAQ", "NVDA"),
    ("https://www.example.com/markets/companies/NVDA.O", "NVDA"),
])
def test_in_article_quote_links_with_the_symbol_in_query_or_path(href: str, symbol: str) -> None:
    found = tickers(f'<p>Shares of <a href="{href}">the company</a> rose.</p>')
    assert set(found) == {symbol}


def test_quote_links_that_name_no_security() -> None:
    """A company page by name, a quote index, a view alone: no symbol."""
    links = ('<p><a href="/companies/apple">Apple</a> <a href="/stock/quote/">Quotes</a> '
             '<a href="/stocks/summary">Markets</a> <a href="/stocks/market-news">News</a></p>')
    assert tickers(links) == {}


def test_query_parameters_that_are_not_symbols() -> None:
    assert tickers('<p><a href="/?s=chips">Search</a> <a href="/markets/quotes?ticker=a">A</a></p>') == {}


def test_a_stocks_in_this_story_module_and_a_quote_table() -> None:
    module = ('<div class="story-quotes"><h4>Stocks in this story</h4>'
              '<a href="/quote/INTC">Intel</a> <a href="/quote/TSM">TSMC</a></div>')
    table = ('<table><tr><th>Symbol</th><th>Last</th><th>Change</th></tr>'
             '<tr><td>MU</td><td>101.20</td><td>+2.1%</td></tr><tr><td>NYSE:TXN</td><td>190.00</td><td>-0.4%</td></tr></table>')
    found = tickers(module + table)
    assert set(found) == {"INTC", "TSM", "MU", "TXN"}
    assert "table" in found["MU"].evidence and found["TXN"].exchange == "NYSE"


def test_json_data_islands_and_json_ld_mentions() -> None:
    state = {"article": {"id": 7, "tickers": ["AAPL", "AVGO"], "symbol": "XOM"}}
    head = f'<script>window.__STATE__ = {json.dumps(state)};</script>'
    ld = {"@type": "NewsArticle", "mentions": [{"@type": "Corporation", "tickerSymbol": "NASDAQ:ADBE"}]}
    head += f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    found = tickers(head=head)
    assert set(found) == {"AAPL", "AVGO", "ADBE"}  # a lone "symbol" is kept only when the text shows it
    assert found["ADBE"].exchange == "NASDAQ"
    shown = tickers("<p>Exxon (XOM) gained.</p>", head=head)
    assert "XOM" in shown


def test_data_symbol_attributes_in_the_article() -> None:
    found = tickers('<p><span class="ticker" data-symbol="HD">Home Depot</span> said sales rose.</p>')
    assert set(found) == {"HD"} and found["HD"].evidence == ("data-attribute",)


@pytest.mark.parametrize("text, symbol, exchange", [
    ("Airbus (AIR-FR) climbed.", "AIR-FR", None),
    ("Volkswagen (VOW3.DE) slipped.", "VOW3.DE", "XETRA"),
    ("Toyota (7203.T) rose.", "7203.T", "TSE"),
    ("Shopify (SHOP.TO) rallied.", "SHOP.TO", "TSX"),
    ("Shopify (TSX:SHOP) rallied.", "SHOP", "TSX"),
    ("Toyota (TYO:7203) rose.", "7203", "TSE"),
    ("Berkshire (NYSE: BRK.B) held.", "BRK.B", "NYSE"),
    ("Shell (NYSE: RDS-A) fell.", "RDS.A", "NYSE"),
    ("Larsen (LART.NS) gained.", "LART.NS", "NSE"),
    ("Volkswagen (VOWG_p.DE) slipped.", "VOWG_p.DE", "XETRA"),  # Reuters: a preferred share
    ("Shell (RDSa.L) fell.", "RDSa.L", "LSE"),  # Reuters: a share class
    ("Rheinmetall (RHM.Germany) rose.", "RHM.Germany", None),  # Dow Jones: code and country
    ("Tencent (700.Hong Kong) rose.", "700.Hong Kong", None),
    ("Airbus (Euronext Paris: AIR) climbed.", "AIR", "EPA"),  # a market named in words
    ("Samsung Electronics (KRX: 005930) rose.", "005930", "KRX"),
])
def test_non_us_and_suffixed_forms_kept_with_their_exchange(text: str, symbol: str, exchange: str | None) -> None:
    found = tickers(f"<p>{text}</p>")
    assert set(found) == {symbol}
    assert found[symbol].exchange == exchange


def test_codes_kept_as_shown_are_found_by_the_ticker_filter(tmp_path) -> None:
    from archive.api import Archive
    from archive.store import ArchiveStore

    url = f"sqlite:///{tmp_path / 'a.db'}"
    store = ArchiveStore.open(url)
    page = article(extra="<p>Rheinmetall (RHM.Germany) and Volkswagen (VOWG_p.DE) rose.</p>")
    store.save(extract(page, URL))
    store.close()
    with Archive.open(url) as archive:
        for asked in ("RHM.Germany", "VOWG_p.DE", "$RHM.Germany"):
            assert [v.url for v in archive.search(ticker=asked)] == [URL], asked
        assert not archive.search(ticker="RHM")
