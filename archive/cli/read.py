"""`archive search`, `archive export` and `archive show`: reading the archive."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from archive.cli.base import cli, db_option, open_engine
from archive.cli.filters import build_filters, research_filters
from archive.diff import Op, diff_versions
from archive.export import FORMATS, ExportJob, exporter_for, export_to, local_time, row
from archive.models import Snapshot
from archive.query import Event, find_article, search as run_search
from archive.text_table import render
from archive.urls import publisher_day


@cli.command()
@click.argument("query", nargs=-1)
@research_filters
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many results.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many results first (paging).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per result, per line (export fields, no body).")
def search(query: tuple[str, ...], db_url: str, limit: int, offset: int, as_json: bool, **filters: Any) -> None:
    """Full-text search of titles and bodies (latest versions, or --as-of), newest first.

    \b
    Query syntax (the same on SQLite and PostgreSQL):
      chips                 a word (any case; no stemming: use chip* for chips, chipmakers)
      "export controls"     a phrase, in the title or in the body
      chip*                 a prefix
      chips export          both words (AND is implied)
      nvidia OR amd         either; NOT and - exclude: chips NOT intel, chips -intel
      (nvidia OR amd) AND "data center"    parentheses group
    AND, OR and NOT are operators only in capitals. Without a query, the filters alone choose.

    \b
    Example:
        archive search '"export controls" AND (nvidia OR amd)' --ticker NVDA --since 2025-01-01
        archive search 'chip*' --site reuters.com --as-of 2025-02-01T00:00Z --json
        archive search --ticker NVDA,AMD --edited --limit 50
    """
    wanted = build_filters(" ".join(query), **filters)  # a malformed query fails before the database opens
    engine = open_engine(db_url)
    try:
        results = run_search(engine, wanted, limit=limit, offset=offset)
    finally:
        engine.dispose()
    if as_json:
        for snapshot, article in results:
            item = row(snapshot, article)
            item.pop("body")
            click.echo(json.dumps(item, ensure_ascii=False))
        return
    if not results:
        click.echo("no matching articles", err=True)
        return
    click.echo(render(["id", "published", "site", "v", "tickers", "title"], [
        [a.id, local_time(s.published_at, s.published_offset_min, s.published_precision) or "-",
         a.site, s.version, [t["symbol"] for t in s.tickers][:4], s.title] for s, a in results]))
    if len(results) == limit:
        click.echo(f"(first {offset + 1}-{offset + limit}; more with --offset {offset + limit})", err=True)


@cli.command()
@research_filters
@db_option
@click.option("-o", "--output", required=True,
              help="File to write (.jsonl, .csv, .parquet, .warc.gz), or - for stdout (JSON lines or CSV).")
@click.option("--format", "fmt", type=click.Choice(FORMATS, case_sensitive=False),
              help="jsonl, csv, parquet (needs the 'parquet' extra) or warc (every capture, gzipped WARC with "
                   "request and metadata records); default from the file name, JSON lines for stdout.")
@click.option("--all-versions", is_flag=True, help="Every version of each article, not only the latest (or --as-of).")
@click.option("--with-body", is_flag=True, help="CSV: add the body column (JSONL and Parquet always have it).")
@click.option("--text", help="Only articles matching this full-text query (syntax: archive search --help).")
@click.option("--csv-raw", is_flag=True,
              help="CSV: cells exactly as stored. By default a cell starting with = + - @ tab or CR gets a "
                   "leading ' so that a spreadsheet shows it as text instead of running it as a formula.")
def export(db_url: str, output: str, fmt: str | None, all_versions: bool, with_body: bool, text: str | None,
           csv_raw: bool, **filters: Any) -> None:
    """Stream matching articles to a file: JSON lines, CSV, Parquet or WARC (schema: docs/export-schema.json).

    Memory stays constant however large the export; a file is written whole or not at all.

    \b
    Example:
        archive export --ticker NVDA --since 2025-01-01 --until 2025-01-31 --all-versions -o nvda.jsonl
        archive export --site reuters.com --format csv -o reuters.csv
        archive export --text '"export controls"' --as-of 2025-02-01T00:00Z -o then.parquet
        archive export --ticker NVDA -o nvda.warc.gz
    """
    wanted = build_filters(text, **filters)
    exporter = exporter_for(output, fmt)
    if output != "-" and (Path(output).is_dir() or not Path(output).parent.is_dir()):
        raise click.BadParameter(f"cannot write to {output}: not a file in an existing directory",
                                 param_hint="-o/--output")
    engine = open_engine(db_url)
    try:
        written = export_to(ExportJob(engine, wanted, all_versions=all_versions, with_body=with_body,
                                      csv_raw=csv_raw), exporter, output)
    except OSError as exc:  # a full disk, a directory we may not write in, a closed pipe
        raise click.ClickException(f"cannot write the export to {output}: {exc.strerror or exc}") from None
    finally:
        engine.dispose()
    if output != "-":
        click.echo(f"wrote {written} {exporter.unit} to {output}", err=True)


def _colour(text: str, op: Op) -> str:
    return click.style(text, fg={"delete": "red", "insert": "green"}.get(op))


@cli.command()
@click.argument("key")
@db_option
@click.option("--versions", is_flag=True, help="List every version with what changed in it.")
@click.option("--diff", "diff", type=int, nargs=2, metavar="A B",
              help="Word diff of the body from version A to version B, and the metadata that changed.")
@click.option("--context", type=click.IntRange(min=0), default=12, show_default=True,
              help="With --diff: unchanged words kept around each change.")
@click.option("--full", is_flag=True, help="With --diff: the whole body, not only the changes in context.")
@click.option("--color/--no-color", "colour", default=None,
              help="With --diff: colour (red removed, green added) instead of [-removed-] {+added+}; "
                   "default: colour on a terminal only.")
@click.option("--json", "as_json", is_flag=True,
              help="The latest version (or all, with --versions; or the diff, with --diff) as JSON.")
def show(key: str, db_url: str, versions: bool, diff: tuple[int, int] | None, context: int, full: bool,
         colour: bool | None, as_json: bool) -> None:
    """Show an article by id or URL; --versions lists its history; --diff A B compares two versions.

    \b
    Example:
        archive show https://www.example-news.com/markets/fed-holds.html --versions
        archive show 42 --diff 1 2
        archive show 42 --diff 1 3 --no-color | less
    """
    engine = open_engine(db_url)
    try:
        history = find_article(engine, key)
    finally:
        engine.dispose()
    article, snaps = history.article, history.versions
    if diff:
        compared = diff_versions(history.version(diff[0]), history.version(diff[1]))
        if as_json:
            click.echo(json.dumps(compared.as_dict(), ensure_ascii=False))
            return
        styled = sys.stdout.isatty() if colour is None else colour
        click.echo(compared.text(context=None if full else context, style=_colour if styled else None),
                   color=styled or None)
        return
    if as_json:
        for snap in snaps if versions else snaps[-1:]:
            click.echo(json.dumps(row(snap, article), ensure_ascii=False))
        return
    latest = snaps[-1]
    click.echo(f"{latest.title}\n{article.canonical_url}")
    click.echo(f"article {article.id} · site {article.site} · {len(snaps)} version(s) · {history.fetches} fetch(es)"
               f" · first seen {article.first_seen_at:%Y-%m-%d %H:%M} UTC")
    click.echo(f"authors: {', '.join(latest.authors) or '-'}{' (AI-generated)' if latest.ai_generated else ''}")
    shown = local_time(latest.published_at, latest.published_offset_min, latest.published_precision)
    day = publisher_day(latest.published_at, latest.published_offset_min, latest.published_precision, latest.url)
    click.echo(f"published: {shown or '-'}"
               + (f" (publisher's day {day})" if shown and day and day.isoformat() != shown[:10] else ""))
    click.echo(f"tickers: {', '.join(t['symbol'] for t in latest.tickers) or '-'}")
    if history.duplicate_of_url:
        click.echo(f"near-duplicate of: {history.duplicate_of_url}")
    for note in latest.notes or ():  # the publisher's correction and update notices (archive.extract.notes)
        click.echo(f"note: {note}")
    if article.removed_at is not None:
        click.echo(f"removed: {article.removed_at:%Y-%m-%d %H:%M} UTC (the publisher took it down)")
    if len(history.urls) > 1:
        click.echo("urls:\n" + "\n".join(f"  {u.url}  first seen {u.first_seen_at:%Y-%m-%d %H:%M}, "
                                          f"last seen {u.last_seen_at:%Y-%m-%d %H:%M} UTC" for u in history.urls))
    if versions:
        click.echo("\n" + render(["version", "fetched (UTC)", "origin", "changed", "notes", "words", "content sha256",
                                   "title"], [
            [s.version, f"{s.fetched_at:%Y-%m-%d %H:%M:%S}", s.origin, s.changed_fields or ["first version"],
             len(s.notes or ()), s.word_count, s.content_sha256[:12], s.title] if isinstance(s, Snapshot) else
            ["-", f"{at:%Y-%m-%d %H:%M:%S}", s.kind, _event_text(s), "", "", "", ""]
            for at, s in history.timeline()]))
        if len(snaps) > 1:
            click.echo(f"\ncompare two: archive show {article.id} --diff {snaps[-2].version} {snaps[-1].version}")
    else:
        for event in history.events:
            click.echo(f"{event.kind} {event.at:%Y-%m-%d %H:%M} UTC: {_event_text(event)}")
        click.echo("\n" + latest.body)


def _event_text(event: Event) -> str:
    """What a removal, restoration or move says in the timeline."""
    if event.kind == "moved":
        return f"from {event.detail} to {event.url}"
    if event.kind == "removed":
        return f"{event.url} answered {event.detail}"
    return f"{event.url} served again"
