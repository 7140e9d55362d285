"""Run the real `archive` command with a fault injected into its process (tests only).

    python -m tests.chaos [--dns NAME=IP]... [--public IP]... [--sqlite-max-pages N] -- crawl URL --db ...

--dns answers NAME with IP for every lookup in the process (how the address guard is tested
against names that resolve to private addresses, without a DNS server); --public makes the
address guard treat IP (say 127.0.0.2) as a public address, so a loopback server can play a
public site while every other loopback spelling stays refused; --sqlite-max-pages caps
every SQLite connection's database size (PRAGMA max_page_count): a full disk, without one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def fake_dns(table: dict[str, str]) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name.lower().rstrip(".") in table:
            return real(table[name.lower().rstrip(".")], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


def fake_public(addresses: set[str]) -> None:
    import crawler.addresses
    import crawler.middlewares
    import crawler.resolver
    real = crawler.addresses.is_public

    def is_public(address: str) -> bool:
        return address in addresses or real(address)

    for module in (crawler.addresses, crawler.middlewares, crawler.resolver):
        module.is_public = is_public  # type: ignore[attr-defined]


def cap_sqlite(max_pages: int) -> None:
    from sqlalchemy import Engine, event

    @event.listens_for(Engine, "connect")
    def cap(dbapi_connection: Any, _record: Any) -> None:
        if type(dbapi_connection).__module__.startswith("sqlite3"):
            dbapi_connection.execute(f"PRAGMA max_page_count={int(max_pages)}")


def main(argv: list[str]) -> None:
    split = argv.index("--") if "--" in argv else len(argv)
    options, args = argv[:split], argv[split + 1:]
    dns: dict[str, str] = {}
    public: set[str] = set()
    for flag, value in zip(options[::2], options[1::2]):
        if flag == "--dns":
            name, ip = value.split("=", 1)
            dns[name.lower()] = ip
        elif flag == "--public":
            public.add(value)
        elif flag == "--sqlite-max-pages":
            cap_sqlite(int(value))
        else:
            raise SystemExit(f"unknown option {flag}")
    if dns:
        fake_dns(dns)
    if public:
        fake_public(public)
    from archive.cli import cli
    cli.main(args=args, prog_name="archive")


def run(*args: str, chaos: tuple[str, ...] = (), env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`archive ARGS` in a child process with the given faults, without the private-address opt-in
    unless `env` sets it."""
    environment = {k: v for k, v in os.environ.items() if k != "ARCHIVE_ALLOW_PRIVATE_ADDRESSES"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "tests.chaos", *chaos, "--", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=timeout)


if __name__ == "__main__":
    main(sys.argv[1:])
