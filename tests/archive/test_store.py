"""Versioning, idempotence, URL identity and near-duplicates, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.extract import extract
from archive.models import Article, Fetch, RawPage, Snapshot
from archive.store import ArchiveStore, Capture
from tests.pages import LOREM, article

T0 = datetime(2025, 1, 29, 12, 0, tzinfo=timezone.utc)


def page(url: str = "https://news.example.com/markets/chips.html", **kwargs: object):
    return extract(article(**kwargs), url)  # type: ignore[arg-type]


def count(store: ArchiveStore, model: type) -> int:
    with Session(store.engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_unchanged_page_writes_no_new_version(store: ArchiveStore) -> None:
    first = store.save(page())
    again = store.save(page())
    assert (first.version, first.created, first.outcome) == (1, True, "new")
    assert (again.version, again.created, again.outcome) == (1, False, "unchanged")
    assert count(store, Snapshot) == 1
    assert count(store, Fetch) == 2  # the second fetch is still recorded: "seen unchanged at T"


def test_changed_body_makes_version_two_with_changed_fields(store: ArchiveStore) -> None:
    store.save(page())
    edited = store.save(page(paragraphs=LOREM[:4] + ["A correction: the rally faded late in the day."]))
    assert (edited.version, edited.created, edited.changed_fields) == (2, True, ("body",))
    retitled = store.save(page(title="Chipmakers slip as demand worries return",
                               paragraphs=LOREM[:4] + ["A correction: the rally faded late in the day."]))
    assert retitled.version == 3 and retitled.changed_fields == ("title",)


def test_whitespace_only_change_is_not_a_version(store: ArchiveStore) -> None:
    store.save(page())
    spaced = store.save(page(paragraphs=[p.replace(" ", "  ") for p in LOREM]))
    assert spaced.outcome == "unchanged"


def test_tracking_parameters_and_fragments_keep_one_identity(store: ArchiveStore) -> None:
    base = "https://news.example.com/markets/chips.html"
    for url in (base, base + "?utm_source=newsletter&utm_medium=email", base + "#comments",
                "HTTPS://News.Example.com:443/markets/chips.html?fbclid=abc"):
        store.save(extract(article(), url))
    assert count(store, Article) == 1
    assert count(store, Snapshot) == 1


def test_rel_canonical_on_same_site_is_the_identity_when_the_claimed_page_agrees(store: ArchiveStore) -> None:
    head = '<link rel="canonical" href="/markets/chips.html">'
    store.save(extract(article(head=head), "https://news.example.com/markets/chips.html"))
    store.save(extract(article(head=head), "https://news.example.com/amp/markets/chips.html"))
    store.save(extract(article(head=head), "https://news.example.com/markets/chips.html?page=1"))
    with Session(store.engine) as session:
        assert session.scalars(select(Article.canonical_url)).all() == ["https://news.example.com/markets/chips.html"]
        assert session.scalars(select(Snapshot.unverified_canonical)).all() == [None]


def test_a_canonical_claim_the_claimed_page_does_not_confirm_keeps_the_own_url(store: ArchiveStore) -> None:
    """Another story stays its own article, its claim recorded; a near-duplicate body under another
    title, or a redirect from the claimed URL, is accepted."""
    canonical = "https://news.example.com/markets/chips.html"
    head = '<link rel="canonical" href="/markets/chips.html">'
    early = store.save(extract(article("Chips, the early copy", head=head), "https://news.example.com/early.html"))
    store.save(extract(article(), canonical))
    other = [f"Reader {i} writes that the bank results were weak and the shares fell sharply at the open." for i in range(6)]
    forged = store.save(extract(article("Banks lag", paragraphs=other, head=head),
                                "https://news.example.com/comments.html"))
    retitled = store.save(extract(article("Chip stocks climb", head=head), "https://news.example.com/amp/chips.html"))
    moved = store.save(extract(article("Moved", paragraphs=other, head=head), "https://news.example.com/b.html"),
                       Capture(url="https://news.example.com/b.html", fetched_at=T0, redirected_from=(canonical,)))
    with Session(store.engine) as session:
        ids = dict(session.execute(select(Article.canonical_url, Article.id)).all())
        claims = dict(session.execute(select(Snapshot.url, Snapshot.unverified_canonical)).all())
    assert early.article_id == ids[canonical]  # kept under its own URL, then adopted by the canonical page
    assert claims["https://news.example.com/early.html"] is None
    assert forged.article_id == ids["https://news.example.com/comments.html"] and forged.version == 1
    assert claims["https://news.example.com/comments.html"] == canonical
    assert retitled.article_id == ids[canonical] and retitled.outcome == "changed"  # the same body, another title
    assert moved.article_id == ids[canonical]  # the canonical URL redirected here: its own claim


def test_raw_pages_are_kept_once_per_sha256_and_compressed(store: ArchiveStore) -> None:
    raw = article().encode()
    for minute in range(3):
        capture = Capture(url="https://news.example.com/a.html", fetched_at=T0 + timedelta(minutes=minute), raw=raw)
        store.save(extract(raw, capture.url), capture)
    assert count(store, RawPage) == 1
    assert store.raw(capture.raw_sha256 or "") == raw
    assert store.seen_raw(capture.url, capture.raw_sha256 or "") is not None
    assert store.seen_raw(capture.url, "0" * 64) is None


def test_times_round_trip_as_aware_utc(store: ArchiveStore) -> None:
    store.save(page(time_text="Jul 14, 2025 9:31 AM ET"))
    with Session(store.engine) as session:
        snap = session.scalars(select(Snapshot)).one()
    assert snap.published_at == datetime(2025, 7, 14, 13, 31, tzinfo=timezone.utc)
    assert snap.published_offset_min == -240  # EDT in July


def test_near_duplicate_on_another_site_is_linked(store: ArchiveStore) -> None:
    original = store.save(page(url="https://wire.example.com/story.html"))
    syndicated = extract(article(site="Other Site", byline="By Wire Staff", paragraphs=LOREM[:3] + [
        "The company declined to comment on the report.", *LOREM[3:]]), "https://other.example.org/x/story-copy")
    copy = store.save(syndicated)
    unrelated = store.save(page(url="https://other.example.org/y", paragraphs=[
        "Oil prices fell for a second day as inventories rose more than expected, and refiners cut runs.",
        "Gasoline futures tracked crude lower while diesel held up on cold weather across the Northeast.",
        "Producers in the Permian kept output near record highs despite the lower prices, data showed.",
        "Traders now look to the cartel's next meeting for any hint of deeper production cuts this spring."]))
    assert copy.created and copy.duplicate_of == original.article_id
    assert unrelated.duplicate_of is None


def test_copy_seen_before_its_original_is_relinked_to_the_original(store: ArchiveStore) -> None:
    copy = store.save(extract(article(site="Other Site", time_text="Jan 29, 2025 9:00 am ET", paragraphs=LOREM + [
        "The company declined to comment on the report."]), "https://other.example.org/copy"))
    third = store.save(extract(article(site="Third", time_text="Jan 29, 2025 10:00 am ET"),
                               "https://third.example.net/copy"))
    original = store.save(extract(article(time_text="Jan 28, 2025 11:57 pm ET"), "https://wire.example.com/story"))
    assert third.duplicate_of == copy.article_id  # until the original arrives
    with Session(store.engine) as session:
        links = dict(session.execute(select(Article.id, Article.duplicate_of_id)).all())
    assert links == {copy.article_id: original.article_id, third.article_id: original.article_id,
                     original.article_id: None}


def test_not_article_is_recorded_as_a_fetch_only(store: ArchiveStore) -> None:
    listing = extract("<html><head><meta property='og:type' content='website'><title>News</title></head>"
                      "<body><a href='/a'>A</a></body></html>", "https://news.example.com/")
    result = store.save(listing)
    assert result.outcome == "not_article"
    assert count(store, Article) == 0 and count(store, Fetch) == 1


def test_error_fetch_touches_nothing_stored(store: ArchiveStore) -> None:
    stored = store.save(page())
    store.save_error(Capture(url="https://news.example.com/markets/chips.html", fetched_at=T0, status=500),
                     "http_500: HTTP 500")
    assert count(store, Snapshot) == 1
    with Session(store.engine) as session:
        assert session.get(Article, stored.article_id).latest_version == 1  # type: ignore[union-attr]


def test_ticker_change_alone_is_a_version(store: ArchiveStore) -> None:
    first = page(extra="<p>Shares of $NVDA rose.</p>")
    assert [t.symbol for t in first.tickers] == ["NVDA"]
    store.save(first)
    second = store.save(dataclasses.replace(first, tickers=()))
    assert (second.version, second.changed_fields) == (2, ("tickers",))
    with Session(store.engine) as session:
        versions = session.scalars(select(Snapshot.version).order_by(Snapshot.version)).all()
    assert versions == [1, 2]


def test_values_the_database_cannot_hold_are_fitted_or_refused_alone(store: ArchiveStore) -> None:
    """NULs are dropped and over-long text is cut to its column on both databases; what still cannot be
    written (text with a lone surrogate) is a RefusedWrite, which the crawler records as one error."""
    import pytest  # noqa: PLC0415

    from archive.errors import RefusedWrite  # noqa: PLC0415

    url = "https://news.example.com/a.html"
    page = dataclasses.replace(extract(article(), url), language="x" * 40, site_name="S\x00" * 300,
                               description="a\x00b")
    result = store.save(page, Capture(url=url, fetched_at=T0, etag="e" * 600, content_type="text/html" + "y" * 300))
    assert result.outcome == "new"
    with Session(store.engine) as session:
        snap = session.scalars(select(Snapshot)).one()
        assert (snap.language, snap.site_name, snap.description) == ("x" * 16, "S" * 255, "ab")
        assert session.scalars(select(Fetch.etag)).one() is None
    with pytest.raises(RefusedWrite):
        store.save(dataclasses.replace(page, title="\ud800"), Capture(url=url, fetched_at=T0 + timedelta(1)))


def test_postgresql_refusals_are_refused_writes_not_database_failures(store: ArchiveStore, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Without the fitting, PostgreSQL's own refusals (a value too long, a NUL, an index row too
    large) must surface as RefusedWrite, so that the crawl records the page and goes on."""
    import pytest  # noqa: PLC0415

    from archive import store as store_module  # noqa: PLC0415
    from archive.errors import RefusedWrite  # noqa: PLC0415

    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps these values")
    monkeypatch.setattr(store_module, "fitted", lambda table, row: row)
    monkeypatch.setattr(store_module, "too_long", lambda url: False)
    url = "https://news.example.com/a.html"
    for page, capture in [
            (dataclasses.replace(extract(article(), url), language="x" * 40), Capture(url=url, fetched_at=T0)),
            (extract(article(), url), Capture(url=url, fetched_at=T0, etag="a\x00b")),
            (extract(article(), url + "?q=" + "ä" * 1500), Capture(url=url + "?q=" + "ä" * 1500, fetched_at=T0))]:
        with pytest.raises(RefusedWrite):
            store.save(page, capture)


def test_a_copy_that_claimed_a_canonical_first_is_adopted_when_the_canonical_page_agrees(store: ArchiveStore) -> None:
    """A copy fetched before its canonical page keeps its own URL; when the canonical page arrives with
    a near-duplicate body, that article takes the canonical URL (one article, one version). A page
    that copied only the title is not adopted."""
    canonical = "https://news.example.com/markets/chips.html"
    head = '<link rel="canonical" href="/markets/chips.html">'
    other = [f"Reader {i} says the chip rally is overdone and the shares will fall back next week." for i in range(6)]
    copied_title = store.save(extract(article(paragraphs=other, head=head), "https://news.example.com/comments.html"))
    early = store.save(extract(article(head=head), "https://news.example.com/markets/chips"))
    itself = store.save(extract(article(head=head), canonical))
    with Session(store.engine) as session:
        ids = dict(session.execute(select(Article.canonical_url, Article.id)).all())
        claims = dict(session.execute(select(Snapshot.url, Snapshot.unverified_canonical)).all())
    assert itself.article_id == early.article_id == ids[canonical] and itself.outcome == "unchanged"
    assert copied_title.article_id == ids["https://news.example.com/comments.html"] != ids[canonical]
    assert claims == {"https://news.example.com/comments.html": canonical, "https://news.example.com/markets/chips": None}
    assert count(store, Snapshot) == 2
