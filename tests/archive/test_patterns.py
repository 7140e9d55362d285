"""archive.extract.patterns: an alternation grouped by first letter matches what the plain one does."""

from __future__ import annotations

import re

import pytest

from archive.extract.patterns import by_first_letter
from archive.extract.regions import CHROME
from archive.extract.tickers import EXCHANGES, QUALIFIED

WORDS = ("nav", "navbar", "NYSE", "NYSE ARCA", "nyseArca", "comments?", "Share", "social", "2fa")
TEXTS = ("navbar-top nav", "NYSE ARCA: SPY and nyse: X", "comment-box comments Sharebar social-links 2fa",
         "NAVBAR nAv shares", "", "no match here")


@pytest.mark.parametrize("flags", [0, re.IGNORECASE])
def test_grouped_alternation_finds_what_the_plain_one_finds(flags: int) -> None:
    for words in (WORDS, sorted(WORDS, key=len, reverse=True), WORDS[::-1]):
        plain = re.compile(rf"\b({'|'.join(words)})", flags)
        grouped = re.compile(rf"\b({by_first_letter(words, ignore_case=bool(flags))})", flags)
        for text in TEXTS:
            assert [m.span(1) for m in grouped.finditer(text)] == [m.span(1) for m in plain.finditer(text)], text


def test_every_alternative_must_open_with_a_literal() -> None:
    with pytest.raises(ValueError):
        by_first_letter(["nav", "(?:x)"])
    with pytest.raises(ValueError):
        by_first_letter(["nav", "s?ocial"])


def test_the_grouped_word_lists_in_use() -> None:
    assert [m.groups() for m in QUALIFIED.finditer("Listed on NYSE American: ABC, Nasdaq: NVDA and Euronext Paris: AIR")] \
        == [("NYSE American", "ABC"), ("Nasdaq", "NVDA"), ("Euronext Paris", "AIR")]
    assert all(QUALIFIED.fullmatch(f"{name}: ABC") for name in EXCHANGES)
    assert CHROME.search("site-navbar") and CHROME.search("breadcrumbs") and not CHROME.search("navigator")
