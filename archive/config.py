"""The one home of the user's configuration: every key, its default, its environment variable,
and archive.toml.

A value comes from, first to last: a command-line option, the environment variable
(ARCHIVE_DB_URL...), the archive.toml in use, the built-in default written in KEYS. The archive.toml
in use is the file `--config FILE` or ARCHIVE_CONFIG names, else ./archive.toml, else
$XDG_CONFIG_HOME/archive/archive.toml (~/.config/archive/archive.toml). Nothing else in the
project reads the environment or a config file: the CLI takes its options' defaults from here, a
crawl its Scrapy settings (crawler/runner.py), extraction its data directory (archive/symbols.py).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from archive.errors import BadInput

__all__ = ["KEYS", "Config", "ConfigError", "Key", "CONFIG_ENV", "FILE_NAME", "default", "load"]

CONFIG_ENV = "ARCHIVE_CONFIG"
FILE_NAME = "archive.toml"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class ConfigError(BadInput):
    """archive.toml or an ARCHIVE_* variable holds a key or a value that cannot be used."""


@dataclass(frozen=True)
class Key:
    """One setting a user may give: its archive.toml name, variable, type, default and meaning."""

    name: str
    kind: type
    default: Any
    help: str
    #: The Scrapy setting a crawl takes the value as (None: not a crawl setting).
    scrapy: str | None = None
    #: The default, when it depends on the machine or the user (shown as `shown`).
    default_factory: Callable[[], Any] | None = None
    shown: str | None = None

    @property
    def env(self) -> str:
        return "ARCHIVE_" + self.name.upper()

    def builtin(self) -> Any:
        return self.default_factory() if self.default_factory else self.default

    def parse(self, raw: Any, where: str) -> Any:
        """`raw` (a string from the environment, a TOML value) as this key's type."""
        try:
            if self.kind is bool:
                if isinstance(raw, bool):
                    return raw
                if isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE:
                    return raw.strip().lower() in _TRUE
                raise ValueError
            if self.kind is int:
                if isinstance(raw, bool) or isinstance(raw, float):
                    raise ValueError
                value: Any = int(raw)
                if value < 1:
                    raise ValueError
                return value
            if self.kind is float:
                if isinstance(raw, bool):
                    raise ValueError
                value = float(raw)
                if not value >= 0:  # also refuses nan
                    raise ValueError
                return value
            if self.kind is Path:
                if not isinstance(raw, str) or not raw:
                    raise ValueError
                return Path(raw).expanduser()
            if not isinstance(raw, str):
                raise ValueError
            return raw
        except (TypeError, ValueError):
            expected = {bool: "true or false", int: "a whole number of at least 1",
                        float: "a number of at least 0", Path: "a folder path"}.get(self.kind, "a string")
            raise ConfigError(f"{where}: {self.name} = {raw!r} is not {expected}") from None


def _data_dir() -> Path:
    return Path.home() / ".local" / "share" / "commentary-archive"


#: Every key a user may set, in the order docs/configuration.md lists them.
KEYS: dict[str, Key] = {key.name: key for key in [
    Key("db_url", str, "sqlite:///archive.db", "the archive's database (SQLite path or URL, PostgreSQL URL)",
        scrapy="ARCHIVE_DB_URL"),
    Key("data_dir", Path, None, "job locks of scheduled crawls and updated symbol lists",
        default_factory=_data_dir, shown="~/.local/share/commentary-archive"),
    Key("allow_private_addresses", bool, False, "also fetch loopback and private addresses (tests, demos)",
        scrapy="ARCHIVE_ALLOW_PRIVATE_ADDRESSES"),
    Key("user_agent", str, "commentary-archive/0.1 (research archive of market commentary)",
        "the User-Agent a crawl sends (and matches robots.txt groups by)", scrapy="USER_AGENT"),
    Key("download_timeout", float, 30.0, "seconds to wait for a page (archive crawl --timeout)",
        scrapy="DOWNLOAD_TIMEOUT"),
    Key("extract_workers", int, None, "extraction worker processes of a crawl", scrapy="ARCHIVE_EXTRACT_WORKERS",
        default_factory=lambda: os.cpu_count() or 2, shown="the CPU count"),
    # A crawl uses at most 4 connections at once (the store's writer, two extraction look-ups, one
    # conditional look-up) and one more is spare; N workers need N x this under PostgreSQL's
    # max_connections, or pgbouncer (docs/postgresql.md). Nothing overflows the pool.
    Key("db_pool_size", int, 5, "connections one process keeps to PostgreSQL at most"),
    Key("write_batch", int, 50, "pages stored per database transaction in a crawl", scrapy="ARCHIVE_WRITE_BATCH"),
    Key("gap_margin", float, 0.03, "seconds added to every promised gap between two requests to a site",
        scrapy="ARCHIVE_GAP_MARGIN"),
    Key("progress_interval", float, 5.0, "seconds between two progress lines of a crawl shown on a terminal",
        scrapy="ARCHIVE_PROGRESS_INTERVAL"),
    Key("sec_user_agent", str, None, "the User-Agent for archive symbols update (SEC asks for a name and email)"),
    Key("frontier_url", str, None, "Redis URL of a shared crawl (archive crawl --frontier)"),
    Key("frontier_name", str, None, "the shared crawl's name (default: derived from the start URLs)",
        shown="derived"),
    Key("frontier_idle", float, 30.0, "seconds a shared queue stays empty before a worker stops",
        scrapy="ARCHIVE_FRONTIER_IDLE"),
    Key("frontier_heartbeat", float, 15.0, "seconds without a heartbeat before a shared-crawl worker is taken for dead",
        scrapy="ARCHIVE_FRONTIER_HEARTBEAT"),
    Key("web_token", str, None, "the token archive serve asks for (archive serve --token)"),
]}


def default(name: str) -> Any:
    """The built-in default of key `name` (the one place it is written)."""
    return KEYS[name].builtin()


@dataclass(frozen=True)
class Config:
    """The resolved values (environment over file over default) and where each came from."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    file: Path | None = None

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def scrapy_settings(self) -> dict[str, Any]:
        """The crawl settings the user configured (not the built-in defaults: those are in
        crawler/settings.py, taken from KEYS)."""
        return {KEYS[name].scrapy: value for name, value in self.values.items()
                if KEYS[name].scrapy and self.sources.get(name) != "default"}


def config_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "archive"


def find_file(explicit: str | Path | None = None, environ: Mapping[str, str] | None = None,
              cwd: Path | None = None) -> Path | None:
    """The archive.toml in use: `explicit` (--config), ARCHIVE_CONFIG, ./archive.toml, the user's."""
    environ = os.environ if environ is None else environ
    named = explicit or environ.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            source = "--config" if explicit else CONFIG_ENV
            raise ConfigError(f"{source}: no config file at {path}")
        return path
    for candidate in ((cwd or Path.cwd()) / FILE_NAME, config_dir(environ) / FILE_NAME):
        if candidate.is_file():
            return candidate
    return None


def read_file(path: Path) -> dict[str, Any]:
    """archive.toml's values, checked: an unknown key or a bad value is a one-line ConfigError."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(KEYS)})")
    return {name: KEYS[name].parse(raw, str(path)) for name, raw in data.items()}


def value(name: str, environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Any:
    """One key resolved as `load` resolves it (the same file is read and checked), without working
    out every other key's default: asked for on every page an extraction worker reads."""
    environ = os.environ if environ is None else environ
    path = find_file(None, environ, cwd)
    return _resolve(name, environ, read_file(path) if path else {}, path)[0]


def _resolve(name: str, environ: Mapping[str, str], from_file: dict[str, Any], path: Path | None) -> tuple[Any, str]:
    """A key's value and where it came from: environment variable, else archive.toml, else the default."""
    key = KEYS[name]
    raw = environ.get(key.env)
    if raw is not None and (raw != "" or key.kind is bool):
        return key.parse(raw, key.env), "environment"
    if name in from_file:
        return from_file[name], str(path)
    return key.builtin(), "default"


def load(explicit: str | Path | None = None, environ: Mapping[str, str] | None = None,
         cwd: Path | None = None) -> Config:
    """Resolve every key: environment variable, else archive.toml, else the built-in default."""
    environ = os.environ if environ is None else environ
    path = find_file(explicit, environ, cwd)
    from_file = read_file(path) if path else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in KEYS:
        values[name], sources[name] = _resolve(name, environ, from_file, path)
    return Config(values, sources, path)
