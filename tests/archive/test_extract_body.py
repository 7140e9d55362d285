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
