"""Each site's time zone: set in the sources file, or learned from the offsets its pages show.

A page that gives its time without a zone, or only in UTC, says nothing of the publisher's clock;
the site's other pages often do ("2024-12-06T17:00:00-05:00"). The zone is what makes such a time
an instant and settles the publisher's calendar day (archive.extract.dates.in_site_zone).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta, timezone, tzinfo
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from archive.extract.model import Dated, Extracted

#: Pages with an offset needed before a site's offset is trusted, and the share the commonest offset
#: must hold among them (a site in a zone with summer time shows two offsets across a year).
MIN_PAGES = 3
MIN_SHARE = 0.6
#: The site's pages remembered per crawl (the archive gives the start: its newest versions).
MAX_SEEN = 200


def learned_zone(offsets: Iterable[int]) -> tzinfo | None:
    """The fixed offset most of a site's pages show (minutes east of UTC; 0, UTC, says nothing), or None."""
    counts = Counter(o for o in offsets if o)
    if sum(counts.values()) < MIN_PAGES:
        return None
    offset, count = counts.most_common(1)[0]
    return timezone(timedelta(minutes=offset)) if count >= MIN_SHARE * sum(counts.values()) else None


def needs_zone(page: Extracted) -> bool:
    """True when a zone would change the page's times: one shown without a zone, or only in UTC."""
    return any(_zoneless_or_utc(d) for d in (page.published, page.updated))


def _zoneless_or_utc(dated: Dated | None) -> bool:
    if dated is None:
        return False
    if dated.precision == "date":
        return dated.wall_time is not None
    return dated.value.utcoffset() == timedelta(0)


def own_offset(page: Extracted) -> int | None:
    """The offset the page itself gave with its publication time (not one a site zone supplied)."""
    dated = page.published
    if dated is None or dated.precision != "datetime" or "site zone" in dated.source:
        return None
    return dated.offset_minutes or None


class SiteZones:
    """Zones by site for one crawl: the sources file's, else learned from the site's stored versions
    (`stored_offsets(site)`, read once a site) and the pages extracted since."""

    def __init__(self, stored_offsets: Callable[[str], list[int]]) -> None:
        self.stored_offsets = stored_offsets
        self.seen: dict[str, list[int]] = {}

    def known(self, site: str) -> bool:
        return site in self.seen

    def load(self, site: str) -> None:
        """Read the site's stored offsets (a database read: call it off the reactor thread)."""
        if site not in self.seen:
            self.seen[site] = list(self.stored_offsets(site))[:MAX_SEEN]

    def observe(self, site: str, page: Extracted) -> None:
        offset = own_offset(page)
        if offset is not None:
            seen = self.seen.setdefault(site, [])
            seen.insert(0, offset)
            del seen[MAX_SEEN:]

    def zone(self, site: str, configured: str | None = None) -> tzinfo | None:
        """The sources file's zone, else the learned one (None: unknown; `load` the site first)."""
        if configured:
            return ZoneInfo(configured)
        return learned_zone(self.seen.get(site, ()))
