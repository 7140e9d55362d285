"""`archive search`, `archive export` and `archive show`: reading the archive."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from archive.cli.base import cli, db_option, filter_options, make_filters, open_engine
from archive.export import export_rows, local_time, row, write_jsonl
from archive.query import find_article, search as run_search
from archive.table import render


@cli.command()
@click.argument("text", nargs=-1)
@filter_options
@db_option
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per result, per line.")
def search(text: tuple[str, ...], db_url: str, limit: int, offset: int, as_json: bool, **filters: Any) -> None:
    """Find articles (latest versions) by words in title or body, newest first.

    \b
    Example:
        archive search chips --ticker NVDA --since 2025-01-01
    """
    engine = open_engine(db_url)
    results = run_search(engine, make_filters(" ".join(text), **filters), limit=limit, offset=offset)
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


@cli.command()
@filter_options
@db_option
@click.option("-o", "--output", required=True, help="JSONL file to write, or - for stdout.")
@click.option("--all-versions", is_flag=True, help="Every version of each article, not only the latest.")
@click.option("--text", help="Only articles whose title or body contains these words.")
def export(db_url: str, output: str, all_versions: bool, text: str | None, **filters: Any) -> None:
    """Write matching articles as JSON lines (schema: docs/export-schema.json).

    \b
    Example:
        archive export --ticker NVDA --since 2025-01-01 --until 2025-01-31 --all-versions -o nvda.jsonl
    """
    engine = open_engine(db_url)
    rows = export_rows(engine, make_filters(text, **filters), all_versions=all_versions)
    if output == "-":
        write_jsonl(rows, sys.stdout)
        return
    target = Path(output)
    if target.is_dir() or not target.parent.is_dir():
        raise click.BadParameter(f"cannot write to {output}: not a file in an existing directory",
                                 param_hint="-o/--output")
    partial = target.with_name(target.name + ".part")
    with partial.open("w", encoding="utf-8") as handle:
        written = write_jsonl(rows, handle)
    os.replace(partial, target)  # never leave half an export under the real name
    click.echo(f"wrote {written} lines to {target}", err=True)


@cli.command()
@click.argument("key")
@db_option
@click.option("--versions", is_flag=True, help="List every version with what changed in it.")
@click.option("--json", "as_json", is_flag=True, help="The latest version (or all, with --versions) as JSON.")
def show(key: str, db_url: str, versions: bool, as_json: bool) -> None:
    """Show an article by id or URL; --versions lists its history.

    \b
    Example:
        archive show https://www.example-news.com/markets/fed-holds.html --versions
    """
    history = find_article(open_engine(db_url), key)
    article, snaps = history.article, history.versions
    if as_json:
        for snap in snaps if versions else snaps[-1:]:
            click.echo(json.dumps(row(snap, article), ensure_ascii=False))
        return
    latest = snaps[-1]
    click.echo(f"{latest.title}\n{article.canonical_url}")
    click.echo(f"article {article.id} · site {article.site} · {len(snaps)} version(s) · {history.fetches} fetch(es)"
               f" · first seen {article.first_seen_at:%Y-%m-%d %H:%M} UTC")
    click.echo(f"authors: {', '.join(latest.authors) or '-'}{' (AI-generated)' if latest.ai_generated else ''}")
    click.echo(f"published: {local_time(latest.published_at, latest.published_offset_min, latest.published_precision) or '-'}")
    click.echo(f"tickers: {', '.join(t['symbol'] for t in latest.tickers) or '-'}")
    if history.duplicate_of_url:
        click.echo(f"near-duplicate of: {history.duplicate_of_url}")
    if versions:
        click.echo("\n" + render(["version", "fetched (UTC)", "changed", "words", "content sha256", "title"], [
            [s.version, f"{s.fetched_at:%Y-%m-%d %H:%M:%S}", s.changed_fields or ["first version"],
             s.word_count, s.content_sha256[:12], s.title] for s in snaps]))
    else:
        click.echo("\n" + latest.body)
