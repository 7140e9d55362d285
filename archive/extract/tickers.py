"""Tickers the article itself discusses, each with its evidence; page chrome does not count.

Strong evidence stands on its own: cashtags, exchange-qualified mentions, RIC codes and price
chips in the text, links to quote pages inside the article or in a "stocks mentioned" widget,
JSON-LD tickerSymbol and a `tickers` meta tag. Weak evidence, a capitalised word in brackets
after a name ("Nvidia (NVDA)"), counts only when the symbol universe lists it and the word is
not simply the initials of the name before it ("Artificial Intelligence (AI)"). A bare
capitalised word on its own is never a ticker.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Iterable
from urllib.parse import parse_qsl, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from archive.extract.model import Ticker
from archive.extract.page import Page
from archive.extract.patterns import by_first_letter
from archive.extract.regions import content_elements, content_text
from archive.symbols import SymbolUniverse, normalize_symbol

EXCHANGES = {"NASDAQ": "NASDAQ", "NASDAQGS": "NASDAQ", "NASDAQGM": "NASDAQ", "NASDAQCM": "NASDAQ",
             "NYSE": "NYSE", "NYSEARCA": "NYSEARCA", "NYSE ARCA": "NYSEARCA", "NYSE AMERICAN": "NYSEAMERICAN",
             "AMEX": "NYSEAMERICAN", "NYSEAMERICAN": "NYSEAMERICAN", "NYSEMKT": "NYSEAMERICAN",
             "OTC": "OTC", "OTCMKTS": "OTC", "OTCQX": "OTC", "OTCQB": "OTC", "CBOE": "CBOE", "BATS": "CBOE",
             "TSX": "TSX", "TSXV": "TSXV", "LSE": "LSE", "LON": "LSE", "ETR": "XETRA", "XETRA": "XETRA",
             "FRA": "FRA", "EPA": "EPA", "AMS": "AMS", "TYO": "TSE", "TSE": "TSE", "HKG": "HKEX", "HKEX": "HKEX",
             "ASX": "ASX", "NSE": "NSE", "BSE": "BSE", "SIX": "SIX", "BIT": "BIT",
             # Euronext's markets by name, and Asian and other exchanges press releases name
             "EURONEXT PARIS": "EPA", "EURONEXT AMSTERDAM": "AMS", "EURONEXT BRUSSELS": "EBR", "KRX": "KRX",
             "KOSDAQ": "KOSDAQ", "SGX": "SGX", "TWSE": "TWSE", "SZSE": "SZSE", "JSE": "JSE", "BME": "BME",
             "NZX": "NZX", "TASE": "TASE",
             # ISO 10383 market identifier codes, as quote pages' addresses carry them (/stocks/xnas/nvda)
             "XNAS": "NASDAQ", "XNYS": "NYSE", "ARCX": "NYSEARCA", "XASE": "NYSEAMERICAN", "XLON": "LSE",
             "XTSE": "TSX", "XETR": "XETRA", "XPAR": "EPA", "XAMS": "AMS", "XTKS": "TSE", "XHKG": "HKEX",
             "XASX": "ASX", "XSWX": "SIX", "XMIL": "BIT"}
#: Reuters instrument code suffixes of non-US listings ("7203.T", "BP.L", "VOW3.DE", "SHOP.TO"): the
#: code is kept whole, as shown, with the exchange its suffix names.
RIC_SUFFIXES = {"T": "TSE", "L": "LSE", "PA": "EPA", "DE": "XETRA", "F": "FRA", "AS": "AMS", "BR": "EBR",
                "MI": "BIT", "MC": "BME", "SW": "SIX", "S": "SIX", "ST": "STO", "CO": "CPH", "OL": "OSL",
                "HE": "HEL", "LS": "ELI", "VI": "VIE", "TO": "TSX", "V": "TSXV", "AX": "ASX", "NZ": "NZX",
                "HK": "HKEX", "SS": "SSE", "SZ": "SZSE", "KS": "KRX", "KQ": "KOSDAQ", "TW": "TWSE",
                "SI": "SGX", "NS": "NSE", "BO": "BSE", "JK": "IDX", "BK": "SET", "KL": "BURSA", "SA": "B3",
                "MX": "BMV", "JO": "JSE", "IS": "BIST", "WA": "GPW"}
_US_VENUES = {"NASDAQ", "NYSE", "NYSEARCA", "NYSEAMERICAN", "OTC", "CBOE"}
#: Reuters instrument codes: TSLA.O is Nasdaq, BAC.N is NYSE.
RIC_EXCHANGES = {"O": "NASDAQ", "OQ": "NASDAQ", "N": "NYSE", "K": "NYSE"}
_SYMBOL = r"[A-Z]{1,5}(?:[.\-][A-Z]{1,2})?"
#: A non-US code with a Reuters suffix: letters with digits ("VOW3"), or a Tokyo/Hong Kong number.
#: Reuters marks a share class in the code itself, kept as shown: "_p" a preferred share
#: ("VOWG_p.DE", "HNKG_p.DE"), a lower-case letter a class ("RDSa.L", "BTa.L").
_FOREIGN_CODE = r"(?:[A-Z][A-Z0-9]{0,5}(?:_p)?|[A-Z][A-Z0-9]{1,5}[a-z]|\d{3,6})\.(?:" + "|".join(sorted(
    ("T", "L", "PA", "DE", "F", "AS", "BR", "MI", "MC", "SW", "S", "ST", "CO", "OL", "HE", "LS", "VI", "TO", "V",
     "AX", "NZ", "HK", "SS", "SZ", "KS", "KQ", "TW", "SI", "NS", "BO", "JK", "BK", "KL", "SA", "MX", "JO", "IS",
     "WA"), key=len, reverse=True)) + ")"
#: Dow Jones's form of a non-US listing (Barron's, MarketWatch, The Wall Street Journal): the local
#: code and the country, "Rheinmetall (RHM.Germany)", "Toyota (7203.Japan)", kept as shown. The
#: country names no single exchange, so none is recorded.
_COUNTRY_CODE = r"(?:[A-Z][A-Z0-9]{0,5}|\d{3,6})\.(?:" + "|".join(sorted(
    ("Germany", "Japan", "UK", "France", "Switzerland", "Canada", "Australia", "Hong Kong", "Netherlands", "Italy",
     "Spain", "Sweden", "Denmark", "Norway", "Finland", "Belgium", "Austria", "Ireland", "Portugal", "Korea",
     "South Korea", "Taiwan", "India", "China", "Singapore", "Brazil", "Mexico", "Israel", "South Africa",
     "New Zealand"), key=len, reverse=True)) + ")"
COUNTRY_LISTING = re.compile(rf"\(\s*({_COUNTRY_CODE})\s*\)")
SYMBOL = re.compile(rf"^(?:{_SYMBOL}|(?:\d{{3,6}}|[A-Z]{{1,5}})(?:\.[A-Z]{{1,2}})?-[A-Z]{{2}}|{_FOREIGN_CODE}|{_COUNTRY_CODE})$")
# Each text regex begins with a lookahead for the characters a match can start with: it changes
# no match, and spares the regex engine trying the whole pattern at every character of the text
# (a third to half of each search's time).
CASHTAG = re.compile(rf"(?=\$)(?<![\w$])\$({_SYMBOL})\b(?![.\-]\d)")
_EXCHANGE_NAMES = by_first_letter(sorted((re.escape(e) for e in EXCHANGES), key=len, reverse=True), ignore_case=True)
_EXCHANGE_INITIALS = "".join(sorted({e[0] for e in EXCHANGES}))
QUALIFIED = re.compile(rf"\b(?=[{_EXCHANGE_INITIALS}])({_EXCHANGE_NAMES})\s*:\s*({_SYMBOL}|[A-Z0-9]{{1,6}})\b(?![.\-]\d)",
                       re.IGNORECASE)
_FOREIGN_CODE_RE = re.compile(rf"^{_FOREIGN_CODE}$")
_LOCAL_CODE = re.compile(r"^[A-Z0-9]{1,6}$")
#: Non-US Reuters codes in brackets: "Larsen & Toubro (LART.NS)", "Toyota (7203.T)".
FOREIGN_RIC = re.compile(rf"\(\s*({_FOREIGN_CODE})\s*\)")
# Inline markup often wraps the symbol ("Tesla (<span>TSLA.O</span>)"), so brackets allow spaces.
RIC = re.compile(r"\(\s*([A-Z]{1,5})\.(OQ|O|N|K)\s*\)")
PRICE_CHIP = re.compile(rf"\(\s*({_SYMBOL})\s+[-+]?\d+(?:\.\d+)?%\s*\)")
#: CNBC's non-US forms, kept as shown: "Toyota (7203.T-JP)", "Santos (STO-AU)".
FOREIGN = re.compile(r"\(\s*((?:\d{3,6}|[A-Z]{1,5})(?:\.[A-Z]{1,2})?-(?:[A-Z]{2}))\s*\)")
NAMED = re.compile(rf"(?=[A-Z])((?:[A-Z][\w&'’.\-]*\s+){{1,5}})\(\s*({_SYMBOL})\s*\)")
QUOTE_PATH = re.compile(r"/(?:quote|quotes|symbol|symbols|stock|stocks|ticker|equities|companies)/(.+)$", re.IGNORECASE)
#: Path segments that name a view of a quote page, not the security: /stock/quote/NVDA,
#: /stock/NVDA/summary, /stocks/xnas/nvda/quote.
_QUOTE_VIEWS = {"quote", "quotes", "summary", "overview", "chart", "charts", "profile", "financials", "statistics",
                "key-statistics", "analysis", "forecast", "dividends", "earnings", "options", "history"}
#: Headings of widgets that list the article's securities, wherever the page puts them.
WIDGET_HEADING = re.compile(r"^(?:related (?:stocks|tickers|securities|quotes)|stocks? mentioned|tickers? mentioned|"
                            r"stocks? in this (?:article|story)|quotes? in this (?:article|story)|"
                            r"in this (?:article|story)|companies in this (?:article|story)|securities in this article|"
                            r"tickers? in this (?:article|story)|mentioned in this article)\b", re.IGNORECASE)
_WIDGET_CLASS_WORDS = ("related-stocks", "relatedstocks", "stocks-mentioned", "ticker-list", "article-tickers",
                       "mentioned-stocks", "stocks-in-story", "quotes-in-article")
WIDGET_CLASS = re.compile("|".join(_WIDGET_CLASS_WORDS), re.IGNORECASE)

Hits = dict[str, list[tuple[str | None, str]]]


def find_tickers(page: Page, root: HtmlElement, universe: SymbolUniverse | None = None,
                 body: str = "") -> tuple[Ticker, ...]:
    """Tickers found in the article region and its widgets, most-mentioned first.

    `body`, the article text as extracted, is read for strong textual evidence too: where the
    region found by its paragraphs is not the one the article's text is in (a press release beside
    a longer sidebar), the symbols it shows are still the article's.
    """
    hits: Hits = defaultdict(list)
    text = content_text(root)
    _from_text(text, hits)
    if body:
        in_body: Hits = defaultdict(list)
        _from_text(body, in_body)
        for symbol, found in in_body.items():
            hits.setdefault(symbol, found)
    for element in content_elements(root):
        for name in ("data-symbol", "data-ticker", "data-ticker-symbol"):
            if (value := element.get(name)) and value.strip():
                _add(hits, value, None, "data-attribute")
    _from_json_islands(page, text + " " + body, hits)
    for table in (e for e in content_elements(root) if e.tag == "table"):
        _from_quote_table(table, hits)
    if universe is not None:
        _from_names(text, hits, universe)
    for element in content_elements(root):
        _from_link(element, hits, "link")
    for widget in _widgets(page):
        for link in widget.iter("a"):
            _from_link(link, hits, "widget")
    for obj in page.json_ld():
        for about in _as_list(obj.get("about")) + _as_list(obj.get("mentions")):
            if isinstance(about, dict) and isinstance(symbol := about.get("tickerSymbol"), str):
                exchange, _, bare = symbol.rpartition(":")
                _add(hits, bare, EXCHANGES.get(exchange.strip().upper()), "json-ld")
    for value in page.meta_all("tickers", "stock_tickers", "news:stock_tickers"):
        in_brackets = re.findall(r"\(([^()]{1,24})\)", value)  # "Home Depot(HD)"
        for token in in_brackets or re.split(r"[,;\s]+", value):
            exchange, _, bare = token.rpartition(":")
            _add(hits, bare, EXCHANGES.get(exchange.upper()), "meta")
    label = f"{universe.source} {universe.version}" if universe is not None else None
    tickers = [
        Ticker(symbol=symbol, exchange=next((e for e, _ in found if e), None), mentions=len(found),
               evidence=tuple(sorted({kind for _, kind in found})),
               validated_by=label if universe is not None and symbol in universe else None)
        for symbol, found in hits.items()
    ]
    return tuple(sorted(tickers, key=lambda t: (-t.mentions, t.symbol)))


def _from_text(text: str, hits: Hits) -> None:
    for match in CASHTAG.finditer(text):
        _add(hits, match.group(1), None, "cashtag")
    for match in QUALIFIED.finditer(text):
        exchange, symbol = EXCHANGES[" ".join(match.group(1).upper().split())], match.group(2)
        if not symbol.isupper() and not symbol.isdigit():
            continue  # "NYSE: shares fell": a word, not a symbol
        _add(hits, symbol, exchange, "exchange")
    for match in RIC.finditer(text):
        _add(hits, match.group(1), RIC_EXCHANGES[match.group(2)], "ric")
    for match in PRICE_CHIP.finditer(text):
        _add(hits, match.group(1), None, "chip")
    for match in FOREIGN.finditer(text):
        _add(hits, match.group(1), None, "foreign")
    for match in FOREIGN_RIC.finditer(text):
        _add(hits, match.group(1), RIC_SUFFIXES[match.group(1).rpartition(".")[2]], "foreign")
    for match in COUNTRY_LISTING.finditer(text):
        _add(hits, match.group(1), None, "foreign")


#: Keys of a page's own JSON state that name the article's securities; "symbol"/"ticker" alone are
#: also what market tapes use, so they count only when the article's text shows the symbol too.
_ISLAND_LIST_KEYS = {"tickers", "stocktickers", "relatedtickers", "tickersymbols", "primaryticker", "tickersymbol"}
_ISLAND_PAIR = re.compile('"(' + by_first_letter(("tickers?", "symbol", "tickerSymbols?", "stockTickers", "relatedTickers",
                                                   "primaryTicker"), ignore_case=True) + r')"\s*:\s*'
                          r'("[^"]{1,24}"|\[[^\]]{1,400}\])', re.IGNORECASE)


def _from_json_islands(page: Page, text: str, hits: Hits) -> None:
    """Symbols in the page's JSON data (`<script>` state, not JSON-LD, which has its own rule)."""
    words: set[str] | None = None  # the text's capitalised words, read at the first "symbol"-like key
    for script in page.tree.iter("script"):
        if script.get("type") == "application/ld+json":
            continue
        source = script.text  # each .text is a new copy of the script's text: read once
        if not source or '"' not in source:
            continue
        for match in _ISLAND_PAIR.finditer(source):
            key = match.group(1).lower()
            raw = match.group(2)
            try:
                values = json.loads(raw)
            except ValueError:
                continue
            for value in values if isinstance(values, list) else [values]:
                if not isinstance(value, str):
                    continue  # a list of objects (scores, names): not a plain list of symbols
                exchange, _, symbol = value.strip().rpartition(":")
                if key not in _ISLAND_LIST_KEYS:  # "symbol" or "ticker": only if the text shows it
                    if words is None:
                        words = set(re.findall(r"[A-Z][A-Z0-9.\-]{0,9}", text))
                    if symbol.upper() not in words:
                        continue
                _add(hits, symbol, EXCHANGES.get(exchange.upper()), "json")


_SYMBOL_COLUMN = re.compile(r"^(?:symbol|ticker|ticker symbol|code)$", re.IGNORECASE)


def _from_quote_table(table: HtmlElement, hits: Hits) -> None:
    """A quote table inside the article ("Symbol | Last | Change"): each row's symbol cell."""
    rows = [row for row in table.iter("tr")]
    if not rows:
        return
    header = [" ".join(cell.text_content().split()) for cell in rows[0] if cell.tag in ("th", "td")]
    column = next((i for i, name in enumerate(header) if _SYMBOL_COLUMN.match(name)), None)
    if column is None:
        return
    for row in rows[1:]:
        cells = [cell for cell in row if cell.tag in ("th", "td")]
        if column < len(cells) and (value := cells[column].text_content().strip()) and value == value.upper():
            exchange, _, symbol = value.rpartition(":")
            _add(hits, symbol, EXCHANGES.get(exchange.strip().upper()), "table")


def _from_names(text: str, hits: Hits, universe: SymbolUniverse) -> None:
    """Weak evidence: "Name (SYM)" where the universe lists SYM and SYM is not the name's initials."""
    for match in NAMED.finditer(text):
        words, symbol = match.group(1).split(), match.group(2)
        initials = "".join(word[0] for word in words).upper()
        dateline = all(word.isupper() for word in words)  # "SAN FRANCISCO (AP) —"
        if symbol in hits or dateline or initials.endswith(symbol.replace(".", "")) or \
                (listing := universe.get(symbol)) is None:
            if symbol in hits:
                hits[symbol].append((None, "name"))
            continue
        _add(hits, listing.symbol, listing.exchange, "name")


def _from_link(element: HtmlElement, hits: Hits, kind: str) -> None:
    if element.tag == "a" and (href := element.get("href")) and (found := quote_link(href)):
        _add(hits, found[0], found[1], kind)


def _add(hits: Hits, symbol: str, exchange: str | None, kind: str) -> None:
    """Count one piece of evidence; symbols take one form (BRK-B, BRK/B -> BRK.B), foreign ones stay as shown."""
    symbol = symbol.strip() if kind == "foreign" else symbol.strip().upper()  # "VOWG_p.DE" as shown
    if kind == "exchange" and exchange not in _US_VENUES and _LOCAL_CODE.match(symbol):
        hits[symbol].append((exchange, kind))  # "TYO:7203", "ETR:VOW3": the local code as shown
        return
    if kind != "foreign" and not _FOREIGN_CODE_RE.match(symbol):
        symbol = normalize_symbol(symbol) or ""
    elif (suffix := symbol.rpartition(".")[2]) in RIC_SUFFIXES and _FOREIGN_CODE_RE.match(symbol):
        exchange = exchange or RIC_SUFFIXES[suffix]
    if SYMBOL.match(symbol):
        hits[symbol].append((exchange, kind))


def quote_link(href: str) -> tuple[str, str | None] | None:
    """(symbol, exchange) for links to quote pages: /quote/NVDA, /stocks/NYSE-BABA/, /quote/nasdaq/amzn/,
    /quote/BA:US (symbol:country), /stock/slv#NYSE, /quote/TSLA.O (RIC)."""
    parts = urlsplit(href)
    if parts.query and (found := _query_symbol(parts.path, parts.query)):
        return found
    match = QUOTE_PATH.search(parts.path.rstrip("/"))
    if not match:
        return None
    segments = [segment for segment in match.group(1).split("/") if segment.lower() not in _QUOTE_VIEWS]
    if match.group(0).lower().startswith("/companies/") and not (segments and segments[-1].isupper()):
        return None  # /companies/ names a security only as a code written in capitals (/companies/NVDA.O)
    exchange = EXCHANGES.get(parts.fragment.upper())
    if len(segments) == 2 and segments[0].upper() in EXCHANGES:
        exchange, token = EXCHANGES[segments[0].upper()], segments[1]
    elif len(segments) == 1:
        token = segments[0]
    else:
        return None
    head, sep, tail = token.partition(":") if ":" in token else token.partition("-")
    if sep and head.upper() in EXCHANGES:
        exchange, token = EXCHANGES[head.upper()], tail
    elif sep == ":" and tail.upper() in EXCHANGES:
        exchange, token = EXCHANGES[tail.upper()], head  # Google Finance's SYMBOL:EXCHANGE
    elif sep == ":" and len(tail) == 2:
        token = head  # Bloomberg's SYMBOL:COUNTRY
    base, dot, suffix = token.rpartition(".")
    if dot and suffix.upper() in RIC_EXCHANGES:
        token, exchange = base, exchange or RIC_EXCHANGES[suffix.upper()]
    if not SYMBOL.match(token.upper()) or (token.islower() and len(token) > 5):
        return None
    return token.upper(), exchange


#: Query parameters that name a security on quote pages: ?symbol=GILD, ?stockTicker=X, ?ticker=X;
#: ?s= and ?sym= only on a quote-like path (WordPress searches with ?s=).
_QUERY_NAMES = {"symbol", "symbols", "stockticker", "ticker", "tickers", "sym", "s", "qsymbol"}
_QUOTE_LIKE_PATH = re.compile(r"quote|symbol|stock|ticker|overview|market|chart|finance", re.IGNORECASE)


def _query_symbol(path: str, query: str) -> tuple[str, str | None] | None:
    for name, value in parse_qsl(query):
        key = name.lower()
        if key not in _QUERY_NAMES or (key in ("s", "sym") and not _QUOTE_LIKE_PATH.search(path)):
            continue
        exchange, _, token = value.strip().rpartition(":")
        if exchange and len(token) == 2 and token.upper() not in EXCHANGES:
            if token != "US":
                continue  # Bloomberg's SYMBOL:COUNTRY outside the US: the form names no listing we can keep
            exchange, token = "", exchange
        # as written: upper case ("?ticker=a" is an A-Z index of quote pages, not a symbol)
        if token and token == token.upper() and (SYMBOL.match(token) or _FOREIGN_CODE_RE.match(token)):
            base, dot, suffix = token.rpartition(".")
            if dot and suffix in RIC_EXCHANGES:
                return base, RIC_EXCHANGES[suffix]
            return token, EXCHANGES.get(exchange.upper()) or (RIC_SUFFIXES.get(suffix) if dot else None)
    return None


#: Short texts (widget headings are 10 to 44 characters) and class attributes, as plain strings:
#: a first pass that makes no element objects, since most pages have no widget at all.
#: Script and style text is never a heading, and normalising a large script's text was most of the pass.
_SHORT_TEXTS = "//text()[not(parent::script or parent::style)][string-length(normalize-space(.)) > 9]" \
               "[string-length(normalize-space(.)) < 45]"
_PLAIN_SHORT_TEXTS = etree.XPath(_SHORT_TEXTS, smart_strings=False)
_PLAIN_CLASSES = etree.XPath("//@class", smart_strings=False)


def _widgets(page: Page) -> Iterable[HtmlElement]:
    """Containers of "Stocks mentioned"-like widgets that are not inside navigation or a market tape."""
    if any(WIDGET_HEADING.match(" ".join(text.split())) for text in _PLAIN_SHORT_TEXTS(page.tree)):
        for node in page.tree.xpath(_SHORT_TEXTS):
            heading = node.getparent()
            if heading is not None and WIDGET_HEADING.match(" ".join(node.split())):
                if heading.tag in ("a", "span", "strong", "b") and heading.getparent() is not None:
                    heading = heading.getparent()
                if (parent := heading.getparent()) is not None and not _inside_chrome(parent, allow_self=True):
                    yield parent
    # all class values at once: a regex per value cost as much as reading them
    classes = "\n".join(_PLAIN_CLASSES(page.tree)).lower()
    if any(word in classes for word in _WIDGET_CLASS_WORDS):
        for element in page.tree.xpath("//*[@class]"):
            if WIDGET_CLASS.search(element.get("class", "")) and not _inside_chrome(element, allow_self=True):
                yield element


def _inside_chrome(element: HtmlElement, allow_self: bool = False) -> bool:
    node = element if not allow_self else element.getparent()
    while node is not None:
        if isinstance(node.tag, str) and node.tag in ("nav", "header", "footer") and node.getparent() is not None \
                and node.getparent().tag == "body":
            return True
        if isinstance(node.tag, str) and node.tag == "nav":
            return True
        node = node.getparent()
    return False


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value] if value else []
