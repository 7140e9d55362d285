"""A page's query string: read into the archive's Filters, and written back into links.

The URL is the whole query (shareable, bookmarkable): every link a page draws, whether it adds a
filter, turns a page or downloads the results, is the current query string with one change.
Values mean what the CLI's options mean (archive.cli.filters), and bad ones raise the same
BadInput, whose one line the page shows with HTTP 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from archive.errors import BadInput
from archive.query import Filters, parse_bound

#: The filter parameters, in the order links write them.
FILTER_KEYS = ("q", "ticker", "site", "author", "language", "since", "until", "ai", "edited", "as_of")
#: Results per page unless `per` says otherwise, and the most `per` may ask for.
PER_PAGE, MAX_PER_PAGE = 20, 200


@dataclass(frozen=True)
class Query:
    """The query string as (key, value) pairs, empty values dropped, repeated keys kept."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, params: QueryParams) -> "Query":
        return cls(tuple((k, v.strip()) for k, v in params.multi_items() if v.strip()))

    def get(self, key: str, default: str = "") -> str:
        return next((v for k, v in self.pairs if k == key), default)

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.pairs if k == key]

    def adding(self, key: str, value: str) -> "Query":
        """This query with one more value of `key` (a filter added), back on the first page."""
        if (key, value) in self.pairs:
            return self.without("page")
        return Query(tuple(p for p in self.pairs if p[0] != "page") + ((key, value),))

    def setting(self, key: str, value: str | int | None) -> "Query":
        kept = tuple(p for p in self.pairs if p[0] != key)
        return Query(kept + (((key, str(value)),) if value not in (None, "") else ()))

    def without(self, *keys: str) -> "Query":
        return Query(tuple(p for p in self.pairs if p[0] not in keys))

    def filters_only(self) -> "Query":
        return Query(tuple(p for p in self.pairs if p[0] in FILTER_KEYS))

    def href(self, path: str) -> str:
        return f"{path}?{urlencode(self.pairs)}" if self.pairs else path

    def as_dict(self) -> dict[str, str | list[str]]:
        """For the JSON twin: one value as a string, several as a list."""
        grouped: dict[str, list[str]] = {}
        for key, value in self.pairs:
            grouped.setdefault(key, []).append(value)
        return {key: values[0] if len(values) == 1 else values for key, values in grouped.items()}


def _flag(query: Query, key: str) -> bool | None:
    value = query.get(key).lower()
    if not value:
        return None
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise BadInput(f"{key} must be yes or no, not {value!r}")


def filters_of(query: Query, **fixed: tuple[str, ...]) -> Filters:
    """The archive's Filters for this query string (`fixed` adds values a path gives, e.g. a ticker)."""
    return Filters(text=query.get("q") or None, tickers=tuple(query.all("ticker")) + fixed.get("tickers", ()),
                   sites=tuple(query.all("site")), authors=tuple(query.all("author")),
                   languages=tuple(query.all("language")), since=parse_bound(query.get("since") or None),
                   until=parse_bound(query.get("until") or None, end=True), ai_generated=_flag(query, "ai"),
                   edited=bool(_flag(query, "edited")), as_of=parse_bound(query.get("as_of") or None))


def number(query: Query, key: str, default: int, *, least: int = 1, most: int | None = None) -> int:
    """A whole-number parameter within bounds; anything else is one line of BadInput."""
    text = query.get(key)
    if not text:
        return default
    if not text.isdigit() or int(text) < least or (most is not None and int(text) > most):
        bounds = f"from {least}" + (f" to {most}" if most is not None else "")
        raise BadInput(f"{key} must be a whole number {bounds}, not {text!r}")
    return int(text)


def choice(query: Query, key: str, options: tuple[str, ...], default: str) -> str:
    value = query.get(key) or default
    if value not in options:
        raise BadInput(f"{key} must be one of {', '.join(options)}, not {value!r}")
    return value
