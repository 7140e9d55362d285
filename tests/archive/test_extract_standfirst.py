"""The standfirst: the page's declared description, shown between the headline and the body, opens the body."""

from __future__ import annotations

import html

from archive.extract import extract
from tests.pages import LOREM

URL = "https://news.example.com/markets/2025/01/28/chips.html"
DEK = "Chipmakers added $200bn in market value as two cloud providers raised their spending plans."


def page(*, description: str | None = DEK, before_title: str = "", after_title: str = "",
         after_body: str = "", paragraphs: list[str] | None = None) -> str:
    """An article page whose <meta> description and shown elements each test moves around."""
    meta = f'<meta property="og:description" content="{html.escape(description)}">' if description else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in (paragraphs or LOREM))
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Chipmakers rally | Example Markets</title><meta property="og:type" content="article">{meta}
</head><body><header><div class="tagline">{before_title}</div></header>
<main><article><h1>Chipmakers rally as data-center demand stays hot</h1>
{after_title}
<div class="byline">By Jane Doe</div>
<div class="article-body">{body}</div>
{after_body}
</article></main></body></html>"""


def test_a_shown_description_between_headline_and_body_opens_the_body() -> None:
    body = extract(page(after_title=f'<p class="bajada">{DEK}</p>'), URL).body
    assert body.split("\n\n")[:2] == [DEK, LOREM[0]]


def test_the_standfirst_is_taken_as_shown_even_with_inline_markup() -> None:
    shown = DEK.replace("two cloud providers", "<a href='/cloud'>two cloud providers</a>")
    body = extract(page(after_title=f"<h2><span>{shown}</span></h2>"), URL).body
    assert body.startswith(DEK + "\n\n")


def test_a_description_that_is_the_first_paragraph_is_not_repeated() -> None:
    body = extract(page(description=LOREM[0]), URL).body
    assert body.count(LOREM[0]) == 1 and body.startswith(LOREM[0])


def test_a_description_shown_after_the_body_begins_is_no_standfirst() -> None:
    """Some sites declare the author's bio or their own tagline as the description."""
    bio = "Jane Doe covers semiconductors and cloud computing for Example Markets from San Francisco."
    body = extract(page(description=bio, after_body=f'<div class="about">{bio}</div>'), URL).body
    assert bio not in body and body.startswith(LOREM[0])


def test_a_description_shown_only_above_the_headline_is_no_standfirst() -> None:
    body = extract(page(before_title=DEK), URL).body
    assert DEK not in body


def test_a_description_that_is_not_shown_adds_nothing() -> None:
    assert extract(page(), URL).body.startswith(LOREM[0])


def test_a_short_description_is_not_taken_for_a_standfirst() -> None:
    body = extract(page(description="Markets news", after_title="<p>Markets news</p>"), URL).body
    assert not body.startswith("Markets news")


def test_a_description_that_is_the_headline_is_no_standfirst() -> None:
    """Some sites declare the headline as the description; a second copy of it under the <h1> (a
    share box, a breadcrumb) must not open the body."""
    headline = "Chipmakers rally as data-center demand stays hot"
    html = page(description=headline, after_title=f'<div class="share-title">{headline}</div>')
    assert not extract(html, URL).body.startswith(headline)
