"""What extraction returns: plain frozen values, so they can cross process and thread boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from archive.urls import publisher_day

#: Bumped whenever a change to extraction can change its output; stored with every version so that
#: a re-extraction is never mistaken for the publisher editing the article.
EXTRACTOR_VERSION = "2026.12.13"

Precision = Literal["datetime", "date"]


@dataclass(frozen=True)
class Ticker:
    """A security the article itself discusses, with how many times and by what evidence."""

    symbol: str
    exchange: str | None = None
    mentions: int = 1
    evidence: tuple[str, ...] = ()
    #: The symbol universe (source and version) that lists this symbol; None when it is unlisted
    #: there (strong evidence such as a cashtag stands without it, weak evidence never does).
    validated_by: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"symbol": self.symbol, "exchange": self.exchange, "mentions": self.mentions,
                "evidence": list(self.evidence), "validated_by": self.validated_by}


@dataclass(frozen=True)
class Dated:
    """A point in time as the page gave it: `precision` says whether a time of day was shown."""

    value: datetime
    precision: Precision
    source: str
    #: A time of day the page showed without any zone ("6:47 PM"): the value stays a date, since its
    #: offset would be a guess, until the site's zone is known (`dates.in_site_zone`).
    wall_time: time | None = None

    @property
    def offset_minutes(self) -> int:
        return int((self.value.utcoffset() or timedelta(0)).total_seconds() // 60)

    def isoformat(self) -> str:
        """ISO 8601 with the page's own offset; a bare date when the page gave no time."""
        return self.value.date().isoformat() if self.precision == "date" else self.value.isoformat()


@dataclass(frozen=True)
class Extracted:
    """One page's article content and metadata, as extracted."""

    url: str
    canonical_url: str
    is_article: bool
    title: str | None = None
    authors: tuple[str, ...] = ()
    ai_generated: bool = False
    published: Dated | None = None
    updated: Dated | None = None
    site_name: str | None = None
    language: str | None = None
    description: str | None = None
    tickers: tuple[Ticker, ...] = ()
    body: str = ""
    paywalled: bool = False
    #: Correction and update notices of the body ("Correction: An earlier version ..."), in reading order.
    notes: tuple[str, ...] = ()
    extractor_version: str = EXTRACTOR_VERSION
    kind_reason: str = field(default="", compare=False)
    #: Field -> the rule that gave its value ("og:title", "json-ld author", ...): for `archive extract`.
    evidence: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def word_count(self) -> int:
        return len(self.body.split())

    @property
    def published_at(self) -> datetime | None:
        return self.published.value if self.published else None

    @property
    def published_day(self) -> date | None:
        """The publisher's calendar day (archive.urls.publisher_day): the URL's date where the page
        gives the time only in UTC and UTC moved it to the next or previous day."""
        if self.published is None:
            return None
        return publisher_day(self.published.value, self.published.offset_minutes, self.published.precision, self.url)

    @property
    def updated_at(self) -> datetime | None:
        return self.updated.value if self.updated else None
