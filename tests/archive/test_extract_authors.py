"""Authors: several names, other languages' bylines, structured lists, and no agencies or publications."""

from __future__ import annotations

import json

import pytest

from archive.extract import extract
from archive.extract.authors import clean_byline
from tests.pages import LOREM, article

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


@pytest.mark.parametrize("byline, names", [
    ("Tech Industry | by | Steven Example", ["Steven Example"]),  # a section label beside the byline
    ("Jana Beispiel Delhi Print Edition", []),
    ("王小明 | 2017-03-01 14:27:02", ["王小明"]),  # an uncased name with only its date beside it
])
def test_section_labels_and_dated_uncased_names(byline: str, names: list[str]) -> None:
    assert clean_byline(byline) == names


@pytest.mark.parametrize("byline, names", [
    ("Submitted by Jane Doe on March 24, 2020", ["Jane Doe"]),  # Drupal's default byline
    ("Submitted By: | News Desk", []),  # the label is no name, and a desk no person
    ("Posted by Jane Doe | Markets", ["Jane Doe"]),  # WordPress themes'
])
def test_submitted_and_posted_by_are_labels(byline: str, names: list[str]) -> None:
    assert clean_byline(byline) == names


def test_json_ld_wrapped_in_cdata_is_read() -> None:
    head = ('<script type="application/ld+json">//<![CDATA[\n'
            + json.dumps({"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Ada Example"}]})
            + "\n//]]></script>")
    assert extract(article(head=head, byline=""), URL).authors == ("Ada Example",)


def test_byline_elements_named_in_other_ways() -> None:
    """NITF's <byline> element, German/Spanish/French class words, a layout modifier 'hasnt-bio'."""
    for extra in ("<byline>Von Anna Beispiel, dpa</byline>",
                  '<p class="autorenzeile">Von Anna Beispiel und Jonas Muster, NDR</p>',
                  '<div class="sig-line hasnt-bio"><span class="pb-byline">By Anna Beispiel</span></div>'):
        names = extract(article(byline="", extra=extra), URL).authors
        assert names[0] == "Anna Beispiel", extra


def test_a_byline_with_its_share_buttons_is_not_chrome() -> None:
    extra = '<div class="author-share"><span class="name">Anna Beispiel</span><a href="#">Tweet</a></div>'
    assert extract(article(byline="", extra=extra), URL).authors[0] == "Anna Beispiel"


def test_camel_case_names_of_chrome_are_chrome() -> None:
    """"globalNav" names navigation as "global-nav" does: its "Bylines" link is no byline; a
    "ShareByline" wrapper is the byline with its share buttons, as "author-share" is."""
    nav = ('<div id="globalNav"><ul><li id="gnPriBylines"><a href="https://bylines.example.com/">Anna Beispiel'
           '</a></li></ul></div>')
    assert extract(article(byline="", extra=nav), URL).authors == ()
    shared = ('<div class="ShareByline"><span>By Anna Beispiel</span><a href="#">Tweet</a></div>')
    assert extract(article(byline="", extra=shared), URL).authors == ("Anna Beispiel",)


def test_cxense_author_meta() -> None:
    head = '<meta name="cXenseParse:author" content="Ada Example">'
    assert extract(article(head=head, byline=""), URL).authors == ("Ada Example",)


def test_a_blog_that_names_its_author_as_publisher_keeps_the_author() -> None:
    data = {"@type": "BlogPosting", "author": {"@type": "Person", "name": "Ada Example"},
            "publisher": {"@type": "Organization", "name": "Ada Example"}}
    assert extract(article(head=_ld(data), byline="", site="Example Markets"), URL).authors == ("Ada Example",)
    # ...but the site's own name (og:site_name) declared as a Person author is no person
    data["author"]["name"] = data["publisher"]["name"] = "Example Markets"
    assert extract(article(head=_ld(data), byline=""), URL).authors == ()


def test_the_copyright_holder_is_no_author() -> None:
    head = ('<meta name="copyright" content="Copyright (c) Initech Holdings 2022">'
            '<meta name="author" content="Initech Holdings"><meta name="author" content="Ada Example">')
    assert extract(article(head=head, byline="Ada Example"), URL).authors == ("Ada Example",)


def test_meta_author_wins_over_a_byline_naming_someone_else() -> None:
    """article:author names this article's writer; a byline naming another person is a teaser's."""
    head = '<meta property="article:author" content="Ada Example">'
    assert extract(article(head=head, byline="By Bob Sample"), URL).authors == ("Ada Example",)
    assert extract(article(byline="By Bob Sample"), URL).authors == ("Bob Sample",)


def test_microdata_person_authors() -> None:
    extra = ('<footer class="meta"><div itemprop="author" itemscope itemtype="https://schema.org/Person">'
             '<meta itemprop="name" content="Ada Example"><span itemprop="name">Bob Sample</span></div></footer>'
             '<ul class="twitter-authors"><li class="author">Carl Third</li></ul>')
    assert extract(article(byline="", extra=extra), URL).authors == ("Ada Example", "Bob Sample")


def test_a_byline_styled_as_a_navigation_bar_keeps_its_authors() -> None:
    """A <nav> is dropped before any field is read, but one that holds a schema.org microdata author
    is the byline (NDTV's "pst-by" bar); a plain <nav> menu is still dropped (its author link unread)."""
    nav = ('<nav class="pst-by">Edited by <a href="/topic/ada-example"><span itemprop="author" itemscope '
           'itemtype="https://schema.org/Person"><span itemprop="name">Ada Example</span></span></a></nav>'
           '<nav class="menu"><a href="/author/bob-sample">Bob Sample</a> <a href="/markets">Markets</a></nav>')
    assert extract(article(byline="", extra=nav), URL).authors == ("Ada Example",)
    menu = '<nav class="menu"><a href="/author/bob-sample">Bob Sample</a> <a href="/markets">Markets</a></nav>'
    assert extract(article(byline="", extra=menu), URL).authors == ()


@pytest.mark.parametrize("line, names", [
    ("Von Anna Beispiel und Max Muster", ("Anna Beispiel", "Max Muster")),
    ("Par Jeanne Exemple et Paul Exemple", ("Jeanne Exemple", "Paul Exemple")),
    ("Por Juan Pérez y María López", ("Juan Pérez", "María López")),
    ("Av Ola Nordmann og Kari Nordmann", ("Ola Nordmann", "Kari Nordmann")),
    ("Door Jan Jansen en Piet Pietersen", ("Jan Jansen", "Piet Pietersen")),
])
def test_a_byline_in_another_language_in_a_plain_paragraph(line: str, names: tuple[str, ...]) -> None:
    """The byline words of other languages open a byline in a block of any class, as "By" does."""
    assert extract(article(byline="", paragraphs=[line, *LOREM[:3]]), URL).authors == names


@pytest.mark.parametrize("line, name", [("Text: Anna Beispiel", "Anna Beispiel"), ("Autor: Jan Kowalski", "Jan Kowalski"),
                                        ("Texte : Jeanne Exemple", "Jeanne Exemple"), ("Redacción: Juan Pérez", "Juan Pérez"),
                                        ("Autorka: Anna Nowak", "Anna Nowak")])
def test_a_label_before_the_name_in_a_byline(line: str, name: str) -> None:
    assert extract(article(byline=line), URL).authors == (name,)


def test_a_teasers_byline_inside_its_link_is_not_the_articles() -> None:
    """A related story's card is a link holding its headline and its byline ("Von Ines Beispiel")."""
    teaser = ('<a href="/wirtschaft/rettet-die-reichen"><span>Rettet die Reichen</span> '
              '<span class="text-s">Von Ines Beispiel, Washington</span></a>')
    page = article(byline="", paragraphs=[*LOREM[:3]], extra=teaser)
    assert extract(page, URL).authors == ()
