"""A loopback site that keeps an access log the way a publisher would see the crawler: for every
request its start and end and how many requests were in flight when it started. Politeness tests
read their figures from it.

The start is the kernel's receive time of the request's first bytes (SO_TIMESTAMPNS), not the
moment a busy server thread gets to read them: on a loaded machine the thread may run tens of
milliseconds late, which would shorten the gap to the next request. The end is taken just before
the last bytes of the answer are written, before the client can have them. So the server's window
for a request lies inside the client's, and the in-flight counts it reports are never more than
the crawler really had open.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from archive.demo.server import BackgroundServer
from tests.pages import article, listing

#: Slack for comparing gaps between starts: the clock's granularity and the loopback's own delays.
CLOCK_SLACK = 0.02
_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux


@dataclass(frozen=True)
class Hit:
    path: str
    start: float
    end: float
    in_flight: int = 0  # requests in flight when this one started, itself included (see AccessLogSite.log)


class AccessLogSite(BackgroundServer):
    """A site of `articles` article pages behind listing pages of `per_list` links, answering
    each request after `latency` seconds; robots.txt allows everything (with `crawl_delay` if set).
    `log_path`, if given, gets the access log when the server stops (see write_log); `host` is the
    loopback address it listens on."""

    def __init__(self, articles: int = 30, *, per_list: int = 10, latency: float = 0.05,
                 crawl_delay: float | None = None, log_path: Path | None = None, host: str = "127.0.0.1") -> None:
        self.articles, self.per_list, self.latency, self.crawl_delay = articles, per_list, latency, crawl_delay
        self.log_path = log_path
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real server: the crawler reuses connections
            arrived = 0.0

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)

            def handle_one_request(self) -> None:
                """Wait for the next request's first bytes and note when the kernel received them."""
                try:
                    _, ancillary, _, _ = self.connection.recvmsg(1, socket.CMSG_SPACE(16), socket.MSG_PEEK)
                except OSError:
                    ancillary = []
                self.arrived = time.time()
                for level, kind, raw in ancillary:
                    if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
                        seconds, nanoseconds = struct.unpack("qq", raw[:16])
                        self.arrived = seconds + nanoseconds / 1e9
                super().handle_one_request()

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                site.serve(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._listen((host, 0), Handler)  # another loopback address (127.0.0.2 ...) is another site

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        if self.log_path is not None:
            self.write_log(self.log_path)

    def page(self, path: str) -> tuple[int, str, bytes]:
        lists = (self.articles + self.per_list - 1) // self.per_list
        if path == "/robots.txt":
            delay = f"Crawl-delay: {self.crawl_delay}\n" if self.crawl_delay is not None else ""
            return 200, "text/plain", f"User-agent: *\n{delay}Allow: /\n".encode()
        if path == "/":
            return 200, "text/html", listing([f"/list/{n}" for n in range(lists)], "Home").encode()
        if path.startswith("/list/") and path[6:].isdigit() and int(path[6:]) < lists:
            first = int(path[6:]) * self.per_list
            links = [f"/a/{n}" for n in range(first, min(self.articles, first + self.per_list))]
            return 200, "text/html", listing(links, f"Stories {path[6:]}").encode()
        if path.startswith("/a/") and path[3:].isdigit() and int(path[3:]) < self.articles:
            return 200, "text/html", article(f"Markets story number {path[3:]} for the log").encode()
        return 404, "text/plain", b"not found"

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        start = getattr(handler, "arrived", 0.0) or time.time()
        try:
            time.sleep(self.latency)
            status, kind, body = self.page(handler.path.split("?")[0])
            handler.send_response(status)
            handler.send_header("Content-Type", f"{kind}; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.flush()
        finally:
            with self._lock:
                self.hits.append(Hit(handler.path, start, time.time()))
        handler.wfile.write(body)

    def log(self) -> list[Hit]:
        """Every hit in order of start, with the requests in flight when it started."""
        hits = sorted(self.hits, key=lambda h: h.start)
        return [Hit(h.path, h.start, h.end, sum(1 for o in hits if o.start <= h.start < o.end)) for h in hits]

    def write_log(self, path: Path) -> None:
        """The access log as tab-separated lines: start, end (Unix time), in flight, path."""
        path.write_text("".join(f"{h.start:.6f}\t{h.end:.6f}\t{h.in_flight}\t{h.path}\n" for h in self.log()),
                        encoding="utf-8")

    # -- what a publisher would measure --------------------------------------------------------
    def pages(self, robots: bool = False) -> list[Hit]:
        """The hits in order of start (robots.txt left out unless asked for)."""
        return sorted((h for h in self.hits if robots or h.path != "/robots.txt"), key=lambda h: h.start)

    def min_gap(self, robots: bool = True) -> float:
        """The shortest time between two request starts (inf for fewer than two requests)."""
        starts = [h.start for h in self.pages(robots)]
        return min((b - a for a, b in zip(starts, starts[1:])), default=float("inf"))

    def max_in_flight(self) -> int:
        return max((h.in_flight for h in self.log()), default=0)

    def rate(self) -> float:
        """Requests per second between the first start and the last end."""
        hits = self.pages(robots=True)
        if len(hits) < 2:
            return 0.0
        return len(hits) / (max(h.end for h in hits) - hits[0].start)

    def summary(self) -> str:
        return (f"{len(self.hits)} requests, {self.rate():.1f}/s, min gap {self.min_gap() * 1000:.0f} ms, "
                f"max in flight {self.max_in_flight()}")
