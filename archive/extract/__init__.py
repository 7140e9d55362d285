"""html + url -> Extracted: the one entry point for turning a fetched page into an article.

The coordinator only coordinates: each field has its own module (titles, authors, dates,
tickers, body, kind, notes). Any failure surfaces as ExtractionError with a `kind`, nothing else.
"""

from __future__ import annotations

import logging

from archive.errors import ExtractionError
from archive.extract.authors import find_authors_with_source
from archive.extract.body import clean_body, trafilatura_document
from archive.extract.dates import find_dates
from archive.extract.kind import classify, is_paywalled, link_share
from archive.extract.model import EXTRACTOR_VERSION, Dated, Extracted, Ticker
from archive.extract.notes import find_notes
from archive.extract.page import Page, load_page
from archive.extract.regions import (LEAD_BYLINE, article_root, byline_texts, drop_navigation, memo, paragraph_chars,
                                     wrapper_limit)
from archive.extract.standfirst import find_standfirst
from archive.extract.tickers import find_tickers
from archive.extract.titles import find_site_name, find_title_with_source
from archive.symbols import SymbolUniverse, load_universe
from archive.urls import choose_canonical

__all__ = ["extract", "Extracted", "Ticker", "Dated", "ExtractionError", "EXTRACTOR_VERSION"]

log = logging.getLogger(__name__)


def extract(html: bytes | str, url: str | None, universe: SymbolUniverse | None = None, *,
            content_type: str | None = None) -> Extracted:
    """Extract the article from one page. Raises ExtractionError (with `.kind`) and nothing else.

    `universe` validates tickers; by default the active one (`archive symbols`), loaded once.
    `content_type`: the Content-Type header the page was served with (its charset counts).
    `url` may be None or "" (a saved file with no known address): URL-based rules then find nothing.
    """
    page = load_page(html, url or "", content_type)
    try:
        with memo():
            return _extract(page, universe if universe is not None else load_universe())
    except ExtractionError:
        raise
    except RecursionError as exc:
        raise ExtractionError("parse_error", "the page is nested too deeply to parse") from exc
    except Exception as exc:  # a dependency failing on odd input must not crash a crawl
        log.debug("extraction failed for %s", url, exc_info=True)
        raise ExtractionError("extract_failed", f"{type(exc).__name__}: {exc}") from exc


def _extract(page: Page, universe: SymbolUniverse) -> Extracted:
    drop_navigation(page)
    root = article_root(page)
    document = trafilatura_document(page, root, paragraph_chars(page, root))
    body_element = page.tree.find("body")
    bylines = list(byline_texts(root))
    if not bylines and body_element is not None:  # the rest of the body; root, read already, is not read again
        searched = root if root is body_element or body_element in root.iterancestors() else None
        bylines = list(byline_texts(body_element, searched))
    text = getattr(document, "text", None) or ""
    bylines += [line for line in text.splitlines()[:3] if LEAD_BYLINE.match(line) and line not in bylines]
    site_name = find_site_name(page)
    title, title_source = find_title_with_source(page, root, site_name, getattr(document, "title", None))
    authors, ai_generated, authors_source = find_authors_with_source(page, bylines, getattr(document, "author", None))
    published, updated = find_dates(page, [root])
    body = clean_body(text, title, bylines, page.url)
    standfirst = find_standfirst(page, body, title) if body else None
    if standfirst:
        body = f"{standfirst}\n\n{body}"
    is_article, reason = classify(page, body, link_share(root, wrapper_limit(page)))
    tickers = find_tickers(page, root, universe, body)
    notes = find_notes(body)
    evidence = {"title": title_source, "authors": authors_source,
                "published": published.source if published else "none found",
                "updated": updated.source if updated else "none found", "kind": reason,
                "body": f"trafilatura on the {'article region <' + root.tag + '>' if root.tag not in ('html', 'body') else 'page'}"
                        + (", after the standfirst (the description shown under the headline)" if standfirst else ""),
                "tickers": "; ".join(f"{t.symbol}: {', '.join(t.evidence)}" for t in tickers) or "none found",
                "notes": f"{len(notes)} correction/update notice(s) in the body" if notes else "none found"}
    language = (page.tree.get("lang") or page.meta("og:locale", "language") or
                getattr(document, "language", None))
    return Extracted(
        url=page.url,
        canonical_url=choose_canonical(page.url, page.link_rel("canonical") or page.meta("og:url")),
        is_article=is_article,
        kind_reason=reason,
        title=title,
        authors=authors,
        ai_generated=ai_generated,
        published=published,
        updated=updated if updated != published else None,
        site_name=site_name,
        language=language.split("-")[0].split("_")[0].lower() if language else None,
        description=page.meta("description", "og:description"),
        tickers=tickers,
        body=body,
        paywalled=is_paywalled(page, body),
        notes=notes,
        evidence=evidence,
    )
