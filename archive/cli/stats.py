"""`archive stats`: what the archive holds, as counts and small text charts."""

from __future__ import annotations

import json
from typing import Any

import click

from archive.attention import PERIODS, Attention, attention
from archive.cli.base import cli, db_option, open_engine
from archive.cli.filters import build_filters, research_filters
from archive.stats import bar, collect, report


@cli.command()
@click.argument("query", nargs=-1)
@research_filters
@db_option
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many sites and tickers to list.")
@click.option("--width", type=click.IntRange(min=5), default=30, show_default=True, help="Width of the bars.")
@click.option("--over-time", "over_time", type=click.Choice(PERIODS),
              help="Attention over time instead: matching articles per day, week or month, and their share "
                   "of all articles published then.")
@click.option("--json", "as_json", is_flag=True, help="The counts as one JSON object.")
def stats(query: tuple[str, ...], db_url: str, top: int, width: int, over_time: str | None, as_json: bool,
          **filters: Any) -> None:
    """Counts per site and per month of publication, top tickers and edited articles, as bar charts.

    Counts the articles that `archive search` would find with the same filters (latest versions,
    or as they stood --as-of).

    QUERY is a full-text query (syntax: archive search --help). With --over-time, the attention
    series: per period, the matching articles and their share of every article published in it
    (so that a quiet week is not read as lost interest).

    \b
    Example:
        archive stats
        archive stats --ticker NVDA --since 2025-01-01 --top 20
        archive stats --over-time week '"export controls"' --since 2025-01-01
    """
    wanted = build_filters(" ".join(query), **filters)  # a malformed query fails before the database opens
    engine = open_engine(db_url)
    try:
        if over_time:
            series = attention(engine, wanted, over_time)
        else:
            numbers = collect(engine, wanted, top=top)
    finally:
        engine.dispose()
    if over_time:
        click.echo(json.dumps(series.as_dict(), ensure_ascii=False) if as_json else timeline(series, width))
        return
    click.echo(json.dumps(numbers.as_dict(), ensure_ascii=False) if as_json else report(numbers, width))


def timeline(series: Attention, width: int = 30) -> str:
    """The attention series as text: one line per period, its count, its share, and a bar."""
    if not series.points:
        return "no dated articles match" + (f" ({series.undated} undated)" if series.undated else "")
    largest = max(p.matching for p in series.points)
    labels = [p.label(series.by) for p in series.points]
    count_width = max(len(str(p.matching)) for p in series.points)
    lines = [f"articles per {series.by} published (UTC): {series.matching} matching"
             + (f", {series.undated} undated not shown" if series.undated else "")]
    lines += [f"  {label}  {str(p.matching).rjust(count_width)}  {p.share * 100:5.1f}% of {p.total:<6} "
              f"{bar(p.matching, largest, width)}".rstrip() for label, p in zip(labels, series.points)]
    return "\n".join(lines)
