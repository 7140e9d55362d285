"""A failed fetch as a short, stable error kind and a message, for the fetch record and the summary.

Scrapy and Twisted raise dozens of exception types for a handful of situations a reader of the
crawl summary cares about; this table names those situations. Unknown types fall back to their
class name in snake_case, so nothing is ever lost, only less neatly named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scrapy.exceptions import (CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError,
                               DownloadFailedError, DownloadTimeoutError, IgnoreRequest, ResponseDataLossError,
                               UnsupportedURLSchemeError)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer, error as tx_error
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed
from twisted.web.http import _DataLoss

from crawler.middlewares import RedirectLoop, RefusedRequest
from crawler.robots import RobotsUnavailable


@dataclass(frozen=True)
class FailedFetch:
    kind: str
    message: str
    status: int | None = None

    @property
    def error(self) -> str:
        """The form stored in fetch.error and counted by the crawl summary: "kind: message"."""
        return f"{self.kind}: {self.message}"


#: Exception types (checked in order, with their causes) and the kind each one means.
KINDS: list[tuple[tuple[type[BaseException], ...], str]] = [
    ((RefusedRequest,), "refused"),
    ((RedirectLoop,), "redirect_loop"),
    ((ResponseDataLossError, _DataLoss), "data_loss"),
    ((DownloadTimeoutError, tx_error.TimeoutError, defer.TimeoutError, tx_error.TCPTimedOutError), "timeout"),
    ((CannotResolveHostError, tx_error.DNSLookupError), "dns"),
    ((DownloadConnectionRefusedError, tx_error.ConnectionRefusedError), "connection_refused"),
    ((UnsupportedURLSchemeError,), "refused"),
]
_RESET = (DownloadFailedError, ResponseFailed, tx_error.ConnectionLost, tx_error.ConnectionDone,
          tx_error.ConnectionAborted, tx_error.ConnectError, ConnectionResetError, BrokenPipeError)
_TOO_LARGE = re.compile(r"max(imum)? size|DOWNLOAD_MAXSIZE", re.IGNORECASE)


#: Messages for kinds whose exceptions say little or too much.
MESSAGES = {
    "data_loss": "the connection closed before the body reached its Content-Length",
    "connection_reset": "the connection was lost before the response was complete",
}


def describe(failure: Failure, maxsize: int = 0) -> FailedFetch:
    """The kind, message and HTTP status (if any) of a failure that reached a spider's errback.

    `maxsize` is DOWNLOAD_MAXSIZE, named in the message when a download was cut off for size.
    """
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return FailedFetch(f"http_{status}", _http_message(exc), status)
    message = " ".join(str(exc).split())
    if isinstance(exc, RobotsUnavailable):
        return FailedFetch(exc.kind, message)
    chain = _chain(exc)
    for types, kind in KINDS:
        if any(isinstance(e, types) for e in chain) or (kind == "data_loss" and "_DataLoss" in message):
            return FailedFetch(kind, _message(kind, message, chain))
    if isinstance(exc, DownloadCancelledError) and (not message or _TOO_LARGE.search(message)):
        # Scrapy cancels a body that grows past DOWNLOAD_MAXSIZE without a message (it logs one).
        return FailedFetch("too_large", message or f"the body grew past DOWNLOAD_MAXSIZE ({maxsize} bytes)")
    if isinstance(exc, IgnoreRequest) and _TOO_LARGE.search(message):
        return FailedFetch("too_large", message)
    if isinstance(exc, IgnoreRequest):
        if "max redirections" in message:
            return FailedFetch("redirect_loop", "too many redirects (REDIRECT_MAX_TIMES)")
        if "robots.txt" in message:
            return FailedFetch("robots_txt", message)
        return FailedFetch("ignored", message)
    if any(isinstance(e, _RESET) for e in chain):
        return FailedFetch("connection_reset", _message("connection_reset", message, chain))
    if any(type(e).__module__.startswith("OpenSSL") for e in chain):
        return FailedFetch("tls", message or type(exc).__name__)
    return FailedFetch(_snake(type(exc).__name__), message or type(exc).__name__)


def _message(kind: str, message: str, chain: list[BaseException]) -> str:
    fixed = MESSAGES.get(kind)
    if fixed is None:
        return message or type(chain[0]).__name__
    causes = sorted({type(e).__name__ for e in chain if type(e).__module__.startswith("twisted")})
    return f"{fixed} ({', '.join(causes)})" if causes else fixed


def _http_message(exc: HttpError) -> str:
    response = exc.response
    message = f"HTTP {response.status}"
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        message += f" (Retry-After: {retry_after.decode('latin-1')[:40]})"
    return message


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (__cause__/__context__) and Twisted's wrapped reasons."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 20:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
        for reason in getattr(current, "reasons", None) or []:
            if isinstance(reason, Failure):
                todo.append(reason.value)
    return seen


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name.removesuffix("Error")).lower() or "error"
