"""Any bytes at all: extract returns a result or raises ExtractionError, nothing else (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from archive.errors import ExtractionError
from archive.extract import Extracted, extract
from tests.pages import article

TAGS = st.sampled_from(["<p>", "</p>", "<div class='byline'>", "</div>", "<article>", "<h1>", "</h1>", "<a href='/quote/",
                        "$", "(NASDAQ: ", ")", "<script type='application/ld+json'>", "{\"@type\":", "</script>",
                        "<time datetime='", "'>", "Jan 28, 2025 11:57 pm ET", "By Jane Doe and", "\x00", "\ufeff",
                        "<meta property='og:type' content='article'>", "</html>"])
HTMLISH = st.lists(st.one_of(TAGS, st.text(max_size=40)), max_size=60).map("".join)


def check(raw: bytes | str) -> None:
    try:
        result = extract(raw, "https://news.example.com/a.html")
    except ExtractionError as exc:
        assert exc.kind and str(exc)
        return
    assert isinstance(result, Extracted)
    assert isinstance(result.body, str) and all(isinstance(a, str) for a in result.authors)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_any_bytes(raw: bytes) -> None:
    check(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HTMLISH)
def test_html_like_text(text: str) -> None:
    check(text)
    check(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(article()) - 1), st.binary(min_size=1, max_size=20))
def test_a_real_page_with_bytes_spliced_in(position: int, junk: bytes) -> None:
    raw = article().encode()
    check(raw[:position] + junk + raw[position:])
