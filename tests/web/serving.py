"""`archive serve` in a child process, as a user starts it, for the tests that talk HTTP to it."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from typing import IO, Iterator

#: The line `archive serve` prints once it listens: the address to browse.
SERVING = re.compile(r"^serving \S+ at (http://\S+/) \(Ctrl-C to stop\)$")


def _lines(stream: IO[str], into: "queue.Queue[str | None]") -> None:
    for line in stream:
        into.put(line.rstrip("\n"))
    into.put(None)


@contextmanager
def serving(db_url: str, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`archive serve --port 0` in a child process: the system picks a free loopback port, and the
    base URL is the one the command prints (so it must print the port it bound), once it answers."""
    process = subprocess.Popen([sys.executable, "-m", "archive", "serve", "--db", db_url, "--port", "0", *extra],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    said: "queue.Queue[str | None]" = queue.Queue()
    assert process.stderr is not None
    threading.Thread(target=_lines, args=(process.stderr, said), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        base = None
        while base is None:
            try:
                line = said.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"archive serve printed no address: {seen}")
            seen.append(line)
            match = SERVING.match(line)
            base = match.group(1).rstrip("/") if match else None
        while True:
            try:
                urllib.request.urlopen(base + "/static/style.css", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"archive serve did not answer at {base}: {seen}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
