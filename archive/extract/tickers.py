"""Tickers the article itself discusses, each with its evidence; page chrome does not count.

Only strong evidence is used here: cashtags, exchange-qualified mentions, links to quote pages
and JSON-LD tickerSymbol. A bare capitalised word is never taken as a ticker.
"""

from __future__ import annotations

import re
from collections import defaultdict
from urllib.parse import urlsplit

from archive.extract.model import Ticker
from archive.extract.page import Page
from archive.extract.regions import content_elements, own_text

EXCHANGES = {"NASDAQ": "NASDAQ", "NASDAQGS": "NASDAQ", "NASDAQGM": "NASDAQ", "NASDAQCM": "NASDAQ",
             "NYSE": "NYSE", "NYSEARCA": "NYSEARCA", "NYSE AMERICAN": "NYSEAMERICAN", "AMEX": "NYSEAMERICAN",
             "NYSEAMERICAN": "NYSEAMERICAN", "OTC": "OTC", "OTCMKTS": "OTC", "CBOE": "CBOE",
             "BATS": "CBOE", "TSX": "TSX", "LSE": "LSE"}
_SYMBOL = r"[A-Z]{1,5}(?:[.\-][A-Z]{1,2})?"
CASHTAG = re.compile(rf"(?<![\w$])\$({_SYMBOL})\b(?![.\-]\d)")
QUALIFIED = re.compile(
    rf"\b({'|'.join(sorted((re.escape(e) for e in EXCHANGES), key=len, reverse=True))})\s*:\s*({_SYMBOL})\b",
    re.IGNORECASE)
QUOTE_LINK = re.compile(
    rf"/(?:quote|quotes|symbol|symbols|stock|stocks|ticker|equities)/"
    rf"(?:(?P<exchange>[A-Za-z]+)[-:])?(?P<symbol>[A-Za-z]{{1,5}}(?:[.\-][A-Za-z]{{1,2}})?)(?:\.[A-Z]{{1,2}})?/?$")


def find_tickers(page: Page, root) -> tuple[Ticker, ...]:
    """Tickers found in the article region, most-mentioned first."""
    hits: dict[str, list[tuple[str | None, str]]] = defaultdict(list)
    for element in content_elements(root):
        text = own_text(element)
        for match in CASHTAG.finditer(text):
            hits[match.group(1)].append((None, "cashtag"))
        for match in QUALIFIED.finditer(text):
            hits[match.group(2).upper()].append((EXCHANGES[match.group(1).upper()], "exchange"))
        if element.tag == "a" and (href := element.get("href")):
            if (link := _quote_link(href)):
                hits[link[0]].append((link[1], "link"))
    for obj in page.json_ld():
        for about in _as_list(obj.get("about")) + _as_list(obj.get("mentions")):
            if isinstance(about, dict) and isinstance(symbol := about.get("tickerSymbol"), str):
                exchange, _, bare = symbol.rpartition(":")
                hits[bare.strip().upper()].append((EXCHANGES.get(exchange.strip().upper()), "json-ld"))
    tickers = [
        Ticker(symbol=symbol, exchange=next((e for e, _ in found if e), None), mentions=len(found),
               evidence=tuple(sorted({kind for _, kind in found})))
        for symbol, found in hits.items()
    ]
    return tuple(sorted(tickers, key=lambda t: (-t.mentions, t.symbol)))


def _quote_link(href: str) -> tuple[str, str | None] | None:
    match = QUOTE_LINK.search(urlsplit(href).path)
    if not match:
        return None
    exchange = match.group("exchange")
    return match.group("symbol").upper(), EXCHANGES.get(exchange.upper()) if exchange else None


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value] if value else []
