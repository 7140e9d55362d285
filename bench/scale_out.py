"""Scale-out: the same local site crawled by 1 and by 2 workers sharing one Redis frontier and one
PostgreSQL archive (`archive crawl --frontier`), printing pages/s and the speed-up.

Usage:  python bench/scale_out.py [--pages 2000] [--delay 0.2] [--concurrency 4] [--workers 1,2]
            [--redis redis://127.0.0.1:6379/14] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

The site (support/sites.py's generator: a home page, listing pages, N articles) is
served from this process with `delay` seconds spent before each answer, so that a worker is
bound by waiting for the server (as in a real crawl), not by the CPU; each worker keeps
`concurrency` requests in flight and runs one extraction process. Each measurement gets a fresh
PostgreSQL database and a fresh shared crawl. "crawl s" runs from the first request the server
sees until the archive holds every article, and gives pages/s and the speed-up; "wall s" also
counts starting the worker processes (Python, Scrapy, the extraction process: a few seconds
each, in parallel). Neither counts the idle time the workers wait out before they stop.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from archive.db import make_engine, normalise_url, upgrade  # noqa: E402
from archive.demo.server import SiteServer  # noqa: E402
from archive.models import Article  # noqa: E402
from crawler.frontier import Frontier, connect  # noqa: E402
from support.sites import build_site  # noqa: E402


#: The scratch database each measurement creates and drops (one at a time).
SCRATCH_DB = "archive_scale_out_bench"


def measure(workers: int, site: SiteServer, pages: int, admin_url: str, redis_url: str,
            concurrency: int) -> tuple[float, float]:
    """(crawl seconds, wall seconds) until `workers` workers have stored every article of the site."""
    database = SCRATCH_DB
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{SCRATCH_DB}"'))
    db = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    engine = make_engine(db)
    upgrade(engine)
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1", "ARCHIVE_EXTRACT_WORKERS": "1"}
    site.requests.clear()
    first_request: float | None = None
    try:
        started = time.monotonic()
        processes = [subprocess.Popen(
            [sys.executable, "-m", "archive", "crawl", site.url, "--db", db, "--frontier", redis_url,
             "--frontier-name", name, "--frontier-idle", "2", "--no-throttle", "--concurrency", str(concurrency)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(workers)]
        while True:
            with engine.connect() as connection:
                stored = connection.scalar(select(func.count()).select_from(Article))
            if first_request is None and site.requests:
                first_request = time.monotonic()
            if stored >= pages:
                done = time.monotonic()
                break
            if all(p.poll() is not None for p in processes):
                raise SystemExit(f"workers stopped with {stored} of {pages} articles stored: "
                                 + "".join(p.stderr.read()[-2000:] for p in processes if p.stderr))
            time.sleep(0.1)
        for process in processes:
            process.wait(timeout=120)
        fetched = sum(1 for path in site.requests if path.startswith("/a/"))
        if fetched != pages:
            print(f"  warning: {fetched} article fetches for {pages} articles", file=sys.stderr)
        return done - (first_request or started), done - started
    finally:
        engine.dispose()
        Frontier(connect(redis_url), name).clear()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--delay", type=float, default=0.2, help="Seconds the server waits before each answer.")
    parser.add_argument("--concurrency", type=int, default=2, help="Requests in flight per worker.")
    parser.add_argument("--workers", default="1,2", help="Worker counts to measure, comma-separated.")
    parser.add_argument("--redis", default=os.environ.get("ARCHIVE_FRONTIER_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--postgres", default=os.environ.get(
        "ARCHIVE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="A PostgreSQL URL whose user may create databases (one per measurement).")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        root = build_site(Path(folder) / "site", args.pages)
        print(f"{args.pages} article pages, server delay {args.delay * 1000:.0f} ms per request, "
              f"{args.concurrency} requests in flight per worker; {os.cpu_count()} cores, "
              f"{platform.processor() or platform.machine()}, Python {platform.python_version()}\n")
        print(f"{'workers':>7}  {'crawl s':>8}  {'wall s':>7}  {'pages/s':>8}  {'speed-up':>8}")
        with SiteServer(root, delay=args.delay) as site:
            first = None
            for workers in counts:
                crawl, wall = measure(workers, site, args.pages, normalise_url(args.postgres), args.redis,
                                      args.concurrency)
                rate = args.pages / crawl
                first = first or rate
                print(f"{workers:>7}  {crawl:>8.1f}  {wall:>7.1f}  {rate:>8.1f}  {rate / first:>7.2f}x", flush=True)


if __name__ == "__main__":
    main()
