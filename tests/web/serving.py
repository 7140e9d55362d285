"""`archive serve` in a child process, as a user starts it, for the tests that talk HTTP to it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from typing import Iterator


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(db_url: str, *extra: str) -> Iterator[str]:
    """`archive serve` in a child process on a free loopback port; its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "archive", "serve", "--db", db_url, "--port", str(port),
                                *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/static/style.css", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"archive serve did not start: {process.communicate()[1]}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
