"""Run crawls in this process: the CLI's way in to Scrapy (the reactor starts once per process)."""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from scrapy import Spider
from scrapy.crawler import AsyncCrawlerRunner
from scrapy.settings import Settings
from scrapy.utils.log import configure_logging
from scrapy.utils.reactor import install_reactor

from archive import config
from crawler import resolver, settings as default_settings
from crawler.page_limit import MAX_PAGES
from crawler.spiders.site import SiteSpider

log = logging.getLogger(__name__)


@dataclass
class CrawlJob:
    """One crawl: start URLs, limits, and an optional hook run just before it starts."""

    start_urls: list[str]
    db_url: str
    max_pages: int = 0
    depth: int = 0
    allow_private: bool = False
    #: Seconds after which the crawl stops as Ctrl-C stops it (0: no limit); Scrapy's
    #: CLOSESPIDER_TIMEOUT, recorded as finish_reason "closespider_timeout".
    max_time: float = 0
    throttle: bool = True
    progress: bool = False
    before: Callable[[], None] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    spider: type[Spider] = SiteSpider
    #: Keyword arguments for the spider; start_urls is added for SiteSpider.
    spider_args: dict[str, Any] = field(default_factory=dict)
    #: What the crawl row records as its command (default: the spider and start URLs).
    command: dict[str, Any] | None = None

    def arguments(self) -> dict[str, Any]:
        return self.spider_args if self.spider is not SiteSpider else {"start_urls": self.start_urls,
                                                                        **self.spider_args}

    def scrapy_settings(self) -> Settings:
        settings = Settings()
        settings.setmodule(default_settings, priority="project")
        # What the user configured (ARCHIVE_* variables, archive.toml) over the built-in defaults;
        # the job's own values (from command-line options) over both.
        settings.update(config.load().scrapy_settings(), priority="project")
        extensions = dict(settings.getdict("EXTENSIONS"))
        if self.progress:
            extensions["crawler.progress.Progress"] = 500
        settings.update({
            "ARCHIVE_DB_URL": self.db_url,
            "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": self.allow_private,
            # --max-pages counts requests as they leave the scheduler (crawler.page_limit); a shared
            # crawl's settings put the frontier's scheduler, which counts for all workers, in its place.
            "SCHEDULER": "crawler.page_limit.LimitedScheduler",
            MAX_PAGES: self.max_pages,
            "CLOSESPIDER_TIMEOUT": self.max_time,
            "DEPTH_LIMIT": self.depth,
            "AUTOTHROTTLE_ENABLED": self.throttle,
            "ARCHIVE_PROGRESS": self.progress,
            "EXTENSIONS": extensions,
            "ARCHIVE_CRAWL_COMMAND": self.command or {"spider": "site", "start_urls": self.start_urls,
                                                      "max_pages": self.max_pages, "depth": self.depth},
            **self.settings,
        }, priority="cmdline")
        return settings


def run_crawls(jobs: Sequence[CrawlJob], log_level: str = "WARNING") -> list[dict[str, Any]]:
    """Run the jobs one after another; returns each crawl's Scrapy stats. Ctrl-C stops cleanly."""
    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor  # after install_reactor, by Twisted's rules
    from scrapy.utils.defer import deferred_from_coro

    configure_logging({"LOG_LEVEL": log_level, "LOG_INSTALL_ROOT_HANDLER": True})
    results: list[dict[str, Any]] = []
    failures: list[BaseException] = []
    runners: list[AsyncCrawlerRunner] = []

    async def main() -> None:
        for job in jobs:
            if job.before:
                job.before()
            resolver.install(reactor, job.allow_private)
            settings = job.scrapy_settings()
            # Scrapy installs its root log handler again from each crawler's settings: the level
            # asked for here must be in them too, or the project's WARNING silences --verbose.
            settings.set("LOG_LEVEL", log_level, priority="cmdline")
            runner = AsyncCrawlerRunner(settings)
            runners.append(runner)
            crawler = runner.create_crawler(job.spider)
            await runner.crawl(crawler, **job.arguments())
            results.append(crawler.stats.get_stats() if crawler.stats else {})
            if stopping:
                break

    stopping: list[bool] = []

    def stop(signum: int, _frame: Any) -> None:
        if stopping:
            reactor.callFromThread(reactor.stop)  # second Ctrl-C: stop now
            return
        stopping.append(True)
        log.warning("stopping after the requests in flight (Ctrl-C again to stop at once)")
        for runner in runners:  # stop() is a coroutine: it must be scheduled, not just called
            reactor.callFromThread(lambda runner=runner: deferred_from_coro(runner.stop()))

    def finished(result: Any) -> None:
        if hasattr(result, "value") and hasattr(result, "getTraceback"):
            failures.append(result.value)
        if reactor.running:
            reactor.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        deferred_from_coro(main()).addBoth(finished)
        reactor.run(installSignalHandlers=False)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failures:
        raise failures[0]
    return results
