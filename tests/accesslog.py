"""A loopback site that keeps an access log the way a publisher would see the crawler: for every
request its start and end (monotonic clock, shared by all processes of the machine) and how many
requests were in flight when it started. Politeness tests read their figures from it.

The start is taken once the request line and headers are read (after the client sent them), and
the end just before the last byte of the answer is written (before the client can have it): the
server's window for a request lies inside the client's, so the in-flight counts it reports are
never more than the crawler really had open.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from archive.demo.server import LoopbackServer
from tests.pages import article, listing

#: Slack for comparing gaps between starts: the server's clock reads and thread wake-ups.
CLOCK_SLACK = 0.02


@dataclass(frozen=True)
class Hit:
    path: str
    start: float
    end: float
    in_flight: int  # requests in flight when this one started, itself included


class AccessLogSite:
    """A site of `articles` article pages behind listing pages of `per_list` links, answering
    each request after `latency` seconds; robots.txt allows everything (with `crawl_delay` if set).
    `log_path`, if given, gets one tab-separated line per request: start, end, in flight, path."""

    def __init__(self, articles: int = 30, *, per_list: int = 10, latency: float = 0.05,
                 crawl_delay: float | None = None, log_path: Path | None = None) -> None:
        self.articles, self.per_list, self.latency, self.crawl_delay = articles, per_list, latency, crawl_delay
        self.log_path = log_path
        self.hits: list[Hit] = []
        self._open = 0
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real server: the crawler reuses connections

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                site.serve(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = LoopbackServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def __enter__(self) -> "AccessLogSite":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

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
        with self._lock:
            start = time.monotonic()
            self._open += 1
            in_flight = self._open
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
                end = time.monotonic()
                self._open -= 1
                self.hits.append(Hit(handler.path, start, end, in_flight))
                if self.log_path is not None:
                    with self.log_path.open("a", encoding="utf-8") as log:
                        log.write(f"{start:.6f}\t{end:.6f}\t{in_flight}\t{handler.path}\n")
        handler.wfile.write(body)

    # -- what a publisher would measure --------------------------------------------------------
    def pages(self, robots: bool = False) -> list[Hit]:
        """The hits in order of start (robots.txt left out unless asked for)."""
        return sorted((h for h in self.hits if robots or h.path != "/robots.txt"), key=lambda h: h.start)

    def min_gap(self, robots: bool = True) -> float:
        """The shortest time between two request starts (inf for fewer than two requests)."""
        starts = [h.start for h in self.pages(robots)]
        return min((b - a for a, b in zip(starts, starts[1:])), default=float("inf"))

    def max_in_flight(self) -> int:
        return max((h.in_flight for h in self.hits), default=0)

    def rate(self) -> float:
        """Requests per second between the first start and the last end."""
        hits = self.pages(robots=True)
        if len(hits) < 2:
            return 0.0
        return len(hits) / (max(h.end for h in hits) - hits[0].start)

    def summary(self) -> str:
        return (f"{len(self.hits)} requests, {self.rate():.1f}/s, min gap {self.min_gap() * 1000:.0f} ms, "
                f"max in flight {self.max_in_flight()}")
