"""`archive symbols ...`: keep the ticker universe that extraction validates symbols against.

A thin layer over archive.symbols, registered on the main `archive` group.
"""

from __future__ import annotations

from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import click

from archive.errors import BadInput
from archive.symbols import SEC_URL, SymbolUniverse, default_data_dir, import_csv, load_universe, update_from_url
from archive.text_table import render
from archive.cli.base import ArchiveGroup, cli, config_option


def data_dir_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return config_option("data_dir", "--data-dir", type=click.Path(file_okay=False, path_type=Path),
                         help="Where updated symbol lists are kept.")(func)


def exchange_table(universe: SymbolUniverse) -> str:
    counts = Counter(listing.exchange or "(none)" for listing in universe)
    rows: list[list[Any]] = [[exchange, n] for exchange, n in counts.most_common()]
    return render(["exchange", "symbols"], rows + [["total", len(universe)]])


@click.group(cls=ArchiveGroup)
def symbols() -> None:
    """The list of real tickers that weak ticker evidence is checked against.

    Without an update the list that installs with the project is used (Nasdaq and NYSE only,
    no company names); `update` fetches the SEC's full list of US-listed companies.

    \b
    Example:
        archive symbols update --user-agent "Jane Doe jane@example.com"
        archive symbols show NVDA BRK.B
    """


@symbols.command()
@click.option("--url", default=SEC_URL, show_default=True, help="Where to fetch the SEC-format JSON from.")
@config_option("sec_user_agent", "--user-agent",
               help="Who is asking, e.g. 'Jane Doe jane@example.com'; the SEC refuses requests without it.")
@data_dir_option
def update(url: str, user_agent: str | None, data_dir: Path | None) -> None:
    """Download the SEC's company_tickers_exchange.json and make it the active list.

    A download that fails or is not that file changes nothing.

    \b
    Example:
        archive symbols update --user-agent "Jane Doe jane@example.com"
    """
    if not user_agent:
        if (urlsplit(url).hostname or "").endswith("sec.gov"):
            raise BadInput("the SEC requires a User-Agent naming you: "
                           "pass --user-agent 'Name email' or set ARCHIVE_SEC_USER_AGENT")
        user_agent = f"commentary-archive/{metadata.version('commentary-archive')}"
    folder = data_dir or default_data_dir()
    universe = update_from_url(url, user_agent, folder)
    click.echo(exchange_table(universe))
    click.echo(f"stored {len(universe)} symbols ({universe.version}) in {folder / 'symbols'}")


@symbols.command("import-csv")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@data_dir_option
def import_csv_command(file: Path, data_dir: Path | None) -> None:
    """Add your own symbols from a CSV with a symbol (or ticker) column, optional name and exchange.

    Its rows are laid over the SEC (or installed) list and win where both have a symbol.

    \b
    Example:
        archive symbols import-csv my_watchlist.csv
    """
    folder = data_dir or default_data_dir()
    imported = import_csv(file, folder)
    active = load_universe(folder)
    click.echo(f"imported {len(imported)} symbols to {folder / 'symbols' / 'user.csv'}; "
               f"active list: {len(active)} symbols from {active.source}")


@symbols.command()
@click.argument("symbol", nargs=-1)
@data_dir_option
def show(symbol: tuple[str, ...], data_dir: Path | None) -> None:
    """Show which list is active, and look symbols up in it.

    \b
    Example:
        archive symbols show NVDA BRK-B CEO
    """
    universe = load_universe(data_dir)
    click.echo(f"source:  {universe.source}\nversion: {universe.version}\ncount:   {len(universe)}")
    rows = []
    for wanted in symbol:
        listing = universe.get(wanted)
        rows.append([wanted, listing.symbol, listing.exchange or "-", listing.name or "-"] if listing
                    else [wanted, "not listed", "", ""])
    if rows:
        click.echo("\n" + render(["asked", "symbol", "exchange", "name"], rows))


cli.add_command(symbols)
