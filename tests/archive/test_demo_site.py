"""Extraction on the bundled sample site, against the values its manifest gives for each article."""

from __future__ import annotations

import json

import pytest

from archive.demo.run import REVISED, SITE
from archive.extract import extract

MANIFEST = json.loads((SITE / "manifest.json").read_text())


def test_the_sample_site_has_enough_articles_of_several_styles() -> None:
    assert len(MANIFEST) >= 30
    assert len({entry["section"] for entry in MANIFEST}) >= 5


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["path"] for e in MANIFEST])
def test_sample_article_fields(entry: dict) -> None:
    result = extract((SITE / entry["path"].lstrip("/")).read_bytes(), "http://127.0.0.1:8765" + entry["path"])
    assert result.is_article
    assert result.title == entry["title"]
    assert list(result.authors) == entry["authors"]
    assert result.ai_generated == entry["ai_generated"]
    assert result.published is not None and result.published.isoformat() == entry["published"]
    assert sorted(t.symbol for t in result.tickers) == entry["tickers"]
    assert entry["first_sentence"] in result.body.split("\n\n")[0]
    assert result.body.endswith(entry["last_sentence"])


@pytest.mark.parametrize("path", ["/", "/analysis/", "/markets/page/2.html", "/authors/", "/quote/NVDA.html"])
def test_sample_listing_pages_are_not_articles(path: str) -> None:
    files = [SITE / path.lstrip("/") / "index.html", SITE / path.lstrip("/")]
    file = next((f for f in files if f.is_file()), None)
    if file is None:  # e.g. no authors index: any author page will do
        file = next((SITE / "authors").glob("*.html"))
    assert not extract(file.read_bytes(), "http://127.0.0.1:8765" + path).is_article


def test_revised_pages_exist_for_the_demo() -> None:
    revised = json.loads((REVISED / "manifest.json").read_text())
    assert len(revised) == 3
    for item in (revised if isinstance(revised, list) else revised.values()):
        path = item["path"] if isinstance(item, dict) else item
        assert (REVISED / path.lstrip("/")).is_file() and (SITE / path.lstrip("/")).is_file()
