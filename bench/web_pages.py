"""The web app's pages timed through HTTP on a large generated archive (issue 22, "Speed").

Usage:
    python bench/web_pages.py                                   # 100,000 articles x 3 versions, SQLite
    python bench/web_pages.py --articles 20000 --sqlite-path /tmp/web20k.db
    python bench/web_pages.py --no-sqlite --postgres postgresql://postgres@127.0.0.1/bench
    python bench/web_pages.py --scratch-postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

The archive is built as bench/archive_scale.py builds it (the store's own write path). A database
that already holds an archive is measured at the size it holds (a build that was stopped early
is measured as it is; the size is printed). --scratch-postgres creates a database with a unique
name on that server, builds into it, measures, and drops it. The archive is served by `archive
serve` in a child process on a loopback port and asked over HTTP, one request at a time, after a
warm-up pass. Each figure is the p50 and p95 of the server's own time (the app's Server-Timing
header: from the request's arrival to the response's first byte), with the client's p95 beside
it, and the machine's load average while it ran (the machine is shared: compare figures taken
under similar load):
  search page: the HTML page of a full-text query (results, total, attention chart, facets)
  search page with a ticker and a 90-day window
  attention alone (/api/attention) for a common word and for a popular ticker, whole archive
  article page, and the diff of versions 1 and 3 (side by side)
Targets: search page p95 < 150 ms, attention p95 < 300 ms, article with a diff < 100 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.archive_scale import (FINANCE, Corpus, build, percentiles, populated, text_queries,  # noqa: E402
                                 window)
from support.scratch import scratch_postgres  # noqa: E402
from tests.web.serving import serving  # noqa: E402

POPULAR = ("NVDA", "AAPL", "MSFT", "TSLA", "AMZN")


def timed(base: str, paths: list[str]) -> tuple[float, float, float, str]:
    """Server p50 and p95, client p95 (ms) of GET base+path over the paths, after a warm-up pass
    over the first few, and the slowest path."""
    for path in paths[:5]:
        urllib.request.urlopen(base + path).read()
    server, client = [], []
    for path in paths:
        began = time.perf_counter()
        with urllib.request.urlopen(base + path) as response:
            response.read()
            assert response.status == 200, path
            timing = response.headers["Server-Timing"]
        client.append(time.perf_counter() - began)
        server.append(float(timing.split("dur=")[1]) / 1000)
    p50, p95 = percentiles(server)
    slowest = max(zip(server, paths))[1]
    return p50, p95, percentiles(client)[1], slowest


TARGETS = {"search page (full-text)": 150, "search page (ticker + 90 days)": 150, "attention, common word": 300,
           "attention, popular ticker": 300, "article page": 100, "diff v1 -> v3 (side by side)": 100}


def measure(url: str, requests: int, articles: int) -> dict[str, str]:
    rng = random.Random(7)
    corpus = Corpus()
    finance = FINANCE.split() if isinstance(FINANCE, str) else list(FINANCE)
    quote = urllib.parse.quote_plus
    texts = text_queries(corpus, rng, requests)
    ids = rng.choices(article_ids(url), k=requests)  # ids as stored (PostgreSQL's sequence leaves gaps)
    cases = {
        "search page (full-text)": [f"/search?q={quote(t)}" for t in texts],
        "search page (ticker + 90 days)": [
            f"/search?ticker={rng.choice(POPULAR)}&since={s:%Y-%m-%d}&until={u:%Y-%m-%d}"
            for s, u in (window(rng) for _ in range(requests))],
        "attention, common word": [f"/api/attention?q={quote(rng.choice(finance[:60]))}" for _ in range(requests)],
        "attention, popular ticker": [f"/api/attention?ticker={rng.choice(POPULAR)}" for _ in range(requests)],
        "article page": [f"/article/{i}" for i in ids],
        "diff v1 -> v3 (side by side)": [f"/article/{i}/diff?from=1&to=3&view=side" for i in ids],
    }
    results = {}
    with serving(url) as base:
        for name, paths in cases.items():
            load = os.getloadavg()[0]
            p50, p95, client95, slowest = timed(base, paths)
            load = max(load, os.getloadavg()[0])
            results[name] = (f"server p50 {p50:7.1f} ms  p95 {p95:7.1f} ms (target < {TARGETS[name]})  "
                             f"client p95 {client95:7.1f} ms  load {load:4.1f}")
            print(f"  {name:<32} {results[name]}   slowest: {slowest}", file=sys.stderr, flush=True)
    return results


def article_ids(url: str) -> list[int]:
    from sqlalchemy import select  # noqa: PLC0415
    from archive.db import make_engine  # noqa: PLC0415
    from archive.models import Article  # noqa: PLC0415
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.scalars(select(Article.id).order_by(Article.id)))
    finally:
        engine.dispose()


def run(name: str, url: str, articles: int, requests: int) -> None:
    existing = populated(url)
    if not existing:
        print(f"{name}: building {articles:,} articles x 3 versions ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        build(url, articles, False, lambda m: print(m, file=sys.stderr, flush=True))
        print(f"{name}: built in {time.perf_counter() - began:,.0f} s", file=sys.stderr, flush=True)
        existing = populated(url)
    if url.startswith("postgresql"):
        analyze(url)
    print(f"{name}: {existing:,} articles x 3 versions; {os.cpu_count()} CPUs", file=sys.stderr, flush=True)
    measure(url, requests, existing)


def analyze(url: str) -> None:
    """VACUUM ANALYZE, as autovacuum would have done to an archive in use."""
    from sqlalchemy import text  # noqa: PLC0415
    from archive.db import make_engine  # noqa: PLC0415
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--sqlite-path", help="the SQLite archive (built there when empty; default: a temporary file)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--postgres", help="a PostgreSQL database URL (built when empty)")
    parser.add_argument("--scratch-postgres", metavar="SERVER_URL",
                        help="build and measure in a new database on this PostgreSQL server, dropped after")
    parser.add_argument("--requests", type=int, default=100, help="requests per page kind")
    args = parser.parse_args()
    targets = {}
    if not args.no_sqlite:
        path = Path(args.sqlite_path or f"/tmp/archive-web-bench-{args.articles}.db")
        targets["sqlite"] = f"sqlite:///{path}"
    if args.postgres:
        targets["postgresql"] = args.postgres
    for name, url in targets.items():
        run(name, url, args.articles, args.requests)
    if args.scratch_postgres:
        with scratch_postgres(args.scratch_postgres, "web_bench") as url:
            run("postgresql (scratch)", url, args.articles, args.requests)


if __name__ == "__main__":
    main()
