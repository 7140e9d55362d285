"""The web app's pages timed through HTTP on a large generated archive (issue 22, "Speed").

Usage:
    python bench/web_pages.py                                   # 100,000 articles x 3 versions, SQLite
    python bench/web_pages.py --articles 20000 --sqlite-path /tmp/web20k.db
    python bench/web_pages.py --no-sqlite --postgres postgresql://postgres@127.0.0.1/bench

The archive is built as bench/archive_scale.py builds it (the store's own write path; reused when
the database already holds it), served by `archive serve` in a child process on a loopback
port, and asked over HTTP, one request at a time, after a warm-up pass. Timed, p50 and p95 of the
whole request as the client sees it (loopback adds well under a millisecond):
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
from tests.web.serving import serving  # noqa: E402

POPULAR = ("NVDA", "AAPL", "MSFT", "TSLA", "AMZN")


def timed(base: str, paths: list[str]) -> tuple[float, float]:
    """p50 and p95 (ms) of GET base+path over the paths, after a warm-up pass over the first few."""
    for path in paths[:5]:
        urllib.request.urlopen(base + path).read()
    samples = []
    for path in paths:
        began = time.perf_counter()
        with urllib.request.urlopen(base + path) as response:
            response.read()
            assert response.status == 200, path
        samples.append(time.perf_counter() - began)
    return percentiles(samples)


def measure(url: str, requests: int, articles: int) -> dict[str, str]:
    rng = random.Random(7)
    corpus = Corpus()
    finance = FINANCE.split() if isinstance(FINANCE, str) else list(FINANCE)
    quote = urllib.parse.quote_plus
    texts = text_queries(corpus, rng, requests)
    ids = [rng.randrange(1, articles + 1) for _ in range(requests)]
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
            p50, p95 = timed(base, paths)
            results[name] = f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
            print(f"  {name:<32} {results[name]}", file=sys.stderr, flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--sqlite-path", help="the SQLite archive (built there when empty; default: a temporary file)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--postgres", help="a PostgreSQL database URL (built when empty)")
    parser.add_argument("--requests", type=int, default=100, help="requests per page kind")
    args = parser.parse_args()
    targets = {}
    if not args.no_sqlite:
        path = Path(args.sqlite_path or f"/tmp/archive-web-bench-{args.articles}.db")
        targets["sqlite"] = f"sqlite:///{path}"
    if args.postgres:
        targets["postgresql"] = args.postgres
    for name, url in targets.items():
        existing = populated(url)
        if existing and existing != args.articles:
            sys.exit(f"{name}: the database holds {existing} articles, not {args.articles}")
        if not existing:
            print(f"{name}: building {args.articles:,} articles x 3 versions ...", file=sys.stderr, flush=True)
            build(url, args.articles, False, lambda m: print(m, file=sys.stderr, flush=True))
        print(f"{name}: {args.articles:,} articles x 3 versions; {os.cpu_count()} CPUs", file=sys.stderr)
        measure(url, args.requests, args.articles)


if __name__ == "__main__":
    main()
