"""The pages. Each handler reads through the archive's own query layer (archive.query, .stats,
.attention, .edits, .runs, .diff) and returns a Page: a template, its context, and the JSON that
the page's twin under /api/ answers with. No SQL here, and none in the templates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine

from archive.attention import attention
from archive.diff import diff_versions
from archive.edits import count_edits, most_edited, newest_edits
from archive.errors import BadInput, NotFound
from archive.export import row
from archive.query import History, find_article, near_duplicates, search, versions
from archive.resume import error_kind, failed_fetches, recent_crawls
from archive.snippet import marked, snippet
from archive.stats import facets
from archive.web.params import MAX_PER_PAGE, PER_PAGE, Query, choice, filters_of, number
from archive.web.views import chart, diff_view, published, shown

PERIOD_CHOICES = ("auto", "day", "week", "month")


@dataclass
class Page:
    template: str
    context: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)


def summary(snapshot: Any, article: Any) -> dict[str, Any]:
    """A result as JSON: the export line without its body."""
    line = row(snapshot, article)
    line.pop("body")
    return line


def _result(snapshot: Any, article: Any, node: Any = None) -> dict[str, Any]:
    return {"id": article.id, "site": article.site, "version": snapshot.version, "published": published(snapshot),
            "title": marked(snapshot.title or "(untitled)", node), "snippet": snippet(snapshot.body, node),
            "tickers": [t["symbol"] for t in snapshot.tickers], "authors": list(snapshot.authors),
            "url": snapshot.url}


#: A search page's results come from the facets' pass over the matches while they are among the
#: newest this many; deeper pages are searched for.
MAX_FIRST = 1000


def search_page(engine: Engine, query: Query) -> Page:
    """Search: results newest first with marked snippets, the total, attention over time, facets."""
    filters = filters_of(query)
    per = number(query, "per", PER_PAGE, most=MAX_PER_PAGE)
    page = number(query, "page", 1)
    by = choice(query, "by", PERIOD_CHOICES, "auto")
    # One pass over the matches: facets, per-day counts and, when they are counted, the page's
    # results; a text with many matches is estimated from a sample of them
    # (archive.attention.sample_rate), and so is the total, and its results are searched.
    top = facets(engine, filters, days=True, estimate=True, first=page * per if page * per <= MAX_FIRST else 0)
    found = (versions(engine, top.newest[(page - 1) * per:]) if top.newest is not None
             else search(engine, filters, limit=per, offset=(page - 1) * per))
    series = attention(engine, replace(filters, sample=top.rate), by, counted=top.days)
    total = series.total  # the same rows counted: no second pass over the matches
    pages = max(1, math.ceil(total / per))
    context = {"query": query, "filters": filters, "results": [_result(s, a, filters.query) for s, a in found],
               "total": total, "page": page, "pages": pages, "per": per, "chart": chart(series), "series": series,
               "facets": top, "by": by, "title": query.get("q") or "Search", "estimated": series.estimated}
    data = {"query": query.as_dict(), "total": total, "total_estimated": series.estimated, "page": page,
            "pages": pages, "per_page": per,
            "results": [{**summary(s, a), "snippet": "".join(t for t, _ in snippet(s.body, filters.query))}
                        for s, a in found],
            "attention": series.as_dict(), "facets": top.as_dict(),
            "downloads": {fmt: query.filters_only().href(f"/export.{fmt}") for fmt in ("jsonl", "csv", "parquet")}}
    return Page("search.html", context, data)


def attention_data(engine: Engine, query: Query) -> dict[str, Any]:
    """The search's attention series alone (`/api/attention`), for a script or a chart of its own."""
    return attention(engine, filters_of(query), choice(query, "by", PERIOD_CHOICES, "auto"), estimate=True).as_dict()


def _history(engine: Engine, key: str) -> History:
    if not key.isdigit():
        raise NotFound(f"no article {key!r} in the archive")
    return find_article(engine, key)


def _tickers(snapshot: Any) -> list[dict[str, Any]]:
    return [{"symbol": t.get("symbol"), "exchange": t.get("exchange"), "mentions": t.get("mentions"),
             "evidence": list(t.get("evidence") or ()), "validated_by": t.get("validated_by")}
            for t in snapshot.tickers]


def article_page(engine: Engine, key: str, query: Query) -> Page:
    """One article: a version's fields with their evidence, the timeline, duplicates, the capture."""
    history = _history(engine, key)
    article = history.article
    current = history.version(number(query, "v", history.versions[-1].version))
    fields = [("title", shown(current.title)), ("authors", shown(list(current.authors))),
              ("AI-generated byline", shown(current.ai_generated)),
              ("published", f"{published(current)} (precision: {current.published_precision or '—'})"),
              ("updated", shown(current.updated_at and current.updated_at.isoformat())),
              ("language", shown(current.language)), ("site name", shown(current.site_name)),
              ("description", shown(current.description)), ("URL fetched", current.url),
              ("words", str(current.word_count)), ("paywalled", shown(current.paywalled)),
              ("fetched (UTC)", f"{current.fetched_at:%Y-%m-%d %H:%M:%S}"), ("origin", current.origin),
              ("extractor", current.extractor_version), ("content sha256", current.content_sha256),
              ("raw page sha256", shown(current.raw_sha256))]
    duplicates = near_duplicates(engine, article.id)
    versions = [{"version": s.version, "fetched_at": f"{s.fetched_at:%Y-%m-%d %H:%M} UTC", "origin": s.origin,
                 "changed": list(s.changed_fields), "words": s.word_count, "title": s.title}
                for s in history.versions]
    context = {"article": article, "current": current, "fields": fields, "tickers": _tickers(current),
               "versions": versions, "fetches": history.fetches, "duplicate_of": history.duplicate_of_url,
               "duplicate_of_id": article.duplicate_of_id, "duplicates": duplicates,
               "events": history.events, "urls": history.urls,
               "paragraphs": [p for p in current.body.split("\n\n") if p.strip()],
               "title": current.title or f"article {article.id}"}
    data = {"article_id": article.id, "canonical_url": article.canonical_url, "site": article.site,
            "first_seen_at": article.first_seen_at.isoformat(), "fetches": history.fetches,
            "duplicate_of": article.duplicate_of_id, "duplicate_of_url": history.duplicate_of_url,
            "near_duplicates": [{"article_id": i, "canonical_url": u} for i, u in duplicates],
            "versions": versions, "version": row(current, article),
            "removed_at": article.removed_at.isoformat() if article.removed_at else None,
            "events": [{"kind": e.kind, "at": e.at.isoformat(), "url": e.url, "detail": e.detail}
                       for e in history.events],
            "urls": [{"url": u.url, "first_seen_at": u.first_seen_at.isoformat(),
                      "last_seen_at": u.last_seen_at.isoformat()} for u in history.urls],
            "raw": f"/raw/{current.raw_sha256}" if current.raw_sha256 else None}
    return Page("article.html", context, data)


def diff_page(engine: Engine, key: str, query: Query) -> Page:
    """Two versions of an article compared: changed fields, then the body word by word."""
    history = _history(engine, key)
    numbers = [s.version for s in history.versions]
    new = number(query, "to", numbers[-1])
    old = number(query, "from", max(1, new - 1))
    compared = diff_versions(history.version(old), history.version(new))
    view = choice(query, "view", ("inline", "side"), "inline")
    full = choice(query, "full", ("0", "1"), "0") == "1"
    context = {"article": history.article, "diff": compared, "view_of": diff_view(compared, full=full), "view": view,
               "full": full,
               "numbers": numbers, "old": old, "new": new, "query": query,
               "title": f"{history.versions[-1].title or history.article.id}: v{old} → v{new}"}
    return Page("diff.html", context, compared.as_dict())


def ticker_page(engine: Engine, symbol: str, query: Query) -> Page:
    """A ticker: attention over time, co-mentioned tickers, latest and most-edited articles."""
    symbol = symbol.strip().lstrip("$")
    if symbol.islower():  # "nvda" -> NVDA; mixed case is a code kept as shown ("RHM.Germany")
        symbol = symbol.upper()
    if not symbol or len(symbol) > 16:
        raise BadInput(f"not a ticker: {symbol!r}")
    filters = filters_of(query, tickers=(symbol,))
    by = choice(query, "by", PERIOD_CHOICES, "auto")
    top = facets(engine, filters, top=16, days=True, estimate=True)
    series = attention(engine, replace(filters, sample=top.rate), by, counted=top.days)
    co = [(s, n) for s, n in top.tickers if s.upper() != symbol.upper()][:15]
    latest = search(engine, filters, limit=10)
    edited = most_edited(engine, filters, limit=10)
    context = {"symbol": symbol, "query": query, "chart": chart(series), "series": series, "co": co, "by": by,
               "latest": [_result(s, a) for s, a in latest],
               "edited": [(_result(s, a), n) for s, a, n in edited], "total": series.total,
               "sites": top.sites, "title": symbol, "estimated": series.estimated}
    data = {"ticker": symbol, "articles": context["total"], "articles_estimated": series.estimated,
            "attention": series.as_dict(), "co_mentioned": dict(co),
            "sites": dict(top.sites), "latest": [summary(s, a) for s, a in latest],
            "most_edited": [{**summary(s, a), "edits": n} for s, a, n in edited]}
    return Page("ticker.html", context, data)


def edits_page(engine: Engine, query: Query) -> Page:
    """The newest publisher edits (origin fetch, version 2 and later), filtered like search."""
    filters = filters_of(query)
    per = number(query, "per", 50, most=MAX_PER_PAGE)
    page = number(query, "page", 1)
    found = newest_edits(engine, filters, limit=per, offset=(page - 1) * per)
    total = count_edits(engine, filters)
    edits = [{"id": a.id, "version": s.version, "fetched_at": f"{s.fetched_at:%Y-%m-%d %H:%M} UTC",
              "site": a.site, "title": s.title or "(untitled)", "changed": list(s.changed_fields),
              "tickers": [t["symbol"] for t in s.tickers]} for s, a in found]
    context = {"query": query, "edits": edits, "total": total, "page": page, "per": per,
               "pages": max(1, math.ceil(total / per)), "title": "Edits"}
    data = {"query": query.as_dict(), "total": total, "page": page,
            "edits": [{**summary(s, a), "diff": f"/article/{a.id}/diff?from={s.version - 1}&to={s.version}"}
                      for s, a in found]}
    return Page("edits.html", context, data)


def atom_feed(engine: Engine, query: Query, base: str) -> dict[str, Any]:
    """The Edits page's query as an Atom feed's context (templates/edits.atom)."""
    filters = filters_of(query)
    found = newest_edits(engine, filters, limit=number(query, "per", 50, most=MAX_PER_PAGE))
    entries = [{"id": f"{base}/article/{a.id}/v/{s.version}",
                "link": f"{base}/article/{a.id}/diff?from={s.version - 1}&to={s.version}",
                "title": f"{s.title or a.canonical_url} (version {s.version})",
                "updated": s.fetched_at.isoformat(), "site": a.site,
                "summary": f"{a.site}: changed {', '.join(s.changed_fields) or 'nothing recorded'}; "
                           f"tickers {', '.join(t['symbol'] for t in s.tickers) or '-'}"}
               for s, a in found]
    updated = entries[0]["updated"] if entries else datetime(2000, 1, 1, tzinfo=timezone.utc).isoformat()
    return {"self_url": base + query.href("/edits.atom"), "alternate": base + query.href("/edits"),
            "feed_id": base + query.href("/edits.atom"), "updated": updated, "entries": entries,
            "subtitle": ", ".join(f"{k}={v}" for k, v in query.pairs) or "all publisher edits"}


def _errors(stats: dict[str, Any]) -> dict[str, int]:
    return {k.split("/", 2)[2]: int(v) for k, v in (stats or {}).items() if k.startswith("archive/errors/")}


def _run(run: Any) -> dict[str, Any]:
    stats = run.stats or {}
    return {"id": run.id, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "took": f"{(run.finished_at - run.started_at).total_seconds():.0f}s" if run.finished_at else "—",
            "finish_reason": stats.get("finish_reason"), "command": run.command or {},
            "what": ", ".join((run.command or {}).get("start_urls") or (run.command or {}).get("urls") or [])
                    or str((run.command or {}).get("sources") or "—"),
            "fetches": stats.get("archive/fetches", 0), "new": stats.get("archive/new", 0),
            "changed": stats.get("archive/changed", 0),
            "unchanged": stats.get("archive/unchanged", 0) + stats.get("archive/same_raw", 0),
            "not_modified": stats.get("archive/not_modified", 0), "errors": _errors(stats)}


def crawls_page(engine: Engine, query: Query) -> Page:
    """The crawl runs, newest first, and their errors by kind."""
    runs = [_run(r) for r in recent_crawls(engine, limit=number(query, "limit", 50, most=1000))]
    kinds: dict[str, int] = {}
    for run in runs:
        for kind, n in run["errors"].items():
            kinds[kind] = kinds.get(kind, 0) + n
    by_kind = sorted(kinds.items(), key=lambda item: (-item[1], item[0]))
    return Page("crawls.html", {"runs": runs, "kinds": by_kind, "title": "Crawls"},
                {"runs": runs, "errors_by_kind": dict(by_kind)})


def crawl_page(engine: Engine, crawl_id: str) -> Page:
    """One run: what it was asked, its counts, and the URLs that failed, by kind."""
    if not crawl_id.isdigit():
        raise NotFound(f"no crawl {crawl_id!r}")
    run, failed = failed_fetches(engine, int(crawl_id))
    if run is None:
        raise NotFound(f"no crawl {crawl_id!r}")
    rows = [{"url": f.url, "status": f.status, "kind": error_kind(f.error), "error": f.error,
             "fetched_at": f"{f.fetched_at:%Y-%m-%d %H:%M:%S}"} for f in failed]
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    info = _run(run)
    return Page("crawl.html", {"run": info, "stats": sorted((run.stats or {}).items()), "failed": rows,
                               "kinds": sorted(kinds.items()), "title": f"Crawl {run.id}"},
                {**info, "stats": run.stats or {}, "failed": rows})
