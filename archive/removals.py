"""The archive's memory of articles that disappear and articles that move (docs/versions.md).

Removal: after an article was archived, an answer that says it is gone (404 or 410, or a redirect
to a page that is no article) is one `absent` observation. A second one at least CONFIRM_AFTER
later, with no successful fetch between them, confirms it: the article is removed at the time of
the *first* observation (the earliest moment it was seen gone), recorded as a `removed` event.
Transient failures (5xx, timeouts, DNS, 429, robots.txt) are never observations. A successful
fetch after that restores it (a `restored` event).

Move: a redirect from an archived article's URL to another URL of the site whose page is the same
story (a near-duplicate body and a similar title), or a page whose canonical link changed to a new
URL while its story stayed the same, continues that article under the new URL (a `moved` event;
article_url keeps every URL it had). When the new URL was archived first as an article of its own,
that article is merged into the old one.

These run inside the store's write transactions (archive.store), on a Core connection.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from archive import day_counts, fingerprint
from archive.models import Article, ArticleEvent, ArticleUrl, Fetch, Snapshot
from archive.urls import canonical_url

log = logging.getLogger(__name__)

ARTICLE, EVENT, URLS = Article.__table__, ArticleEvent.__table__, ArticleUrl.__table__
SNAPSHOT, FETCH = Snapshot.__table__, Fetch.__table__

#: Two observations of an article gone, at least this far apart, make a removal.
CONFIRM_AFTER = timedelta(hours=1)
#: HTTP answers that say an article is gone (any other failure is transient, never a removal).
GONE_STATUSES = frozenset({404, 410})
#: The events shown in an article's history (`absent` is an unconfirmed observation).
EVENTS = ("removed", "restored", "moved")
#: A moved page keeps its story: word-set Jaccard of the titles at least this (a renamed slug often
#: comes with a longer or corrected headline), on top of a near-duplicate body.
TITLE_SIMILARITY = 0.5
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Known:
    """An archived article found by one of its URLs."""

    id: int
    canonical_url: str
    latest_version: int
    last_fetched_at: datetime
    removed_at: datetime | None
    first_seen_at: datetime


_KNOWN = select(ARTICLE.c.id, ARTICLE.c.canonical_url, ARTICLE.c.latest_version, ARTICLE.c.last_fetched_at,
                ARTICLE.c.removed_at, ARTICLE.c.first_seen_at)


def article_at(connection: Connection, url: str) -> Known | None:
    """The archived article (with a version) at `url`: its canonical URL, or one it had before a move."""
    key = canonical_url(url)
    row = connection.execute(_KNOWN.where(ARTICLE.c.canonical_url == key)).first()
    if row is None:  # an address it had before it moved (another article may have taken it since: that one first)
        row = connection.execute(_KNOWN.join(URLS, URLS.c.article_id == ARTICLE.c.id).where(URLS.c.url == key)).first()
    return Known(*row) if row is not None and row.latest_version > 0 else None


def absent(connection: Connection, url: str, at: datetime, reason: str, fetch_id: int | None) -> bool:
    """One answer saying the article at `url` is gone; True when it confirmed a removal."""
    known = article_at(connection, url)
    if known is None or known.removed_at is not None or at <= known.last_fetched_at:
        return False
    first = connection.execute(select(EVENT.c.at, EVENT.c.url, EVENT.c.detail, EVENT.c.fetch_id).where(
        EVENT.c.article_id == known.id, EVENT.c.kind == "absent", EVENT.c.at > known.last_fetched_at)
        .order_by(EVENT.c.at).limit(1)).first()
    connection.execute(insert(EVENT), {"article_id": known.id, "kind": "absent", "at": at, "url": url,
                                       "detail": reason, "fetch_id": fetch_id})
    if first is None or at - first.at < CONFIRM_AFTER:
        return False
    connection.execute(update(ARTICLE).where(ARTICLE.c.id == known.id).values(removed_at=first.at))
    connection.execute(insert(EVENT), {"article_id": known.id, "kind": "removed", "at": first.at, "url": first.url,
                                       "detail": first.detail, "fetch_id": first.fetch_id})
    log.info("article %s removed at %s (%s), confirmed at %s", known.id, first.at, first.detail, at)
    return True


#: A stored version's versioned content in canonical form (archive.store.snapshot_fields, handed in
#: by the store, which imports this module): what a merge compares to name a version's changed fields.
Fields = Callable[[Any], dict[str, Any]]

_RESTORE = update(ARTICLE).where(ARTICLE.c.id == bindparam("article_id"), ARTICLE.c.removed_at.is_not(None),
                                 ARTICLE.c.removed_at < bindparam("at")).values(removed_at=None)


def seen(connection: Connection, article_id: int, at: datetime, url: str, fetch_id: int | None, *,
         alias: bool = False) -> None:
    """A successful fetch of the article: restores it when it was removed before `at`. `alias`: the
    page was fetched at an address other than the article's URL (its last sighting there is kept)."""
    if connection.execute(_RESTORE, {"article_id": article_id, "at": at}).rowcount:
        connection.execute(insert(EVENT), {"article_id": article_id, "kind": "restored", "at": at, "url": url,
                                           "detail": None, "fetch_id": fetch_id})
        log.info("article %s restored at %s", article_id, at)
    if alias:
        connection.execute(update(URLS).where(URLS.c.article_id == article_id, URLS.c.url == canonical_url(url),
                                              URLS.c.last_seen_at < at).values(last_seen_at=at))


def same_story(title: str | None, minhash: bytes | None, page_title: str | None, sig: Any) -> bool:
    """Whether a page (its title, its body's fingerprint `sig`) is the story of an article whose
    latest title is `title` and body fingerprint `minhash`: a near-duplicate body and a similar
    title (TITLE_SIMILARITY)."""
    if minhash is None or sig is None or not title or not page_title:
        return False
    if fingerprint.similarity(sig, fingerprint.from_bytes(minhash)) < fingerprint.THRESHOLD:
        return False
    old, new = set(_WORD.findall(title.casefold())), set(_WORD.findall(page_title.casefold()))
    return bool(old | new) and len(old & new) / len(old | new) >= TITLE_SIMILARITY


_STORY = select(ARTICLE.c.minhash, SNAPSHOT.c.title).join(SNAPSHOT, (SNAPSHOT.c.article_id == ARTICLE.c.id)
                                                          & (SNAPSHOT.c.version == ARTICLE.c.latest_version))


def moved_from(connection: Connection, urls: list[str], identity: str, title: str | None, sig: Any) -> Known | None:
    """The archived article at one of `urls` (the URLs that redirected to the page, or the page's
    own URL when its canonical link changed) that the page (its title, its body's fingerprint)
    continues under `identity`, if any."""
    for url in urls:
        known = article_at(connection, url)
        if known is None or known.canonical_url == identity:
            continue
        story = connection.execute(_STORY.where(ARTICLE.c.id == known.id)).first()
        if story is not None and same_story(story.title, story.minhash, title, sig):
            return known
    return None


def followed(connection: Connection, urls: list[str], article_id: int, at: datetime, fields: Fields) -> int:
    """A page of article `article_id` reached through a redirect from `urls`, served with the same
    bytes as before (not extracted again): when one of `urls` was another archived article's and
    the story is the same, that article moved here (`move`). Returns the article the page is kept as."""
    story = connection.execute(_STORY.add_columns(ARTICLE.c.canonical_url).where(ARTICLE.c.id == article_id)).first()
    if story is None or story.minhash is None:
        return article_id
    known = moved_from(connection, urls, story.canonical_url, story.title, fingerprint.from_bytes(story.minhash))
    return article_id if known is None else move(connection, known, story.canonical_url, at, fields)


def move(connection: Connection, known: Known, new_url: str, at: datetime, fields: Fields) -> int:
    """Continue article `known` under `new_url`: merge in an article already kept there, keep both
    URLs in article_url, and record the move. The caller then saves the page as usual. Returns the
    article kept (the older, when two were merged)."""
    old_url, keep = known.canonical_url, known.id
    first_seen_new = at
    other = connection.execute(select(ARTICLE.c.id, ARTICLE.c.first_seen_at).where(
        ARTICLE.c.canonical_url == new_url)).first()
    if other is not None:  # the older identity stays: the one researchers met first
        first_seen_new = min(at, other.first_seen_at)
        keep = min(known.id, other.id)
        _merge(connection, max(known.id, other.id), keep, fields)
    moved(connection, keep, old_url, new_url, at, first=known.first_seen_at, last=known.last_fetched_at,
          first_new=first_seen_new)
    return keep


def moved(connection: Connection, article_id: int, old_url: str, new_url: str, at: datetime, *,
          first: datetime, last: datetime, first_new: datetime) -> None:
    """Article `article_id`, last seen at `old_url` between `first` and `last`, is kept under
    `new_url` from now on (first seen there at `first_new`): both URLs listed, the move an event."""
    _keep_url(connection, article_id, old_url, first, last)
    _keep_url(connection, article_id, new_url, first_new, at)
    connection.execute(update(ARTICLE).where(ARTICLE.c.id == article_id).values(canonical_url=new_url))
    connection.execute(insert(EVENT), {"article_id": article_id, "kind": "moved", "at": at, "url": new_url,
                                       "detail": old_url, "fetch_id": None})
    log.info("article %s moved from %s to %s", article_id, old_url, new_url)


def _keep_url(connection: Connection, article_id: int, url: str, first: datetime, last: datetime) -> None:
    found = connection.execute(select(URLS.c.first_seen_at, URLS.c.last_seen_at).where(URLS.c.url == url)).first()
    if found is None:
        connection.execute(insert(URLS), {"url": url, "article_id": article_id, "first_seen_at": first,
                                          "last_seen_at": last})
    else:
        connection.execute(update(URLS).where(URLS.c.url == url).values(
            article_id=article_id, first_seen_at=min(first, found.first_seen_at),
            last_seen_at=max(last, found.last_seen_at)))


def _merge(connection: Connection, source: int, target: int, fields: Fields) -> None:
    """Article `source` (the moved story, archived first under its new URL) becomes part of `target`:
    its versions follow target's, those whose content equals the one before them dropped (their
    fetches stay, now target's); its fetches, events, URLs and near-duplicate links go to target.
    The day counts lose both articles' current versions and gain target's new one."""
    before = day_counts.counted(connection, day_counts.current_of([source, target]))
    latest = connection.execute(select(ARTICLE.c.latest_version).where(ARTICLE.c.id == target)).scalar_one()
    previous = connection.execute(select(SNAPSHOT).where(SNAPSHOT.c.article_id == target,
                                                         SNAPSHOT.c.version == latest)).first()
    for snap in connection.execute(select(SNAPSHOT).where(SNAPSHOT.c.article_id == source)
                                   .order_by(SNAPSHOT.c.version)).all():
        if previous is not None and snap.content_sha256 == previous.content_sha256:
            connection.execute(delete(SNAPSHOT).where(SNAPSHOT.c.id == snap.id))
            continue
        changed: list[Any] = [] if previous is None else [
            name for name, value in fields(_Row(previous)).items() if fields(_Row(snap))[name] != value]
        latest += 1
        connection.execute(update(SNAPSHOT).where(SNAPSHOT.c.id == snap.id).values(
            article_id=target, version=latest, changed_fields=changed))
        previous = snap
    connection.execute(update(FETCH).where(FETCH.c.article_id == source).values(article_id=target))
    connection.execute(update(EVENT).where(EVENT.c.article_id == source).values(article_id=target))
    connection.execute(update(URLS).where(URLS.c.article_id == source).values(article_id=target))
    connection.execute(update(ARTICLE).where(ARTICLE.c.duplicate_of_id == source, ARTICLE.c.id != target)
                       .values(duplicate_of_id=target))
    connection.execute(update(ARTICLE).where(ARTICLE.c.id == target, ARTICLE.c.duplicate_of_id == source)
                       .values(duplicate_of_id=None))
    first, last = connection.execute(select(func.min(ARTICLE.c.first_seen_at), func.max(ARTICLE.c.last_fetched_at))
                                     .where(ARTICLE.c.id.in_([source, target]))).one()
    connection.execute(delete(ARTICLE).where(ARTICLE.c.id == source))
    connection.execute(update(ARTICLE).where(ARTICLE.c.id == target).values(
        latest_version=latest, first_seen_at=first, last_fetched_at=last))
    after = day_counts.counted(connection, day_counts.current_of([target]))
    after.subtract(before)
    day_counts.add(connection, after)


class _Row:
    """A snapshot row seen as snapshot_fields reads an ORM Snapshot."""

    def __init__(self, row: Any) -> None:
        self.__dict__.update(row._mapping)

