"""`archive stats`: what the archive holds, as counts and small text charts."""

from __future__ import annotations

import json
from typing import Any

import click

from archive.cli.base import cli, db_option, open_engine
from archive.cli.filters import build_filters, research_filters
from archive.stats import collect, report


@cli.command()
@research_filters
@db_option
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many sites and tickers to list.")
@click.option("--width", type=click.IntRange(min=5), default=30, show_default=True, help="Width of the bars.")
@click.option("--json", "as_json", is_flag=True, help="The counts as one JSON object.")
def stats(db_url: str, top: int, width: int, as_json: bool, **filters: Any) -> None:
    """Counts per site and per month of publication, top tickers and edited articles, as bar charts.

    Counts the articles that `archive search` would find with the same filters (latest versions,
    or as they stood --as-of).

    \b
    Example:
        archive stats
        archive stats --ticker NVDA --since 2025-01-01 --top 20
    """
    wanted = build_filters(None, **filters)
    engine = open_engine(db_url)
    try:
        numbers = collect(engine, wanted, top=top)
    finally:
        engine.dispose()
    click.echo(json.dumps(numbers.as_dict(), ensure_ascii=False) if as_json else report(numbers, width))
