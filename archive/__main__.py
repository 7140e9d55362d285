"""The `archive` command and `python -m archive` (the commands are in archive.cli).

`archive crawl ...` starts its extraction workers' fork server before anything else: the
server's imports and dateparser's tables (2.5 s of CPU) then overlap all of this process's own
start-up, the command line's imports included, instead of the part after them. With the group's
--config option first, the server starts with the crawl command instead, once ARCHIVE_CONFIG
names that file for the workers (archive.cli.base.cli).
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["crawl"]:
        from pipelines.workers import start_fork_server  # noqa: PLC0415 - the crawl's side: only for a crawl

        start_fork_server()
    from archive.cli import main as run  # noqa: PLC0415 - after the fork server has started

    run()


if __name__ == "__main__":
    main()
