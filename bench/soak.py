"""Soak: crawl a local site with injected faults for a bounded time, then check the archive.

Usage:  python bench/soak.py [--seconds 30] [--errors 0.1] [--slow 0.3] [--edit-every 2] [--kill 0.2]
                             [--db PATH] [--seed 1]

The bundled sample site (35 articles, ~120 pages) is served on loopback by support/faultserver.py:
each request fails with probability --errors (HTTP 500/503/404/429, connection resets, short
bodies, truncated or binary pages, stalls past the crawl's timeout, drawn at random), every
response is delayed up to --slow seconds, and every --edit-every seconds one random article
gets a new paragraph (the publisher editing it, during crawls as well as between them). Crawls of
the site (`archive crawl`, a child process each) run back to back until --seconds have passed (the
one running then is stopped with SIGTERM, as Ctrl-C would); a fraction --kill of them is killed
with SIGKILL part way. At the end it prints the pages processed, errors by kind, versions
written (against the edits made) and the result of `archive check`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from support.faultserver import FaultServer  # noqa: E402

SITE = ROOT / "archive" / "demo" / "site"


def load_site() -> tuple[dict[str, bytes], list[str]]:
    """Every file of the sample site by URL path, and the paths of its articles."""
    pages: dict[str, bytes] = {}
    for path in SITE.rglob("*"):
        if path.is_file():
            relative = "/" + path.relative_to(SITE).as_posix()
            pages[relative] = path.read_bytes()
    manifest = json.loads((SITE / "manifest.json").read_text())
    return pages, [entry["path"] for entry in manifest]


def edit(pages: dict[str, bytes], path: str, number: int) -> None:
    """The publisher adds a paragraph to the article's body."""
    html = pages[path].decode("utf-8")
    paragraphs = list(re.finditer(r"</p>", html))
    if not paragraphs:
        return
    cut = paragraphs[len(paragraphs) // 2].end()
    note = f"<p>Update {number}: the company responded to the report after publication, the desk added.</p>"
    pages[path] = (html[:cut] + note + html[cut:]).encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to keep crawling")
    parser.add_argument("--errors", type=float, default=0.1, help="share of requests that fail")
    parser.add_argument("--slow", type=float, default=0.3, help="random delay per response, up to this")
    parser.add_argument("--edit-every", type=float, default=2.0, help="seconds between article edits")
    parser.add_argument("--kill", type=float, default=0.2, help="share of crawls killed with SIGKILL")
    parser.add_argument("--timeout", type=float, default=2.0, help="the crawls' download timeout")
    parser.add_argument("--db", type=Path, help="SQLite file (default: a new one in a temporary folder)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng, edits_rng = random.Random(args.seed), random.Random(args.seed + 1)
    db_path = args.db or Path(tempfile.mkdtemp(prefix="soak-")) / "archive.db"
    db = f"sqlite:///{db_path}"
    pages, articles = load_site()
    edits: Counter[str] = Counter()
    stop = threading.Event()
    env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"}
    crawls: Counter[str] = Counter()
    started = time.monotonic()

    with FaultServer(pages, chaos=args.errors, slow=args.slow, stall_seconds=args.timeout * 3,
                     seed=args.seed) as server:
        def editor() -> None:
            number = 0
            while not stop.wait(args.edit_every):
                number += 1
                path = edits_rng.choice(articles)
                edit(server.pages, path, number)
                edits[path] += 1

        threading.Thread(target=editor, daemon=True).start()
        while time.monotonic() - started < args.seconds:
            crawl = subprocess.Popen([sys.executable, "-m", "archive", "crawl", server.url, "--db", db,
                                      "--timeout", str(args.timeout)], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            kill_at = time.monotonic() + rng.uniform(1.0, 6.0) if rng.random() < args.kill else None
            asked_to_stop = False
            while crawl.poll() is None:
                time.sleep(0.1)
                now = time.monotonic()
                if kill_at is not None and now >= kill_at:
                    crawl.send_signal(signal.SIGKILL)
                    crawls["killed"] += 1
                    kill_at = None
                elif now > started + args.seconds and not asked_to_stop:
                    crawl.send_signal(signal.SIGTERM)  # time is up: stop cleanly after the pages in flight
                    asked_to_stop = True
                elif now > started + args.seconds + 60:  # a crawl that will not stop is a finding, not a hang
                    crawl.kill()
                    crawls["overran"] += 1
            crawl.wait()
            crawls["run"] += 1
            if crawl.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM):
                crawls[f"exit {crawl.returncode}"] += 1
        stop.set()
        served = dict(server.served)
    wall = time.monotonic() - started

    with sqlite3.connect(db_path) as connection:
        fetches = connection.execute("SELECT count(*) FROM fetch").fetchone()[0]
        kinds = Counter(dict(connection.execute(
            "SELECT substr(error, 1, instr(error, ':') - 1), count(*) FROM fetch WHERE outcome = 'error' GROUP BY 1")))
        outcomes = Counter(dict(connection.execute("SELECT outcome, count(*) FROM fetch GROUP BY 1")))
        versions = connection.execute("SELECT count(*) FROM snapshot").fetchone()[0]
        edited = connection.execute("SELECT count(*) FROM snapshot WHERE version > 1").fetchone()[0]
        article_count = connection.execute("SELECT count(*) FROM article").fetchone()[0]
    checked = subprocess.run([sys.executable, "-m", "archive", "check", "--db", db], cwd=ROOT,
                             capture_output=True, text=True)

    injected = {k: v for k, v in sorted(served.items()) if k != "ok" and not k.startswith("429:")}
    print(f"soak: {wall:.0f} s, {crawls['run']} crawls ({crawls['killed']} killed with SIGKILL"
          + "".join(f", {n} {k}" for k, n in crawls.items() if k.startswith(("exit", "overran"))) + "), "
          f"faults {args.errors:.0%} of requests, responses delayed up to {args.slow:g} s")
    print(f"archive: {db_path}")
    print(f"requests served    {sum(v for k, v in served.items() if not k.startswith('429:'))} "
          f"({sum(injected.values())} with an injected fault: "
          + ", ".join(f"{k} {v}" for k, v in injected.items()) + ")")
    print(f"pages processed    {fetches} fetches recorded ({fetches / wall:.1f}/s): "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print("errors by kind     " + (", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "-"))
    print(f"versions written   {versions} ({article_count} articles; {edited} new versions from "
          f"{sum(edits.values())} edits of {len(edits)} articles; an edit made after an article's last "
          f"successful fetch is not seen)")
    print(f"archive check      {(checked.stdout + checked.stderr).strip()} (exit {checked.returncode})")
    raise SystemExit(checked.returncode)


if __name__ == "__main__":
    main()
