"""Where a crawl's time goes: CPU seconds per process and thread of one `archive crawl`.

Usage:  python bench/crawl_cpu.py DIR [--runs 1]

DIR is a folder that `python bench/crawl.py --keep DIR` built (its site/ is served again here,
from a separate process). Each run crawls it into a fresh SQLite archive while this script reads
the CPU time of every thread of the crawl process and of its extraction workers from /proc
(Linux) four times a second. Thread names come from `py-spy dump` when py-spy is installed (it is
not a dependency); without it the crawl process's threads are listed by id. The server's CPU is
not counted: on a 2-core machine it is the rest of what the cores do.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from crawl import CONCURRENCY, ROOT, SERVER, free_port  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
#: What the crawl process's named threads do.
ROLES = {"MainThread": "reactor: Scrapy, our middlewares and spider", "store": "store writer: fingerprint, zstd, SQL",
         "extract-wait": "waits on the extraction workers", "extract-db": "raw-hash lookups",
         "fresh-links": "link lookups (SkipFresh)", "validators": "validator lookups (ConditionalGet)"}
Thread = tuple[int, int]  # (process id, thread id)


def thread_cpu(pid: int) -> dict[Thread, float]:
    """CPU seconds (user + system) of each thread of `pid`, gone threads left out."""
    found: dict[Thread, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[(pid, int(tid))] = (int(fields[11]) + int(fields[12])) / TICK
    return found


def children(pid: int) -> list[int]:
    """Every descendant of `pid`: the extraction workers are the children of a fork server."""
    kids: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        for tid in os.listdir(f"/proc/{parent}/task") if os.path.isdir(f"/proc/{parent}/task") else []:
            try:
                found = [int(kid) for kid in Path(f"/proc/{parent}/task/{tid}/children").read_text().split()]
            except OSError:
                continue
            kids += found
            todo += found
    return kids


def thread_names(pid: int) -> dict[Thread, str]:
    """Python thread names of `pid`, by py-spy (empty without it)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return {}
    out = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True).stdout
    return {(pid, int(m.group(1), 0)): m.group(2)
            for m in re.finditer(r'Thread (0x[0-9A-Fa-f]+|\d+) \([^)]*\): "([^"]+)"', out)}


def one_run(url: str, work: Path) -> tuple[float, dict[str, float]]:
    """(wall seconds, CPU seconds by process/thread name) of one crawl into a fresh archive."""
    db = work / "cpu.db"
    db.unlink(missing_ok=True)
    command = [sys.executable, "-m", "archive", "crawl", url, "--db", f"sqlite:///{db}", "--allow-private-addresses",
               "--concurrency", str(CONCURRENCY), "--no-throttle"]
    start = time.perf_counter()
    crawl = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cpu: dict[Thread, float] = {}
    names: dict[Thread, str] = {}
    while crawl.poll() is None:
        workers = children(crawl.pid)
        for pid in (crawl.pid, *workers):
            cpu.update(thread_cpu(pid))
        if not names and workers and time.perf_counter() - start > 10:  # the pool is running by now
            names = thread_names(crawl.pid)
        time.sleep(0.25)
    wall = time.perf_counter() - start
    by_name: dict[str, float] = {}
    for (pid, tid), seconds in cpu.items():
        if pid != crawl.pid:
            name = "extraction workers and their fork server (processes)"
        else:
            thread = re.sub(r"_\d+$", "", names.get((pid, tid), f"thread {tid}"))
            name = f"crawl process: {ROLES.get(thread, thread)}"
        by_name[name] = by_name.get(name, 0.0) + seconds
    return wall, by_name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", type=Path, help="a folder built by bench/crawl.py --keep")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    site = args.dir / "site"
    if not site.is_dir():
        parser.error(f"{site} does not exist: build it with python bench/crawl.py --keep {args.dir}")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(site)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    pages = len(list((site / "a").glob("*.html")))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-cpu-") as work:
            for run in range(1, args.runs + 1):
                print(f"run {run}/{args.runs} ...", file=sys.stderr)
                wall, by_name = one_run(f"http://127.0.0.1:{port}/", Path(work))
                total = sum(by_name.values())
                print(f"\n{pages} pages: {wall:.1f} s wall, {total:.1f} CPU-s ({total / wall:.2f} cores busy, "
                      f"{os.cpu_count()} cores)\n")
                print(f"{'where':<58}{'CPU s':>7}{'ms/page':>9}{'share':>7}")
                for name, seconds in sorted(by_name.items(), key=lambda item: -item[1]):
                    if seconds >= 0.05:
                        print(f"{name:<58}{seconds:>7.1f}{1000 * seconds / pages:>9.1f}{seconds / total:>7.0%}")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
