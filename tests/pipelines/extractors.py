"""Extraction functions that misbehave on cue, importable by name in a worker process (tests only)."""

from __future__ import annotations

import os
import time

from archive.extract import extract


def misbehaving(body: bytes, url: str, content_type: str | None = None):  # type: ignore[no-untyped-def]
    """The real extractor, except: b"STALL" never returns, b"CRASH" kills the worker, b"BOOM" raises."""
    if b"STALL" in body:
        time.sleep(3600)
    if b"CRASH" in body:
        os._exit(3)
    if b"BOOM" in body:
        raise RuntimeError("a dependency failed on odd input")
    return extract(body, url, content_type=content_type)


