"""Hostile crawl: the outside attack of issue 20, served from loopback, crawled once on SQLite and
once on PostgreSQL through the real `archive` command.

Usage:  python bench/hostile.py [--articles 300] [--timeout 3] [--max-time 120] [--postgres URL] [--sqlite-only]

The site plays a public one on 127.0.0.2 (tests/chaos.py tells the address guard so; every other
loopback spelling stays private) and serves, next to good articles: sitemap indexes that list
themselves and each other, a child sitemap on a host the sources file does not name (127.0.0.4), a
listing of --articles short links, values too long for PostgreSQL's columns (html lang, og:site_name,
ETag, Last-Modified, Content-Type, a URL over 2,048 characters), a page forging another article's
canonical URL, redirects to the metadata service and to 127.0.0.1, a second host (127.0.0.3) whose
robots.txt answers 503, a meta-refresh loop, a page with a NUL byte near the top, an 18.8 MB news
sitemap, and tests/faultserver.py's faults (4xx/5xx, 429, resets, short bodies, truncated, binary and
empty pages, stalls past --timeout). Each crawl runs with --max-time and a hard timeout behind it.

It prints, per fault, the requests served and what each database recorded, then per database
whether every good page was stored, whether the crawl ended by itself and when, and `archive
check`'s verdict. Exit status 1 if a crawl had to be killed, a good page is missing, a fault's
expectation failed, or check fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from archive.models import Article, Fetch, Snapshot  # noqa: E402
from support.faultserver import FaultServer  # noqa: E402
from support.scratch import scratch_postgres  # noqa: E402
from tests.hostile_site import article, listing, news_sitemap, sitemap_index, urlset  # noqa: E402

SITE, SECOND, STRANGER = "127.0.0.2", "127.0.0.3", "127.0.0.4"
#: Faults of tests/faultserver.py served on /fault/NAME.html; http_429_once ends with the page.
PLAIN_FAULTS = ("http_404", "http_410", "http_500", "http_503", "http_429_once", "reset", "data_loss",
                "truncated", "binary", "empty", "timeout")
LONG_PATH = "/values/" + "long-" * 406 + "url.html"  # 2,068 characters with the host: over 2,048, within Scrapy's 2,083


def numbered(number: int, **changes: str) -> bytes:
    """hostile_site's article NUMBER, with text replaced (old -> new) to carry a hostile value."""
    html = article(number)
    for old, new in changes.items():
        html = html.replace(old, new, 1)
    return html.encode()


@dataclass
class Records:
    """What one database holds about a URL prefix: fetch outcomes and error kinds, versions stored."""
    outcomes: Counter[str] = field(default_factory=Counter)
    versions: int = 0

    def __str__(self) -> str:
        parts = [f"{k} {v}" for k, v in sorted(self.outcomes.items())]
        return ", ".join(parts) + (f"; {self.versions} version(s)" if self.versions else "") or "nothing"

    @property
    def stored(self) -> bool:
        return self.versions > 0

    @property
    def errors(self) -> set[str]:
        return {k for k in self.outcomes if k not in _STORED and k != "not_article"}


_STORED = ("new", "changed", "unchanged", "same_raw", "not_modified")


@dataclass
class Fault:
    name: str
    server: str  # "site", "second", "stranger" or "private"
    paths: tuple[str, ...]
    expect: str
    holds: Callable[["Run", "Fault"], bool]


@dataclass
class Run:
    database: str
    served: dict[str, Counter[str]]  # server -> path -> requests
    records: Callable[[str, str], Records]  # (server, path) -> what the database holds
    good_missing: list[str]
    seconds: float
    ended: bool
    returncode: int | None
    check: str
    check_ok: bool
    kinds: Counter[str] = field(default_factory=Counter)  # error kinds over every fetch row
    errors: list[str] = field(default_factory=list)  # every "url: kind" of the fetch rows, to name the unexpected
    site_url: str = ""
    second_url: str = ""
    stdout: str = ""
    stderr: str = ""

    def requests(self, fault: Fault) -> int:
        counts = self.served[fault.server]
        return sum(n for path, n in counts.items() for p in fault.paths if path == p or path.startswith(p + "?"))


def build(articles: int, private_url: str, stranger_url: str) -> tuple[dict[str, bytes], dict[str, str], dict[str, str], list[str]]:
    """The site's pages, faults by path, redirect targets, and the paths of its good articles."""
    listed = [f"/news/{n}.html" for n in range(1, articles + 1)]
    sitemap_only = [f"/news/{n}.html" for n in range(articles + 1, articles + 6)]  # listed only by the loops
    news_only = [f"/news/{n}.html" for n in range(articles + 6, articles + 11)]  # only by the 18.8 MB sitemap
    pages: dict[str, bytes] = {path: article(int(path[6:-5])).encode() for path in listed + sitemap_only + news_only}
    base = articles + 100
    values = {
        "/values/lang.html": numbered(base + 1, **{"lang='en'": "lang='" + "en-GB-x-" * 6 + "'"}),
        "/values/site-name.html": numbered(base + 2, **{"<title>": "<meta property='og:site_name' content='"
                                                                  + "Site " * 80 + "'><title>"}),
        "/values/etag.html": numbered(base + 3),
        "/values/last-modified.html": numbered(base + 4),
        "/values/content-type.html": numbered(base + 5),
        LONG_PATH: numbered(base + 6),
        "/nul.html": numbered(base + 7, **{"<head>": "<head>\x00"}),
        "/fault/http_429_once.html": numbered(base + 8),
        "/comments.html": numbered(base + 9, **{"<title>": "<link rel='canonical' href='/news/8.html'><title>"}),
        "/refresh-a.html": b"<html><head><meta http-equiv='refresh' content='0; url=/refresh-b.html'></head></html>",
        "/refresh-b.html": b"<html><head><meta http-equiv='refresh' content='0; url=/refresh-a.html'></head></html>",
    }
    pages.update(values)
    faults = {f"/fault/{name}.html": name for name in PLAIN_FAULTS}
    pages.update({path: numbered(base + 20 + n) for n, path in enumerate(faults) if path not in pages})
    faults.update({"/values/etag.html": "long_etag", "/values/last-modified.html": "long_last_modified",
                   "/values/content-type.html": "long_content_type", "/redirect/metadata.html": "redirect_metadata",
                   "/redirect/loopback.html": "redirect"})
    redirects = {"/redirect/loopback.html": private_url + "secret.html"}
    links = ["/all.html", *values, *faults]
    pages["/"] = listing([p for p in dict.fromkeys(links) if p not in ("/refresh-b.html",)]).encode()
    pages["/all.html"] = listing(listed).encode()
    pages["/sitemap-self.xml"] = sitemap_index("/sitemap-self.xml", "/sitemap-a.xml").encode()
    pages["/sitemap-a.xml"] = sitemap_index("/sitemap-b.xml", "/sitemap-a-urls.xml").encode()
    pages["/sitemap-b.xml"] = sitemap_index("/sitemap-a.xml", "/sitemap-self.xml", stranger_url + "offsite.xml").encode()
    pages["/sitemap-a-urls.xml"] = urlset(*sitemap_only).encode()
    pages["/news-sitemap.xml"] = news_sitemap(news_only, 18_800_000)
    good = listed + sitemap_only + news_only + ["/values/lang.html", "/values/site-name.html", "/values/etag.html",
                                                "/values/last-modified.html", "/values/content-type.html",
                                                "/nul.html", "/fault/http_429_once.html"]
    return pages, faults, redirects, good


def faults_list() -> list[Fault]:
    def stored(run: Run, f: Fault) -> bool:
        return all(run.records(f.server, p).stored for p in f.paths)

    def recorded(run: Run, f: Fault) -> bool:
        return all(run.records(f.server, p).outcomes for p in f.paths)

    def none_served(run: Run, f: Fault) -> bool:
        return run.requests(f) == 0

    def once_each(run: Run, f: Fault) -> bool:
        return all(run.served[f.server][p] == 1 for p in f.paths)

    def error(run: Run, f: Fault) -> bool:
        return all(run.records(f.server, p).errors for p in f.paths)

    def forged(run: Run, f: Fault) -> bool:
        return run.records("site", "/news/8.html").versions == 1 and run.records("site", "/comments.html").outcomes

    def robots_5xx(run: Run, f: Fault) -> bool:
        return all(p == "/robots.txt" for p in run.served["second"])

    def news(run: Run, f: Fault) -> bool:
        return run.served["site"]["/news-sitemap.xml"] == 1 and not run.records("site", "/news-sitemap.xml").outcomes

    rows = [
        Fault("sitemap index listing itself", "site", ("/sitemap-self.xml",), "read once", once_each),
        Fault("two indexes listing each other", "site", ("/sitemap-a.xml", "/sitemap-b.xml"), "read once each", once_each),
        Fault("off-site child sitemap", "stranger", ("/offsite.xml", "/robots.txt"), "not fetched", none_served),
        Fault("18.8 MB news sitemap", "site", ("/news-sitemap.xml",), "read, its articles stored", news),
        Fault("listing of short links", "site", ("/all.html",), "not an article", lambda r, f: not stored(r, f)),
        Fault("html lang > 16 chars", "site", ("/values/lang.html",), "stored", stored),
        Fault("og:site_name > 255", "site", ("/values/site-name.html",), "stored", stored),
        Fault("ETag > 512", "site", ("/values/etag.html",), "stored", stored),
        Fault("Last-Modified > 64", "site", ("/values/last-modified.html",), "stored", stored),
        Fault("Content-Type > 200", "site", ("/values/content-type.html",), "stored", stored),
        Fault("URL > 2,048 chars", "site", (LONG_PATH,), "one fetch row", recorded),
        Fault("canonical forged by /comments", "site", ("/comments.html",), "/news/8 keeps 1 version", forged),
        Fault("redirect to metadata service", "site", ("/redirect/metadata.html",), "refused (error)", error),
        Fault("redirect to 127.0.0.1", "site", ("/redirect/loopback.html",), "refused, 0 requests there",
              lambda r, f: error(r, f) and sum(r.served["private"].values()) == 0),
        Fault("robots.txt 503 (second host)", "second", ("/robots.txt", "/", "/news/1.html"), "only robots.txt asked",
              robots_5xx),
        Fault("meta-refresh loop", "site", ("/refresh-a.html",), "a fetch row", recorded),
        Fault("NUL byte near the top", "site", ("/nul.html",), "stored", stored),
        Fault("429 once, then the page", "site", ("/fault/http_429_once.html",), "stored", stored),
    ]
    rows += [Fault(name.replace("_", " "), "site", (f"/fault/{name}.html",), "an error row", error)
             for name in PLAIN_FAULTS if name != "http_429_once"]
    return rows


def crawl(db: str, sources: Path, timeout: float, max_time: float, hard_limit: float) -> tuple[float, bool, int | None, str, str]:
    """One `archive crawl --sources` through tests/chaos.py (127.0.0.2-4 public); killed after hard_limit."""
    env = {k: v for k, v in os.environ.items() if k != "ARCHIVE_ALLOW_PRIVATE_ADDRESSES"}
    args = [sys.executable, "-m", "tests.chaos", *(x for ip in (SITE, SECOND, STRANGER) for x in ("--public", ip)),
            "--", "crawl", "--sources", str(sources), "--db", db, "--timeout", str(timeout),
            "--max-time", f"{int(max_time)}s", "--since", "2026-01-01"]
    started = time.monotonic()
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=hard_limit)
        return time.monotonic() - started, True, done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        return time.monotonic() - started, False, None, out, err


def read_records(db: str, urls: dict[str, str]) -> tuple[Callable[[str, str], Records], Counter[str], list[str]]:
    """Every fetch row and article of the database, looked up by (server, path) prefix; error kinds counted."""
    engine = create_engine(db)
    with Session(engine) as session:
        fetches = session.execute(select(Fetch.url, Fetch.outcome, Fetch.error)).all()
        versions = dict(session.execute(select(Article.canonical_url, func.count(Snapshot.id))
                                        .join(Snapshot, Snapshot.article_id == Article.id)
                                        .group_by(Article.canonical_url)).all())
    engine.dispose()

    def records(server: str, path: str) -> Records:
        url = urls[server] + path.lstrip("/")
        found = Records()
        for fetched, outcome, error in fetches:
            if fetched == url or (len(url) > 300 and fetched.startswith(url[:300])):
                found.outcomes[(error or "").split(":", 1)[0] if outcome == "error" else outcome] += 1
        found.versions = sum(n for u, n in versions.items() if u == url or (len(url) > 300 and u.startswith(url[:300])))
        return found
    kinds = Counter((error or "").split(":", 1)[0] for _, outcome, error in fetches if outcome == "error")
    errors = [f"{url}: {(error or '').split(':', 1)[0]}" for url, outcome, error in fetches if outcome == "error"]
    return records, kinds, errors


def check(db: str) -> tuple[str, bool]:
    done = subprocess.run([sys.executable, "-m", "archive", "check", "--db", db], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return (lines[-1] if lines else f"exit {done.returncode}"), done.returncode == 0


def one_run(label: str, db: str, tmp: Path, args: argparse.Namespace) -> Run:
    with ExitStack() as stack:
        private = stack.enter_context(FaultServer({"/secret.html": b"<html>secret</html>"}, host="127.0.0.1"))
        stranger = stack.enter_context(FaultServer({"/offsite.xml": urlset("/news/1.html").encode()}, host=STRANGER))
        pages, faults, redirects, good = build(args.articles, private.url, stranger.url)
        site = stack.enter_context(FaultServer(pages, faults=faults, redirects=redirects, host=SITE,
                                               stall_seconds=args.timeout * 4))
        second = stack.enter_context(FaultServer({"/": listing(["/news/1.html"]).encode(),
                                                  "/news/1.html": article(1).encode()},
                                                 faults={"/robots.txt": "http_503"}, host=SECOND))
        sources = tmp / f"sources-{label}.toml"
        sources.write_text("\n".join([
            "[[site]]", 'name = "hostile"', "delay = 0", f"concurrency = {args.concurrency}",
            f'start_urls = ["{site.url}", "{second.url}"]',
            f'sitemaps = ["{site.url}sitemap-self.xml", "{site.url}news-sitemap.xml"]',
        ]) + "\n", encoding="utf-8")
        seconds, ended, rc, out, err = crawl(db, sources, args.timeout, args.max_time, args.max_time + 60)
        servers = {"site": site, "second": second, "stranger": stranger, "private": private}
        served = {name: Counter(urlsplit(p).path for p in s.requests) for name, s in servers.items()}
        urls = {name: s.url for name, s in servers.items()}
    records, kinds, errors = read_records(db, urls)
    ended &= "stopped at the time limit" not in err  # cut by --max-time: it would not have ended
    missing = [p for p in good if not records("site", p).stored]
    verdict, ok = check(db)
    return Run(label, served, records, missing, seconds, ended, rc, verdict, ok, kinds, errors, urls["site"], urls["second"], out, err)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="links on the listing page")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=3.0, help="the crawls' download timeout")
    parser.add_argument("--max-time", type=float, default=120.0, help="the crawls' --max-time, in seconds")
    parser.add_argument("--postgres", default=os.environ.get("ARCHIVE_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server URL (a scratch database is created there and dropped)")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="hostile-") as folder:
        tmp = Path(folder)
        runs.append(one_run("SQLite", f"sqlite:///{tmp / 'archive.db'}", tmp, args))
        if not args.sqlite_only:
            with scratch_postgres(args.postgres, "hostile_bench") as db:
                runs.append(one_run("PostgreSQL", db, tmp, args))

    failed = False
    rows = faults_list()
    header = ["fault", "expected", *(f"{r.database}: served / recorded" for r in runs), "held"]
    table = []
    for fault in rows:
        held = [bool(fault.holds(r, fault)) for r in runs]
        failed |= not all(held)
        table.append([fault.name, fault.expect,
                      *(f"{r.requests(fault)} / {_records(r, fault)}" for r in runs),
                      "yes" if all(held) else "NO (" + ", ".join(r.database for r, h in zip(runs, held) if not h) + ")"])
    print(_markdown(header, table))
    print()
    summary = []
    for run in runs:
        good = len(run.good_missing) == 0
        failed |= not (good and run.ended and run.check_ok)
        summary.append([run.database, "yes" if good else f"NO, {len(run.good_missing)} missing: "
                        + ", ".join(p[:40] for p in run.good_missing[:5]),
                        f"{'yes' if run.ended else 'NO (killed)'}, {run.seconds:.0f} s, exit {run.returncode}",
                        f"{run.check} ({'clean' if run.check_ok else 'FAILED'})",
                        ", ".join(f"{k} {n}" for k, n in sorted(run.kinds.items()))])
    print(_markdown(["database", "every good page stored", "ended by itself", "archive check", "error kinds counted"],
                    summary))
    for run in runs:
        tail = [line for line in run.stdout.strip().splitlines()][-12:]
        print(f"\n{run.database} crawl summary:\n" + "\n".join("    " + line for line in tail))
        faulty = {run.site_url + p.lstrip("/") for f in rows if f.server == "site" for p in f.paths} | {run.second_url}
        unexpected = [e for e in run.errors if not any(e.startswith(url[:300]) for url in faulty)]
        if unexpected:
            print(f"{run.database}: errors on pages that serve no fault: " + "; ".join(unexpected))
        if "Traceback" in run.stderr:
            print(f"{run.database}: a traceback on stderr:\n" + run.stderr[run.stderr.index("Traceback"):][:2000])
    raise SystemExit(1 if failed else 0)


def _records(run: Run, fault: Fault) -> str:
    return "; ".join(f"{str(run.records(fault.server, p))}" for p in fault.paths)


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
