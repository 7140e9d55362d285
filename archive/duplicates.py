"""When two near-identical bodies are the same story: the rule behind `duplicate_of`.

Body MinHash (archive.fingerprint) finds pages that share most of their word 3-grams. That is
true of a syndicated copy, and also of templated market commentary: "Apple (AAPL) rose 2.3% to
$187.40 ..." and "Tesla (TSLA) fell 1.1% to $242.10 ..." share every sentence but the names and
figures. A researcher dropping duplicates must not lose the second one, so a body match is linked
only when the two pages also agree beyond the body, and nothing says they are about different things:

- a contradiction vetoes the link: both name tickers and none is shared, or the specifics of the
  bodies (names and figures: capitalised words inside sentences, numbers) mostly differ;
- an agreement is needed: a shared canonical URL, similar titles, the same tickers, or publication
  times close together (a wire story and its republished copies appear within days).

bench/near_duplicates.py measures the rule on templated pages and on syndicated copies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

#: Share of the two bodies' specifics (names, figures) in common below which they are about different things.
SPECIFICS_AGREE = 0.4
#: Share of title words in common from which two titles are the same headline (a copy may add or drop a word or two).
TITLE_AGREE = 0.6
#: Publication times at most this far apart: a copy of the same story (a wire story is republished within days).
CLOSE_IN_TIME = timedelta(days=3)

_WORD = re.compile(r"\w+", re.UNICODE)
#: A figure ("2.3", "187.40", "1,200"), or a capitalised word that does not open a sentence.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_INNER_NAME = re.compile(r"(?<=[^\s.!?:;\"“(\[])\s+([A-Z][\w&'’.-]*)")


@dataclass(frozen=True)
class Story:
    """What the rule compares of one article: its latest version's facts."""

    url: str
    canonical_url: str
    title: str | None
    tickers: frozenset[str]
    published_at: datetime | None
    body: str


def same_story(a: Story, b: Story) -> bool:
    """Whether two articles whose bodies are near-duplicates are the same story (see the module)."""
    if a.tickers and b.tickers and not a.tickers & b.tickers:
        return False
    if _overlap(specifics(a.body), specifics(b.body)) < SPECIFICS_AGREE:
        return False
    return (_shared_canonical(a, b) or title_similarity(a.title, b.title) >= TITLE_AGREE
            or (bool(a.tickers) and a.tickers == b.tickers)
            or (a.published_at is not None and b.published_at is not None
                and abs(a.published_at - b.published_at) <= CLOSE_IN_TIME))


def specifics(body: str) -> set[str]:
    """The names and figures of a body: what differs between two pages made from one template."""
    found = {number.replace(",", "") for number in _NUMBER.findall(body)}
    found |= {name.rstrip(".'’").casefold() for name in _INNER_NAME.findall(body)}
    return found


def title_similarity(a: str | None, b: str | None) -> float:
    """Share of words in common (Jaccard) of two titles; 0 when either is missing."""
    if not a or not b:
        return 0.0
    return _overlap(set(_WORD.findall(a.casefold())), set(_WORD.findall(b.casefold())))


def _overlap(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0  # nothing to tell them apart by
    return len(a & b) / len(a | b)


def _shared_canonical(a: Story, b: Story) -> bool:
    return a.canonical_url == b.canonical_url or a.canonical_url == b.url or b.canonical_url == a.url
