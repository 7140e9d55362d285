"""Publication and update times, timezone-aware, from the best evidence the page offers.

Order of evidence: JSON-LD, <meta> tags, <time datetime>, the visible date line, then htmldate.
A zone written as "ET" means America/New_York on that date (EST or EDT), never a fixed offset.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Iterable
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser
from htmldate import find_date

from archive.extract.model import Dated
from archive.extract.page import Page
from archive.extract.patterns import by_first_letter
from archive.extract.regions import leading_text, text_of
from archive.urls import url_day

if TYPE_CHECKING:
    from archive.extract.model import Extracted

_NEW_YORK, _CHICAGO, _DENVER, _LOS_ANGELES = (ZoneInfo(z) for z in (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"))

#: Zone abbreviations as financial sites print them. Named zones, not offsets: "EST" printed in
#: July is a site's habit, and the reader's clock then was EDT.
ZONES: dict[str, timezone | ZoneInfo] = {
    "ET": _NEW_YORK, "EST": _NEW_YORK, "EDT": _NEW_YORK,
    "CT": _CHICAGO, "CST": _CHICAGO, "CDT": _CHICAGO,
    "MT": _DENVER, "MST": _DENVER, "MDT": _DENVER,
    "PT": _LOS_ANGELES, "PST": _LOS_ANGELES, "PDT": _LOS_ANGELES,
    "GMT": timezone.utc, "UTC": timezone.utc, "Z": timezone.utc,
    "BST": ZoneInfo("Europe/London"), "CET": ZoneInfo("Europe/Paris"),
    "CEST": ZoneInfo("Europe/Paris"), "JST": ZoneInfo("Asia/Tokyo"),
    "HKT": ZoneInfo("Asia/Hong_Kong"), "SGT": ZoneInfo("Asia/Singapore"),
    "IST": ZoneInfo("Asia/Kolkata"), "AEST": ZoneInfo("Australia/Sydney"),
}

_MONTH = rf"(?:{by_first_letter(('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Sept', 'Oct', 'Nov', 'Dec'))})[a-z]*\.?"
_TIME = r"\d{1,2}(?::\d{2})?\s*(?:[ap]\.?\s?m\.?)?"
_ZONE = (r"(?:(?:UTC|GMT)\s?[+-]\d{1,2}(?::?\d{2})?|"
         + "|".join(sorted(ZONES, key=len, reverse=True)) + r"|[+-]\d{2}:?\d{2})")
VISIBLE_DATE = re.compile(
    # The lookahead names every character a date can start with: it changes no match, and halves
    # the time of a search through a page's text (the regex is otherwise tried at every character).
    r"(?=[ADFJMNOSadfjmnos\d])"
    rf"(?P<date>{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})"
    rf"(?:,?\s*(?:at\s+|[-–—|·]{{1,2}}\s*(?=\d{{1,2}}:\d{{2}}))?(?P<time>{_TIME})\s*(?P<zone>{_ZONE})?\b)?",
    re.IGNORECASE,
)
_ISO = re.compile(r"^\s*\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_UPDATED_LABEL = re.compile(r"(updated|modified|revised)\W*$", re.IGNORECASE)
_HAS_TIME = re.compile(r"\d{1,2}:\d{2}|T\d{2}")
_DATE_CLASSES = ("date", "time", "publish", "posted", "byline", "timestamp", "dateline", "meta")
#: Any of them anywhere in an element's class and id words, in one search.
_DATE_CLASS = re.compile("|".join(_DATE_CLASSES))

#: What a date line holds besides its date: a time of day, a zone, a weekday, a label.
_DATE_LINE_REST = re.compile(rf"{_TIME}|\b(?:{_ZONE})(?![\w])|\b(?:published|updated|posted|last|modified|on|at|"
                             r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?)\b\.?", re.IGNORECASE)


def is_date_line(line: str) -> bool:
    """A line that is a date and nothing but its time, zone, weekday and label, in any order:
    "October 13, 2024", "17:41 JST, October 13, 2024", "Updated 10:30 AM EST, Mon January 5, 2025"."""
    if (date := VISIBLE_DATE.search(line)) is None:
        return False
    rest = _DATE_LINE_REST.sub(" ", f"{line[:date.start()]} {line[date.end():]}")
    return not any(c.isalnum() for c in rest)


PUBLISHED_META = ("article:published_time", "og:article:published_time", "og:published_time", "datePublished",
                  "parsely-pub-date", "sailthru.date", "pubdate", "publish-date", "date", "dc.date")
UPDATED_META = ("article:modified_time", "og:updated_time", "dateModified", "last-modified")


def parse_when(text: str, source: str) -> Dated | None:
    """Parse one date string; None when it is not a date. A time of day without any zone is kept as a
    date only, since its offset would be a guess; the time is kept aside (`wall_time`) for when the
    site's zone is known."""
    text = " ".join(text.replace("\u202f", " ").split())
    if not text:
        return None
    normalised = re.sub(r"\b([ap])\.\s?m\.", r"\1m", text, flags=re.IGNORECASE)
    normalised = re.sub(r"\bat\b", " ", normalised)
    # "UTC-05:00" means an offset of -05:00; dateutil would read "UTC-5" the POSIX (inverted) way
    normalised = re.sub(r"\b(?:UTC|GMT)\s?([+-])(\d{1,2})(?::?(\d{2}))?\b",
                        lambda m: f"{m.group(1)}{int(m.group(2)):02d}:{m.group(3) or '00'}", normalised)
    try:
        value = dateparser.parse(normalised, tzinfos=ZONES, fuzzy=True)
    except (ValueError, OverflowError, TypeError):
        return None
    if value is None or not 1990 <= value.year <= 2100:
        return None
    has_time = bool(_HAS_TIME.search(text) or re.search(r"\d\s*[ap]\.?m", text, re.I))
    if not has_time or value.tzinfo is None:
        return Dated(datetime(value.year, value.month, value.day, tzinfo=timezone.utc), "date", source,
                     wall_time=value.time().replace(second=0, microsecond=0) if has_time else None)
    return Dated(value, "datetime", source)


def find_dates(page: Page, article_nodes: Iterable) -> tuple[Dated | None, Dated | None]:
    """(published, updated) for the page, each the best-evidenced value or None."""
    published = _structured(page, "datePublished", PUBLISHED_META, "published")
    updated = _structured(page, "dateModified", UPDATED_META, "updated")
    visible_pub, visible_upd = _visible(article_nodes)
    published = _more_precise(published, visible_pub)
    if published is None or published.precision == "date":
        published = _more_precise(published, _first_zoned_time(page))
    updated = _more_precise(updated, visible_upd)
    in_url = url_date(page.url)
    if published is None:
        found = find_date(page.tree, url=page.url, original_date=True, extensive_search=False)
        if not found and in_url is None:
            # the extensive search reads the whole text for dates: a tenth of a second and more a
            # page, so only where neither the page's markup nor its URL gives one
            found = find_date(page.tree, url=page.url, original_date=True, extensive_search=True)
        if found:
            published = parse_when(found, "htmldate")
    if in_url is not None and (published is None or _disagree(published, in_url)):
        published = in_url
    if published is not None and published.precision == "datetime" and published.value.utcoffset() == timedelta(0):
        published = _in_publishers_zone(page, published, in_url, visible_pub)
    if updated is not None and published is not None and _earlier(updated, published):
        updated = None  # a draft's last edit before a scheduled publication is no update of the article
    return published, updated


def _earlier(first: Dated, second: Dated) -> bool:
    """Whether `first` is before `second`: as instants when both have a time, else by calendar day."""
    if first.precision == "datetime" and second.precision == "datetime":
        return first.value < second.value
    return first.value.date() < second.value.date()


def in_site_zone(extracted: "Extracted", zone: tzinfo | None) -> "Extracted":
    """The page's times read in its site's zone (from the sources file or learned from the site's
    pages): a time shown without a zone becomes an instant in that zone, and a time given only in
    UTC is shown in that zone (the same instant, on the publisher's calendar day). A time with its
    own offset is kept as the page gave it."""
    if zone is None:
        return extracted
    published, updated = _zoned(extracted.published, zone), _zoned(extracted.updated, zone)
    if published is extracted.published and updated is extracted.updated:
        return extracted
    evidence = {**extracted.evidence, "published": published.source if published else "none found",
                "updated": updated.source if updated else "none found"}
    return dataclasses.replace(extracted, published=published, updated=updated, evidence=evidence)


def _zoned(dated: Dated | None, zone: tzinfo) -> Dated | None:
    if dated is None:
        return None
    if dated.precision == "date" and dated.wall_time is not None:
        value = datetime.combine(dated.value.date(), dated.wall_time, tzinfo=zone)
        return Dated(value, "datetime", f"{dated.source}, site zone")
    if dated.precision == "datetime" and dated.value.utcoffset() == timedelta(0):
        value = dated.value.astimezone(zone)
        if value.utcoffset() != timedelta(0):
            return Dated(value, "datetime", f"{dated.source}, site zone")
    return dated


_PUBLISHED_NAME = re.compile(r"publish|date|created|original", re.IGNORECASE)
_OTHER_NAME = re.compile(r"modif|updat|revis|expir|edit", re.IGNORECASE)


def _in_publishers_zone(page: Page, published: Dated, in_url: Dated | None, visible: Dated | None) -> Dated:
    """The same instant in the publisher's own offset, when the page gives the time only in UTC but
    its publication <meta> or its visible date line also gives it in local, zoneless form on another
    calendar day (and the URL, if dated, agrees with that day)
    ("Thursday, December 22, 2016, 06:47 PM" beside "2016-12-23T00:47:31Z"): the offset is their
    difference, so the publisher's calendar day is kept with the instant."""
    if in_url is not None and in_url.value.date() == published.value.date():
        return published
    utc = published.value.replace(tzinfo=None, second=0, microsecond=0)
    texts = [value for attrs, value in page._meta_tags if ":" in value and len(value) < 80
             and any(_PUBLISHED_NAME.search(key) and not _OTHER_NAME.search(key) for _, key in attrs)]
    candidates = [_zoneless(text) for text in texts]
    if visible is not None and visible.wall_time is not None:
        candidates.append(datetime.combine(visible.value.date(), visible.wall_time))
    for local in candidates:
        if local is None or local.date() == published.value.date() or \
                (in_url is not None and local.date() != in_url.value.date()):
            continue
        offset = local.replace(second=0, microsecond=0) - utc
        if abs(offset) <= timedelta(hours=14) and offset % timedelta(minutes=15) == timedelta(0):
            return Dated(published.value.astimezone(timezone(offset)), "datetime", f"{published.source}, local offset")
    return published


def _zoneless(text: str) -> datetime | None:
    """A date and time written without a zone, naive; None for anything else."""
    try:
        local = dateparser.parse(" ".join(text.split()), fuzzy=True)
    except (ValueError, OverflowError, TypeError):
        return None
    return local if local is not None and local.tzinfo is None else None


def _disagree(found: Dated, in_url: Dated) -> bool:
    """A date in the URL is the publisher's own record of the day: a date read from the text that
    is another day, or any date more than a day away (a zone, or a zoneless time, can move it one),
    is a related item's, a copyright line's or a misread."""
    days = abs((found.value.date() - in_url.value.date()).days)
    return days > 1 if found.precision == "datetime" or found.source not in _WEAK_SOURCES else days > 0


#: Where a date is read from text rather than stated by the publisher's metadata.
_WEAK_SOURCES = {"visible", "htmldate"}


def url_date(url: str) -> Dated | None:
    """The publication day a URL's path gives, if any."""
    day = url_day(url)
    return Dated(datetime(day.year, day.month, day.day, tzinfo=timezone.utc), "date", "url") if day else None


def _structured(page: Page, ld_key: str, meta_names: tuple[str, ...], kind: str) -> Dated | None:
    found: Dated | None = None
    for obj in page.json_ld():  # the first value; a later one on the same day may add its time of day
        value = obj.get(ld_key)
        if isinstance(value, str) and (dated := parse_when(value, f"json-ld {ld_key}")):
            found = _more_precise(found, dated)
            if found.precision == "datetime":
                return found
    if found is not None:
        return found
    if (value := page.meta(*meta_names)) and (dated := parse_when(value, "meta")):
        return dated
    if kind == "published":
        for node in page.tree.xpath("//time[@datetime] | //abbr[@title]"):
            value = node.get("datetime") or node.get("title", "")
            if (node.tag == "time" or _ISO.match(value)) and (dated := parse_when(value, f"{node.tag} element")):
                return dated
    return None


def _visible(nodes: Iterable) -> tuple[Dated | None, Dated | None]:
    """The first dated line in a date/byline-like element of the article: published, then 'Updated'."""
    published = updated = None
    for node in nodes:
        for element in node.iter():
            if not isinstance(element.tag, str):
                continue
            label, ident = element.get("class"), element.get("id")
            if not (label or ident) or not _DATE_CLASS.search(f"{label or ''} {ident or ''}".lower()):
                continue
            text = text_of(element)
            for match in VISIBLE_DATE.finditer(text):
                is_update = bool(_UPDATED_LABEL.search(text[: match.start()][-30:]))
                if (updated if is_update else published) is not None:
                    continue  # the first date of its kind is kept: a later one need not be parsed
                dated = parse_when(match.group(0), "visible")
                if dated is None:
                    continue
                if is_update:
                    updated = dated
                else:
                    published = dated
            if published and updated:
                return published, updated
    return published, updated


def _first_zoned_time(page: Page) -> Dated | None:
    """The first "Jan 17, 2017 06:08AM ET"-like text anywhere on the page: a full date, a time and a zone.

    Used when no date-classed element shows a time; only a time with its zone is trusted here.
    """
    body = page.tree.find("body")
    text = leading_text(body, 20000) if body is not None else ""
    for match in VISIBLE_DATE.finditer(text):
        if match.group("time") and match.group("zone") and (dated := parse_when(match.group(0), "visible")):
            return dated
    return None


def _more_precise(first: Dated | None, second: Dated | None) -> Dated | None:
    """Keep the better-ranked value, but take a time of day from the other when they share a date."""
    if first is None:
        return second
    if (second is not None and first.precision == "date" and second.precision == "datetime"
            and second.value.date() == first.value.date()):
        return second
    return first
