"""One archive handle per crawl: the middlewares and pipelines of a crawl share one ArchiveStore,
opened once and closed once, when the engine stops (after the store pipeline records the crawl's end)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from archive.store import ArchiveStore
from crawler.conditional import ConditionalGet, SkipFresh
from crawler.shared_store import crawl_store
from pipelines.extract import ExtractPipeline
from pipelines.store import StorePipeline


def test_a_crawls_components_share_one_archive_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[ArchiveStore] = []
    closed: list[ArchiveStore] = []
    real_open, real_close = ArchiveStore.open, ArchiveStore.close

    def counting_open(url: str, *args: object, **kwargs: object) -> ArchiveStore:
        opened.append(real_open(url, *args, **kwargs))  # type: ignore[arg-type]
        return opened[-1]

    def counting_close(self: ArchiveStore) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(ArchiveStore, "open", staticmethod(counting_open))
    monkeypatch.setattr(ArchiveStore, "close", counting_close)
    crawler = get_crawler(settings_dict={"ARCHIVE_DB_URL": f"sqlite:///{tmp_path / 'a.db'}",
                                         "ARCHIVE_EXTRACT_WORKERS": 1})
    components = [ConditionalGet.from_crawler(crawler), SkipFresh.from_crawler(crawler),
                  ExtractPipeline.from_crawler(crawler), StorePipeline.from_crawler(crawler)]
    assert len(opened) == 1 and all(c.store is opened[0] for c in components)
    assert crawl_store(crawler) is opened[0]

    for component in components[:2]:
        component.close()
    components[2].close_spider()
    assert closed == []  # the components close their own threads, never the shared store
    crawler.signals.send_catch_log(signal=signals.engine_stopped)
    assert closed == [opened[0]]


def test_no_archive_url_means_no_archive_components() -> None:
    crawler = get_crawler(settings_dict={"ARCHIVE_DB_URL": ""})
    for component in (ExtractPipeline, StorePipeline):
        with pytest.raises(NotConfigured):
            component.from_crawler(crawler)
