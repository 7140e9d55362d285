"""Headline and site name: a <title> is usually "Headline | Site"; the article wants the headline."""

from __future__ import annotations

import re

from archive.extract.page import Page
from archive.extract.regions import folded_label, in_chrome, text_of, url_sections, wrapper_limit

_TEMPLATE = re.compile(r"\$\{|\{\{|%\(")  # an unrendered template: "${Instrument_CompanyName}"
_ELLIPSES = ("...", "…")
_SEPARATOR = re.compile(r"\s+[|\-–—:·]\s+")


def split_title(raw: str) -> tuple[str, str | None]:
    """("Headline", "Site") for "Headline | Site"; the suffix must look like a name (short)."""
    parts = _SEPARATOR.split(raw)
    if len(parts) >= 2 and len(parts[-1].split()) <= 4 and len(parts[-1]) <= 40:
        separator = list(_SEPARATOR.finditer(raw))[-1]
        return raw[: separator.start()].strip(), parts[-1].strip()
    return raw.strip(), None


def find_site_name(page: Page) -> str | None:
    if (name := page.meta("og:site_name", "application-name")):
        return name
    for obj in page.json_ld():
        publisher = obj.get("publisher")
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            return publisher["name"]
    titles = page.tree.xpath("//title/text()")
    return split_title(" ".join(titles[0].split()))[1] if titles else None


def find_title(page: Page, root, site_name: str | None, fallback: str | None) -> str | None:
    """JSON-LD headline, og:title, the article's <h1>, <title>: without a site-name suffix."""
    return find_title_with_source(page, root, site_name, fallback)[0]


def find_title_with_source(page: Page, root, site_name: str | None,
                           fallback: str | None) -> tuple[str | None, str]:
    """(title, which rule gave it): see find_title."""
    title, source, h1 = _chosen(page, root, site_name, fallback)
    if title is not None and title == h1 and (named := _named_by_title(page, h1, site_name)) is not None:
        return named[0], f"the <{named[1]}> the page's title opens with (the <h1> names the site or section)"
    return title, source


def _chosen(page: Page, root, site_name: str | None,
            fallback: str | None) -> tuple[str | None, str, str | None]:
    """(title, which rule gave it, the article's <h1> text)."""
    sections = url_sections(page.url)
    h1s = root.xpath(".//h1") or [h for h in page.tree.xpath("//h1") if not in_chrome(h, wrapper_limit(page))]
    h1 = next((text for h in h1s if (text := text_of(h))), None)
    if h1 and folded_label(h1) in sections:
        h1 = None  # the section's name ("News" on /news/...): a later <h1> is no better (a footer's "Contact us")
    headline = next((obj["headline"] for obj in page.json_ld() if isinstance(obj.get("headline"), str)), None)
    titles = page.tree.xpath("//title/text()")
    candidates = [(" ".join(candidate.split()), source) for candidate, source in (
        (headline, "json-ld headline"), (page.meta("og:title", "twitter:title"), "og:title"), (h1, "<h1>"),
        (titles[0] if titles else None, "<title>"), (fallback, "trafilatura"))
        if candidate and candidate.strip() and not _TEMPLATE.search(candidate)]
    for candidate, source in candidates:
        if folded_label(candidate) in sections:
            continue  # the section's name ("News" on /news/...), not the headline
        if h1 and len(h1) >= 10 and h1.casefold() in candidate.casefold() and h1 != candidate:
            return h1, f"<h1> inside the {source}", h1  # the headline wrapped in tickers, section or site name
        title = _without_suffix(candidate, site_name, h1)
        if (whole := _untruncated(title, candidates, site_name, h1)) is not None:
            return whole[0], f"{whole[1]} (the {source} is cut short)", h1
        return title, source if title == candidate else f"{source} without its site suffix", h1
    return None, "none found", h1


#: What separates a page title's parts ("Headline | Site", "Headline_Section_Site", "... :: PIXNET ::").
_TRAILING = " |:-–—·_@»/"


def _named_by_title(page: Page, h1: str, site_name: str | None) -> tuple[str, str] | None:
    """(text, tag) of the heading that the page's <title> or og:title opens with, where the <h1>
    is not the headline: the title does not name it, or names it only at its end, where titles
    name the site ("Headline @ Blog :: PIXNET ::"). Blogs and portals give the <h1> to the site's,
    blog's or section's name ("Allergies Health Center") and the headline to an <h2> or <h3>; the
    title, "Headline - Site", still opens with the headline. A heading is taken only when it is
    the title's whole first part, followed by the title's end or a separator ("OL i Paris" does not
    name "OL i Paris 2024: ..."); where the <h1> ends the title ("Site - Headline"), only a heading
    longer than the <h1>."""
    raws = [" ".join(raw.split()) for raw in (page.meta("og:title", "twitter:title"),
                                                *page.tree.xpath("//title/text()")[:1]) if raw and raw.strip()]
    wanted = h1.casefold()
    at_end = False
    for raw in raws:
        place = raw.casefold().find(wanted)
        if place >= 0 and raw[place + len(h1):].strip(_TRAILING):
            return None  # the title holds the <h1> as its headline (or wrapped in a kicker)
        at_end = at_end or place >= 0
    for heading in page.tree.iter("h1", "h2", "h3"):
        text = text_of(heading)
        if not text or text == h1 or len(text) < 10 or (text.isascii() and len(text.split()) < 3):
            continue
        if at_end and len(text) <= len(h1):
            continue  # "Site - Headline": the <h1> ends the title as the headline, the site opens it
        if site_name and text.casefold() == site_name.casefold():
            continue
        for raw in raws:
            rest = raw[len(text):]
            if raw.casefold().startswith(text.casefold()) and (not rest or rest.lstrip()[:1] in _TRAILING):
                return text, str(heading.tag)
    return None


def _untruncated(title: str, candidates: list[tuple[str, str]], site_name: str | None,
                 h1: str | None) -> tuple[str, str] | None:
    """The whole headline when `title` is cut short with an ellipsis and another candidate holds it.

    Google asks for a JSON-LD headline of at most 110 characters, so CMSs cut longer ones ("...
    for Hong Kong leader..."), and some cut og:title for sharing cards; the <h1> or <title> keeps
    the whole headline."""
    if not title.endswith(_ELLIPSES) or len(stem := title.rstrip(".…").rstrip()) < 20:
        return None
    for candidate, source in candidates:
        whole = _without_suffix(candidate, site_name, h1)
        if whole.startswith(stem) and len(whole) > len(stem) + 1 and not whole.endswith(_ELLIPSES):
            return whole, source
    return None


def _without_suffix(title: str, site_name: str | None, h1: str | None) -> str:
    head, suffix = split_title(title)
    if suffix is None or head == title:
        return title
    if (site_name and suffix.casefold() == site_name.casefold()) or (h1 and h1 == head):
        return head
    return title
