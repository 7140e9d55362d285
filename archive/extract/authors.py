"""Author names, cleaned of bylines' furniture: "By", roles, desks, times and AI labels."""

from __future__ import annotations

import re
from typing import Iterable

from archive.extract.page import Page

AI_BYLINE = re.compile(r"\b(?:generated|written|created)\s+by\s+(?:an\s+)?AI\s+(?:writing\s+)?agent\b\s*",
                       re.IGNORECASE)
_PREFIX = re.compile(r"^(?:(?:reporting|written|story|words|analysis|commentary)\s+)?by\s*[:\-]?\s+",
                     re.IGNORECASE)
_INNER_BY = re.compile(r"\b(?:post(?:ed)?|written|story|words|report(?:ed)?)\s+by\s+(.+)$", re.IGNORECASE)
_TRAILING_DATE = re.compile(r"\s+(?:on|at|\||·|-|–)\s+(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
                            r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|\d).*$", re.IGNORECASE)
_NOT_AUTHOR_SEGMENT = re.compile(r"^[\s|]*(?:editing|edited|additional reporting|compiled|graphics|"
                                 r"photo|produced|fact[- ]checked|tagged|tags|filed under|categor)", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:;|,|&|\band\b|\|)\s*|\s+[-–—]\s+", re.IGNORECASE)
#: Words that make a byline fragment a role, a desk or page furniture rather than a person.
_JUNK = re.compile(
    r"\b(staff|writer|editor|editors|reporter|correspondent|contributor|columnist|analyst|desk|"
    r"team|newsroom|email|author|follow|updated|published|min|read|ago|hours?|minutes?|"
    r"news|wire|press|agency|associated|reuters|bloomberg|benzinga|insights?|research|"
    r"markets?|senior|chief|the)\b", re.IGNORECASE)
_NAME = re.compile(r"^[A-Z][\w'’.\-]*(?:\s+(?:[A-Z][\w'’.\-]*|de|van|von|der|da|di|la|le|bin|al)){1,4}$")


def find_authors(page: Page, byline_texts: Iterable[str], fallback: str | None) -> tuple[tuple[str, ...], bool]:
    """(authors, ai_generated). JSON-LD Person authors win; then bylines; then <meta>; then trafilatura.

    A byline often shows one name where the page's metadata lists the whole team: a metadata
    list that contains every byline name and more replaces the byline's.
    """
    texts = list(byline_texts)
    ai = any(AI_BYLINE.search(text) for text in texts)
    meta = [clean_byline(value) for value in page.meta_all("author", "article:author", "parsely-author",
                                                            "sailthru.author") if not value.startswith("http")]
    meta_names = list(dict.fromkeys(name for names in meta for name in names))
    candidates: list[list[str]] = [_json_ld_people(page), *[clean_byline(t) for t in texts], meta_names]
    if fallback:
        candidates.append(clean_byline(fallback))
    for names in candidates:
        if names:
            if set(names) < set(meta_names):
                names = meta_names
            return tuple(names), ai
    return (), ai


def clean_byline(text: str) -> list[str]:
    """Person names from one byline string, in order, without duplicates."""
    text = AI_BYLINE.sub("", " ".join(text.split()))
    names: list[str] = []
    for segment in text.split(";"):
        if _NOT_AUTHOR_SEGMENT.match(segment):
            continue
        segment = _PREFIX.sub("", segment.strip(" |"))
        if (inner := _INNER_BY.search(segment)) and not _PREFIX.match(segment):
            segment = inner.group(1)  # "Music post by Katie Presley on April 11, 2013"
        segment = _TRAILING_DATE.sub("", segment)
        for part in _SPLIT.split(segment):
            part = _PREFIX.sub("", part.strip(" .:-–—"))
            if part.isupper():  # "By JORDAN ROBERTSON and RACHEL METZ"
                part = part.title()
            if _is_name(part) and part not in names:
                names.append(part)
    return names


_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")


def _is_name(text: str) -> bool:
    """A person's name: 2-5 capitalised words, no role or desk word, no digits, no acronym ("ETF Professor")."""
    return (bool(_NAME.match(text)) and not _JUNK.search(text) and not _ACRONYM.search(text)
            and not any(c.isdigit() for c in text))


def _json_ld_people(page: Page) -> list[str]:
    names: list[str] = []
    for obj in page.json_ld():
        authors = obj.get("author")
        for author in authors if isinstance(authors, list) else [authors]:
            if isinstance(author, dict) and author.get("@type", "Person") == "Person":
                name = author.get("name")
            elif isinstance(author, str):
                name = author
            else:
                continue
            if isinstance(name, str):
                names.extend(n for n in clean_byline(name) if n not in names)
        if names:
            break
    return names
