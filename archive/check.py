"""`archive check`: is the archive whole? Every rule the store keeps, verified from the tables.

After a crash, a full disk or two crawls writing at once, this is how one knows nothing was
half written: references resolve, every raw page a fetch or a version names is stored (and
hashes to its name), versions run 1..n per article with `latest_version` = n, each version's
content hash matches its stored fields, and the indexes (and the day counts) agree with the rows
they index.
Read-only, except for SQLite's FTS5 integrity-check command, which only reads but is issued as an
INSERT.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterator

import zstandard
from sqlalchemy import Engine, column, func, insert, literal, or_, select, table, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from archive import day_counts
from archive.errors import ArchiveError
from archive.models import Article, Crawl, Fetch, MinhashBand, RawPage, Snapshot, SnapshotTicker
from archive.search_index import FTS_TABLE
from archive.store import content_sha256, snapshot_fields

EXAMPLES = 5


@dataclass(frozen=True)
class Problem:
    """One kind of damage: how many rows show it, and a few of them to look at."""

    kind: str
    count: int
    what: str
    examples: tuple[Any, ...] = ()

    def line(self) -> str:
        shown = ", ".join(map(str, self.examples[:EXAMPLES]))
        return f"{self.kind}: {self.count} {self.what}" + (f" (e.g. {shown})" if shown else "")


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        sizes = ", ".join(f"{n} {name}" for name, n in self.checked.items())
        return f"ok: {sizes}; no problems" if self.ok else f"{len(self.problems)} kind(s) of problem in {sizes}"


def check(engine: Engine, *, blobs: bool = True) -> Report:
    """Check the archive at `engine`; `blobs=False` skips decompressing every raw page (faster)."""
    report = Report()
    try:
        with Session(engine) as session:
            report.checked = {name: session.scalar(select(func.count()).select_from(model)) or 0
                              for name, model in (("articles", Article), ("versions", Snapshot),
                                                  ("fetches", Fetch), ("raw pages", RawPage))}
            for problem in _problems(session, blobs):
                if problem.count:
                    report.problems.append(problem)
    except SQLAlchemyError as exc:
        raise ArchiveError(f"cannot check the archive: {getattr(exc, 'orig', exc)}") from exc
    return report


def _problems(session: Session, blobs: bool) -> Iterator[Problem]:
    if session.bind.dialect.name == "sqlite":  # type: ignore[union-attr]
        yield _sqlite_integrity(session)
    yield from _references(session)
    yield from _fetches(session)
    yield from _versions(session)
    yield _content_hashes(session)
    yield _ticker_index(session)
    yield _day_counts(session)
    yield _minhash_index(session)
    if blobs:
        yield _raw_blobs(session)
    yield from _search_index(session)


def _ids(session: Session, stmt: Any) -> tuple[int, list[Any]]:
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return count, list(session.scalars(stmt.limit(EXAMPLES))) if count else []


def _sqlite_integrity(session: Session) -> Problem:
    rows = [r[0] for r in session.execute(text("PRAGMA quick_check"))]
    bad = [r for r in rows if r != "ok"]
    return Problem("sqlite_integrity", len(bad), "page-level problem(s) reported by PRAGMA quick_check",
                   tuple(bad))


def _references(session: Session) -> Iterator[Problem]:
    """Every foreign key resolves (checked by query: SQLite enforces them only when asked to)."""
    raw_refs = [(Fetch, Fetch.raw_sha256, "fetch"), (Snapshot, Snapshot.raw_sha256, "version")]
    missing: list[str] = []
    count = 0
    for model, ref, label in raw_refs:
        n, ids = _ids(session, select(model.id).where(  # type: ignore[attr-defined]
            ref.is_not(None), ~select(RawPage.sha256).where(RawPage.sha256 == ref).exists()).order_by(model.id))  # type: ignore[attr-defined]
        count += n
        missing += [f"{label} {i}" for i in ids]
    yield Problem("missing_raw", count, "fetch(es)/version(s) name a raw page that is not stored", tuple(missing))

    other = aliased(Article)
    links = [
        ("fetch", Fetch.id, Fetch.crawl_id, Crawl.id),
        ("fetch", Fetch.id, Fetch.article_id, Article.id),
        ("version", Snapshot.id, Snapshot.article_id, Article.id),
        ("version", Snapshot.id, Snapshot.fetch_id, Fetch.id),
        ("ticker row of version", SnapshotTicker.snapshot_id, SnapshotTicker.snapshot_id, Snapshot.id),
        ("minhash band of article", MinhashBand.article_id, MinhashBand.article_id, Article.id),
        ("article", Article.id, Article.duplicate_of_id, other.id),
    ]
    count, examples = 0, []
    for label, key, ref, target in links:
        n, ids = _ids(session, select(key).where(ref.is_not(None), ~select(target).where(target == ref).exists())
                      .order_by(key))
        count += n
        examples += [f"{label} {i}" for i in ids]
    yield Problem("foreign_key", count, "reference(s) to rows that do not exist", tuple(examples))


#: Every outcome archive.store writes to a fetch row (its SaveResult.outcome), and those that name
#: the article they stored or confirmed.
FETCH_OUTCOMES = ("new", "changed", "unchanged", "same_raw", "not_modified", "not_article", "error")
ARTICLE_OUTCOMES = ("new", "changed", "unchanged")


def _fetches(session: Session) -> Iterator[Problem]:
    """Each fetch row says one thing: a known outcome, an error text exactly when it failed, the
    article of what it stored, an HTTP status that is one."""
    yield _problem("fetch_outcome", f"fetch(es) whose outcome is none of {', '.join(FETCH_OUTCOMES)}",
                   *_ids(session, select(Fetch.id).where(Fetch.outcome.not_in(FETCH_OUTCOMES)).order_by(Fetch.id)))
    failed = Fetch.outcome == "error"
    no_error = or_(Fetch.error.is_(None), Fetch.error == "")
    yield _problem("fetch_error", "fetch(es) that failed without an error, or did not fail and carry one",
                   *_ids(session, select(Fetch.id).where(or_(failed & no_error, ~failed & ~no_error)).order_by(Fetch.id)))
    yield _problem("fetch_without_article", f"fetch(es) recorded as {'/'.join(ARTICLE_OUTCOMES)} with no article",
                   *_ids(session, select(Fetch.id).where(Fetch.outcome.in_(ARTICLE_OUTCOMES), Fetch.article_id.is_(None))
                         .order_by(Fetch.id)))
    yield _problem("fetch_status", "fetch(es) with an HTTP status outside 100-599",
                   *_ids(session, select(Fetch.id).where(Fetch.status.is_not(None),
                                                         or_(Fetch.status < 100, Fetch.status > 599)).order_by(Fetch.id)))


def _versions(session: Session) -> Iterator[Problem]:
    per_article = (select(Snapshot.article_id.label("article_id"), func.count().label("n"),
                          func.min(Snapshot.version).label("low"), func.max(Snapshot.version).label("high"))
                   .group_by(Snapshot.article_id).subquery())
    yield _problem("version_gap", "article(s) whose versions are not exactly 1..n",
                   *_ids(session, select(per_article.c.article_id).where(or_(
                       per_article.c.low != 1, per_article.c.high != per_article.c.n)).order_by(per_article.c.article_id)))
    yield _problem("latest_version", "article(s) whose latest_version is not their highest version",
                   *_ids(session, select(Article.id).join(per_article, per_article.c.article_id == Article.id)
                         .where(Article.latest_version != per_article.c.high).order_by(Article.id)))
    yield _problem("article_without_versions", "article(s) with no version at all",
                   *_ids(session, select(Article.id).where(
                       ~select(Snapshot.id).where(Snapshot.article_id == Article.id).exists()).order_by(Article.id)))
    if session.bind.dialect.name == "sqlite":  # type: ignore[union-attr]
        # snapshot.fetch_id has no index: as NOT EXISTS, SQLite scanned every version for each
        # fetch (quadratic: hours on a large archive); the list of fetch ids is built once instead.
        written = Fetch.id.not_in(select(Snapshot.fetch_id).where(Snapshot.fetch_id.is_not(None)))
    else:  # PostgreSQL turns NOT EXISTS into a hashed anti-join (NOT IN only while the list fits work_mem)
        written = ~select(Snapshot.id).where(Snapshot.fetch_id == Fetch.id).exists()
    yield _problem("fetch_without_version", "fetch(es) recorded as new/changed with no version written from them",
                   *_ids(session, select(Fetch.id).where(Fetch.outcome.in_(("new", "changed")), written)
                         .order_by(Fetch.id)))


def _problem(kind: str, what: str, count: int, ids: list[Any]) -> Problem:
    return Problem(kind, count, what, tuple(ids))


def _content_hashes(session: Session) -> Problem:
    """Each version's content_sha256 is the hash of its stored fields (archive.store's own rule)."""
    bad: list[int] = []
    stmt = select(Snapshot).order_by(Snapshot.id).execution_options(yield_per=500)
    for snapshot in session.scalars(stmt):
        if content_sha256(snapshot_fields(snapshot)) != snapshot.content_sha256:
            bad.append(snapshot.id)
        session.expunge(snapshot)
    return _problem("content_hash", "version(s) whose stored fields do not match their content hash", len(bad), bad)


def _ticker_index(session: Session) -> Problem:
    """snapshot_ticker (what --ticker filters use) holds exactly each version's ticker symbols,
    each with the version's publication time beside it (a ticker in a date window reads that).

    Both sides are read in snapshot order and merged, so memory stays flat on a large archive.
    """
    rows = iter(session.execute(select(SnapshotTicker.snapshot_id, SnapshotTicker.symbol, SnapshotTicker.published_at)
                                .order_by(SnapshotTicker.snapshot_id).execution_options(yield_per=5000)))
    pending = next(rows, None)
    bad: list[int] = []
    for snapshot_id, tickers, published_at in session.execute(
            select(Snapshot.id, Snapshot.tickers, Snapshot.published_at).order_by(Snapshot.id)
            .execution_options(yield_per=1000)):
        indexed: set[tuple[str, Any]] = set()
        while pending is not None and pending[0] <= snapshot_id:
            if pending[0] == snapshot_id:
                indexed.add((pending[1], pending[2]))
            pending = next(rows, None)  # rows of versions that do not exist are foreign_key problems
        if {(t["symbol"], published_at) for t in tickers or []} != indexed:
            bad.append(snapshot_id)
    return _problem("ticker_index", "version(s) whose ticker rows differ from their tickers or date", len(bad), bad)


def _day_counts(session: Session) -> Problem:
    """The day counts (archive.day_counts) against a count of the current versions."""
    connection = session.connection()
    stored, recounted = day_counts.stored(connection), day_counts.recounted(connection)
    bad = sorted(key for key in stored.keys() | recounted.keys() if stored[key] != recounted[key])
    return _problem("day_counts", "(ticker, site, day) count(s) that differ from a count of the current versions",
                    len(bad), bad)


def _minhash_index(session: Session) -> Problem:
    from archive.fingerprint import BANDS
    bands = select(MinhashBand.article_id, func.count().label("n")).group_by(MinhashBand.article_id).subquery()
    stmt = (select(Article.id).outerjoin(bands, bands.c.article_id == Article.id)
            .where(Article.minhash.is_not(None), func.coalesce(bands.c.n, 0) != BANDS).order_by(Article.id))
    return _problem("minhash_index", f"fingerprinted article(s) without their {BANDS} lookup bands",
                    *_ids(session, stmt))


def _raw_blobs(session: Session) -> Problem:
    """Each stored raw page decompresses to bytes of its size whose sha256 is its key."""
    bad: list[str] = []
    decompressor = zstandard.ZstdDecompressor()
    stmt = select(RawPage.sha256, RawPage.size, RawPage.zstd).order_by(RawPage.sha256).execution_options(yield_per=100)
    for sha, size, blob in session.execute(stmt):
        try:
            data = decompressor.decompress(blob)
        except zstandard.ZstdError:
            bad.append(sha[:12])
            continue
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha:
            bad.append(sha[:12])
    return _problem("raw_corrupt", "raw page(s) whose bytes do not match their sha256 or size", len(bad), bad)


def _indexed_rows(session: Session) -> list[str]:
    """The contentless index (migration 0010) has no content for integrity-check to compare: its
    rows (one per indexed version in its docsize table) must be exactly the versions."""
    missing = session.scalars(text(f"SELECT id FROM snapshot WHERE id NOT IN (SELECT id FROM {FTS_TABLE}_docsize) "
                                   f"ORDER BY id LIMIT {EXAMPLES}")).all()
    extra = session.scalars(text(f"SELECT id FROM {FTS_TABLE}_docsize WHERE id NOT IN (SELECT id FROM snapshot) "
                                 f"ORDER BY id LIMIT {EXAMPLES}")).all()
    return [f"version {i} not indexed" for i in missing] + [f"index row {i} is no version" for i in extra]


def _search_index(session: Session) -> Iterator[Problem]:
    """SQLite: FTS5's own integrity-check against its content table. PostgreSQL: no invalid index."""
    dialect = session.bind.dialect.name  # type: ignore[union-attr]
    if dialect == "sqlite":
        names = session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "AND sql LIKE 'CREATE VIRTUAL TABLE%' AND lower(sql) LIKE '%using fts5%'")).all()
        bad = []
        for name in names:
            fts = table(name, column(name), column("rank"))
            try:
                with session.begin_nested():
                    session.execute(insert(fts).values({name: literal("integrity-check"), "rank": 1}))
            except SQLAlchemyError as exc:
                bad.append(f"{name}: {' '.join(str(getattr(exc, 'orig', exc)).split())[:120]}")
        if FTS_TABLE in names:
            bad += _indexed_rows(session)
        yield _problem("search_index", "full-text index(es) out of step with the versions", len(bad), bad)
    elif dialect == "postgresql":
        invalid = session.scalars(text(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT i.indisvalid ORDER BY 1")).all()
        yield _problem("invalid_index", "index(es) PostgreSQL marks invalid", len(invalid), list(invalid))
