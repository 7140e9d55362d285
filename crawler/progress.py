"""A progress line on stderr during long crawls: time taken, pages fetched, kept, edited, failed,
the current rate, the busiest sites with their own rates, and, where the crawl knows how many
pages it has to fetch (the entries a sources run's feeds and sitemaps listed, the due recrawls),
how many are left and when they should be done.

On a terminal the line is rewritten in place; a log message (a warning, Ctrl-C's "stopping")
first clears it, so that the message gets a line of its own and the progress is drawn again below.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from typing import TextIO
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from twisted.internet import task

from archive.config import default

#: Sites shown by name on the line, busiest first.
SITES_SHOWN = 3


def duration(seconds: float) -> str:
    """12s, 4m05s, 2h03m."""
    seconds = int(max(0, seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Prints every ARCHIVE_PROGRESS_INTERVAL seconds while ARCHIVE_PROGRESS is on (the CLI turns it
    on when stderr is a terminal)."""

    def __init__(self, crawler: Crawler, interval: float, stream: TextIO) -> None:
        self.crawler, self.interval, self.stream = crawler, interval, stream
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None
        self.sites: Counter[str] = Counter()  # responses per site
        self.last: tuple[float, int, Counter[str]] = (self.started, 0, Counter())  # at the previous line
        self.shown = False  # a progress line is on the terminal now, without its newline
        self.handlers: list[logging.Handler] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "Progress":
        if not crawler.settings.getbool("ARCHIVE_PROGRESS"):
            raise NotConfigured("ARCHIVE_PROGRESS is off")
        extension = cls(crawler, crawler.settings.getfloat("ARCHIVE_PROGRESS_INTERVAL", default("progress_interval")), sys.stderr)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.received, signal=signals.response_received)
        return extension

    def opened(self) -> None:
        self.started = time.monotonic()
        self.last = (self.started, 0, Counter())
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)
        if self.stream.isatty():
            for handler in logging.getLogger().handlers:  # Scrapy's handler for the crawl's log
                if getattr(handler, "stream", None) is self.stream:
                    handler.addFilter(self.clear_line)
                    self.handlers.append(handler)

    def closed(self) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        self.report()
        for handler in self.handlers:
            handler.removeFilter(self.clear_line)
        if self.stream.isatty():
            self.stream.write("\n")
            self.shown = False

    def received(self, response: Response, request: Request) -> None:
        self.sites[urlsplit(response.url).netloc or "?"] += 1

    def clear_line(self, record: logging.LogRecord) -> bool:
        """A logging filter: before a message is written, the progress line is erased (the next
        report draws it again), so that the message starts a line of its own."""
        if self.shown:
            self.stream.write("\r\033[K")
            self.shown = False
        return True

    def line(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        stats = self.crawler.stats
        get = lambda key: int(stats.get_value(key, 0) if stats else 0)  # noqa: E731
        fetches = get("archive/fetches")
        then, fetched_then, sites_then = self.last
        minutes = max(now - then, 1e-6) / 60
        rate = (fetches - fetched_then) / minutes
        # Most telling first: a narrow terminal cuts the end of the line.
        parts = [duration(now - self.started), f"{fetches} pages", f"{rate:.0f}/min now"]
        known = get("crawl/listed") + get("crawl/due")
        if known:
            left = max(0, known - fetches)
            eta = f", ~{duration(left / rate * 60)} to go" if rate > 0 and left else ""
            parts.append(f"{left} of {known} listed left{eta}")
        busiest = self.sites.most_common(SITES_SHOWN)
        if busiest:
            parts.append(", ".join(f"{site} {count} ({(count - sites_then[site]) / minutes:.0f}/min)"
                                   for site, count in busiest)
                         + (f" +{len(self.sites) - SITES_SHOWN} sites" if len(self.sites) > SITES_SHOWN else ""))
        parts.append(f"{get('archive/new')} new · {get('archive/changed')} new versions · "
                     f"{get('archive/unchanged') + get('archive/same_raw')} unchanged · "
                     f"{get('archive/not_modified')} 304 · {get('archive/error')} errors")
        self.last = (now, fetches, Counter(self.sites))
        return " · ".join(parts)

    def columns(self) -> int:
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 120
        except (OSError, ValueError, AttributeError):
            return 120

    def report(self) -> None:
        if self.stream.isatty():
            self.stream.write(f"\r{self.line()[:max(20, self.columns() - 1)]}\033[K")
            self.shown = True
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()
