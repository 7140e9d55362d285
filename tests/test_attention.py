"""Attention over time: `archive stats --over-time` (the real entry point) and `Archive.attention`,
which share one query with the web app, on SQLite and PostgreSQL.

The research archive: Intel 2024-12-15 (a Sunday), Nvidia 2025-01-10 (edited later: AMD added),
AMD 2025-01-20 (a Monday), the German article 2025-01-25.
"""

from __future__ import annotations

import json

import pytest

from archive.api import Archive
from archive.store import ArchiveStore
from tests import research
from tests.conftest import run_cli


@pytest.fixture
def filled(db_url: str) -> str:
    store = ArchiveStore.open(db_url)
    research.fill(store)
    store.close()
    return db_url


def periods(*args: str) -> list[tuple[str, int, int]]:
    out = json.loads(run_cli("stats", *args, "--json").stdout)
    return [(p["period"], p["matching"], p["total"]) for p in out["periods"]]


def test_stats_over_time_counts_and_shares(filled: str) -> None:
    assert periods("--over-time", "month", "--db", filled) == [("2024-12", 1, 1), ("2025-01", 3, 3)]
    # weeks start on Monday; empty weeks between matches are kept (a quiet week is a zero, not a gap)
    assert periods("--over-time", "week", "chips", "--db", filled) == [
        ("2024-12-09", 1, 1), ("2024-12-16", 0, 0), ("2024-12-23", 0, 0), ("2024-12-30", 0, 0),
        ("2025-01-06", 1, 1), ("2025-01-13", 0, 0), ("2025-01-20", 1, 2)]
    assert periods("--over-time", "day", "--ticker", "AMD", "--db", filled)[::10] == [
        ("2025-01-10", 1, 1), ("2025-01-20", 1, 1)]
    # as it stood before the edit: the Nvidia article did not name AMD yet
    assert periods("--over-time", "day", "--ticker", "AMD", "--as-of", "2025-02-01", "--db", filled) == [
        ("2025-01-20", 1, 1)]
    assert periods("--over-time", "month", "--language", "de", "--db", filled) == [("2025-01", 1, 3)]


def test_stats_over_time_as_text_bars(filled: str) -> None:
    out = run_cli("stats", "--over-time", "week", "chips", "--width", "10", "--db", filled).stdout
    assert out.splitlines() == [
        "articles per week published (UTC): 3 matching",
        "  2024-12-09  1  100.0% of 1      ██████████",
        "  2024-12-16  0    0.0% of 0",
        "  2024-12-23  0    0.0% of 0",
        "  2024-12-30  0    0.0% of 0",
        "  2025-01-06  1  100.0% of 1      ██████████",
        "  2025-01-13  0    0.0% of 0",
        "  2025-01-20  1   50.0% of 2      ██████████"]
    nothing = run_cli("stats", "--over-time", "day", "--ticker", "ZZZZ", "--db", filled)
    assert nothing.stdout == "no dated articles match\n"


def test_stats_over_time_refuses_bad_input_in_one_line(filled: str) -> None:
    bad = run_cli("stats", "--over-time", "day", "chips AND", "--db", filled, check=False)
    assert bad.returncode == 1 and bad.stderr == "Error: bad search query: AND needs a term after it (column 7): chips AND\n"
    year = run_cli("stats", "--over-time", "year", "--db", filled, check=False)
    assert year.returncode == 2 and "'year' is not one of 'day', 'week', 'month'" in year.stderr


def test_python_api_attention_matches_the_cli(filled: str) -> None:
    with Archive.open(filled) as archive:
        series = archive.attention("chips", by="week")
        assert series.as_dict() == json.loads(run_cli("stats", "--over-time", "week", "chips", "--json",
                                                       "--db", filled).stdout)
        assert series.rows()[-1] == {"period": "2025-01-20", "start": "2025-01-20", "matching": 1, "total": 2,
                                     "share": 0.5}
        assert archive.attention(ticker="NVDA", by="month").matching == 2
        with pytest.raises(Exception, match="unknown period 'year'"):
            archive.attention(by="year")


def test_attention_as_an_arrow_table_and_a_dataframe(filled: str) -> None:
    pa = pytest.importorskip("pyarrow")
    with Archive.open(filled) as archive:
        series = archive.attention("chips", by="week")
    table = series.to_arrow()
    assert table.column_names == ["period", "start", "matching", "total", "share"]
    assert table.schema.field("start").type == pa.date32()
    assert [{**r, "start": r["start"].isoformat(), "share": round(r["share"], 6)} for r in table.to_pylist()] == \
        series.rows()
    pytest.importorskip("pandas")
    frame = series.to_pandas()
    assert list(frame["matching"]) == [p.matching for p in series.points] and len(frame) == len(series.points)


def test_counting_reads_the_narrow_index_not_the_rows_on_sqlite(filled: str) -> None:
    """Per-day counts of a word or a ticker look each match up in ix_snapshot_reading (migration
    0012), never in the versions' wide rows; a site filter (not in that index) is left to SQLite."""
    from sqlalchemy import event, func

    from archive.attention import day_of
    from archive.api import make_filters
    from archive.models import Snapshot
    from archive.query import counting, select_versions

    if not filled.startswith("sqlite"):
        pytest.skip("INDEXED BY is SQLite's; PostgreSQL's planner chooses an index-only scan itself")
    with Archive.open(filled) as archive:
        def plan(**given: object) -> str:
            filters = make_filters(given.pop("query", None), **given)  # type: ignore[arg-type]
            day = day_of("sqlite")
            stmt = counting(select_versions([day, func.count()], filters), filters).group_by(day)
            def explain(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
                return "EXPLAIN QUERY PLAN " + statement, parameters
            with archive.engine.connect() as connection:
                event.listen(connection, "before_cursor_execute", explain, retval=True)
                rows = connection.execute(stmt).all()
                return " | ".join(str(row[-1]) for row in rows)
        assert "COVERING INDEX ix_snapshot_reading" in plan(query="chips")
        assert "COVERING INDEX ix_snapshot_reading" in plan(ticker="NVDA", since="2025-01-01")
        assert "ix_snapshot_reading" not in plan(query="chips", site="news.example.com")
        assert archive.attention("chips", site="news.example.com").matching >= 1
        assert Snapshot.__table__.indexes  # the model declares it, as the migration creates it


def test_facets_count_the_same_days_as_attention_in_one_pass(filled: str) -> None:
    """The search page counts its matches once: facets(days=True) gives per_day's counts."""
    from archive.api import make_filters
    from archive.attention import attention, per_day
    from archive.query import search
    from archive.stats import facets

    with Archive.open(filled) as archive:
        for query, given in ((None, {}), ("chips", {}), (None, {"ticker": "NVDA"}), ("chips", {"site": "news.example.com"}),
                             (None, {"as_of": "2025-01-15"})):
            filters = make_filters(query, **given)  # type: ignore[arg-type]
            top = facets(archive.engine, filters, days=True)
            assert top.days == per_day(archive.engine, filters), (query, given)
            assert attention(archive.engine, filters, "week", counted=top.days) == \
                attention(archive.engine, filters, "week")
            assert facets(archive.engine, filters).days is None
            assert facets(archive.engine, filters).newest is None
            found = [s.id for s, _ in search(archive.engine, filters, limit=3)]
            assert facets(archive.engine, filters, first=3).newest == found and found, (query, given)
