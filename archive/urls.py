"""URL identity: one article per canonical URL, whatever tracking junk a link carried."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

from courlan import normalize_url

__all__ = ["canonical_url", "site_of", "choose_canonical"]


def canonical_url(url: str) -> str:
    """Normalise a URL for identity: scheme/host case, default port, tracking parameters, fragment.

    courlan removes utm_*, fbclid, gclid and friends and sorts the query; the fragment never
    names a different document, so it is dropped too.
    """
    normalised = normalize_url(url.strip())
    parts = urlsplit(normalised)
    path = parts.path or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def site_of(url: str) -> str:
    """The site an URL belongs to: its host (and port, when not the default) without 'www.'."""
    netloc = urlsplit(canonical_url(url)).netloc.lower()
    return netloc.removeprefix("www.")


def choose_canonical(page_url: str, declared: str | None) -> str:
    """The page's rel=canonical when it stays on the same site, else the fetched URL, normalised.

    A canonical pointing to another site (syndication partners do this) must not merge two
    publishers' articles into one identity; near-duplicate detection links those instead.
    """
    if declared:
        absolute = urljoin(page_url, declared.strip())
        if urlsplit(absolute).scheme in ("http", "https") and site_of(absolute) == site_of(page_url):
            return canonical_url(absolute)
    return canonical_url(page_url)
