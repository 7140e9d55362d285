"""Extraction fuzzing: whatever bytes arrive, `extract` returns an Extracted or raises ExtractionError
(its one documented exception), quickly, and what it returns survives the trip to another process.

Inputs: arbitrary bytes and text, generated HTML (nested tags, attributes, entities, scripts,
JSON-LD, meta and time elements, broken markup), and mutations of real pages: the fixture pages
in ../shared/fixtures/pages (when present) and the bundled demo site. The time bound asserted here
is per page on one core; in a crawl, ExtractorPool enforces ARCHIVE_EXTRACT_TIMEOUT regardless.
"""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from archive.errors import ExtractionError
from archive.extract import Extracted, extract
from tests.conftest import FIXTURES

DEMO = Path(__file__).resolve().parents[2] / "archive" / "demo" / "site"
#: Seconds one page may take here; generous for slow CI machines, far below a stall.
TIME_BOUND = 10.0
EXAMPLES = int(os.environ.get("ARCHIVE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
URL = "https://news.example.com/markets/2025/01/story.html"


def real_pages() -> list[bytes]:
    pages = sorted(DEMO.rglob("*.html"))[::4]
    if FIXTURES.is_dir():
        pages += sorted(FIXTURES.glob("*.html"))
    return [p.read_bytes() for p in pages]


PAGES = real_pages()


def extract_or_refuse(data: bytes | str, url: str = URL) -> Extracted | None:
    """The property every test checks: the result, or ExtractionError; nothing else, never slowly."""
    started = time.process_time()  # CPU time: other work on a loaded machine does not count against it
    try:
        result = extract(data, url)
    except ExtractionError as exc:
        assert exc.kind and isinstance(exc.kind, str)
        result = None
    elapsed = time.process_time() - started
    assert elapsed < TIME_BOUND, f"extraction took {elapsed:.1f} CPU s"
    if result is not None:
        assert isinstance(result, Extracted)
        assert pickle.loads(pickle.dumps(result)) == result  # it crosses to the crawl process
        for text in (result.title or "", result.body, *result.authors):
            assert "\x00" not in text
    return result


# -- generated input -----------------------------------------------------------------------------
TAGS = ["p", "div", "span", "article", "main", "section", "header", "footer", "nav", "aside", "h1", "h2", "a",
        "time", "ul", "li", "table", "tr", "td", "script", "style", "noscript", "iframe", "svg", "figure",
        "figcaption", "blockquote", "pre", "br", "img", "meta", "link", "title", "template", "math", "select"]
ATTRS = ["class", "id", "href", "src", "datetime", "content", "property", "name", "itemprop", "rel", "lang",
         "type", "charset", "style", "data-x", "onload", "dir"]
WORDS = st.sampled_from(["NVDA", "$AAPL", "(NASDAQ: MSFT)", "By Jane Doe", "Jan 28, 2025 11:57 pm ET",
                         "2025-01-28T23:57:00-05:00", "&amp;", "&nbsp;", "&#0;", "&#x1F600;", "&bogus;", "<!--",
                         "-->", "<![CDATA[", "]]>", "</", "<", ">", "\"", "'", "\u202e", "\ufeff", "\x00", "\x1b[2J",
                         "Updated", "Reuters", "café", "—", "\r\n", "  ", "javascript:alert(1)"])
TEXT = st.one_of(st.text(max_size=80), WORDS)


@st.composite
def attributes(draw: st.DrawFn) -> str:
    pairs = draw(st.lists(st.tuples(st.sampled_from(ATTRS), TEXT), max_size=4))
    quote = draw(st.sampled_from(['"', "'", ""]))
    return "".join(f" {name}={quote}{value}{quote}" for name, value in pairs)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                               st.sampled_from(["@type", "@graph", "headline", "author", "name", "datePublished",
                                                "dateModified", "about", "tickerSymbol", "mentions", "url"]),
                               inner, max_size=5), max_leaves=20)


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0 or depth > 6:
        return draw(TEXT)
    if kind == 1:
        data = json.dumps(draw(JSON_VALUES), allow_nan=True)
        return f'<script type="application/ld+json">{data if draw(st.booleans()) else data[: len(data) // 2]}</script>'
    tag = draw(st.sampled_from(TAGS))
    children = draw(st.lists(elements(depth + 1), max_size=4))  # type: ignore[call-arg]
    close = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", "", "</p>", f"</{tag.upper()} >"]))
    return f"<{tag}{draw(attributes())}>{''.join(children)}{close}"


@st.composite
def documents(draw: st.DrawFn) -> str:
    head = "".join(draw(st.lists(elements(4), max_size=5)))  # type: ignore[call-arg]
    body = "".join(draw(st.lists(elements(), min_size=1, max_size=8)))  # type: ignore[call-arg]
    doctype = draw(st.sampled_from(["<!DOCTYPE html>", "", "<?xml version='1.0'?>", "<!doctype html SYSTEM 'x'>"]))
    end = draw(st.sampled_from(["</body></html>", "", "</html>", "</body>"]))
    return f"{doctype}<html><head>{head}</head><body>{body}{end}"


ENCODINGS = st.sampled_from(["utf-8", "utf-16", "utf-16-le", "cp1252", "latin-1", "shift_jis", "utf-32", "koi8-r"])


@FUZZ
@given(st.binary(max_size=4000))
def test_arbitrary_bytes(data: bytes) -> None:
    extract_or_refuse(data)


@FUZZ
@given(st.text(max_size=2000), ENCODINGS)
def test_arbitrary_text_in_any_encoding(text: str, encoding: str) -> None:
    extract_or_refuse(text.encode(encoding, "replace"))
    extract_or_refuse(text)


@FUZZ
@given(documents(), ENCODINGS, st.sampled_from([URL, "https://xn--caf-dma.example/ü?q=1#f", "http://[::1]:8080/x",
                                                 "https://news.example.com/" + "a/" * 300]))
def test_generated_html(document: str, encoding: str, url: str) -> None:
    extract_or_refuse(document.encode(encoding, "replace"), url)


# -- mutated real pages -----------------------------------------------------------------------------
@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    page = bytearray(draw(st.sampled_from(PAGES)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "delete", "duplicate", "insert", "flip", "swap", "nest", "unclose"]))
        n = len(page)
        a = int(draw(st.floats(0, 1)) * max(n - 1, 0))  # anywhere in the page, not mostly at its start
        b = min(n, a + draw(st.integers(0, 20_000)))
        if op == "truncate":
            del page[max(a, n // 2):]
        elif op == "delete":
            del page[a:b]
        elif op == "duplicate":
            page[a:a] = page[a:b] * draw(st.integers(1, 5))
        elif op == "insert":
            page[a:a] = draw(st.binary(min_size=1, max_size=200) | WORDS.map(lambda w: w.encode("utf-8")))
        elif op == "flip":
            for i in range(a, min(b, a + 50)):
                page[i] ^= draw(st.integers(1, 255))
        elif op == "swap":
            c = int(draw(st.floats(0, 1)) * max(n - 1, 0))
            page[a:b], page[c:c] = b"", bytes(page[a:b])
        elif op == "nest":
            depth = draw(st.integers(100, 20_000))
            page[a:a] = b"<div><span>" * depth
        else:
            page = bytearray(bytes(page).replace(b"</", b"<", draw(st.integers(1, 50))))
    return bytes(page)


@pytest.mark.skipif(not PAGES, reason="no pages to mutate")
@FUZZ
@given(mutations())
def test_mutated_real_pages(page: bytes) -> None:
    extract_or_refuse(page)


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting(depth: int) -> None:
    extract_or_refuse(b"<html><body>" + b"<div>" * depth + b"<p>Deep.</p>" + b"</div>" * depth + b"</body></html>")


@pytest.mark.parametrize("junk", [b"<" * 200_000, b"<a " * 100_000, b"&#" * 200_000, b"<!--" * 100_000,
                                  b"<p>" + b"x" * 2_000_000 + b"</p></body></html>",
                                  b"<html><body>" + b"<p>word " * 30_000 + b"</body></html>"])
def test_pathological_shapes(junk: bytes) -> None:
    extract_or_refuse(junk)
