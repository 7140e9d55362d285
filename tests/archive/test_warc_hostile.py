"""Hostile WARC files through `archive import-warc`: size limits, dates, files that are no WARC.

The outside attack: a 2.3 KB WARC whose record's gzip payload expands to 1 GiB took 4.29 GB of
memory; a 306 KB WARC holding a 300 MB record took 1.34 GB; /dev/zero hung; a bad WARC-Date
lost the rest of its file; ARC files were "ignored" with exit 0.
"""

from __future__ import annotations

import gzip
import io
import sqlite3
import subprocess
import sys
import uuid
import zlib
from pathlib import Path
from typing import Callable

import pytest

from archive.limits import MAX_PAGE_BYTES
from tests.conftest import run_cli
from tests.pages import article

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]
GOOD_URL = "https://news.example.com/good.html"


def write_record(out: gzip.GzipFile, url: str, body: bytes = b"", *, chunk: bytes = b"", repeat: int = 0,
                 headers: str = "Content-Type: text/html; charset=utf-8\r\n", date: str = "2025-01-29T12:00:00Z") -> None:
    """One gzip member per record (as WARC files are written), the body streamed: `body`, or `chunk` `repeat` times."""
    size = len(body) + len(chunk) * repeat
    http_head = f"HTTP/1.1 200 OK\r\n{headers}Content-Length: {size}\r\n\r\n".encode()
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: {date}\r\n"
            f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(http_head) + size}\r\n\r\n").encode()
    out.write(head + http_head + body)
    for _ in range(repeat):
        out.write(chunk)
    out.write(b"\r\n\r\n")


def warc(path: Path, write: Callable[[io.BufferedWriter], object]) -> Path:
    with path.open("wb") as raw:
        write(raw)
    return path


def member(raw: io.BufferedWriter, *args: object, **kwargs: object) -> None:
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out:
        write_record(out, *args, **kwargs)  # type: ignore[arg-type]


def good_record(raw: io.BufferedWriter) -> None:
    member(raw, GOOD_URL, article("A good story after the bad record").encode())


def gzip_bomb(size: int) -> bytes:
    """A gzip body that expands to `size` bytes of an HTML page, compressed as it streams."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(b"<html><body><p>")]
    block = b" " * MiB
    parts += [compressor.compress(block) for _ in range(size // MiB)]
    return b"".join(parts) + compressor.flush()


def import_with_peak_memory(path: Path, db: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """`archive import-warc` in a child process, and that process's peak resident memory in MiB.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and exec, so a child of a large
    pytest process reported the parent's size (552 MiB in a full run)."""
    code = ("import re, sys\nfrom archive.cli import cli\n"
            "try:\n    cli.main(args=sys.argv[1:], prog_name='archive')\nfinally:\n"
            "    status = open('/proc/self/status').read()\n"
            "    print('PEAK', int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) // 1024, file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", code, "import-warc", str(path), "--db", db], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    peak = int(result.stderr.rsplit("PEAK", 1)[1].split()[0])
    return result, peak


def fetches(db_path: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(db_path) as connection:
        return connection.execute("select url, outcome, error from fetch order by id").fetchall()


@pytest.mark.slow
@pytest.mark.parametrize("case", ["gzip payload expanding to 1 GiB", "a 300 MB record"])
def test_oversized_records_are_recorded_too_large_in_bounded_memory(tmp_path: Path, case: str) -> None:
    url = "https://news.example.com/huge.html"
    if case.startswith("gzip"):
        bomb = gzip_bomb(1024 * MiB)
        hostile = lambda raw: member(raw, url, bomb, headers="Content-Type: text/html\r\nContent-Encoding: gzip\r\n")  # noqa: E731
    else:
        hostile = lambda raw: member(raw, url, b"<html><body>", chunk=b"<p>" + b"x" * (MiB - 7) + b"</p>", repeat=300)  # noqa: E731
    path = warc(tmp_path / "hostile.warc.gz", lambda raw: (hostile(raw), good_record(raw)))
    assert path.stat().st_size < 2 * MiB
    result, peak = import_with_peak_memory(path, f"sqlite:///{tmp_path / 'a.db'}")
    assert result.returncode == 0, result.stderr[-2000:]
    print(f"peak {peak} MiB")
    assert peak < 250, f"{peak} MiB"  # the body is read no further than the limit (MAX_PAGE_BYTES)
    rows = fetches(tmp_path / "a.db")
    assert rows[0] == (url, "error", f"too_large: the record's body is over {MAX_PAGE_BYTES} bytes")
    assert rows[1][:2] == (GOOD_URL, "new")  # the file goes on after it
    assert "too large" in result.stdout


def test_dev_zero_is_not_a_warc(tmp_path: Path) -> None:
    result = run_cli("import-warc", "/dev/zero", "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == r"error: /dev/zero: not a WARC file (it begins b'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00', not with a WARC/1.x record)"


@pytest.mark.parametrize("compressed", [False, True])
def test_arc_files_are_refused_as_not_supported(tmp_path: Path, compressed: bool) -> None:
    arc = (b"filedesc://test.arc 0.0.0.0 20250129120000 text/plain 75\n"
           b"1 0 commentary-archive\nURL IP-address Archive-date Content-type Archive-length\n\n")
    path = tmp_path / ("test.arc.gz" if compressed else "test.arc")
    path.write_bytes(gzip.compress(arc) if compressed else arc)
    result = run_cli("import-warc", str(path), "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: {path}: an ARC file: ARC (the WARC's predecessor) is not supported; " \
                                    "convert it to WARC first"


@pytest.mark.parametrize("date", ["yesterday-ish", "2025-13-45T99:99:99Z", "", "9999-01-01T00:00:00Z",
                                  "2999-06-01T00:00:00Z"])
def test_a_bad_or_future_warc_date_skips_that_record_only(tmp_path: Path, date: str) -> None:
    path = warc(tmp_path / "dates.warc.gz", lambda raw: (
        member(raw, "https://news.example.com/dated.html", article("A story with a bad date").encode(), date=date),
        good_record(raw)))
    result = run_cli("import-warc", str(path), "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 0, result.stderr
    assert [row[:2] for row in fetches(tmp_path / "a.db")] == [(GOOD_URL, "new")]
    header, values = result.stdout.splitlines()[0], result.stdout.splitlines()[2]
    assert dict(zip([h.strip() for h in header.split("  ") if h.strip()], values.split()))["errors"] == "1"
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_good_file_after_a_refused_one_is_still_imported(tmp_path: Path) -> None:
    path = warc(tmp_path / "good.warc.gz", good_record)
    result = run_cli("import-warc", "/dev/zero", str(path), "--db", f"sqlite:///{tmp_path / 'a.db'}", check=False)
    assert result.returncode == 1
    assert [row[:2] for row in fetches(tmp_path / "a.db")] == [(GOOD_URL, "new")]
