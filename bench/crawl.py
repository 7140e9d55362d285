"""Crawl throughput: this project against bare Scrapy and bare trafilatura, measured in one run.

Usage:  python bench/crawl.py [--pages 2000] [--keep DIR] [--corpus]

A site of N realistic article pages (the real pages of ../shared/fixtures/pages, or the bundled
sample articles when that folder is absent, with their paragraphs replaced by sentences drawn at
random from all of them, so that no two bodies are alike) plus listing pages is served from a
separate process, with no artificial delay. With --corpus the article pages are the 299 real
pages of ../shared/fixtures/corpus (267 sites, 25 languages) byte for byte, each served several
times (N / 299), with only their links and canonicals stripped and a number added to the
headline (every copy is fetched and extracted: none is a byte-identical repeat).
`ARCHIVE_SHARED` names the folder holding `fixtures/` when it is not `../shared`.
Measured, each in its own child process:
  1. bare Scrapy: a minimal spider that only downloads the same pages (the network floor),
     with the same settings as the crawls: 16 requests at once, no AutoThrottle (our own server),
  2. bare trafilatura: bare_extraction with metadata over the same pages, serially, one process
     (the CPU floor for one core),
  3. `archive crawl` of the site into a fresh SQLite archive, end to end,
  4. `archive crawl` again over the unchanged site (the incremental cost): by default a known
     article is requested again only when its recrawl is due, so none of these is,
  5. and again with --refresh-after 0s: every known article asked for again, conditionally
     (If-Modified-Since; the server answers 304).
It prints pages/s, wall time and peak memory of each, and the ratios the issue sets targets for:
(3) / (2) time at most 0.6 (at most 0.5 with --corpus), (3) / (4) at least 10, peak memory of (3)
under 500 MB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "archive" / "demo" / "site"
SHARED = Path(os.environ.get("ARCHIVE_SHARED") or ROOT.parent / "shared") / "fixtures"
FIXTURES = SHARED / "pages"
CORPUS = SHARED / "corpus"
#: Our own server, so no politeness: both Scrapy runs use this many requests at once, no AutoThrottle.
CONCURRENCY = 16
PARAGRAPH = re.compile(r"(<p(?:\s[^>]*)?>)([^<]{40,}?)(</p>)", re.S)


def corpus_pages(corpus: Path = CORPUS) -> list[bytes]:
    """The corpus's pages as served (fundus's are stored gzipped), in manifest order."""
    pages = []
    for line in (corpus / "manifest.jsonl").read_text().splitlines():
        if line.strip():
            entry = json.loads(line)
            raw = (corpus / entry["file"]).read_bytes()
            pages.append(gzip.decompress(raw) if entry.get("stored_gzip") else raw)
    return pages


_CANONICAL = re.compile(rb"<link\b[^>]*\brel=[\"']?canonical\b[^>]*>", re.I)
_OG_URL = re.compile(rb"<meta\b[^>]*\bproperty=[\"']og:url[\"'][^>]*>", re.I)
_HREF = re.compile(rb"""\bhref\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.I)
_H1_END = re.compile(rb"</h1>", re.I)


def build_corpus_site(folder: Path, pages: int) -> list[Path]:
    """N article pages, the corpus's pages in turn, byte for byte but for links, canonicals and a
    number in the headline; plus listing pages of 100 links each."""
    sources = corpus_pages()
    (folder / "a").mkdir(parents=True)
    written = []
    for number in range(pages):
        html = _HREF.sub(b'href="#"', _OG_URL.sub(b"", _CANONICAL.sub(b"", sources[number % len(sources)])))
        html, found = _H1_END.subn(f" ({number})</h1>".encode(), html, count=1)
        if not found:
            html = html.replace(b"</body>", f"<p>({number})</p></body>".encode(), 1)
        path = folder / "a" / f"{number}.html"
        path.write_bytes(html)
        written.append(path)
    _listings(folder, pages)
    return written


def build_site(folder: Path, pages: int, seed: int = 7) -> list[Path]:
    """N article pages made from the sample articles, plus listing pages of 100 links each."""
    rng = random.Random(seed)
    if FIXTURES.is_dir():
        templates = sorted(FIXTURES.glob("*.html"))
    else:
        templates = [SITE / entry["path"].lstrip("/") for entry in json.loads((SITE / "manifest.json").read_text())]
    sentences = [s for t in templates for p in PARAGRAPH.findall(t.read_text(encoding="utf-8", errors="replace"))
                 for s in re.split(r"(?<=\.) ", p[1]) if len(s) > 40 and "<" not in s]
    (folder / "a").mkdir(parents=True)
    written = []
    for number in range(pages):
        template = templates[number % len(templates)].read_text(encoding="utf-8", errors="replace")
        def vary(match: re.Match[str]) -> str:
            return match.group(1) + " ".join(rng.sample(sentences, 3)) + match.group(3)
        html = PARAGRAPH.sub(vary, template).replace("</h1>", f" ({number})</h1>", 1)
        html = re.sub(r'<link rel="canonical"[^>]*>', "", html)
        html = re.sub(r"""href=("[^"]*"|'[^']*')""", 'href="#"', html)  # only the listings link pages
        path = folder / "a" / f"{number}.html"
        path.write_text(html)
        written.append(path)
    _listings(folder, pages)
    return written


def _listings(folder: Path, pages: int) -> None:
    """Listing pages of 100 links each, chained by "next" links, the index and robots.txt."""
    for start in range(0, pages, 100):
        links = "".join(f'<li><a href="/a/{n}.html">Story {n}</a></li>' for n in range(start, min(start + 100, pages)))
        nxt = f'<a href="/list/{start + 100}.html">next</a>' if start + 100 < pages else ""
        (folder / "list").mkdir(exist_ok=True)
        (folder / "list" / f"{start}.html").write_text(
            f'<html><head><title>Latest</title><meta property="og:type" content="website"></head>'
            f'<body><ul>{links}</ul>{nxt}</body></html>')
    (folder / "index.html").write_text('<html><head><meta property="og:type" content="website"></head>'
                                       '<body><a href="/list/0.html">Latest</a></body></html>')
    (folder / "robots.txt").write_text("User-agent: *\nAllow: /\n")


BARE_SPIDER = textwrap.dedent('''
    import scrapy
    class Bare(scrapy.Spider):
        name = "bare"
        def parse(self, response):  # each distinct link once, as the archive's spider does
            for href in set(response.css("a::attr(href)").getall()):
                if not href.startswith("#"):
                    yield response.follow(href, self.parse)
''')

TRAFILATURA = textwrap.dedent('''
    import sys, pathlib
    from trafilatura import bare_extraction
    for path in sorted(pathlib.Path(sys.argv[1]).glob("a/*.html")):
        bare_extraction(path.read_bytes(), url="http://127.0.0.1/" + path.name, with_metadata=True)
''')

#: The site's server, in its own process: Python's static file server with a listen backlog for 16
#: connections at once (python -m http.server's backlog of 5 had the kernel drop connections of
#: each burst, each then stalled a second before its SYN was retried; see LoopbackServer).
SERVER = textwrap.dedent('''
    import functools, sys
    from http.server import SimpleHTTPRequestHandler
    from archive.demo.server import LoopbackServer
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    LoopbackServer(("127.0.0.1", int(sys.argv[1])), functools.partial(Quiet, directory=sys.argv[2])).serve_forever()
''')

MEASURE = textwrap.dedent('''
    import json, os, resource, subprocess, sys, time
    TICK = os.sysconf("SC_CLK_TCK")
    start = time.perf_counter()
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    cpu = {}  # pid -> CPU seconds last read: the crawl's grandchildren (forked extraction workers) too
    while child.poll() is None:
        todo, seen = [child.pid], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as kids:
                        todo += [int(k) for k in kids.read().split()]
            except (OSError, ValueError):
                pass
        time.sleep(0.25)
    err = child.stderr.read()
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    measured = usage.ru_utime + usage.ru_stime  # the command and the descendants it waited for
    sampled = sum(cpu.values())  # every descendant, as last read while the command ran
    print(json.dumps({"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "cpu": max(measured, sampled),
                      "code": child.returncode, "err": err[-2000:]}))
''')


def measure(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Wall time and peak RSS of a command, from a fresh wrapper process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"{' '.join(command[:4])}... failed:\n{result['err']}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="build the site here and keep it")
    parser.add_argument("--corpus", action="store_true",
                        help="article pages from ../shared/fixtures/corpus (299 real pages from 267 sites)")
    args = parser.parse_args()
    if args.corpus and not (CORPUS / "manifest.jsonl").exists():
        sys.exit(f"--corpus: no corpus at {CORPUS} (set ARCHIVE_SHARED to the folder holding fixtures/)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-crawl-"))
    site = work / "site"
    if not site.exists():
        print(f"building {args.pages} pages in {site} ...", file=sys.stderr)
        (build_corpus_site if args.corpus else build_site)(site, args.pages)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(site)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    url = f"http://127.0.0.1:{port}/"
    try:
        (work / "bare.py").write_text(BARE_SPIDER)
        (work / "traf.py").write_text(TRAFILATURA)
        db = work / "bench.db"
        db.unlink(missing_ok=True)
        print("1/5 bare Scrapy ...", file=sys.stderr)
        bare = _bare_scrapy(work, url)
        print("2/5 bare trafilatura ...", file=sys.stderr)
        traf = measure([sys.executable, str(work / "traf.py"), str(site)])
        crawl = [sys.executable, "-m", "archive", "crawl", url, "--db", f"sqlite:///{db}", "--allow-private-addresses",
                 "--concurrency", str(CONCURRENCY), "--no-throttle"]
        print("3/5 archive crawl ...", file=sys.stderr)
        first = measure(crawl)
        print("4/5 archive crawl again ...", file=sys.stderr)
        second = measure(crawl)
        print("5/5 archive crawl again, --refresh-after 0s ...", file=sys.stderr)
        every = measure(crawl + ["--refresh-after", "0s"])
    finally:
        server.terminate()
    pages = args.pages
    rows = [("bare Scrapy (download only)", bare), ("bare trafilatura (1 core)", traf),
            ("archive crawl, fresh archive", first), ("archive crawl, unchanged site", second),
            ("  same, --refresh-after 0s", every)]
    print(f"\n{pages} article pages, {os.cpu_count()} cores\n")
    print(f"{'run':<32}{'seconds':>9}{'pages/s':>9}{'peak MB':>9}{'CPU s':>9}")
    for name, result in rows:
        print(f"{name:<32}{result['seconds']:>9.1f}{pages / result['seconds']:>9.0f}{result['peak_mb']:>9.0f}"
              f"{result['cpu']:>9.1f}")
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} cores)")
    target = 0.5 if args.corpus else 0.6
    print(f"crawl / bare trafilatura time: {first['seconds'] / traf['seconds']:.2f}  (target <= {target})")
    print(f"crawl / bare trafilatura CPU:  {first['cpu'] / traf['cpu']:.2f}  (the crawl's processes together; "
          "on two idle cores its time is about half of that)")
    print(f"crawl / bare Scrapy time:      {first['seconds'] / bare['seconds']:.2f}")
    print(f"first / second crawl time:     {first['seconds'] / second['seconds']:.1f}  (target >= 10; "
          f"{first['seconds'] / every['seconds']:.1f} with --refresh-after 0s)")
    print(f"peak memory of the crawl:      {first['peak_mb']:.0f} MB  (target < 500)")


def _bare_scrapy(work: Path, url: str) -> dict[str, float]:
    """A spider that follows every link and keeps nothing, with the project's politeness settings."""
    runner = work / "run_bare.py"
    runner.write_text(textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(work)!r})
        sys.path.insert(0, {str(ROOT)!r})
        from scrapy.crawler import CrawlerProcess
        from scrapy.settings import Settings
        from crawler import settings as project
        from bare import Bare
        settings = Settings()
        settings.setmodule(project)  # the same politeness: robots.txt, AutoThrottle, concurrency
        settings.update({{"ITEM_PIPELINES": {{}}, "DOWNLOADER_MIDDLEWARES": {{}}, "SPIDER_MIDDLEWARES": {{}}, "EXTENSIONS": {{}},
                         "LOG_LEVEL": "WARNING", "AUTOTHROTTLE_ENABLED": False,
                         "CONCURRENT_REQUESTS_PER_DOMAIN": {CONCURRENCY}, "CONCURRENT_REQUESTS": {CONCURRENCY}}})
        process = CrawlerProcess(settings)
        process.crawl(Bare, start_urls=[{url!r}])
        process.start()
    '''))
    return measure([sys.executable, str(runner)])


if __name__ == "__main__":
    main()
