"""The symbol universe: refresh from a local server, CSV import, the installed default, the CLI."""

from __future__ import annotations

import gzip
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from archive.errors import ArchiveError, BadInput
from archive.symbols import (Listing, SymbolUniverse, import_csv, load_universe, normalize_exchange,
                             normalize_symbol, update_from_url)
from archive.cli.symbols import symbols

REAL_SEC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sec_company_tickers_exchange.json"
AGENT = "Archive Tests tests@example.com"

SMALL_SEC = json.dumps({"fields": ["cik", "name", "ticker", "exchange"], "data": [
    [1045810, "NVIDIA CORP", "NVDA", "Nasdaq"],
    [1067983, "BERKSHIRE HATHAWAY INC", "BRK-B", "NYSE"],
    [1067983, "BERKSHIRE HATHAWAY INC", "BRK-A", "NYSE"],
    [1577552, "Alibaba Group Holding Ltd", "BABA", "NYSE"],
    [884394, "SPDR S&P 500 ETF TRUST", "SPY", "NYSE Arca"],
    [1000001, "Tiny Gold Corp", "TGLD", "NYSE American"],
    [1000002, "Pink Sheet Co", "PNKX", "OTC"],
    [1000003, "Quiet Holdings", "QUIT", None],
]}).encode()


class Handler(BaseHTTPRequestHandler):
    """Serves `Handler.routes` (path -> status, body) and remembers the User-Agent of each request."""

    routes: dict[str, tuple[int, bytes]] = {}
    agents: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        Handler.agents.append(self.headers.get("User-Agent", ""))
        status, body = self.routes.get(self.path, (404, b"<html>not found</html>"))
        self.send_response(status)
        if self.path.endswith(".gz"):
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", "application/json" if body[:1] == b"{" else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    Handler.routes = {
        "/small.json": (200, SMALL_SEC),
        "/small.json.gz": (200, gzip.compress(SMALL_SEC)),
        "/error.html": (200, b"<!DOCTYPE html>\n<html><body>Your request was blocked</body></html>"),
        "/truncated.json": (200, SMALL_SEC[: len(SMALL_SEC) // 2]),
        "/wrong-shape.json": (200, b'{"0": {"cik_str": 1045810, "ticker": "NVDA"}}'),
        "/empty.json": (200, b'{"fields": ["cik", "name", "ticker", "exchange"], "data": []}'),
        "/500.json": (500, b"<html>Internal Server Error</html>"),
    }
    if REAL_SEC.exists():
        Handler.routes["/sec.json"] = (200, REAL_SEC.read_bytes())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_symbol_and_exchange_normalisation() -> None:
    assert {normalize_symbol(s) for s in ("BRK.B", "brk-b", "BRK/B", " Brk.b ")} == {"BRK.B"}
    assert normalize_symbol("not a ticker") is None and normalize_symbol("") is None
    assert [normalize_exchange(e) for e in ("Nasdaq", "NYSE", "NYSE Arca", "NYSE American", "Cboe", "OTC", None)] \
        == ["NASDAQ", "NYSE", "NYSEARCA", "NYSEAMERICAN", "CBOE", "OTC", None]


def test_update_from_small_sec_file(server: str, tmp_path: Path) -> None:
    Handler.agents.clear()
    universe = update_from_url(f"{server}/small.json", AGENT, tmp_path)
    assert Handler.agents == [AGENT]
    assert len(universe) == 8 and universe.source == "sec-company-tickers-exchange"
    for spelling in ("BRK.B", "BRK-B", "BRK/B", "brk.b"):
        assert universe.get(spelling) == Listing("BRK.B", "BERKSHIRE HATHAWAY INC", "NYSE")
        assert spelling in universe
    assert universe.get("BRK.A") != universe.get("BRK.B") and "BRK" not in universe
    assert {s: universe.get(s).exchange for s in ("NVDA", "SPY", "TGLD", "PNKX", "QUIT")} == {  # type: ignore[union-attr]
        "NVDA": "NASDAQ", "SPY": "NYSEARCA", "TGLD": "NYSEAMERICAN", "PNKX": "OTC", "QUIT": None}
    stored = tmp_path / "symbols"
    assert (stored / "sec_company_tickers_exchange.json").read_bytes() == SMALL_SEC
    meta = json.loads((stored / "meta.json").read_text())
    assert meta["source_url"] == f"{server}/small.json" and meta["count"] == 8 and len(meta["sha256"]) == 64
    assert universe.version.startswith(meta["sha256"][:12]) and meta["fetched_at"][:10] in universe.version
    assert [p.name for p in stored.iterdir() if p.name.startswith(".")] == []  # no temporary files left

    active = load_universe(tmp_path)
    assert (active.source, active.version, len(active)) == (universe.source, universe.version, 8)


def test_gzip_response_is_decompressed(server: str, tmp_path: Path) -> None:
    assert len(update_from_url(f"{server}/small.json.gz", AGENT, tmp_path)) == 8
    assert (tmp_path / "symbols" / "sec_company_tickers_exchange.json").read_bytes() == SMALL_SEC


@pytest.mark.parametrize("path, error", [("/error.html", BadInput), ("/truncated.json", BadInput),
                                         ("/wrong-shape.json", BadInput), ("/empty.json", BadInput),
                                         ("/500.json", ArchiveError), ("/missing.json", ArchiveError)])
def test_bad_download_keeps_previous_universe(server: str, tmp_path: Path, path: str,
                                              error: type[Exception]) -> None:
    update_from_url(f"{server}/small.json", AGENT, tmp_path)
    before = {p.name: p.read_bytes() for p in (tmp_path / "symbols").iterdir()}
    with pytest.raises(error) as caught:
        update_from_url(f"{server}{path}", AGENT, tmp_path)
    assert "\n" not in str(caught.value) and str(caught.value)
    assert {p.name: p.read_bytes() for p in (tmp_path / "symbols").iterdir()} == before
    assert len(load_universe(tmp_path)) == 8


def test_unreachable_server_and_missing_user_agent(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ArchiveError, match="download failed"):
        update_from_url(f"http://127.0.0.1:{port}/x.json", AGENT, tmp_path)
    with pytest.raises(BadInput, match="User-Agent"):
        update_from_url(f"http://127.0.0.1:{port}/x.json", " ", tmp_path)
    assert not (tmp_path / "symbols").exists()


@pytest.mark.skipif(not REAL_SEC.exists(), reason="shared/data/sec_company_tickers_exchange.json is absent")
def test_update_from_real_sec_snapshot(server: str, tmp_path: Path) -> None:
    universe = update_from_url(f"{server}/sec.json", AGENT, tmp_path)
    assert len(universe) == 10_069
    by_exchange: dict[str | None, int] = {}
    for listing in universe:
        by_exchange[listing.exchange] = by_exchange.get(listing.exchange, 0) + 1
    assert by_exchange == {"NASDAQ": 4093, "NYSE": 3267, "OTC": 2517, "CBOE": 26, None: 166}
    assert universe.get("NVDA") == Listing("NVDA", "NVIDIA CORP", "NASDAQ")
    assert universe.get("BABA") == Listing("BABA", "Alibaba Group Holding Ltd", "NYSE")
    assert universe.get("brk/b") == Listing("BRK.B", "BERKSHIRE HATHAWAY INC", "NYSE")
    # Everyday words that ARE tickers: a bare "AI" or "IT" in prose needs context, not just this lookup.
    assert universe.get("AI") == Listing("AI", "C3.ai, Inc.", "NYSE")
    assert universe.get("IT") == Listing("IT", "GARTNER INC", "NYSE")
    assert all(word in universe for word in ("A", "ALL", "ON", "NOW", "ARE", "YOU", "FOR", "CAN", "GO", "USA"))
    assert not any(word in universe for word in ("CEO", "US", "IPO", "EPS", "ETF", "SEC", "GDP", "CPI"))


@pytest.mark.skipif(not REAL_SEC.exists(), reason="shared/data/sec_company_tickers_exchange.json is absent")
def test_package_default_coverage_of_sec_list() -> None:
    """Records how much of the SEC's Nasdaq/NYSE list the installed default knows (about two thirds)."""
    sec = SymbolUniverse.from_sec_json(REAL_SEC.read_bytes(), "test")
    default = SymbolUniverse.from_package()
    listed = [l.symbol for l in sec if l.exchange in ("NASDAQ", "NYSE")]
    covered = sum(symbol in default for symbol in listed)
    assert len(listed) == 7360 and covered / len(listed) > 0.6


def test_package_default_loads_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the installed universe must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    universe = load_universe(tmp_path / "never-updated")
    assert universe.source == "stocktickers" and universe.version == "0.0.18"
    assert len(universe) > 5000
    assert all(s in universe for s in ("NVDA", "AAPL", "MSFT", "BRK-B", "BABA"))
    assert universe.get("NVDA") == Listing("NVDA", None, "NASDAQ")
    assert "STOCKS" not in universe  # scraped captions in the package's lists are dropped


def test_import_csv_overlays_base(tmp_path: Path) -> None:
    good = tmp_path / "mine.csv"
    good.write_text("Ticker,Name,Exchange\nBRK/B,Berkshire B (mine),NYSE\nZZZZ,Private Thing,\nVOD,Vodafone,LSE\n")
    data = tmp_path / "data"
    imported = import_csv(good, data)
    assert len(imported) == 3 and imported.source == f"csv:{data / 'symbols' / 'user.csv'}"
    assert (data / "symbols" / "user.csv").read_bytes() == good.read_bytes()

    active = load_universe(data)
    assert active.source == f"csv:{data / 'symbols' / 'user.csv'}+stocktickers"
    assert active.get("brk.b") == Listing("BRK.B", "Berkshire B (mine)", "NYSE")
    assert active.get("ZZZZ") == Listing("ZZZZ", "Private Thing", None)
    assert active.get("VOD") == Listing("VOD", "Vodafone", "LSE")
    assert "NVDA" in active  # the base list is still there


@pytest.mark.parametrize("content, message", [
    ("name,exchange\nNVIDIA,Nasdaq\n", "no 'symbol' or 'ticker' column"),
    ("symbol,name\n", "lists no symbols"),
    ("symbol,name\nNVDA,NVIDIA,extra\n", "line 2: 3 fields"),
    ("symbol\nNOT A TICKER\n", "line 2: 'NOT A TICKER' is not a ticker symbol"),
])
def test_malformed_csv_is_one_line_error(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    with pytest.raises(BadInput, match=message) as caught:
        import_csv(bad, tmp_path / "data")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "data" / "symbols" / "user.csv").exists()


def test_cli_update_show_and_errors(server: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(symbols, ["update", "--url", f"{server}/small.json", "--data-dir", str(tmp_path)],
                           env={"ARCHIVE_SEC_USER_AGENT": AGENT})
    assert result.exit_code == 0, result.output
    assert re.search(r"^NYSE +3$", result.output, re.M) and re.search(r"^total +8$", result.output, re.M)
    assert str(tmp_path / "symbols") in result.output

    result = runner.invoke(symbols, ["show", "NVDA", "brk/b", "CEO"], env={"ARCHIVE_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "source:  sec-company-tickers-exchange" in result.output and "count:   8" in result.output
    assert re.search(r"^NVDA +NVDA +NASDAQ +NVIDIA CORP$", result.output, re.M)
    assert "BRK.B" in result.output and re.search(r"^CEO +not listed$", result.output, re.M)

    result = runner.invoke(symbols, ["update", "--url", f"{server}/error.html", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")

    result = runner.invoke(symbols, ["update", "--data-dir", str(tmp_path)], env={"ARCHIVE_SEC_USER_AGENT": None})
    assert result.exit_code == 1 and "User-Agent" in result.output and result.output.count("\n") == 1

    missing = runner.invoke(symbols, ["import-csv", str(tmp_path / "nope.csv"), "--data-dir", str(tmp_path)])
    assert missing.exit_code == 1 and missing.output.startswith("Error: cannot read")


def test_every_symbols_command_has_an_example() -> None:
    assert "Example:" in (symbols.help or "")
    for name, command in symbols.commands.items():
        assert "Example:" in (command.help or ""), f"`archive symbols {name} --help` has no example"
