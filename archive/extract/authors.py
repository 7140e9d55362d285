"""Author names, cleaned of bylines' furniture: "By", roles, desks, times and AI labels."""

from __future__ import annotations

import re
from typing import Iterable

from archive.extract.page import Page

AI_BYLINE = re.compile(r"\b(?:generated|written|created)\s+by\s+(?:an\s+)?AI\s+(?:writing\s+)?agent\b\s*",
                       re.IGNORECASE)
#: "By" and its equivalents in bylines of other languages: German von, French par, Spanish and
#: Portuguese por, Swedish/Norwegian av, Dutch door, Danish af. Italian "di" only where the text
#: is known to be a byline (it opens Italian sentences and names: "Di Maio").
BY_WORDS = "by|von|par|por|av|door|af"
#: "Submitted by" is Drupal's default byline and "Posted by" WordPress themes'.
_PREFIX = re.compile(r"^(?:(?:reporting|written|story|words|analysis|commentary|posted|submitted)\s+)?"
                     rf"(?:{BY_WORDS}|di)\s*[:\-]?\s+|^(?:著者|作者|文|撰文|记者|記者)\s*[：:／/]\s*|"
                     # a label before the name: German "Text:", "Autor:", French "Texte :", Spanish
                     # "Redacción:", Portuguese "Redação:", Polish "Autorka:"
                     r"^(?:text|texte|autor(?:in|a|ka)?|auteure?|redacci[óo]n|reda[çc][ãa]o)\s*[:：]\s*",
                     re.IGNORECASE)
_INNER_BY = re.compile(r"\b(?:post(?:ed)?|written|story|words|report(?:ed)?)\s+by\s+(.+)$", re.IGNORECASE)
_TRAILING_DATE = re.compile(r"\s+(?:on|at|\||·|-|–)\s+(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
                            r"(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|\d{1,4}[/.\-:]\d|"
                            r"\d{1,2}\s+[a-z]{3}).*$|"
                            r"\s+(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
                            r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}\b.*$",
                            re.IGNORECASE)
_NOT_AUTHOR_SEGMENT = re.compile(r"^[\s|]*(?:editing|edited|additional reporting|compiled|graphics|"
                                 r"photo|produced|fact[- ]checked|tagged|tags|filed under|categor)", re.IGNORECASE)
#: Separators of names: punctuation, "and" in any case, and "and" in other languages in lower case
#: only (und, et, y, e, og, och, en: "Laura E. Adkins" keeps its initial).
_SPLIT = re.compile(r"\s*(?:;|,|&|\b(?i:and)\b|\b(?:und|et|y|e|og|och|en)\b|\||·|•)\s*|\s+[-–—]\s+")
#: Words that make a byline fragment a role, a desk or page furniture rather than a person.
_JUNK = re.compile(
    r"\b(staff|writer|editor|editors|reporter|correspondent|contributor|columnist|analyst|desk|"
    r"team|newsroom|email|author|follow|updated|published|min|read|ago|hours?|minutes?|"
    r"news|wire|press|agency|associated|reuters|bloomberg|benzinga|insights?|research|"
    r"markets?|senior|chief|the|post|times|journal|herald|tribune|gazette|magazine|media|"
    r"view|watch|live|more|stories|share|subscribe|sign|industry|insider|edition)\b", re.IGNORECASE)
#: A piece of an author box that is prose (a bio: "Jane Doe was a former editor of ..."), not names.
_PROSE_WORDS = 10
_WORD = re.compile(r"^[\w'’.\-]+$")
#: Lower-case words inside names: "Lisa de Moraes", "Ludwig van Beethoven".
_PARTICLES = {"de", "van", "von", "der", "den", "da", "di", "du", "del", "dos", "das", "la", "le", "bin", "al", "ter"}
#: A parenthesised short code after a name: "Elena Oberholzer (obe)".
_INITIALS = re.compile(r"\s*\([^()]{1,8}\)$")


def find_authors(page: Page, byline_texts: Iterable[str], fallback: str | None) -> tuple[tuple[str, ...], bool]:
    """(authors, ai_generated): see find_authors_with_source."""
    names, ai, _ = find_authors_with_source(page, byline_texts, fallback)
    return names, ai


def find_authors_with_source(page: Page, byline_texts: Iterable[str],
                             fallback: str | None) -> tuple[tuple[str, ...], bool, str]:
    """(authors, ai_generated, which rule found them). JSON-LD Person authors win; then bylines;
    then <meta>; then trafilatura.

    A byline often shows one name where the page's metadata lists the whole team: a metadata
    list that contains every byline name and more replaces the byline's.
    """
    texts = list(byline_texts)
    ai = any(AI_BYLINE.search(text) for text in texts)
    # a personal blog names its author as its JSON-LD publisher too: a declared Person stays a
    # person, unless the site calls itself by that name (og:site_name)
    site = " ".join((page.meta("og:site_name", "application-name") or "").split()).casefold()
    publications = organisations(page) - (_declared_people(page) - {site, site.removeprefix("the ")})

    def people(names: list[str]) -> list[str]:
        return [name for name in names if name.casefold() not in publications]

    meta = [clean_byline(value, structured=True) for value in page.meta_all("author", "article:author", "parsely-author",
                                                            "sailthru.author", "cXenseParse:author") if not value.startswith("http")]
    meta_names = people(list(dict.fromkeys(name for names in meta for name in names)))
    from_json_ld = people(_json_ld_people(page))
    if from_json_ld:
        return tuple(from_json_ld), ai, "json-ld author"  # already the publisher's whole list
    if from_microdata := people(_microdata_people(page)):
        return tuple(from_microdata), ai, "microdata author"
    candidates: list[tuple[list[str], str]] = [*[(people(clean_byline(t)), f"byline {t[:60]!r}") for t in texts],
                                               (meta_names, "meta author")]
    if fallback:
        candidates.append((people(clean_byline(fallback)), "trafilatura"))
    for names, source in candidates:
        if names:
            if set(names) < set(meta_names):
                names, source = meta_names, f"{source}, completed from meta author"
            elif meta_names and source.startswith("byline") and not set(names) & set(meta_names):
                # the page's metadata names this article's author; a byline naming someone else
                # belongs to a teaser or a related item
                names, source = meta_names, f"meta author (the byline {source[7:]} names others)"
            return tuple(names), ai, source
    return (), ai, "none found"


def clean_byline(text: str, *, structured: bool = False) -> list[str]:
    """Person names from one byline string, in order, without duplicates.

    `structured`: the string is a metadata author value, where a name in a script without
    capitals (Chinese, Japanese, ...) is taken; in page text such a word is as often a label.
    """
    text = AI_BYLINE.sub("", " ".join(text.split()))
    # a name without capitals stands in page text only alone (a date after it aside) or after a
    # "by" ("著者：後藤大地")
    text = _TRAILING_DATE.sub("", text) if _PREFIX.match(text) is None else text
    structured = structured or " | " not in text and " " not in text.strip() or bool(_PREFIX.match(text))
    if " | " in text:
        text = " | ".join(piece for piece in text.split(" | ") if len(piece.split()) < _PROSE_WORDS)
    names: list[str] = []
    for segment in text.split(";"):
        if _NOT_AUTHOR_SEGMENT.match(segment):
            continue
        segment = _PREFIX.sub("", segment.strip(" |"))
        if (inner := _INNER_BY.search(segment)) and not _PREFIX.match(segment):
            segment = inner.group(1)  # "Music post by Katie Presley on April 11, 2013"
        segment = _TRAILING_DATE.sub("", segment)
        for part in _SPLIT.split(segment):
            part = _INITIALS.sub("", _PREFIX.sub("", part.strip(" :-–—")))
            if not _SUFFIX_DOT.search(part):
                part = part.strip(" .")
            if part.isupper():  # "By JORDAN ROBERTSON and RACHEL METZ"
                part = part.title()
            if _is_name(part, structured) and part not in names:
                names.append(part)
    return names


_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")


_SUFFIX_DOT = re.compile(r"\b(?:Jr|Sr)\.$")


def _is_name(text: str, uncased: bool = False) -> bool:
    """A person's name: 2-5 capitalised words (in any cased script), or in a script without
    capitals (Chinese, Japanese, Korean, Devanagari, ...) a short run of letters; no role or desk
    word, no digits, no acronym ("ETF Professor")."""
    if not text or any(c.isdigit() for c in text) or _JUNK.search(text) or _ACRONYM.search(text):
        return False
    words = text.split()
    if not any(c.isupper() or c.islower() for c in text):
        return uncased and len(words) <= 4 and 2 <= len(text) <= 24 and all(c.isalpha() or c in " ·・" for c in text)
    return (2 <= len(words) <= 5 and words[0][0].isupper() and all(_WORD.match(w) for w in words)
            and all(w[0].isupper() or w in _PARTICLES for w in words))


def _json_ld_people(page: Page) -> list[str]:
    """Person authors of the first JSON-LD object that names any: `name`, else givenName +
    familyName, and an {"@id": ...} reference resolved to the Person it points at (schema.org)."""
    by_id = {obj["@id"]: obj for obj in page.json_ld() if isinstance(obj.get("@id"), str)}
    names: list[str] = []
    for obj in page.json_ld():
        authors = obj.get("author")
        for author in authors if isinstance(authors, list) else [authors]:
            if isinstance(author, dict) and set(author) <= {"@id", "@type"} and \
                    isinstance(ref := author.get("@id"), str) and ref in by_id:
                author = by_id[ref]
            if isinstance(author, dict) and author.get("@type", "Person") in ("Person", ["Person"]):
                name = author.get("name") or " ".join(
                    part for part in (author.get("givenName"), author.get("familyName")) if isinstance(part, str))
            elif isinstance(author, str):
                name = author
            else:
                continue
            if isinstance(name, str):
                names.extend(n for n in clean_byline(name, structured=True) if n not in names)
        if names:
            break
    return names


def _microdata_people(page: Page) -> list[str]:
    """schema.org microdata Person authors (`itemprop="author" itemscope itemtype=".../Person"`
    with an `itemprop="name"`) of the first item that has any: a teaser list's items are others."""
    names: list[str] = []
    owner: object = False
    for element in page.tree.xpath("//*[@itemprop='author'][@itemscope][contains(@itemtype, 'Person')]"):
        item = next((a for a in element.iterancestors() if a.get("itemscope") is not None), None)
        if owner is not False and item is not owner:
            continue
        for node in element.xpath(".//*[@itemprop='name']"):
            value = node.get("content") or node.get("value") or " ".join(" ".join(node.itertext()).split())
            if value and (found := clean_byline(value, structured=True)):
                owner = item
                names.extend(name for name in found if name not in names)
    return names


def _declared_people(page: Page) -> set[str]:
    """Case-folded names of JSON-LD authors whose @type says Person."""
    found: set[str] = set()
    for obj in page.json_ld():
        authors = obj.get("author")
        for author in authors if isinstance(authors, list) else [authors]:
            if isinstance(author, dict) and author.get("@type") in ("Person", ["Person"]) and \
                    isinstance(author.get("name"), str):
                found.add(" ".join(author["name"].split()).casefold())
    return found


_COPYRIGHT_WORDS = re.compile(r"copyright|\(c\)|©|\ball rights reserved\b|\b\d{4}\b", re.IGNORECASE)


def organisations(page: Page) -> set[str]:
    """Names of the publication and its publisher (og:site_name, JSON-LD publisher and
    Organization names, the `copyright` meta's rights holder), case-folded: a byline or author meta giving one of them names no person."""
    found = {page.meta("og:site_name", "application-name") or ""}
    for obj in page.json_ld():
        for candidate in (obj.get("publisher"), obj if obj.get("@type") in ("Organization", "NewsMediaOrganization")
                          else None):
            for entry in candidate if isinstance(candidate, list) else [candidate]:
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    found.add(entry["name"])
    if holder := page.meta("copyright", "dcterms.rightsHolder"):  # the rights holder: "Copyright (c) Condé Nast 2022"
        found.add(_COPYRIGHT_WORDS.sub(" ", holder).strip(" .,-"))
    names = {" ".join(name.split()).casefold() for name in found if name}
    return names | {name[4:] for name in names if name.startswith("the ")}
