"""`archive extract URL-or-FILE`: what the extractor makes of one page, and why; nothing is stored."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from archive.cli.base import cli, private_option
from archive.errors import BadInput
from archive.extract import Extracted, extract
from archive.extract.dates import in_site_zone
from archive.limits import MAX_PAGE_BYTES


@cli.command("extract")
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--url", "page_url", help="The address a saved FILE was served from (URL rules use it).")
@click.option("--timezone", "zone", help="The site's time zone (IANA, e.g. America/New_York), as `timezone` in a "
              "sources file: times shown without a zone, or only in UTC, are read in it.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds to wait for a URL.")
@click.option("--max-bytes", type=int, default=MAX_PAGE_BYTES, show_default=True,
              help="Refuse a page larger than this (the crawl's limit).")
@private_option
def extract_command(target: str, as_json: bool, page_url: str | None, zone: str | None, timeout: float,
                    max_bytes: int, allow_private_addresses: bool) -> None:
    """Show the fields extracted from one page (a URL, fetched with the crawl's address guard,
    size limit and timeout; or a saved file) with the rule behind each. Stores nothing.

    \b
    Example:
        archive extract https://www.example-news.com/markets/fed-holds.html
        archive extract saved-page.html --url https://www.example-news.com/markets/fed-holds.html --json
    """
    site_zone = _zone(zone)
    content_type = None
    if target.startswith(("http://", "https://")):
        from archive.fetch import fetch  # noqa: PLC0415

        fetched = fetch(target, timeout=timeout, max_bytes=max_bytes, allow_private=allow_private_addresses)
        raw, url, content_type = fetched.body, page_url or fetched.url, fetched.content_type
    else:
        raw = _read_file(target, max_bytes)
        url = page_url
    result = in_site_zone(extract(raw, url, content_type=content_type), site_zone)
    click.echo(json.dumps(as_dict(result), ensure_ascii=False, indent=2) if as_json else as_text(result))


def _read_file(target: str, max_bytes: int) -> bytes:
    """A saved page's bytes (gunzipped when gzipped), held to the same size limit as a fetched one."""
    path = Path(target)
    if path.is_dir():
        raise BadInput(f"{target}: a directory, not a page (give a saved page's file or an http(s):// URL)")
    if not path.is_file():
        raise BadInput(f"{target}: no such file (or give an http(s):// URL)")
    try:
        if path.stat().st_size > max_bytes:
            raise BadInput(f"{target}: larger than the --max-bytes limit of {max_bytes} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{target}: cannot be read ({exc.strerror or exc})") from exc
    if raw[:2] != b"\x1f\x8b":
        return raw
    from archive.fetch import inflate  # noqa: PLC0415 - as fetch above: only when needed

    try:
        page, whole = inflate(raw, max_bytes)
    except zlib.error as exc:
        raise BadInput(f"{target}: a broken gzip file ({exc})") from exc
    except OverflowError:
        raise BadInput(f"{target}: larger than the --max-bytes limit of {max_bytes} bytes once unzipped") from None
    if not whole:
        raise BadInput(f"{target}: a broken gzip file (it stops before its end)")
    return page


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise BadInput(f"--timezone: unknown time zone {name!r} (an IANA name such as America/New_York)") from exc


def as_dict(result: Extracted) -> dict[str, object]:
    return {
        "url": result.url or None, "canonical_url": result.canonical_url or None,
        "is_article": result.is_article, "kind_reason": result.kind_reason,
        "title": result.title, "authors": list(result.authors), "ai_generated": result.ai_generated,
        "published": result.published.isoformat() if result.published else None,
        "published_day": result.published_day.isoformat() if result.published_day else None,
        "updated": result.updated.isoformat() if result.updated else None,
        "site_name": result.site_name, "language": result.language, "description": result.description,
        "tickers": [t.as_dict() for t in result.tickers], "paywalled": result.paywalled,
        "word_count": result.word_count, "notes": list(result.notes), "body": result.body,
        "extractor_version": result.extractor_version, "evidence": dict(result.evidence),
    }


def as_text(result: Extracted) -> str:
    why = result.evidence
    lines = [
        f"article:    {'yes' if result.is_article else 'no'}  ({result.kind_reason})",
        f"title:      {result.title or '-'}  [{why.get('title', '')}]",
        f"authors:    {', '.join(result.authors) or '-'}  [{why.get('authors', '')}]"
        + ("  (AI-generated)" if result.ai_generated else ""),
        f"published:  {result.published.isoformat() if result.published else '-'}  [{why.get('published', '')}]"
        + (f"  (publisher's day {result.published_day})" if result.published_day and result.published
           and result.published_day.isoformat() != result.published.isoformat()[:10] else ""),
        f"updated:    {result.updated.isoformat() if result.updated else '-'}  [{why.get('updated', '')}]",
        f"tickers:    {', '.join(t.symbol + (f' ({t.exchange})' if t.exchange else '') for t in result.tickers) or '-'}"
        f"  [{why.get('tickers', '')}]",
        f"site:       {result.site_name or '-'}   language: {result.language or '-'}   paywalled: "
        f"{'yes' if result.paywalled else 'no'}",
        f"canonical:  {result.canonical_url or '-'}",
        f"body:       {result.word_count} words  [{why.get('body', '')}]",
        *(f"note:       {note}" for note in result.notes),
        f"extractor:  {result.extractor_version}",
        "",
        result.body,
    ]
    return "\n".join(lines)
