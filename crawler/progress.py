"""A progress line on stderr during long crawls: pages fetched, kept, edited, failed, and the rate."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task


class Progress:
    """Prints every ARCHIVE_PROGRESS_INTERVAL seconds while ARCHIVE_PROGRESS is on (the CLI turns it
    on when stderr is a terminal)."""

    def __init__(self, crawler: Crawler, interval: float, stream: TextIO) -> None:
        self.crawler, self.interval, self.stream = crawler, interval, stream
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "Progress":
        if not crawler.settings.getbool("ARCHIVE_PROGRESS"):
            raise NotConfigured("ARCHIVE_PROGRESS is off")
        extension = cls(crawler, crawler.settings.getfloat("ARCHIVE_PROGRESS_INTERVAL", 5.0), sys.stderr)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def closed(self) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        self.report()
        if self.stream.isatty():
            self.stream.write("\n")

    def line(self) -> str:
        stats = self.crawler.stats
        get = lambda key: int(stats.get_value(f"archive/{key}", 0) if stats else 0)  # noqa: E731
        minutes = max(time.monotonic() - self.started, 1e-6) / 60
        return (f"{get('fetches')} pages · {get('new')} new articles · {get('changed')} new versions · "
                f"{get('unchanged') + get('same_raw')} unchanged · {get('not_modified')} not modified (304) · "
                f"{get('error')} errors · "
                f"{get('fetches') / minutes:.0f} pages/min")

    def report(self) -> None:
        self.stream.write(f"\r{self.line()}\033[K" if self.stream.isatty() else self.line() + "\n")
        self.stream.flush()
