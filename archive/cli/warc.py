"""`archive import-warc`: bring existing web-archive collections in without re-crawling."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive.cli.base import cli, db_option
from archive.query import parse_bound
from archive.store import ArchiveStore
from archive.text_table import render
from archive.warc import import_warc


@cli.command("import-warc")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@click.option("--site", "sites", multiple=True, help="Only records of this site (repeatable).")
@click.option("--since", help="Only records captured on or after this date/time.")
def import_warc_command(files: tuple[Path, ...], db_url: str, sites: tuple[str, ...], since: str | None) -> None:
    """Import WARC files (.warc or .warc.gz, also Common Crawl's) like a crawl would keep them.

    Response records go through the same extraction, dedup and versioning as a crawl, with
    WARC-Date as the fetch time; revisit records count as unchanged fetches. Importing the same
    file twice adds nothing. A broken record stops that file with an error; what came before stays.
    A record over the crawler's page size limit is recorded as too_large, one with an unreadable or
    future WARC-Date is skipped; a file that is not a WARC (ARC files included) is an error.

    \b
    Example:
        archive import-warc crawl-2025-01.warc.gz --site example-news.com --since 2025-01-01
    """
    store = ArchiveStore.open(db_url)
    tty = sys.stderr.isatty()

    def progress(done: int) -> None:
        if tty and done % 100 == 0:
            click.echo(f"\r{done} records", nl=False, err=True)

    try:
        report = import_warc(store, list(files), sites=sites, since=parse_bound(since), progress=progress)
    finally:
        store.close()
    if tty:
        click.echo("", err=True)
    counts = report.counts
    click.echo(render(["records", "new articles", "new versions", "unchanged", "not articles", "errors",
                       "already imported", "not html", "ignored", "too large"],
                      [[sum(counts.values()) - counts["not_warc"], counts["new"], counts["changed"],
                        counts["unchanged"] + counts["same_raw"], counts["not_article"],
                        counts["error"] + counts["bad_record"], counts["already_imported"], counts["not_html"],
                        counts["ignored"], counts["too_large"]]]))
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        sys.exit(1)
