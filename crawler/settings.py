"""Scrapy settings for the commentary archive: polite defaults, our pipelines and middlewares.

Every archive-specific setting is prefixed ARCHIVE_ and read only in a component's from_crawler.
Environment variables enter here (and through the CLI's click options), nowhere else.
"""

import os

BOT_NAME = "commentary-archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Politeness: identify ourselves, obey robots.txt, adapt speed to the server.
USER_AGENT = "commentary-archive/0.1 (research archive of market commentary)"
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # a 10 MB page is not an article; Scrapy logs and drops it
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Errors are recorded per page; the crawl never depends on a single response.
HTTPERROR_ALLOW_ALL = False

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "WARNING"

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.PrivateAddressGuard": 50,
}
# crawler.progress.Progress is added by crawler.run when ARCHIVE_PROGRESS is on.
EXTENSIONS: dict[str, int] = {}
ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 300,
    "pipelines.store.StorePipeline": 800,
}

# The archive's database (SQLAlchemy URL); the CLI's --db overrides it.
ARCHIVE_DB_URL = os.environ.get("ARCHIVE_DB_URL", "sqlite:///archive.db")
# Fetch loopback/private addresses too: only for tests and the bundled demo.
ARCHIVE_ALLOW_PRIVATE_ADDRESSES = os.environ.get("ARCHIVE_ALLOW_PRIVATE_ADDRESSES", "") in ("1", "true", "yes")
# Threads that run extraction off the reactor thread.
ARCHIVE_EXTRACT_THREADS = 2
# A progress line on stderr every ARCHIVE_PROGRESS_INTERVAL seconds (the CLI turns it on for terminals).
ARCHIVE_PROGRESS = False
ARCHIVE_PROGRESS_INTERVAL = 5.0
