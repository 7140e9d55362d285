"""Scrapy settings for the commentary archive: polite defaults, our pipelines and middlewares.

Every archive-specific setting is prefixed ARCHIVE_ and read only in a component's from_crawler.
The ones a user may set (archive.config.KEYS) take their built-in defaults from there; what the
user configured (ARCHIVE_* variables, archive.toml) is laid over them by crawler/runner.py.
"""

from scrapy.settings import default_settings as _scrapy_defaults

from archive import recrawl
from archive.config import default
from archive.limits import MAX_PAGE_BYTES

BOT_NAME = "commentary-archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Politeness: identify ourselves, obey robots.txt, adapt speed to the server.
USER_AGENT = default("user_agent")
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
# A site's delay (seconds between request starts) when neither its sources entry nor --delay sets one.
DOWNLOAD_DELAY = 0.0
# A robots.txt Crawl-delay above this many seconds is cut to it (with a warning): a site cannot
# stall a crawl for hours with one line.
ARCHIVE_MAX_CRAWL_DELAY = 60.0
# A request leaves some milliseconds after crawler.politeness lets it go (more on an overloaded
# machine, where a worker process may wait its turn for a CPU): a site's promised gap is kept this
# many seconds longer, so that its server sees the whole gap.
ARCHIVE_GAP_MARGIN = default("gap_margin")
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Scrapy starts this many tasks for every response to run its output (one page item and its
# links) through the pipelines; the default 100 made tasks for nothing in the crawl's busiest thread.
CONCURRENT_ITEMS = 16
DOWNLOAD_TIMEOUT = default("download_timeout")  # seconds; `archive crawl --timeout` overrides it
RETRY_TIMES = 2
# A fetch that failed for good is recorded with its error kind and counted in the summary; Scrapy's
# own "gave up retrying" line would repeat it on stderr for every page, so it goes to the INFO log.
RETRY_GIVE_UP_LOG_LEVEL = "INFO"
# 429 is not here: crawler.middlewares.RetryAfter retries it after the delay the server asks for.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
# A page larger than this (sent or announced, or after decompression) is not an article: Scrapy
# logs a warning naming the size, and the fetch is recorded with error kind too_large.
DOWNLOAD_MAXSIZE = MAX_PAGE_BYTES  # and import-warc's limit for a record
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
# A body shorter than its Content-Length is a failed fetch (kind data_loss), never half a page.
DOWNLOAD_FAIL_ON_DATALOSS = True
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Errors are recorded per page; the crawl never depends on a single response.
HTTPERROR_ALLOW_ALL = False
# A 304 answers a conditional refetch (crawler.conditional): the spider records "not modified".
HTTPERROR_ALLOWED_CODES = [304]

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "WARNING"

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.PrivateAddressGuard": 50,   # first: nothing else runs for a refused request
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robots.RobotsTxt": 100,                 # Scrapy's, with RFC 9309's unavailable robots.txt
    "crawler.conditional.ConditionalGet": 120,       # after robots.txt (100): refused requests cost no lookup
    "crawler.middlewares.RetryAfter": 560,           # sees responses before Scrapy's RetryMiddleware (550)
    "crawler.middlewares.RedirectLoopGuard": 610,    # sees redirects before RedirectMiddleware (600)
    # Last before the download: each request waits for its site's turn (delay, concurrency,
    # robots.txt Crawl-delay, AutoThrottle), and holds its place until its answer is back.
    "crawler.politeness.Politeness": 990,
}
# With --refresh-after, links to articles fetched moments ago are dropped before they are scheduled.
SPIDER_MIDDLEWARES = {"crawler.conditional.SkipFresh": 800}
# crawler.progress.Progress is added by crawler.runner when ARCHIVE_PROGRESS is on. AutoThrottle's
# policy runs inside crawler.politeness, on its sites, where it can only slow a site down.
EXTENSIONS: dict[str, int | None] = {"scrapy.extensions.throttle.AutoThrottle": None}
# Scrapy 2.19 starts, for every crawl, an HTTP server on localhost that runs any Python code sent
# with its token (written to a file): a way into a scheduled archive crawl that nobody here uses.
# Off, and out of Scrapy's base list too: Scrapy imports every listed extension's module, even one
# set to None, and this one's imports aiohttp (slow, at every crawl's start).
REMOTE_CONTROL_ENABLED = False
EXTENSIONS_BASE = {path: order for path, order in _scrapy_defaults.EXTENSIONS_BASE.items()
                   if not path.endswith(".RemoteControl")}
# Scrapy reads and parses the source of a generator callback to warn about `return value` in it,
# for every response: the cache it keeps is keyed by the bound method, made anew per request, so it
# never hits (ast.parse showed in the reactor thread's profile). Our spiders' tests cover them.
WARN_ON_GENERATOR_RETURN_VALUE = False
ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 300,
    "pipelines.store.StorePipeline": 800,
}

# The archive's database (SQLAlchemy URL); the CLI's --db overrides it.
ARCHIVE_DB_URL = default("db_url")
# Fetch loopback/private addresses too: only for tests and the bundled demo.
ARCHIVE_ALLOW_PRIVATE_ADDRESSES = default("allow_private_addresses")
# Worker processes that run extraction off the reactor thread, and the time one page may take:
# a worker still busy after ARCHIVE_EXTRACT_TIMEOUT seconds is killed and replaced, and the page
# is recorded with error kind extract_timeout (a pathological page cannot stall the crawl).
ARCHIVE_EXTRACT_WORKERS = default("extract_workers")
ARCHIVE_EXTRACT_TIMEOUT = 30.0
# A 429 (or 503) with Retry-After is retried after that many seconds, up to RETRY_TIMES, if the
# wait is at most ARCHIVE_RETRY_AFTER_MAX seconds; a 429 without the header waits the default.
ARCHIVE_RETRY_AFTER_MAX = 120.0
ARCHIVE_RETRY_AFTER_DEFAULT = 5.0
# A page whose database write fails (disk full; locked past the busy timeout, which the URL sets:
# sqlite:///archive.db?timeout=30) is retried ARCHIVE_WRITE_RETRIES times, ARCHIVE_WRITE_RETRY_DELAY
# seconds apart, then counted as archive/write_failed. After ARCHIVE_WRITE_FAILURES_MAX failed writes
# in a row (for any pages) the crawl stops, since nothing more could be kept; pages in flight are
# reported, and `archive crawl` exits non-zero naming how many pages were fetched but not stored.
# Pages are stored up to ARCHIVE_WRITE_BATCH per transaction, or what ARCHIVE_WRITE_BATCH_DELAY
# seconds gathered; a batch the database refuses is retried page by page, so one bad page costs
# only itself. A clean stop stores every batch before the crawl ends.
ARCHIVE_WRITE_BATCH = default("write_batch")
ARCHIVE_WRITE_BATCH_DELAY = 0.2
ARCHIVE_WRITE_RETRIES = 3
ARCHIVE_WRITE_RETRY_DELAY = 1.0
ARCHIVE_WRITE_FAILURES_MAX = 5
# A robots.txt answering 5xx (or timing out) closes its site, as RFC 9309 says, until it is asked
# again this many seconds later (crawler.robots).
ARCHIVE_ROBOTS_RETRY_AFTER = 600.0
# Refetches of known articles send If-None-Match / If-Modified-Since from their last fetch.
ARCHIVE_CONDITIONAL_GET = True
# When a crawl finds a link to a known article, it asks for it again only when its recrawl is due
# by ARCHIVE_RECRAWL_SCHEDULE ("due", `archive crawl`'s default), or (a number of seconds) when its
# last fetch is older than that (`--refresh-after 1h`); 0: always, conditionally. Start URLs and
# due recrawls are always requested.
ARCHIVE_REFRESH_AFTER: str | float = "due"
# Ages (seconds) at which an article is revisited, counted from its publication (archive.recrawl).
ARCHIVE_RECRAWL_SCHEDULE = [age.total_seconds() for age in recrawl.DEFAULT_SCHEDULE]
# Site -> its own ages (seconds), for the sites whose sources entry sets `recrawl`: they win over
# ARCHIVE_RECRAWL_SCHEDULE for that site's articles (a sources run sets it).
ARCHIVE_RECRAWL_SCHEDULES: dict[str, list[float]] = {}
# A progress line on stderr every ARCHIVE_PROGRESS_INTERVAL seconds (the CLI turns it on for terminals).
ARCHIVE_PROGRESS = False
ARCHIVE_PROGRESS_INTERVAL = default("progress_interval")
# A crawl shared by several workers through Redis (crawler.frontier; `archive crawl --frontier`):
# the Redis URL and the shared crawl's name (the CLI sets both, and SCHEDULER), how long the shared
# queue must stay empty with nothing claimed before a worker stops, and the time to live of a
# worker's heartbeat: a worker silent that long is taken for dead and its claimed requests are
# queued again (it beats every third of it).
ARCHIVE_FRONTIER_URL = ""
ARCHIVE_FRONTIER_NAME = ""
ARCHIVE_FRONTIER_IDLE = default("frontier_idle")
ARCHIVE_FRONTIER_HEARTBEAT = default("frontier_heartbeat")
# In a shared crawl each site's gap and concurrency hold across all workers (crawler.politeness):
# a worker's lease on a site lasts the download timeout plus this margin, after which a worker that
# died holding it has freed it; a worker waiting for a free place asks again every ARCHIVE_SHARED_POLL s.
ARCHIVE_LEASE_MARGIN = 15.0
ARCHIVE_SHARED_POLL = 0.02
