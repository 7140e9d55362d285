"""Fetch one page outside a crawl (`archive extract URL`), with the crawl's safety.

The same address guard as the crawler (crawler.addresses: http(s) only, no local or metadata
names, no private, loopback or link-local address, checked on the address actually connected to,
after every redirect), a size limit and a timeout. Plain standard library: no reactor to start
for one page.
"""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass

from archive.errors import ArchiveError
from archive.limits import MAX_PAGE_BYTES

#: The crawl's own limits (archive/limits.py, which DOWNLOAD_MAXSIZE is set from; DOWNLOAD_TIMEOUT).
MAX_BYTES = MAX_PAGE_BYTES
TIMEOUT = 30.0


class FetchRefused(ArchiveError):
    """The page was not fetched: refused address, HTTP error, too large, timeout."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    body: bytes
    content_type: str | None


def fetch(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES, allow_private: bool = False) -> Fetched:
    """The page at `url`, or FetchRefused with one line saying why."""
    if reason := _refusal(url, allow_private):
        raise FetchRefused(f"refused {url}: {reason}")
    guard = _Guard(allow_private)
    opener = urllib.request.build_opener(guard.http_handler(), guard.https_handler(), _CheckRedirects(allow_private))
    request = urllib.request.Request(url, headers={"User-Agent": "commentary-archive (archive extract)",
                                                  "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"})
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchRefused(f"{url} is {int(declared):,} bytes, over the {max_bytes:,}-byte limit")
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchRefused(f"{url} is over the {max_bytes:,}-byte limit")
            if (response.headers.get("Content-Encoding") or "").lower() in ("gzip", "x-gzip", "deflate"):
                body = _inflate(url, body, max_bytes)
            return Fetched(response.geturl(), body, response.headers.get("Content-Type"))
    except FetchRefused:
        raise
    except urllib.error.HTTPError as exc:
        raise FetchRefused(f"{url} answered HTTP {exc.code} {exc.reason}") from exc
    except (TimeoutError, socket.timeout) as exc:
        raise FetchRefused(f"{url} did not answer within {timeout:g} s") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise FetchRefused(f"{url} did not answer within {timeout:g} s") from exc
        raise FetchRefused(f"cannot fetch {url}: {reason}") from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise FetchRefused(f"cannot fetch {url}: {exc}") from exc


def _refusal(url: str, allow_private: bool) -> str | None:
    """As the crawl's guard: with private addresses allowed (tests, local demos) only the scheme counts."""
    from crawler.addresses import ALLOWED_SCHEMES, static_refusal  # noqa: PLC0415 - no Scrapy import

    if allow_private:
        scheme = url.partition(":")[0].lower()
        return None if scheme in ALLOWED_SCHEMES else f"scheme {scheme!r} is not http(s)"
    reason = static_refusal(url)
    return f"{reason}; set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1 to allow" if reason and (
        "address" in reason or "name" in reason) else reason


def inflate(body: bytes, max_bytes: int) -> tuple[bytes, bool]:
    """(inflated, whole) for a gzip or zlib body: never more than `max_bytes + 1` of it is made, so
    a gzip bomb fills no memory. `whole` is False for a stream cut short. Raises OverflowError when
    it inflates past `max_bytes`, zlib.error when it is broken. Shared by `archive extract`'s URL
    and saved-file paths."""
    inflater = zlib.decompressobj(47)  # 32 + 15: gzip or zlib header, detected
    data = inflater.decompress(body, max_bytes + 1)
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise OverflowError(f"inflates to over {max_bytes} bytes")
    return data, inflater.eof


def _inflate(url: str, body: bytes, max_bytes: int) -> bytes:
    """A compressed body inflated, refusing one that inflates past the limit (a gzip bomb)."""
    try:
        return inflate(body, max_bytes)[0]
    except zlib.error as exc:
        raise FetchRefused(f"{url} sent a broken compressed body: {exc}") from exc
    except OverflowError:
        raise FetchRefused(f"{url} inflates to over the {max_bytes:,}-byte limit") from None


class _CheckRedirects(urllib.request.HTTPRedirectHandler):
    """Every redirect target passes the same static checks as the first URL."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if reason := _refusal(newurl, self.allow_private):
            raise FetchRefused(f"refused the redirect to {newurl}: {reason}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Guard:
    """Connection classes that check the address they actually connected to (a name that resolves
    to a public address for a check and a private one for the connection cannot slip through)."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def _check(self, sock: socket.socket, host: str) -> None:
        from crawler.addresses import is_public  # noqa: PLC0415

        address = sock.getpeername()[0]
        if not self.allow_private and not is_public(address):
            sock.close()
            raise FetchRefused(f"refused {host}: it resolves to {address}, a private address")

    def http_handler(self) -> urllib.request.HTTPHandler:
        guard = self

        class Connection(http.client.HTTPConnection):
            def connect(self) -> None:
                super().connect()
                guard._check(self.sock, self.host)

        class Handler(urllib.request.HTTPHandler):
            def http_open(self, req):  # type: ignore[no-untyped-def]
                return self.do_open(Connection, req)

        return Handler()

    def https_handler(self) -> urllib.request.HTTPSHandler:
        guard = self

        class Connection(http.client.HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                guard._check(self.sock, self.host)

        class Handler(urllib.request.HTTPSHandler):
            def https_open(self, req):  # type: ignore[no-untyped-def]
                return self.do_open(Connection, req, context=self._context)

        return Handler()
