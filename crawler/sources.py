"""The sources file: which sites to crawl, from where (start pages, feeds, sitemaps), and how politely.

    [defaults]
    delay = 1.0            # seconds between requests to one site
    concurrency = 2        # requests in flight per site

    [[site]]
    name = "example"
    start_urls = ["https://www.example-news.com/markets/"]
    feeds = ["https://www.example-news.com/rss.xml"]
    sitemaps = ["https://www.example-news.com/news-sitemap.xml"]
    allow = ["/20\\\\d\\\\d/"]   # regexes on URL paths: pages that may be articles (others only followed)
    deny = ["/video/"]          # never fetched
    max_time = "2h"             # a run stops cleanly after this long (the largest of the sites it crawls)
    recrawl = ["1h", "6h", "1d", "3d", "7d", "30d", "90d", "365d"]  # ages at which an article is revisited
    recrawl_budget = 500        # at most this many due articles revisited a run, the oldest due first

See sources.example.toml at the top of the repository for a commented example.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from archive.errors import BadInput
from archive.recrawl import SitePolicy, parse_schedule, parse_span
from archive.urls import site_of

KNOWN_KEYS = {"name", "start_urls", "feeds", "sitemaps", "allow", "deny", "delay", "concurrency", "user_agent",
              "max_time", "recrawl", "recrawl_budget", "timezone"}


@dataclass(frozen=True)
class Source:
    """One site to crawl."""

    name: str
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allow: tuple[re.Pattern[str], ...] = ()
    deny: tuple[re.Pattern[str], ...] = ()
    delay: float | None = None
    concurrency: int | None = None
    user_agent: str | None = None
    sites: frozenset[str] = field(default_factory=frozenset)
    max_time: float | None = None  # seconds a run crawling this site may take
    recrawl: tuple[timedelta, ...] | None = None  # its own recrawl schedule (None: the run's --schedule)
    recrawl_budget: int | None = None  # due articles revisited a run at most (None: all)
    #: The site's IANA time zone ("America/New_York"): times its pages show without a zone, and the
    #: publisher's calendar day of times given only in UTC (archive.extract.dates.in_site_zone).
    timezone: str | None = None

    def may_be_article(self, url: str) -> bool:
        """Allowed as an article page (no allow rules: any page may be)."""
        path = urlsplit(url).path
        return not self.allow or any(p.search(path) for p in self.allow)

    def refuses(self, url: str) -> bool:
        path = urlsplit(url).path
        return any(p.search(path) for p in self.deny)

    def owns(self, url: str) -> bool:
        """On one of the hosts the sources file names for this site (its start pages, feeds, sitemaps)."""
        return site_of(url) in self.sites


def run_time_limit(sources: list[Source]) -> float | None:
    """Seconds a run of these sources may take: the largest max_time among them (None: no limit), so
    that no site gets less time than its own max_time asks for."""
    limits = [s.max_time for s in sources if s.max_time is not None]
    return max(limits) if len(limits) == len(sources) and limits else None


def recrawl_policies(sources: list[Source]) -> list[SitePolicy]:
    """Each source's recrawl schedule and budget, for archive.recrawl.due_by_site."""
    return [SitePolicy(s.sites, s.recrawl, s.recrawl_budget) for s in sources]


def recrawl_schedules(sources: list[Source]) -> dict[str, list[float]]:
    """Site -> its own schedule in seconds (ARCHIVE_RECRAWL_SCHEDULES), for the sites that set one:
    what `--refresh-after due` judges a link to one of their articles by."""
    return {site: [age.total_seconds() for age in s.recrawl] for s in sources if s.recrawl for site in s.sites}


def sites_of(sources: list[Source]) -> tuple[str, ...]:
    """Every site the sources cover, sorted: what a recrawl of them is limited to."""
    return tuple(sorted({site for source in sources for site in source.sites}))


def load_sources(path: Path, only: tuple[str, ...] = ()) -> list[Source]:
    """Read and check a sources file; `only` keeps the named sites. Errors are one line each."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BadInput(f"no sources file at {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: not valid TOML: {exc}") from exc
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise BadInput(f"{path}: [defaults] must be a table of keys")
    unknown = set(defaults) - KNOWN_KEYS
    if unknown:
        raise BadInput(f"{path}: [defaults]: unknown key(s) {', '.join(sorted(unknown))}")
    sites = data.get("site", [])
    if not isinstance(sites, list) or not sites:
        raise BadInput(f"{path}: no [[site]] entries")
    sources = [_source(path, number, {**defaults, **entry}) for number, entry in enumerate(sites, 1)]
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise BadInput(f"{path}: site names must be unique")
    if only:
        unknown = set(only) - set(names)
        if unknown:
            raise BadInput(f"{path}: no site named {', '.join(sorted(unknown))} (sites: {', '.join(names)})")
        sources = [s for s in sources if s.name in only]
    return sources


def _source(path: Path, number: int, entry: dict[str, Any]) -> Source:
    where = f"{path}: site {number}"
    unknown = set(entry) - KNOWN_KEYS
    if unknown:
        raise BadInput(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise BadInput(f"{where}: needs a name")
    urls = {key: _urls(f"{where} ({name}) {key}", entry.get(key, [])) for key in ("start_urls", "feeds", "sitemaps")}
    if not any(urls.values()):
        raise BadInput(f"{where} ({name}): needs start_urls, feeds or sitemaps")
    return Source(
        name=name, **{k: tuple(v) for k, v in urls.items()},
        allow=_patterns(f"{where} ({name}) allow", entry.get("allow", [])),
        deny=_patterns(f"{where} ({name}) deny", entry.get("deny", [])),
        delay=_number(f"{where} ({name}) delay", entry.get("delay"), float),
        concurrency=_number(f"{where} ({name}) concurrency", entry.get("concurrency"), int),
        user_agent=_text(f"{where} ({name}) user_agent", entry.get("user_agent")),
        max_time=_duration(f"{where} ({name}) max_time", entry.get("max_time")),
        recrawl=_schedule(f"{where} ({name}) recrawl", entry.get("recrawl")),
        recrawl_budget=_budget(f"{where} ({name}) recrawl_budget", entry.get("recrawl_budget")),
        timezone=_zone(f"{where} ({name}) timezone", entry.get("timezone")),
        sites=frozenset(site_of(u) for values in urls.values() for u in values),
    )


def _urls(where: str, values: Any) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise BadInput(f"{where}: must be a list of URLs")
    for value in values:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadInput(f"{where}: not an http(s) URL: {value}")
    return values


def _patterns(where: str, values: Any) -> tuple[re.Pattern[str], ...]:
    if not isinstance(values, list):
        raise BadInput(f"{where}: must be a list of regular expressions")
    try:
        return tuple(re.compile(v) for v in values)
    except (re.error, TypeError) as exc:
        raise BadInput(f"{where}: bad regular expression: {exc}") from exc


def _text(where: str, value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise BadInput(f"{where}: must be a non-empty string")
    return value


def _zone(where: str, value: Any) -> str | None:
    """An IANA zone name the zone database knows ("America/New_York"), or None."""
    name = _text(where, value)
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise BadInput(f"{where}: unknown time zone {name!r} (an IANA name such as America/New_York)") from exc
    return name


def _duration(where: str, value: Any) -> float | None:
    """A duration such as "30m" or "2h" (or a number of seconds), in seconds."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            seconds = parse_span(value).total_seconds()
        except BadInput as exc:
            raise BadInput(f"{where}: {exc}") from exc
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise BadInput(f"{where}: must be a duration such as \"30m\" or \"2h\"")
    if seconds <= 0:
        raise BadInput(f"{where}: must be longer than 0s")
    return seconds


def _schedule(where: str, value: Any) -> tuple[timedelta, ...] | None:
    """A list of increasing durations such as ["1h", "1d", "30d"]."""
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadInput(f"{where}: must be a list of durations such as [\"1h\", \"1d\", \"30d\"]")
    try:
        return parse_schedule(",".join(value))
    except BadInput as exc:
        raise BadInput(f"{where}: {exc}") from exc


def _budget(where: str, value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadInput(f"{where}: must be a whole number of articles, 1 or more")
    return value


def _number(where: str, value: Any, kind: type) -> Any:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise BadInput(f"{where}: must be a non-negative number")
    return kind(value)
