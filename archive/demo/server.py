"""A static HTTP server for a folder of pages, on a loopback port, in a background thread.

Paths map as a static site would: `/a/` -> a/index.html, `/a/b` -> a/b.html or a/b/index.html.
`overlay` is a second folder whose files win over the first: the demo switches it on to show
the publisher editing a few articles between two crawls.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import unquote, urlsplit

from archive.errors import ArchiveError


class LoopbackServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a listen backlog for a crawler's connections at once.

    http.server asks the kernel for a backlog of 5: a crawl opening 16 connections at once had
    the rest of each burst dropped, and each dropped connection waited a second to retry its SYN
    (14 such stalls in a 2-second recrawl of the benchmark site, counted by `nstat`).
    """

    request_queue_size = 128
    daemon_threads = True


class BackgroundServer:
    """A LoopbackServer answering from a daemon thread while a `with` block runs: the demo's site
    and the tests' and benchmarks' servers are built on it (each brings its own handler)."""

    httpd: LoopbackServer
    thread: threading.Thread

    def _listen(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = LoopbackServer(address, handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class SiteServer(BackgroundServer):
    """Serve `root` (and optionally `overlay`) at http://127.0.0.1:PORT/ until stopped.

    Pages carry an ETag (a hash of their bytes) and a Last-Modified (their file's time) and
    answer conditional requests with 304, as a well-behaved publisher does; paths starting with
    one of `without_validators` get neither (a server that ignores caching). `delay` seconds
    are spent before each answer. `requests` lists the paths asked for, `conditional` those
    that came with If-None-Match or If-Modified-Since, `not_modified` those answered with 304.
    """

    def __init__(self, root: Path, port: int = 0, overlay: Path | None = None, *,
                 without_validators: tuple[str, ...] = (), delay: float = 0.0) -> None:
        self.root, self.overlay = Path(root), overlay
        self.without_validators, self.delay = without_validators, delay
        self.requests: list[str] = []
        self.conditional: list[str] = []
        self.not_modified: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.requests.append(self.path)
                if server.delay:
                    time.sleep(server.delay)
                found = server.resolve(self.path)
                if found is None:
                    self.send_error(404)
                    return
                data = found.read_bytes()
                validators = not urlsplit(self.path).path.startswith(server.without_validators or ("\0",))
                etag = f'"{hashlib.sha256(data).hexdigest()[:20]}"'
                modified = formatdate(int(found.stat().st_mtime), usegmt=True)
                asked_etag, asked_since = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
                if asked_etag or asked_since:
                    server.conditional.append(self.path)
                if validators and _unchanged(asked_etag, asked_since, etag, found.stat().st_mtime):
                    server.not_modified.append(self.path)
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset=utf-8" if kind.startswith("text/") else kind)
                self.send_header("Content-Length", str(len(data)))
                if validators:
                    self.send_header("ETag", etag)
                    self.send_header("Last-Modified", modified)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        try:
            self._listen(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise ArchiveError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}") from exc

    def resolve(self, path: str) -> Path | None:
        relative = unquote(urlsplit(path).path).lstrip("/")
        for base in ([self.overlay] if self.overlay else []) + [self.root]:
            for candidate in _candidates(base, relative):
                resolved = candidate.resolve()
                if resolved.is_file() and resolved.is_relative_to(base.resolve()):
                    return resolved
        return None


def _unchanged(asked_etag: str | None, asked_since: str | None, etag: str, mtime: float) -> bool:
    """RFC 9110: If-None-Match decides when sent; else If-Modified-Since against the file's time."""
    if asked_etag:
        return etag in [tag.strip() for tag in asked_etag.split(",")] or asked_etag.strip() == "*"
    if asked_since:
        try:
            return int(mtime) <= parsedate_to_datetime(asked_since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def _candidates(base: Path, relative: str) -> list[Path]:
    if relative == "" or relative.endswith("/"):
        return [base / relative / "index.html"]
    return [base / relative, base / f"{relative}.html", base / relative / "index.html"]
