"""The sources file: a commented example that loads, and one-line errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.errors import BadInput
from crawler.sources import load_sources

EXAMPLE = Path(__file__).resolve().parents[2] / "sources.example.toml"


def test_the_example_loads() -> None:
    sources = load_sources(EXAMPLE)
    assert [s.name for s in sources] == ["example-news", "example-blog"]
    news, blog = sources
    assert news.delay == 1.0 and news.concurrency == 2 and blog.delay == 3.0 and blog.concurrency == 1
    assert news.may_be_article("https://www.example-news.com/2025/01/chips.html")
    assert not news.may_be_article("https://www.example-news.com/markets/")
    assert news.refuses("https://www.example-news.com/video/1") and not news.refuses("https://www.example-news.com/x")
    assert news.owns("https://example-news.com/a") and not news.owns("https://blog.example.org/a")
    assert [s.name for s in load_sources(EXAMPLE, only=("example-blog",))] == ["example-blog"]


@pytest.mark.parametrize("text, message", [
    ("[[site]]\nname = 'a'\n", "needs start_urls, feeds or sitemaps"),
    ("[[site]]\nstart_urls = ['https://a.com/']\n", "needs a name"),
    ("[[site]]\nname = 'a'\nstart_urls = ['ftp://a.com/']\n", "not an http(s) URL"),
    ("[[site]]\nname = 'a'\nstart_urls = ['https://a.com/']\nallow = ['(']\n", "bad regular expression"),
    ("[[site]]\nname = 'a'\nstart_urls = ['https://a.com/']\ncolour = 'red'\n", "unknown key(s) colour"),
    ("[[site]]\nname = 'a'\nstart_urls = ['https://a.com/']\ndelay = -1\n", "non-negative"),
    ("[site\n", "not valid TOML"),
    ("", "no [[site]] entries"),
])
def test_bad_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(BadInput) as info:
        load_sources(path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_unknown_only_name(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no site named nope"):
        load_sources(EXAMPLE, only=("nope",))
