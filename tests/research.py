"""A small archive with known content for the research interface's tests (search, diff, export, stats).

Saved through ArchiveStore.save with Extracted values built directly, as the crawler would save them.

    1  news.example.com     "Chip stocks slide as export controls widen"   NVDA (v2: NVDA, AMD)  Edwin Foster
       published 2025-01-10; v1 fetched 2025-01-10, v2 (publisher edit) fetched 2025-02-05
    2  markets.example.org  "AMD gains on data center demand"               AMD                  Priya Raman
       published 2025-01-20; fetched 2025-01-20
    3  news.example.com     "Intel weighs foundry options"                  INTC                 Edwin Foster (AI)
       published 2024-12-15; language en-US; "export" and "controls" far apart
    4  boerse.example.de    "Chips und Exportkontrollen"                    NVDA                 Jonas Weber
       published 2025-01-25; language de
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from archive.extract.model import Dated, Extracted, Ticker
from archive.store import ArchiveStore, Capture


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def page(url: str, title: str, body: str, published: str, *, tickers: tuple[str, ...] = (),
         authors: tuple[str, ...] = (), language: str = "en", ai_generated: bool = False) -> Extracted:
    return Extracted(url=url, canonical_url=url, is_article=True, title=title, authors=authors,
                     ai_generated=ai_generated, published=Dated(utc(published), "datetime", "test"),
                     site_name=url.split("/")[2], language=language,
                     tickers=tuple(Ticker(s, None, 1, ("cashtag",)) for s in tickers), body=body)


NVDA_V1 = page(
    "https://news.example.com/markets/chip-stocks-export-controls.html",
    "Chip stocks slide as export controls widen",
    "Nvidia fell 4% on Friday after Washington widened export controls on advanced chips.\n\n"
    "Analysts said the rules would weigh on sales to China for at least two quarters, "
    "although demand from cloud providers remains strong.\n\n"
    "The semiconductor index dropped 2.1% in afternoon trade.",
    "2025-01-10T14:00:00", tickers=("NVDA",), authors=("Edwin Foster",))
NVDA_V2 = replace(
    NVDA_V1,
    body="Nvidia fell 5% on Friday after Washington widened export controls on advanced chips.\n\n"
         "Analysts said the rules would weigh on sales to China for at least two quarters, "
         "although demand from cloud providers remains strong.\n\n"
         "The semiconductor index dropped 2.1% in afternoon trade.\n\n"
         "Rival AMD slipped 3% as investors weighed its own exposure.",
    tickers=(Ticker("NVDA", None, 1, ("cashtag",)), Ticker("AMD", None, 1, ("cashtag",))))
AMD = page(
    "https://markets.example.org/stocks/amd-data-center.html",
    "AMD gains on data center demand",
    "Advanced Micro Devices rose after chipmakers reported strong data center orders.\n\n"
    "The company said its accelerators were sold out through the summer.",
    "2025-01-20T09:30:00", tickers=("AMD",), authors=("Priya Raman",))
INTEL = page(
    "https://news.example.com/tech/intel-foundry-options.html",
    "Intel weighs foundry options",
    "Intel is weighing options for its foundry business, people familiar said. Export licences are "
    "not the issue; cost controls are.\n\nThe chips unit lost money again last quarter.",
    "2024-12-15T16:00:00", tickers=("INTC",), authors=("Edwin Foster",), language="en-US", ai_generated=True)
GERMAN = page(
    "https://boerse.example.de/aktien/chips-exportkontrollen.html",
    "Chips und Exportkontrollen",
    "Die Aktie von Nvidia fiel nach neuen Exportkontrollen für Chips aus den USA.\n\n"
    "Händler erwarten weitere Schwankungen.",
    "2025-01-25T08:00:00", tickers=("NVDA",), authors=("Jonas Weber",), language="de")

#: (page, fetched at), in the order saved.
SAVES = [
    (INTEL, "2024-12-15T17:00:00"),
    (NVDA_V1, "2025-01-10T15:00:00"),
    (AMD, "2025-01-20T10:00:00"),
    (GERMAN, "2025-01-25T09:00:00"),
    (NVDA_V2, "2025-02-05T09:00:00"),
]


def fill(store: ArchiveStore) -> dict[str, int]:
    """Save the pages above; returns article ids by short name (nvda, amd, intel, german)."""
    ids: dict[str, int] = {}
    names = {id(INTEL): "intel", id(NVDA_V1): "nvda", id(NVDA_V2): "nvda", id(AMD): "amd", id(GERMAN): "german"}
    for extracted, fetched in SAVES:
        result = store.save(extracted, Capture(url=extracted.url, fetched_at=utc(fetched)))
        assert result.created, result
        ids[names[id(extracted)]] = result.article_id  # type: ignore[assignment]
    return ids
