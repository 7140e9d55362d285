"""The crawl's progress line, as a terminal shows it: time taken, rate, the sites, what is left of
what the feeds listed; and a warning printed during the crawl (Ctrl-C) on a line of its own."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from archive.demo.run import SITE
from archive.demo.server import SiteServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def read_all(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the crawl closed its end of the terminal
            return
        if not chunk:
            return
        into.append(chunk)


def test_progress_line_and_a_warning_on_its_own_line(tmp_path: Path) -> None:
    with SiteServer(SITE) as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[[site]]\nname = "demo"\nfeeds = ["{server.url}feed.xml"]\ndelay = 0.3\n',
                           encoding="utf-8")
        terminal, stderr = pty.openpty()
        fcntl.ioctl(stderr, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 250, 0, 0))  # wide: nothing cut
        env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1", "ARCHIVE_PROGRESS_INTERVAL": "0.5"}
        crawl = subprocess.Popen([sys.executable, "-m", "archive", "crawl", "--sources", str(sources),
                                  "--db", f"sqlite:///{tmp_path / 'a.db'}"], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
        os.close(stderr)
        chunks: list[bytes] = []
        reader = threading.Thread(target=read_all, args=(terminal, chunks), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while b"".join(chunks).count(b"listed left") < 2 and time.monotonic() < deadline and crawl.poll() is None:
            time.sleep(0.1)
        assert crawl.poll() is None, b"".join(chunks).decode(errors="replace")
        os.killpg(crawl.pid, signal.SIGINT)
        crawl.wait(120)
        reader.join(10)
        os.close(terminal)
    text = b"".join(chunks).decode("utf-8", errors="replace")
    lines = [line for line in re.split(r"\r\n|\n", text)]
    progress = [part for line in lines for part in line.split("\r") if " pages · " in part]
    assert progress, text
    line = progress[-2] if len(progress) > 1 else progress[-1]
    assert re.match(r"(\x1b\[K)?\d+s · \d+ pages · ", line), line  # time taken first
    assert re.search(r" · \d+/min now", line), line  # the current rate
    assert re.search(r" · \d+ of \d+ listed left", line), line  # the feed's entries: a known total
    assert re.search(r"127\.0\.0\.1:\d+ \d+ \(\d+/min\)", line), line  # the site, with its own rate
    # Ctrl-C's warning: the progress line was erased first, so the warning has its line to itself
    warning = next(line for line in lines if "stopping after the requests in flight" in line)
    before = warning[:warning.index("stopping after")].split("\r")[-1]
    assert " pages · " not in before, repr(warning)
    # the log line starts the line (a CI run under load once showed 4 spaces before the time stamp,
    # not reproduced since; the progress text itself was gone, as checked above)
    assert re.match(r"(\x1b\[K)?\s*\d{4}-\d\d-\d\d ", before), repr(warning)
