"""The Python API: archive.open and its verbs (docs/python-api.md's examples run in tests/docs)."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest

import archive
from archive.errors import BadInput, NotFound
from archive.store import ArchiveStore
from tests import research

@pytest.fixture
def db(db_url: str) -> archive.Archive:
    store = ArchiveStore.open(db_url)
    research.fill(store)
    store.close()
    with archive.open(db_url) as opened:
        yield opened


def test_search_returns_plain_versions(db: archive.Archive) -> None:
    hits = db.search("chips", ticker=["NVDA", "INTC"], since="2024-12-01", until="2025-01-31")
    assert [h.title for h in hits] == [research.GERMAN.title, research.NVDA_V1.title, research.INTEL.title]
    first = hits[1]
    assert first.tickers == ("NVDA", "AMD") and first.version == 2 and first.origin == "fetch"
    assert first.published_at is not None and first.published_at.isoformat() == "2025-01-10T14:00:00+00:00"
    assert first.as_dict()["canonical_url"] == research.NVDA_V1.url and "body" in first.as_dict()
    assert [h.version for h in db.search("chips", ticker="NVDA", as_of="2025-02-01T00:00Z")] == [1, 1]
    assert db.search(author="raman")[0].title == research.AMD.title
    assert [h.title for h in db.search(edited=True)] == [research.NVDA_V1.title]


def test_article_history_and_diff(db: archive.Archive) -> None:
    story = db.article(research.NVDA_V1.url + "?utm_source=newsletter")
    assert [v.version for v in story.versions] == [1, 2] and story.latest.version == 2
    assert db.article(story.id).canonical_url == story.canonical_url
    assert story.version(1).changed_fields == () and story.version(2).changed_fields == ("tickers", "body")
    assert story.diff(1, 2).changed == ["tickers", "body"]
    with pytest.raises(NotFound, match="has no version 3"):
        story.diff(1, 3)
    with pytest.raises(NotFound):
        db.article("https://nowhere.example/x")


def test_export_to_paths_and_open_files(db: archive.Archive, tmp_path: Path) -> None:
    assert db.export(tmp_path / "all.jsonl", all_versions=True) == 5
    assert not list(tmp_path.glob("*.part"))
    out = io.StringIO()
    assert db.export(out, format="csv", site="news.example.com", with_body=True) == 2
    assert out.getvalue().splitlines()[0].endswith(",body")
    assert sum(1 for _ in db.rows("export controls")) == 2
    with pytest.raises(BadInput, match="bad search query"):
        db.export(tmp_path / "x.jsonl", "chips OR")
    assert not (tmp_path / "x.jsonl").exists() and not (tmp_path / "x.jsonl.part").exists()


def test_stats(db: archive.Archive) -> None:
    assert db.stats().as_dict()["per_month"] == {"2024-12": 1, "2025-01": 3}
    assert db.stats(ticker="AMD", as_of="2025-02-01").articles == 1


def test_export_refuses_to_overwrite_the_archive(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    with archive.open(url) as db:
        with pytest.raises(BadInput, match="refusing to write the export over the archive itself"):
            db.export(tmp_path / "archive.db")
        with pytest.raises(BadInput, match="over the archive itself"):
            db.export(str(tmp_path / "archive.db-wal"))
    assert (tmp_path / "archive.db").read_bytes()[:16] == b"SQLite format 3\x00"


def test_search_and_every_match_as_arrow_tables_with_the_export_columns(db: archive.Archive) -> None:
    pa = pytest.importorskip("pyarrow")
    from archive.export import FIELD_NAMES

    hits = db.search("chips", ticker=["NVDA", "INTC"], since="2024-12-01", until="2025-01-31")
    table = hits.to_arrow()
    assert isinstance(table, pa.Table) and table.column_names == list(FIELD_NAMES)
    assert table.column("title").to_pylist() == [h.title for h in hits]  # newest first, as the list
    assert table.column("tickers").to_pylist()[1][0]["symbol"] == "NVDA"
    assert table.schema.field("fetched_at").type == pa.timestamp("us", tz="UTC")
    every = db.table(all_versions=True, with_body=False)
    assert every.num_rows == 5 and every.column_names == list(FIELD_NAMES)
    assert every.column("body").null_count == 5
    assert sorted(zip(every.column("article_id").to_pylist(), every.column("version").to_pylist())) == \
        sorted((r["article_id"], r["version"]) for r in db.rows(all_versions=True))
    assert db.table("no-such-word-anywhere").num_rows == 0  # an empty table still has the columns
    assert db.table("no-such-word-anywhere").column_names == list(FIELD_NAMES)
    with pytest.raises(BadInput, match="bad search query"):
        db.table("chips OR")


def test_tables_without_pyarrow_or_pandas_are_one_clear_line(db: archive.Archive,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__
    hits = db.search("chips")
    missing = {"pandas"}

    def without(name: str, *args: object, **kwargs: object) -> object:
        if name.split(".")[0] in missing:
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", without)
    if importlib.util.find_spec("pyarrow") is not None:  # with pyarrow, a missing pandas is its own line
        with pytest.raises(BadInput, match=r"^DataFrames need pandas: pip install pandas$"):
            hits.to_pandas()
        with pytest.raises(BadInput, match=r"^DataFrames need pandas"):
            db.attention("chips").to_pandas()
    missing.add("pyarrow")
    with pytest.raises(BadInput, match=r"^Arrow tables need pyarrow: pip install -e '\.\[parquet\]'"):
        hits.to_arrow()
    with pytest.raises(BadInput, match=r"^Arrow tables need pyarrow"):
        db.table()
    with pytest.raises(BadInput, match=r"^Arrow tables need pyarrow"):
        db.attention("chips").to_arrow()
