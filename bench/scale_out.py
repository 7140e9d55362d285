"""Scale-out: a crawl of many sites by 1, 2 and 3 workers sharing one Redis frontier and one
PostgreSQL archive (`archive crawl --frontier`), with each site's politeness enforced across the
workers; prints pages/s, the speed-up, and what the sites saw (least gap, most in flight).

Usage:  python bench/scale_out.py [--sites 20] [--articles 40] [--latency 0.2] [--delay 0.5]
            [--concurrency 2] [--workers 1,2,3] [--redis redis://127.0.0.1:6379/14]
            [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Each site is a loopback server on an address of its own (127.0.0.2, 127.0.0.3 ...: the crawler's
politeness goes by host) that answers after `latency` seconds and logs every request's start and
end (tests/accesslog.py). Every worker is started with the same command: all the sites'
home pages, `--delay`, `--concurrency` (per site) and `--no-throttle` (so the gap is the delay, not
AutoThrottle's). The sites' limits cap the fleet at sites / delay requests per second.
Each measurement gets a fresh PostgreSQL database of its own (a uuid name; only that one is
dropped) and a fresh shared crawl. "crawl s" runs from the first request a site sees until the
archive holds every article; "wall s" adds starting the worker processes.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from archive.db import make_engine, normalise_url, upgrade  # noqa: E402
from archive.models import Article  # noqa: E402
from crawler.frontier import Frontier, connect  # noqa: E402
from support.scratch import scratch_postgres  # noqa: E402
from tests.accesslog import AccessLogSite  # noqa: E402


def measure(workers: int, sites: list[AccessLogSite], articles: int, admin_url: str, redis_url: str,
            options: list[str]) -> tuple[float, float, float, int]:
    """(crawl s, wall s, least gap between two request starts at any site, most requests in flight
    at any site) until `workers` workers have stored every article of every site."""
    with scratch_postgres(admin_url, "archive_scale_out") as db:
        return _measure(workers, sites, articles, db, redis_url, options)


def _measure(workers: int, sites: list[AccessLogSite], articles: int, db: str, redis_url: str,
             options: list[str]) -> tuple[float, float, float, int]:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    engine = make_engine(db)
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1", "ARCHIVE_EXTRACT_WORKERS": "1"}
    for site in sites:
        site.hits.clear()
    wanted = articles * len(sites)
    try:
        upgrade(engine)
        started = time.time()  # the sites log request starts in Unix time
        processes = [subprocess.Popen(
            [sys.executable, "-m", "archive", "crawl", *(site.url for site in sites), "--db", db,
             "--frontier", redis_url, "--frontier-name", name, "--frontier-idle", "2", *options],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(workers)]
        while True:
            with engine.connect() as connection:
                stored = connection.scalar(select(func.count()).select_from(Article)) or 0
            if stored >= wanted:
                done = time.time()
                break
            if all(p.poll() is not None for p in processes):
                raise SystemExit(f"workers stopped with {stored} of {wanted} articles stored: "
                                 + "".join(p.stderr.read()[-2000:] for p in processes if p.stderr))
            time.sleep(0.1)
        for process in processes:
            process.wait(timeout=120)
        first = min(hit.start for site in sites for hit in site.hits)
        crawl = done - first
        gap = min(site.min_gap() for site in sites)
        in_flight = max(site.max_in_flight() for site in sites)
        return crawl, done - started, gap, in_flight
    finally:
        engine.dispose()
        Frontier(connect(redis_url), name).clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--articles", type=int, default=40, help="Articles per site.")
    parser.add_argument("--latency", type=float, default=0.2, help="Seconds a site waits before each answer.")
    parser.add_argument("--delay", type=float, default=0.5, help="Least seconds between requests to one site.")
    parser.add_argument("--concurrency", type=int, default=2, help="Most requests in flight to one site.")
    parser.add_argument("--workers", default="1,2,3", help="Worker counts to measure, comma-separated.")
    parser.add_argument("--redis", default=os.environ.get("ARCHIVE_FRONTIER_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--postgres", default=os.environ.get(
        "ARCHIVE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="A PostgreSQL URL whose user may create databases (one per measurement).")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    options = ["--delay", str(args.delay), "--concurrency", str(args.concurrency), "--no-throttle"]
    print(f"{args.sites} sites x {args.articles} articles, {args.latency * 1000:.0f} ms per answer; per site: "
          f"delay {args.delay} s, concurrency {args.concurrency} (the sites allow {args.sites / args.delay:.0f} "
          f"requests/s in all); {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}\n")
    print(f"{'workers':>7}  {'crawl s':>8}  {'wall s':>7}  {'pages/s':>8}  {'speed-up':>8}  {'least gap':>9}  "
          f"{'in flight':>9}  {'load avg':>8}")
    with ExitStack() as stack:
        sites = [stack.enter_context(AccessLogSite(args.articles, per_list=10, latency=args.latency,
                                                   host=f"127.0.0.{n + 2}")) for n in range(args.sites)]
        first = None
        for workers in counts:
            crawl, wall, gap, in_flight = measure(workers, sites, args.articles, normalise_url(args.postgres),
                                                  args.redis, options)
            rate = args.articles * args.sites / crawl
            first = first or rate
            print(f"{workers:>7}  {crawl:>8.1f}  {wall:>7.1f}  {rate:>8.1f}  {rate / first:>7.2f}x  "
                  f"{gap * 1000:>7.0f}ms  {in_flight:>9}  {os.getloadavg()[0]:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
