"""URL identity: one article per canonical URL, whatever tracking junk a link carried."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import urljoin, urlsplit, urlunsplit

from courlan import normalize_url

__all__ = ["canonical_url", "site_of", "choose_canonical", "MAX_URL_BYTES", "storable_url", "too_long", "url_day",
           "publisher_day"]

#: The longest URL the archive keeps, in UTF-8 bytes (its URL columns are VARCHAR(2048), and a
#: PostgreSQL btree index, as on fetch.url and article.canonical_url, holds about 2,700 bytes a row).
#: Scrapy follows links up to 2,083 characters and a redirect or a WARC record may name any length:
#: a page at a longer URL is recorded as one `url_too_long` error, never stored under a cut URL.
MAX_URL_BYTES = 2048
#: Characters no URL may hold raw (ASCII controls and space): WHATWG's URL parser percent-encodes them.
_CONTROLS = re.compile(r"[\x00-\x20\x7f]")


def canonical_url(url: str) -> str:
    """Normalise a URL for identity: scheme/host case, default port, tracking parameters, fragment.

    courlan removes utm_*, fbclid, gclid and friends and sorts the query; the fragment never
    names a different document, so it is dropped too.
    """
    normalised = normalize_url(url.strip())
    parts = urlsplit(normalised)
    path = parts.path or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def storable_url(url: str) -> str:
    """`url` with control characters and spaces percent-encoded, as a browser would send it: a NUL
    in a WARC-Target-URI is refused by PostgreSQL, and stored as-is by SQLite."""
    url = url.strip()
    return _CONTROLS.sub(lambda m: f"%{ord(m.group()):02X}", url) if _CONTROLS.search(url) else url


def too_long(url: str) -> bool:
    """Whether `url` is over MAX_URL_BYTES (the archive records its page as a url_too_long error)."""
    return len(url) > MAX_URL_BYTES // 4 and len(url.encode("utf-8", "surrogatepass")) > MAX_URL_BYTES


def site_of(url: str) -> str:
    """The site an URL belongs to: its host (and port, when not the default) without 'www.'."""
    netloc = urlsplit(canonical_url(url)).netloc.lower()
    return netloc.removeprefix("www.")


def choose_canonical(page_url: str, declared: str | None) -> str:
    """The page's rel=canonical when it stays on the same site, else the fetched URL, normalised.

    A canonical pointing to another site (syndication partners do this) must not merge two
    publishers' articles into one identity; near-duplicate detection links those instead. One
    too long to keep is ignored. Even a same-site canonical is only a claim: the archive accepts
    it when the claimed page agrees (ArchiveStore, `_identity`).
    """
    if declared:
        try:
            absolute = canonical_url(urljoin(page_url, storable_url(declared)))
        except ValueError:  # a malformed address (a bad port, an unclosed IPv6 bracket)
            return canonical_url(page_url)
        if urlsplit(absolute).scheme in ("http", "https") and site_of(absolute) == site_of(page_url) \
                and not too_long(absolute):
            return absolute
    return canonical_url(page_url)


#: /2016/12/19/, /2016-12-19, /20161219/ in a URL's path.
_URL_DATE = re.compile(r"/((?:19|20)\d{2})([/-]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?=/|[^\d]|$)")


def url_day(url: str) -> date | None:
    """The publication day a URL's path gives, if any: the publisher's own record of its calendar day."""
    match = _URL_DATE.search(url.split("?")[0])
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(3)), int(match.group(4)))
    except ValueError:
        return None


def publisher_day(value: datetime | None, offset_min: int | None, precision: str | None, url: str) -> date | None:
    """The publisher's calendar day of a stored publication time (UTC `value`, aware or naive).

    The day in the publisher's own offset; where the time is known only in UTC (offset 0) and the
    URL's date is the day before or after, the URL's date: the publisher's local day, which UTC
    moved (`.../2024/12/06/...` published at 2024-12-07T02:18Z is the 6th).
    """
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None) - (value.utcoffset() or timedelta(0))
    local = value + timedelta(minutes=offset_min or 0)
    day = local.date()
    if precision == "datetime" and not offset_min:
        in_url = url_day(url)
        if in_url is not None and abs((in_url - day).days) == 1:
            return in_url
    return day
