"""A loopback HTTP server that misbehaves on purpose: each fault the crawler must survive, by name.

Pages are served from a dict (path -> HTML) or a folder; `faults` maps a path to the fault it
serves instead (see FAULTS). `chaos` gives every request that probability of a random fault, and
`slow` a random delay up to that many seconds: bench/soak.py runs the demo site through it.
`hold_after=N` answers the first N requests (robots.txt not counted) and holds every later one
until `release()`: a test that must act while a crawl is still going (a backup, a kill, Ctrl-C)
waits for the N pages and acts, with no race against how fast a loaded machine crawls.
"""

from __future__ import annotations

import gzip
import random
import socket
import struct
import threading
import time
from collections import Counter
from functools import lru_cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

from archive.demo.server import BackgroundServer

MiB = 1024 * 1024

#: Faults a random draw may pick in chaos mode: each ends as a recorded error or a retry.
CHAOS_FAULTS = ("http_500", "http_503", "http_404", "reset", "data_loss", "truncated", "timeout",
                "http_429_once", "binary", "empty")


class FaultServer(BackgroundServer):
    """Serve pages on 127.0.0.1 until stopped, with faults by path or at random."""

    def __init__(self, pages: dict[str, bytes] | None = None, *, root: Path | None = None,
                 faults: dict[str, str] | None = None, chaos: float = 0.0, slow: float = 0.0,
                 stall_seconds: float = 60.0, seed: int = 0, host: str = "127.0.0.1",
                 redirects: dict[str, str] | None = None, hold_after: int | None = None) -> None:
        self.pages: dict[str, bytes] = dict(pages or {})
        self.root = root
        self.faults: dict[str, str] = dict(faults or {})
        self.redirects: dict[str, str] = dict(redirects or {})  # path -> Location, for the "redirect" fault
        self.chaos, self.slow, self.stall_seconds = chaos, slow, stall_seconds
        self.random = random.Random(seed)
        self.requests: list[str] = []
        self.served: Counter[str] = Counter()
        self.stopping = threading.Event()
        self.hold_after = hold_after
        self.released = threading.Event()
        self._answered = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._listen((host, 0), Handler)

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.released.set()
        super().__exit__(*exc)

    def release(self) -> None:
        """Answer the held requests and every later one (see hold_after)."""
        self.released.set()

    # -- dispatch ---------------------------------------------------------------------------
    def page(self, path: str) -> bytes | None:
        """The page at `path` as a static site would map it: /a/ -> a/index.html, /a -> a.html or a/index.html."""
        for candidate in (path, path + ".html", path.rstrip("/") + "/index.html"):
            if candidate in self.pages:
                return self.pages[candidate]
        if self.root is None:
            return None
        relative = unquote(path).lstrip("/")
        for candidate in ([self.root / relative / "index.html"] if relative in ("",) or relative.endswith("/")
                          else [self.root / relative, self.root / f"{relative}.html", self.root / relative / "index.html"]):
            resolved = candidate.resolve()
            if resolved.is_file() and resolved.is_relative_to(self.root.resolve()):
                return resolved.read_bytes()
        return None

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        with self._lock:
            self.requests.append(request.path)
            fault = self.faults.get(path)
            if fault is None and self.chaos and path not in ("/", "/robots.txt") and self.random.random() < self.chaos:
                fault = self.random.choice(CHAOS_FAULTS)
            delay = self.random.uniform(0, self.slow) if self.slow else 0.0
            self.served[fault or "ok"] += 1
            held = self.hold_after is not None and path != "/robots.txt" and self._answered >= self.hold_after
            self._answered += path != "/robots.txt"
        if held:
            self.released.wait(120)
        if delay:
            time.sleep(delay)
        try:
            FAULTS.get(fault or "ok", _ok)(self, request, path)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def wait(self, seconds: float) -> None:
        self.stopping.wait(seconds)


# -- the faults --------------------------------------------------------------------------------
Fault = Callable[[FaultServer, BaseHTTPRequestHandler, str], None]


def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
          headers: dict[str, str] | None = None, length: int | None = None) -> None:
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(body) if length is None else length))
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    request.wfile.write(body)


def _ok(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    body = server.page(path)
    if body is None:
        _send(request, 404, b"<html><body>not found</body></html>")
        return
    kind = "text/plain" if path.endswith(".txt") else "application/xml" if path.endswith(".xml") else "text/html"
    _send(request, 200, body, f"{kind}; charset=utf-8")


def _status(code: int, headers: dict[str, str] | None = None) -> Fault:
    def fault(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
        _send(request, code, f"<html><body>error {code}</body></html>".encode(), headers=headers)
    return fault


def _429_once(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """Too many requests the first time a path is asked for (Retry-After: 1), the page after that."""
    with server._lock:
        first = server.served[f"429:{path}"] == 0
        server.served[f"429:{path}"] += 1
    if first:
        _send(request, 429, b"slow down", "text/plain", {"Retry-After": "1"})
    else:
        _ok(server, request, path)


def _stall(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """Accept the request and never answer (until the server stops): a timeout."""
    server.wait(server.stall_seconds)


def _reset(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """Close with a TCP RST before any response: a connection reset."""
    request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    request.connection.close()
    request.close_connection = True


def _data_loss(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """Announce more bytes than are sent, then close."""
    body = server.page(path) or _filler_article()
    request.send_response(200)
    request.send_header("Content-Type", "text/html; charset=utf-8")
    request.send_header("Content-Length", str(len(body) * 2))
    request.end_headers()
    request.wfile.write(body[: len(body) // 2])
    request.wfile.flush()
    request.close_connection = True


def _truncated(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """Half the page, with a Content-Length that matches: only the content shows the cut."""
    body = server.page(path) or _filler_article()
    cut = body[: len(body) // 2]
    _send(request, 200, cut.rstrip(b">") + b" and the sentence stops")


def _binary(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    _send(request, 200, bytes(random.Random(path).randrange(256) for _ in range(20_000)))


def _empty(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    _send(request, 200, b"")


def _huge(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """A 10 MiB page, Content-Length announced."""
    request.send_response(200)
    request.send_header("Content-Type", "text/html; charset=utf-8")
    request.send_header("Content-Length", str(10 * MiB))
    request.end_headers()
    _stream(server, request, 10 * MiB)


def _huge_stream(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """A 10 MiB page with no Content-Length: the limit must trip while receiving."""
    request.send_response(200)
    request.send_header("Content-Type", "text/html; charset=utf-8")
    request.end_headers()
    _stream(server, request, 10 * MiB)
    request.close_connection = True


def _stream(server: FaultServer, request: BaseHTTPRequestHandler, size: int) -> None:
    chunk = b"<p>" + b"x" * 65_530 + b"</p>"
    sent = 0
    while sent < size and not server.stopping.is_set():
        request.wfile.write(chunk)
        sent += len(chunk)


def _gzip_bomb(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """A small gzip body that inflates to 64 MiB."""
    _send(request, 200, _bomb(), headers={"Content-Encoding": "gzip"})


@lru_cache(maxsize=1)
def _bomb() -> bytes:
    return gzip.compress(b"<html><body>" + b" " * (64 * MiB), compresslevel=9)


def _deep(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """100,000 nested elements around a paragraph."""
    depth = 100_000
    _send(request, 200, b"<!DOCTYPE html><html><head><title>Deep</title></head><body>" + b"<div>" * depth +
          b"<p>Deep inside.</p>" + b"</div>" * depth + b"</body></html>")


def _cp1252(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """The page in windows-1252, declared UTF-8 in the header and the <meta>."""
    text = (server.page(path) or _filler_article()).decode("utf-8")
    _send(request, 200, text.encode("cp1252", "replace"), "text/html; charset=utf-8")


def _utf16(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """The page in UTF-16 with a byte-order mark, no charset in the header."""
    text = (server.page(path) or _filler_article()).decode("utf-8")
    _send(request, 200, text.encode("utf-16"), "text/html")


def _no_charset_latin(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """windows-1252 bytes with no charset anywhere (header or page)."""
    text = (server.page(path) or _filler_article()).decode("utf-8").replace('<meta charset="utf-8">', "")
    _send(request, 200, text.encode("cp1252", "replace"), "text/html")


def _header_charset(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
    """ISO-8859-2 bytes (Central European) named in the Content-Type header alone, as many servers
    send them: a detector reads Polish text as windows-1252 ("spółek" came out "spó³ek")."""
    text = (server.page(path) or _filler_article()).decode("utf-8").replace('<meta charset="utf-8">', "")
    _send(request, 200, text.encode("iso-8859-2", "replace"), "text/html; charset=ISO-8859-2")


def _redirect(target: Callable[[str, str], str] | None = None) -> Fault:
    """A 302 to target(path, query), or to the server's `redirects[path]` when no target is given."""
    def fault(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
        request.send_response(302)
        request.send_header("Location", target(path, urlsplit(request.path).query) if target else server.redirects[path])
        request.send_header("Content-Length", "0")
        request.end_headers()
    return fault


def _headers(content_type: str = "text/html; charset=utf-8", **headers: str) -> Fault:
    """The page as it is, with a Content-Type and headers other servers would not send (values too
    long for the archive's columns: issue 20, item 3)."""
    def fault(server: FaultServer, request: BaseHTTPRequestHandler, path: str) -> None:
        _send(request, 200, server.page(path) or _filler_article(), content_type,
              {name.replace("_", "-"): value for name, value in headers.items()})
    return fault


def _filler_article() -> bytes:
    from tests.pages import article
    return article("Filler story for a fault").encode()


FAULTS: dict[str, Fault] = {
    "ok": _ok,
    "http_404": _status(404),
    "http_410": _status(410),
    "http_500": _status(500),
    "http_503": _status(503),
    "http_429_once": _429_once,
    "http_429_always": _status(429, {"Retry-After": "1"}),
    "http_429_too_long": _status(429, {"Retry-After": "3600"}),
    "timeout": _stall,
    "reset": _reset,
    "data_loss": _data_loss,
    "truncated": _truncated,
    "binary": _binary,
    "empty": _empty,
    "huge": _huge,
    "huge_stream": _huge_stream,
    "gzip_bomb": _gzip_bomb,
    "deep": _deep,
    "cp1252": _cp1252,
    "utf16": _utf16,
    "no_charset_latin": _no_charset_latin,
    "header_charset": _header_charset,
    "redirect_loop": _redirect(lambda path, query: path if query else path + "?hop=1"),
    "redirect_self": _redirect(lambda path, query: path),
    "redirect_file": _redirect(lambda path, query: "file:///etc/passwd"),
    "redirect_metadata": _redirect(lambda path, query: "http://169.254.169.254/latest/meta-data/"),
    "redirect": _redirect(),
    "long_etag": _headers(ETag='"' + "e" * 600 + '"'),
    "long_last_modified": _headers(Last_Modified="Sun, 06 Dec 2026 01:00:00 GMT" + " (edited)" * 10),
    "long_content_type": _headers("text/html; charset=utf-8" + "; profile=x" * 25),
}
