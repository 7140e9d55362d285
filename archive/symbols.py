"""The symbol universe: which tickers are really US-listed, so that weak evidence can be checked.

A bare capitalised word in an article ("AI", "IT", "NOW", "ALL") is a ticker only if the universe
lists it *and* its context says so: many everyday words are real symbols (in the SEC's August 2025
list AI is C3.ai and IT is Gartner, both on NYSE; CEO, US, IPO and EPS are not listed). The
universe answers only the first half of that question.

Where the universe comes from, in order of preference (`load_universe`):
1. a user CSV imported with `import_csv`, laid over
2. the SEC's `company_tickers_exchange.json` stored by `update_from_url`, or, when never updated,
3. the list that installs with the project (the `stocktickers` package: offline, Nasdaq and NYSE only).
A user CSV extends and corrects the base list (its rows win) but never shrinks it: a small
hand-made file must not silently make every other ticker unknown.

Symbols are compared in one canonical form, upper case with "." before a share class, so that
"brk-b" (SEC, Yahoo), "BRK/B" (some newswires) and "BRK.B" (exchanges) are the same listing.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import http.client
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from archive import config
from archive.errors import ArchiveError, BadInput

__all__ = [
    "SEC_URL", "SEC_SOURCE", "Listing", "SymbolUniverse", "normalize_symbol", "normalize_exchange",
    "default_data_dir", "update_from_url", "import_csv", "load_universe",
]

SEC_URL = "https://www.sec.gov/files/company_tickers_exchange.json"
SEC_SOURCE = "sec-company-tickers-exchange"
PACKAGE = "stocktickers"
SEC_FILE = "sec_company_tickers_exchange.json"
USER_FILE = "user.csv"
META_FILE = "meta.json"
MAX_DOWNLOAD = 64 * 1024 * 1024  # the SEC file is ~0.5 MB; anything this big is not it

# A root of letters/digits, then share-class or unit suffixes joined by ".", "-" or "/".
_SYMBOL = re.compile(r"[A-Z0-9]{1,10}(?:[./-][A-Z0-9]{1,6}){0,2}")
_SEPARATORS = re.compile(r"[./-]")

# Spellings seen in the SEC file, Yahoo/Google data and users' spreadsheets -> one name each.
_EXCHANGES = {
    "NASDAQ": "NASDAQ", "NMS": "NASDAQ", "NGM": "NASDAQ", "NCM": "NASDAQ", "XNAS": "NASDAQ",
    "NASDAQGS": "NASDAQ", "NASDAQGM": "NASDAQ", "NASDAQCM": "NASDAQ",
    "NYSE": "NYSE", "NYQ": "NYSE", "XNYS": "NYSE", "NEWYORKSTOCKEXCHANGE": "NYSE",
    "NYSEARCA": "NYSEARCA", "ARCA": "NYSEARCA", "ARCX": "NYSEARCA", "PCX": "NYSEARCA", "PSE": "NYSEARCA",
    "NYSEAMERICAN": "NYSEAMERICAN", "NYSEMKT": "NYSEAMERICAN", "AMEX": "NYSEAMERICAN", "ASE": "NYSEAMERICAN",
    "XASE": "NYSEAMERICAN",
    "CBOE": "CBOE", "BATS": "CBOE", "CBOEBZX": "CBOE", "BZX": "CBOE",
    "OTC": "OTC", "OTCMKTS": "OTC", "OTCMARKETS": "OTC", "PNK": "OTC", "OTCBB": "OTC", "OBB": "OTC",
    "OTCQX": "OTC", "OTCQB": "OTC", "PINK": "OTC",
}


def normalize_symbol(symbol: str) -> str | None:
    """The canonical form ("BRK.B") of a ticker written any usual way, or None if it cannot be one."""
    text = symbol.strip().upper()
    if not _SYMBOL.fullmatch(text):
        return None
    return _SEPARATORS.sub(".", text)


def normalize_exchange(exchange: str | None) -> str | None:
    """One name per US venue (NASDAQ, NYSE, NYSEARCA, NYSEAMERICAN, CBOE, OTC); others kept upper-cased."""
    if exchange is None:
        return None
    key = re.sub(r"[^A-Z]", "", exchange.upper())
    return _EXCHANGES.get(key, " ".join(exchange.upper().split()) or None)


@dataclass(frozen=True)
class Listing:
    """One listed symbol; `exchange` is None where the source does not say (SEC rows without one)."""

    symbol: str
    name: str | None
    exchange: str | None


class SymbolUniverse:
    """A read-only set of listings with the provenance (`source`, `version`) extraction records."""

    def __init__(self, listings: Iterable[Listing], source: str, version: str) -> None:
        self.source, self.version = source, version
        self._by_symbol: dict[str, Listing] = {}
        for listing in listings:
            # The first row wins: the SEC orders by size, so a duplicate is the lesser listing.
            self._by_symbol.setdefault(listing.symbol, listing)

    def get(self, symbol: str) -> Listing | None:
        key = normalize_symbol(symbol)
        return self._by_symbol.get(key) if key else None

    def __contains__(self, symbol: object) -> bool:
        return isinstance(symbol, str) and self.get(symbol) is not None

    def __len__(self) -> int:
        return len(self._by_symbol)

    def __iter__(self) -> Iterator[Listing]:
        return iter(self._by_symbol.values())

    def __repr__(self) -> str:
        return f"<SymbolUniverse {self.source} {self.version}: {len(self)} symbols>"

    def symbols(self) -> list[str]:
        """Every canonical symbol, sorted."""
        return sorted(self._by_symbol)

    def overlaid_with(self, top: SymbolUniverse) -> SymbolUniverse:
        """This universe plus `top`, whose listings win where both have a symbol."""
        return SymbolUniverse([*top, *self], f"{top.source}+{self.source}", f"{top.version}+{self.version}")

    @classmethod
    def from_sec_json(cls, data: bytes, version: str) -> SymbolUniverse:
        """Parse the SEC's `company_tickers_exchange.json` ({"fields": [...], "data": [[...], ...]})."""
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            start = " ".join(data[:40].decode("utf-8", "replace").split())
            raise BadInput(f"not SEC company_tickers_exchange JSON ({exc}); it starts with {start!r}") from exc
        fields = document.get("fields") if isinstance(document, dict) else None
        rows = document.get("data") if isinstance(document, dict) else None
        if not isinstance(fields, list) or not isinstance(rows, list) or "ticker" not in fields:
            raise BadInput('not SEC company_tickers_exchange JSON: expected {"fields": [..."ticker"...], "data": [...]}')
        column = {name: fields.index(name) for name in ("ticker", "name", "exchange") if name in fields}
        listings = []
        for number, row in enumerate(rows, 1):
            if not isinstance(row, list) or len(row) != len(fields):
                raise BadInput(f"SEC JSON row {number} does not have the {len(fields)} fields {fields}")
            ticker = row[column["ticker"]]
            symbol = normalize_symbol(ticker) if isinstance(ticker, str) else None
            if symbol is None:
                raise BadInput(f"SEC JSON row {number} has no usable ticker: {ticker!r}")
            listings.append(Listing(symbol, _text(row, column.get("name")),
                                    normalize_exchange(_text(row, column.get("exchange")))))
        if not listings:
            raise BadInput("SEC JSON lists no tickers")
        return cls(listings, SEC_SOURCE, version)

    @classmethod
    def from_csv(cls, path: Path) -> SymbolUniverse:
        """Read a user's CSV: a header with `symbol` (or `ticker`), optionally `name` and `exchange`."""
        try:
            data = Path(path).read_bytes()
            text = data.decode("utf-8-sig")
        except OSError as exc:
            raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        try:
            listings = list(_csv_listings(text, path))
        except csv.Error as exc:
            raise BadInput(f"{path} is not a valid CSV file: {exc}") from exc
        if not listings:
            raise BadInput(f"{path} lists no symbols")
        return cls(listings, f"csv:{path}", hashlib.sha256(data).hexdigest()[:12])

    @classmethod
    def from_package(cls) -> SymbolUniverse:
        """The universe that installs with the project; offline, no names, Nasdaq and NYSE only."""
        return _package_universe()


def _text(row: list[Any], index: int | None) -> str | None:
    value = row[index] if index is not None else None
    if value is None:
        return None
    return " ".join(str(value).split()) or None


def _csv_listings(text: str, path: Path) -> Iterator[Listing]:
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    key = "symbol" if "symbol" in header else "ticker" if "ticker" in header else None
    if key is None:
        raise BadInput(f"{path}: the header has no 'symbol' or 'ticker' column (found: {', '.join(header) or 'nothing'})")
    column = {name: header.index(name) for name in (key, "name", "exchange") if name in header}
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise BadInput(f"{path}, line {reader.line_num}: {len(row)} fields where the header has {len(header)}")
        symbol = normalize_symbol(row[column[key]])
        if symbol is None:
            raise BadInput(f"{path}, line {reader.line_num}: {row[column[key]]!r} is not a ticker symbol")
        yield Listing(symbol, _text(row, column.get("name")), normalize_exchange(_text(row, column.get("exchange"))))


@functools.lru_cache(maxsize=1)
def _package_universe() -> SymbolUniverse:
    import stocktickers  # its lists are plain Python data: importing it touches no network

    def listings(symbols: Iterable[str], exchange: str) -> Iterator[Listing]:
        for raw in symbols:  # the lists also hold a few scraped page captions; those are not symbols
            symbol = normalize_symbol(raw) if raw.strip().isupper() else None
            if symbol:
                yield Listing(symbol, None, exchange)

    return SymbolUniverse([*listings(stocktickers.nasdaq, "NASDAQ"), *listings(stocktickers.nyse, "NYSE")],
                          PACKAGE, metadata.version(PACKAGE))


# --- storage: where an updated universe lives ---------------------------------------------------

def default_data_dir() -> Path:
    """The configured data_dir (ARCHIVE_DATA_DIR, archive.toml), else ~/.local/share/commentary-archive.

    Asked for here rather than only in the CLI because extraction (in crawler worker processes, in
    notebooks) must find the same universe that `archive symbols update` stored.
    """
    return Path(config.value("data_dir"))


def _write_atomically(target: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _download(url: str, user_agent: str) -> bytes:
    if not url.lower().startswith(("http://", "https://")):
        raise BadInput(f"not an http(s) URL: {url}")
    if not user_agent.strip():
        raise BadInput("a User-Agent naming you is required (the SEC refuses anonymous requests), e.g. 'Jane Doe jane@example.com'")
    request = urllib.request.Request(url, headers={"User-Agent": user_agent.strip(), "Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data = response.read(MAX_DOWNLOAD + 1)
            encoding = response.headers.get("Content-Encoding", "")
    except urllib.error.HTTPError as exc:
        raise ArchiveError(f"download failed: HTTP {exc.code} {exc.reason} from {url}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ArchiveError(f"download failed: {reason} ({url})") from exc
    if len(data) > MAX_DOWNLOAD:
        raise BadInput(f"download from {url} is larger than {MAX_DOWNLOAD // 2**20} MiB: not the SEC ticker list")
    if encoding.lower() == "gzip":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise BadInput(f"download from {url} is not valid gzip: {exc}") from exc
    return data


def _sec_version(data: bytes, fetched: datetime) -> str:
    return f"{hashlib.sha256(data).hexdigest()[:12]} fetched {fetched:%Y-%m-%d}"


def update_from_url(url: str, user_agent: str, data_dir: Path) -> SymbolUniverse:
    """Download the SEC ticker list, check it, and store it as the active base universe.

    Nothing is written unless the whole download parses: a failed update keeps the previous one.
    """
    data = _download(url, user_agent)
    fetched = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        universe = SymbolUniverse.from_sec_json(data, _sec_version(data, fetched))
    except BadInput as exc:
        raise BadInput(f"{url}: {exc}") from exc
    folder = Path(data_dir) / "symbols"
    meta = {"source_url": url, "fetched_at": fetched.isoformat(), "sha256": hashlib.sha256(data).hexdigest(),
            "count": len(universe)}
    _write_atomically(folder / SEC_FILE, data)
    _write_atomically(folder / META_FILE, json.dumps(meta, indent=2).encode() + b"\n")
    return universe


def import_csv(path: Path, data_dir: Path) -> SymbolUniverse:
    """Check a user's CSV and keep a copy as `symbols/user.csv`; returns the stored copy's universe."""
    SymbolUniverse.from_csv(path)  # refuse a malformed file before anything is written
    target = Path(data_dir) / "symbols" / USER_FILE
    _write_atomically(target, Path(path).read_bytes())
    return SymbolUniverse.from_csv(target)


def load_universe(data_dir: Path | None = None) -> SymbolUniverse:
    """The active universe: the user CSV (if imported) over the stored SEC list, else the package's.

    Cached per data directory and file modification times, so a crawl loads it once and an
    update made meanwhile is picked up.
    """
    folder = Path(data_dir if data_dir is not None else default_data_dir()).resolve() / "symbols"
    return _load(folder, _stamp(folder / SEC_FILE), _stamp(folder / USER_FILE), _stamp(folder / META_FILE))


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=8)
def _load(folder: Path, sec: tuple[int, int] | None, user: tuple[int, int] | None,
          meta: tuple[int, int] | None) -> SymbolUniverse:
    base = SymbolUniverse.from_package()
    if sec is not None:
        data = (folder / SEC_FILE).read_bytes()
        try:
            base = SymbolUniverse.from_sec_json(data, _sec_version(data, _fetched_at(folder, data)))
        except BadInput as exc:
            raise BadInput(f"{folder / SEC_FILE}: {exc}; run `archive symbols update` again") from exc
    if user is not None:
        base = base.overlaid_with(SymbolUniverse.from_csv(folder / USER_FILE))
    return base


def _fetched_at(folder: Path, data: bytes) -> datetime:
    """When the stored SEC file was downloaded: meta.json if it describes this file, else its mtime."""
    try:
        meta: Mapping[str, Any] = json.loads((folder / META_FILE).read_text())
        if meta.get("sha256") == hashlib.sha256(data).hexdigest():
            return datetime.fromisoformat(meta["fetched_at"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return datetime.fromtimestamp((folder / SEC_FILE).stat().st_mtime, timezone.utc)
