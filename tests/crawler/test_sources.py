"""The sources file: a commented example that loads, and one-line errors for bad files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from archive.errors import BadInput
from crawler.sources import load_sources, recrawl_schedules

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
    ("[[site]]\nname = 'a'\nstart_urls = ['https://a.com/']\ntimezone = 'Mars/Olympus'\n", "unknown time zone"),
    ("[[site]]\nname = 'a'\nstart_urls = ['https://a.com/']\ntimezone = '../etc/passwd'\n", "unknown time zone"),
    ("[[site]]\nname = 'a'\nstart_urls = ['https://a.com/']\ntimezone = 5\n", "must be a non-empty string"),
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


def test_recrawl_schedule_and_budget_per_site(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[defaults]\nrecrawl_budget = 100\n\n[[site]]\nname = "a"\nstart_urls = ["https://a.com/"]\n'
                    'recrawl = ["1h", "6h", "1d", "3d", "7d", "30d", "90d", "365d"]\n\n'
                    '[[site]]\nname = "b"\nstart_urls = ["https://b.com/"]\nrecrawl_budget = 5\n')
    a, b = load_sources(path)
    assert a.recrawl is not None and a.recrawl[-1] == timedelta(days=365) and len(a.recrawl) == 8
    assert a.recrawl_budget == 100 and b.recrawl is None and b.recrawl_budget == 5
    assert recrawl_schedules([a, b]) == {"a.com": [age.total_seconds() for age in a.recrawl]}


@pytest.mark.parametrize("line, message", [
    ('recrawl = ["6h", "1h"]', "not an increasing list"),
    ('recrawl = "7d"', "must be a list of durations"),
    ('recrawl = ["soon"]', "not a duration"),
    ("recrawl_budget = 0", "1 or more"),
    ('recrawl_budget = "10"', "1 or more"),
])
def test_bad_recrawl_settings_are_one_line_errors(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(f'[[site]]\nname = "a"\nstart_urls = ["https://a.com/"]\n{line}\n')
    with pytest.raises(BadInput) as info:
        load_sources(path)
    assert message in str(info.value) and "(a) recrawl" in str(info.value) and "\n" not in str(info.value)


def test_a_sites_timezone(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text("[defaults]\ntimezone = 'Europe/Berlin'\n[[site]]\nname = 'a'\nstart_urls = ['https://a.com/']\n"
                    "timezone = 'America/New_York'\n[[site]]\nname = 'b'\nstart_urls = ['https://b.com/']\n")
    assert [s.timezone for s in load_sources(path)] == ["America/New_York", "Europe/Berlin"]
    assert load_sources(EXAMPLE)[0].timezone is None
