"""Downloader middlewares: the address guard that keeps the crawler out of private networks."""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

log = logging.getLogger(__name__)


class PrivateAddressGuard:
    """Refuse non-HTTP schemes and loopback, private, link-local and reserved IP literals.

    Lifted only by ARCHIVE_ALLOW_PRIVATE_ADDRESSES (tests and the demo). Names that resolve to
    private addresses and redirects into them are checked by the reliability work (issue 6).
    """

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "PrivateAddressGuard":
        return cls(crawler.settings.getbool("ARCHIVE_ALLOW_PRIVATE_ADDRESSES"))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            raise IgnoreRequest(f"refused: scheme {parts.scheme!r} is not http(s)")
        if self.allow_private:
            return None
        host = (parts.hostname or "").lower()
        if host == "localhost" or host.endswith(".localhost") or _is_private_ip(host):
            raise IgnoreRequest(f"refused: {host} is a private or loopback address "
                                "(set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow)")
        return None


def _is_private_ip(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global
