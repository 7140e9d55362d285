"""Furniture inside the body: promo lines, disclaimers, compensation and AI notes, newsletter offers."""

from __future__ import annotations

from archive.extract import extract
from tests.pages import LOREM, article

URL = "https://news.example.com/markets/chips.html"
FURNITURE = [
    "Related: Oil slides after OPEC+ output surprise",
    "Read more: Banks brace for tougher capital rules",
    "See also: Yen weakens past 150 per dollar",
    "This article is for informational purposes only and does not constitute investment advice.",
    "We may receive compensation when you click on links to products in this article.",
    "The views and opinions expressed herein are those of the author.",
    "This article was generated with the support of AI and reviewed by an editor.",
    "Zacks' free stock analysis report on Nvidia is available here.",
    "Sign up for our Morning Briefing newsletter to get the day's stories.",
]


def test_furniture_paragraphs_inside_the_body_are_dropped_and_prose_stays() -> None:
    prose = ("Regulators said on Tuesday that what counts as investment advice online will be reviewed, "
             "after several brokers argued that the current rules, written decades before social media, "
             "leave retail investors exposed to promoters who present paid endorsements as research and "
             "who rarely disclose what they are paid. The review will run until the end of next year, and "
             "the agency expects to publish draft rules for comment before then.")
    paragraphs = [LOREM[0], FURNITURE[0], LOREM[1], FURNITURE[1], prose, *FURNITURE[2:5], LOREM[2],
                  *FURNITURE[5:], LOREM[3]]
    body = extract(article(paragraphs=paragraphs), URL).body
    for line in FURNITURE:
        assert line not in body
    for line in (LOREM[0], LOREM[1], prose, LOREM[2], LOREM[3]):
        assert line in body
    assert body.endswith(LOREM[3])


TAIL = [
    "Jane Doe is a senior reporter for Example Markets covering semiconductors.",
    "Topics: Chips, Earnings, Markets",
    "Photos by Jane Doe (Example Pictures)",
    "Get the latest market news from Example Markets in your inbox.",
    "Follow Example Markets on Google News to get our coverage in your feed.",
    "This article originally appeared on Example Weekly.",
    "With files from Example Wire",
    "More markets news:",
    "Jane Doe is on Twitter at janedoe.",
    "Read next: Banks brace for tougher capital rules",
    "Loading comments...",
]


def test_trailing_furniture_is_trimmed_from_the_end_only() -> None:
    body = extract(article(paragraphs=[*LOREM[:3], *TAIL]), URL).body
    assert body.endswith(LOREM[2])
    # the same kinds of line inside the article stay: only the end of a body is trimmed
    body = extract(article(paragraphs=[LOREM[0], TAIL[0], TAIL[1], LOREM[1]]), URL).body
    assert TAIL[0] in body and TAIL[1] in body


def test_leading_furniture_headline_with_kicker_foreign_byline_labels_and_credits() -> None:
    title = "Chipmakers rally as data-center demand stays hot"
    for lead in (f"Markets : {title}", "Von Anna Beispiel, Frankfurt", "Par Jeanne Exemple",
                 "Posted by Jane Doe, Software Engineer", "Article content", "(All photos: Example staff)"):
        body = extract(article(title, paragraphs=[lead, *LOREM[:3]]), URL).body
        assert body.startswith(LOREM[0]), lead


def test_affiliate_commission_notice_is_dropped_anywhere() -> None:
    notice = "Example Media may earn an affiliate commission from purchases made through links on this page."
    body = extract(article(paragraphs=[LOREM[0], notice, LOREM[1], LOREM[2]]), URL).body
    assert notice not in body and LOREM[1] in body


def test_a_lead_beside_the_container_of_the_other_paragraphs_is_kept() -> None:
    """An intro box before a 'read more' fold: the article region takes both."""
    paragraphs = [*LOREM, *(f"{p[:-1]}, a second source said." for p in LOREM)]  # over 1000 characters
    intro = ("A high-powered team has been doing the rounds of trading desks in the past few days in an "
             "attempt to calm concerns about the new disclosure rules. It failed.")
    page = f"""<html><head><title>Disclosure rules</title></head><body><div class="wrap">
<div class="story-body"><h1>Disclosure rules</h1><div class="story-intro"><p><strong>{intro}</strong></p></div>
<div id="fold"><a href="#">Read more</a><div id="fold-content">{''.join(f'<p>{p}</p>' for p in paragraphs)}</div></div>
</div></div><div class="sidebar"><p>Most read today: a list of other stories.</p></div></body></html>"""
    body = extract(page, URL).body
    assert body.startswith(intro) and body.endswith(paragraphs[-1])
