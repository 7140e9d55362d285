"""Authors: several names, other languages' bylines, structured lists, and no agencies or publications."""

from __future__ import annotations

import json

import pytest

from archive.extract import extract
from archive.extract.authors import clean_byline
from tests.pages import article

URL = "https://news.example.com/markets/chips.html"


@pytest.mark.parametrize("byline, names", [
    ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
    ("By Ann Lee, Bo Chan & Cy Diaz", ["Ann Lee", "Bo Chan", "Cy Diaz"]),
    ("Von Anna Beispiel und Jonas Muster", ["Anna Beispiel", "Jonas Muster"]),
    ("Par Jeanne Exemple et Luc Modèle", ["Jeanne Exemple", "Luc Modèle"]),
    ("Por María Ejemplo y José Modelo", ["María Ejemplo", "José Modelo"]),
    ("Di Giulia Esempio", ["Giulia Esempio"]),
    ("Av Kari Nordmann og Ola Nordmann", ["Kari Nordmann", "Ola Nordmann"]),
    ("Laura E. Adkins", ["Laura E. Adkins"]),
    ("Perry Bacon Jr.", ["Perry Bacon Jr."]),
    ("Андрей Пример", ["Андрей Пример"]),
    ("著者：山田太郎", ["山田太郎"]),
    ("Politik · Jochen Beispiel, Tina Muster", ["Jochen Beispiel", "Tina Muster"]),
    ("By Jed Example and Joe Sample Fri Aug 3, 2012 5:10am EDT", ["Jed Example", "Joe Sample"]),
    ("Jane Doe | 12 | , | John Roe", ["Jane Doe", "John Roe"]),  # a comment count between the names
    ("By Reuters Staff", []),
    ("Associated Press", []),
    ("By | Joe Example | Washington Post | Dec 13, 2016 at 3:45 pm", ["Joe Example"]),
    ("Jane Doe | Jane Doe was a former editor of Example Weekly and Example Central.", ["Jane Doe"]),
    ("Elena Muster (emu)", ["Elena Muster"]),
])
def test_bylines(byline: str, names: list[str]) -> None:
    assert clean_byline(byline) == names


def test_a_word_without_capitals_in_page_text_is_a_name_only_alone() -> None:
    assert clean_byline("この記事の筆者 | 山田太郎 | フォロー") == []
    assert clean_byline("山田太郎") == ["山田太郎"]


def _ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def test_json_ld_author_array_with_given_and_family_names_and_references() -> None:
    data = {"@context": "https://schema.org", "@graph": [
        {"@type": "NewsArticle", "headline": "Chipmakers rally as data-center demand stays hot",
         "author": [{"@type": "Person", "givenName": "Anna Giulia", "familyName": "Beispiel"},
                    {"@id": "https://news.example.com/#/person/1"}]},
        {"@type": "Person", "@id": "https://news.example.com/#/person/1", "name": "Jan Michael Muster"}]}
    result = extract(article(head=_ld(data), byline="Anna Giulia Beispiel"), URL)
    assert result.authors == ("Anna Giulia Beispiel", "Jan Michael Muster")


def test_the_publication_is_not_a_person() -> None:
    head = _ld({"@type": "NewsArticle", "publisher": {"@type": "Organization", "name": "Example Times Daily"}})
    head += '<meta name="author" content="Example Times Daily">'
    assert extract(article(head=head, byline="Example Times Daily"), URL).authors == ()
    assert extract(article(byline="By Example Markets"), URL).authors == ()  # og:site_name


def test_several_links_to_author_pages() -> None:
    byline = ""
    page = article(byline=byline, extra='<p class="credits">Words: <a href="/author/jane-doe">Jane Doe</a>, '
                                       '<a href="/author/john-roe">John Roe</a></p>')
    assert extract(page, URL).authors == ("Jane Doe", "John Roe")
