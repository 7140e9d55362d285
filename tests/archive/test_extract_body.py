"""Furniture inside the body: promo lines, disclaimers, compensation and AI notes, newsletter offers."""

from __future__ import annotations

from lxml.html import fromstring

from archive.extract import extract
from archive.extract.body import _body_parts, _folded, _is_furniture_anywhere, clean_body
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
    "Comments are closed.",
    "SOURCE: Example Growth LLC",
    "Sources: Example Wire, Example Daily / Photo credit: Example Pictures",
    # the bio line in capitals and in other languages, and a closing call to action
    "JANE DOE IS THE EXAMPLE NETWORK'S POLITICAL EDITOR",
    "Martín Ejemplo es abogado administrativista y analista internacional",
    "Jeanne Exemple est journaliste au service économie.",
    "Anna Beispiel ist Korrespondentin in Frankfurt.",
    "To get the full story on this year's top stock -- completely free -- simply click here.",
    "Write to Jane Doe at jane.doe@example.com",
    "(END) Example Newswires",
    "11-17-151717ET",
    "See photos from this story:",
    "Mit Agenturmaterial.",
    "Courtesy: Example News",
]


def test_trailing_furniture_is_trimmed_from_the_end_only() -> None:
    body = extract(article(paragraphs=[*LOREM[:3], *TAIL]), URL).body
    assert body.endswith(LOREM[2])
    # the same kinds of line inside the article stay: only the end of a body is trimmed
    body = extract(article(paragraphs=[LOREM[0], TAIL[0], TAIL[1], LOREM[1]]), URL).body
    assert TAIL[0] in body and TAIL[1] in body


def test_a_closing_sentence_about_a_persons_office_stays() -> None:
    """A bio line names a profession a byline holds; a closing sentence about an office stays."""
    for last in ("Pedro Ejemplo es presidente del Gobierno desde 2018.", "Jane Doe was chief executive until 2019."):
        assert extract(article(paragraphs=[*LOREM[:3], last]), URL).body.endswith(last)


def test_leading_furniture_headline_with_kicker_foreign_byline_labels_and_credits() -> None:
    title = "Chipmakers rally as data-center demand stays hot"
    for lead in (f"Markets : {title}", "Von Anna Beispiel, Frankfurt", "Par Jeanne Exemple",
                 "Posted by Jane Doe, Software Engineer", "Article content", "(All photos: Example staff)"):
        body = extract(article(title, paragraphs=[lead, *LOREM[:3]]), URL).body
        assert body.startswith(LOREM[0]), lead


def test_a_date_line_that_opens_a_body_is_trimmed_in_any_order_of_its_parts() -> None:
    """The date with its time, zone, weekday or label, the time first or last; a sentence that
    opens with a date stays."""
    for lead in ("17:41 JST, October 13, 2024", "Updated 10:30 AM EST, Mon January 5, 2025",
                 "Published 3:04 PM ET Tue, 5 Jan 2025", "November 19, 2015 04:41:25 AM"):
        assert extract(article(paragraphs=[lead, *LOREM[:3]]), URL).body.startswith(LOREM[0]), lead
    sentence = "On October 13, 2024 the bank cut its key rate by half a point."
    assert extract(article(paragraphs=[sentence, *LOREM[:3]]), URL).body.startswith(sentence)


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


#: Wordings of the same kinds of furniture seen on many financial sites (written for this test).
MORE_FURNITURE = [
    "Disclaimer: The author holds no positions in the stocks mentioned and this is not a solicitation.",
    "Disclosure: The author has no position in any of the stocks mentioned.",
    "Disclaimer",
    "This article is for information purposes only and should not be relied upon.",
    "The content is provided for educational purposes only.",
    "Nothing in this article constitutes investment advice or a recommendation.",
    "Example Markets does not offer personalized investment advice.",
    "Example Media may be compensated by the companies featured in this article.",
    "This post may contain affiliate links.",
    "The views expressed in this article are those of the author and do not necessarily reflect those of "
    "Example Markets.",
    "The opinions expressed here by contributors are their own.",
    "This content was partially produced with the help of AI tools and reviewed by editors.",
    "This article was generated by Example's automated content engine and reviewed by an editor.",
    "This article is AI-generated and was checked by a member of our staff.",
    "Want the latest recommendations from Example Research? Click to get this free report.",
    "To read this article on Example.com click here.",
    "Want more? Sign up for the Example Markets Daily newsletter.",
    "Get our free newsletter with the best market stories every morning.",
    "Join 80,000 oil traders who receive our weekly newsletter.",
    "RELATED STORIES: Oil slides after OPEC+ output surprise",
    "Related Link: Gold miners brace for higher rates",
    "RELATED ARTICLE: Yen weakens past 150 per dollar",
    "Also see: Yen weakens past 150 per dollar",
    "Must read: Banks brace for tougher capital rules",
    "Trending: Oil slides after OPEC+ output surprise",
    "More: Banks brace for tougher capital rules",
    "Related Articles",
    "Related Article",
    "Recommended Story",
    "Must Read Stories",
    "Example Fool has positions in and recommends Nvidia. Example Fool has a disclosure policy.",
    "Jane Doe has no position in any of the stocks mentioned.",
    "Click here to get the Example Markets app.",
    "Quotes delayed by at least 15 minutes. See the list of exchanges and delays.",
    # UI labels alone in their paragraph, and "read also" promos in other languages
    "Advertisement",
    "ADVERTISEMENT",
    "Story continues below advertisement",
    "Article content",
    "Read more",
    "Continue reading below",
    "You Might Also Like",
    "Most read in Markets",
    "Anzeige",
    "Passer la publicité",
    "Czytaj więcej",
    "À lire aussi Les marchés européens reculent avant la Fed",
    "Lesen Sie auch: Der Dax schließt im Minus",
    "Leia também: Bolsa fecha em queda",
    # prompts: news tips, Google News and its "preferred source", the comment box, syndication
    "Got a story? Get in touch with our news team by emailing us at news@example.com.",
    "Have a tip? We want to hear from you! Send us a tip using our anonymous form.",
    "Follow Example Markets on Google News to get our latest stories in your feed.",
    "Add us as a preferred source on Google to see more of our coverage.",
    "You must confirm your public display name before commenting",
    "Join our commenting forum",
    "Read the original article on Example Insider.",
    # machine-translation and AI notes in German, French and Spanish
    "Dies ist eine maschinelle Übersetzung eines Artikels unserer US-Kollegen von Example Insider.",
    "Dieser Artikel wurde mit Hilfe von KI erstellt und von der Redaktion geprüft.",
    "Cet article a été traduit automatiquement et relu par la rédaction.",
    "Este artículo fue generado con inteligencia artificial y revisado por un editor.",
    # financial sites' disclaimers and calls to action
    "Example Media would like to remind you that the data contained in this website is not necessarily real-time.",
    "Our commentary is based on historical data and is not intended to serve as specific investment advice.",
    "This article, generated by Example Research, is designed to provide general insights and is not tailored "
    "to individual financial needs.",
    "On the date of publication, Jane Doe did not have (either directly or indirectly) any positions in the "
    "securities mentioned in this article.",
    "Subscribe to Example Pro for exclusive insights and analysis.",
    "Sign up here.",
    "Download the Example Finance app for Apple or Android",
    "Click here for the latest stock market news and in-depth analysis.",
    "Check out more of our electric-vehicle coverage by following this link.",
    "For more stories like this, check our markets page.",
    "Get the latest news from Example delivered straight to your inbox.",
    "Follow Example Finance on Twitter, Facebook and LinkedIn",
    "Most Read from Example News",
    "Image via Example Pictures",
    "Photo by Jane Doe/Example Images",
]
#: Risk boilerplate a quoted manager might also say: judged only at the start or end of a body.
EDGE_DISCLAIMERS = [
    "Investing involves risk, including the possible loss of principal.",
    "Past performance is no guarantee of future results.",
]


def test_more_wordings_of_disclaimers_promos_ai_notes_and_newsletter_offers_are_dropped() -> None:
    for line in MORE_FURNITURE:
        for paragraphs in ([LOREM[0], line, LOREM[1], LOREM[2]], [*LOREM[:3], line]):
            body = extract(article(paragraphs=paragraphs), URL).body
            assert line not in body and LOREM[1] in body and body.endswith(LOREM[2]), line
    for line in EDGE_DISCLAIMERS:
        body = extract(article(paragraphs=[*LOREM[:3], line]), URL).body
        assert line not in body and body.endswith(LOREM[2]), line


def test_prose_about_advice_newsletters_and_ai_stays() -> None:
    prose = [
        "The regulator said that nothing in the new rules would stop brokers from giving investment advice "
        "to clients who ask for it, as long as fees are disclosed.",
        "The report was produced by McKinsey, whose AI researchers surveyed more than 40 fund managers "
        "about their plans.",
        "The company's newsletter business, which readers subscribe to for market tips, grew 30% last year.",
        "Analysts who join the bank's newsletter team next year will cover oil.",
        "Read more about the plan in the company's filing, which runs to 300 pages.",
        "Advertising",  # a segment's heading in an earnings story
        "More from the Fed",  # a live blog's heading
        "Advertisement revenue rose 12% in the quarter, the company said.",
        "Das Unternehmen will mit Hilfe von KI die Kosten im Kundendienst um ein Drittel senken.",
        "Users will have to verify their age before commenting, under the new law.",
        "Publishers urged readers to make them a preferred source in Google's search results.",
        "Have a story about the chip shortage? The company says supply is back to normal.",
        "The fund did not hold any positions in the stocks at the end of March, its filing shows.",
        "The figures are not necessarily accurate, the auditor said, because the count is incomplete.",
        "The bank's products are not tailored to individual investors' needs, critics say.",
        "Sign up rates for the service rose 4% in March.",
        "Registering a new fund takes about three months, the regulator said.",
    ]
    body = extract(article(paragraphs=[LOREM[0], *prose, LOREM[1]]), URL).body
    for line in prose:
        assert line in body


def test_a_link_broken_out_of_its_sentence_is_joined_again() -> None:
    """The full cascade's fallbacks can cut a sentence around an inline link: 'NEW DELHI:' /
    'Pakistan' / "'s approach ..." is one paragraph."""
    from archive.extract.body import clean_body
    text = "NEW DELHI:\nPakistan\n's new approach to policing the internet is changing.\nIt began in May."
    assert clean_body(text, None, []) == ("NEW DELHI: Pakistan's new approach to policing the internet is "
                                          "changing.\n\nIt began in May.")


def test_a_breadcrumb_trail_read_as_a_list_does_not_open_the_body() -> None:
    from archive.extract.body import clean_body
    text = "\n".join(["- Home", "- News", "- Local", "- City Council", LOREM[0], LOREM[1]])
    assert clean_body(text, None, []) == f"{LOREM[0]}\n\n{LOREM[1]}"
    # two short items, or items that are sentences, are the article's own list
    for items in (["- Apples", "- Pears"], ["- Stocks fell.", "- Bonds rose.", "- Oil was flat."]):
        assert clean_body("\n".join([*items, LOREM[0]]), None, []).startswith(items[0])


def _split_article(second_class: str) -> str:
    """An article whose body is cut into grid cells, each with its own text container, with
    recirculation boxes between them (a layout several magazine CMSs share)."""
    parts = [LOREM[:2], LOREM[2:3], LOREM[3:4], LOREM[4:]]
    cells = []
    for n, paragraphs in enumerate(parts):
        text = "".join(f"<p>{p}</p>" for p in paragraphs)
        label = "article-body body__container" if n == 0 else second_class
        cells.append(f'<div class="grid-cell"><div class="{label}"><div class="inner">{text}</div></div></div>')
        cells.append('<div class="grid-cell"><div class="recirc"><a href="/x">More from Example Markets: '
                     'Gold hits a record</a></div></div>')
    page = article(paragraphs=["(cells)"])
    return page.replace('<div class="article-body">\n<p>(cells)</p>', "".join(cells[:-1]) + "<div>")


def test_a_body_cut_into_containers_of_the_same_class_is_read_whole() -> None:
    """trafilatura reads only the first container its body XPath names; the later ones with the
    same class are the same article (the boxes between them are not)."""
    body = extract(_split_article("article-body body__container"), URL).body
    assert body.startswith(LOREM[0]) and body.endswith(LOREM[4])
    assert all(p in body for p in LOREM)
    assert "Gold hits a record" not in body
    # only containers of the same class, and only where that class names a body, are joined
    assert len(_body_parts(fromstring(_split_article("article-body body__container")), 10**6)) == 4
    assert len(_body_parts(fromstring(_split_article("promo-column")), 10**6)) == 1
    # a container of the body's class inside the footer (IG's legal disclaimers) is not the article
    footer = _split_article("article-body body__container").replace(
        "</body>", '<div class="footer-disclaimer"><div class="article-body body__container">'
                   '<p>Spread bets are leveraged products and can result in losses.</p></div></div></body>')
    assert len(_body_parts(fromstring(footer), 10**6)) == 4
    assert "Spread bets" not in extract(footer, URL).body
    layout = _split_article("article-body body__container").replace("article-body body__container", "group wrap")
    assert _body_parts(fromstring(layout.replace('class="grid-cell"><div class="group wrap"',
                                                 'class="grid-cell"><div id="article-body" class="group wrap"', 1)), 10**6) == []


def test_folded_lines_keep_every_letter_an_ignorecase_pattern_matches() -> None:
    """The guard words of ANYWHERE_FURNITURE are looked for in `_folded` lines: every character
    that re.IGNORECASE matches with a letter a-z must fold to that very letter, or a line the
    pattern matches would be skipped."""
    import re
    import string

    everything = "".join(chr(code) for code in range(0x110000))
    for letter in string.ascii_lowercase:
        for char in re.findall(letter, everything, re.IGNORECASE):
            assert _folded(char) == letter, (letter, char)


def test_furniture_written_with_letters_that_lower_case_misses_is_still_dropped() -> None:
    # "ſ" (long s) and "ı" (dotless i) match "s" and "i" under re.IGNORECASE, inside the guard words
    assert _is_furniture_anywhere("We may receive compenſation when you click on links in this article.")
    assert _is_furniture_anywhere("This article is for informational purposes only and is not investment advıce.")
    assert _is_furniture_anywhere("Sign up for our Morning Briefing NEWSLETTER.")
    assert not _is_furniture_anywhere("Regulators said what counts as investment advice online will be reviewed.")


def test_share_labels_in_other_languages_are_trimmed_at_the_edges_only() -> None:
    labels = ["分享让更多人看到", "シェアする", "공유하기", "Teilen", "Partager sur Facebook", "Compartir en X",
              "Condividi", "Delen"]
    for label in labels:
        body = extract(article(paragraphs=[*LOREM[:3], label]), URL).body
        assert body.endswith(LOREM[2]), label
    prose = "Compartir datos de clientes con terceros sin permiso será ilegal, según la nueva ley."
    assert extract(article(paragraphs=[*LOREM[:3], prose]), URL).body.endswith(prose)


def test_labels_credits_and_a_lone_by_that_open_a_body_are_trimmed() -> None:
    for line in ("Tags: precious metals, silver prices", "Illustration by Jane Doe", "Photo credit: Example Wire",
                 "by"):
        body = extract(article(paragraphs=[line, *LOREM[:3]]), URL).body
        assert body.startswith(LOREM[0]), line


def test_a_section_label_that_the_url_names_does_not_open_the_body() -> None:
    """CBC's "World" on /news/world/..., Seznam Zprávy's "Článek" on /clanek/...: the label of
    a section the URL's path names (case and accents aside). A short line the path does not name stays."""
    url = "https://news.example.com/news/world/clanek/chips-rally-1.234"
    for label in ("World", "Článek"):
        assert extract(article(paragraphs=[label, *LOREM[:3]]), url).body.startswith(LOREM[0]), label
    assert extract(article(paragraphs=["Overview", *LOREM[:3]]), url).body.startswith("Overview")
    slug = "https://news.example.com/news/overview"  # the last segment is the article's own slug
    assert extract(article(paragraphs=["Overview", *LOREM[:3]]), slug).body.startswith("Overview")


def test_a_closing_sentence_about_sources_stays() -> None:
    line = "Sources close to the company said the talks would continue next week."
    assert extract(article(paragraphs=[*LOREM[:3], line]), URL).body.endswith(line)


def test_a_section_label_after_the_headline_is_trimmed_as_one_before_it() -> None:
    """The URL's section ("World" on /news/world/) may come before or after the headline line."""
    text = "Ceasefire talks resume in Cairo\nWorld\n" + LOREM[0] + "\n" + LOREM[1]
    body = clean_body(text, "Ceasefire talks resume in Cairo", [], "https://news.example.com/news/world/ceasefire-1.2")
    assert body.startswith(LOREM[0])


def _cells_page(cells: list[list[str]], cell_class: str = "article-widget article-widget-text") -> str:
    """A page (no <article> or <main>) whose body is cut into cells of one class between image and
    related-story cells, as some CMSs lay out every article."""
    blocks = []
    for i, paragraphs in enumerate(cells):
        text = "".join(f"<p>{p}</p>" for p in paragraphs)
        blocks.append(f'<div class="{cell_class}"><div class="wrap"><div class="text">{text}</div></div></div>')
        blocks.append(f'<div class="article-widget article-widget-image"><img src="/i{i}.jpg" alt="">'
                      f'<span class="caption">Photo {i}</span></div>')
    return (f"<html><head><title>Budget gives tax agency R4bn | Example Times</title></head><body>"
            f'<div class="page"><h1>Budget gives tax agency R4bn</h1><div class="article-widgets">{"".join(blocks)}'
            f"</div></div></body></html>")


def test_a_body_cut_into_cells_of_one_class_is_read_whole() -> None:
    """The densest cell alone was the article region and the first cell was lost (timeslive,
    rp.pl): the cells' container is the region, and trafilatura reads the cells joined."""
    first = LOREM[:3]  # enough for trafilatura to stop at the first cell it finds
    rest = LOREM[3:] + [p.replace("a", "e") for p in LOREM] + [p.replace("e", "o") for p in LOREM]
    body = extract(_cells_page([first, rest]), "https://news.example.com/business/2025-05-21-budget/").body
    assert body.startswith(LOREM[0])
    assert body.endswith(rest[-1])
    assert "Photo 0" not in body



def test_chrome_blocks_inside_the_article_region_are_not_read_into_the_body() -> None:
    """Blocks named as chrome (an inline sign-up box, a recommended story pulled into the text, a
    popular-articles carousel: three corpus sites' forms) inside the article's own container are
    left out of what trafilatura reads, as they are everywhere else; prose in other blocks stays."""
    extra = ('<div class="c-inlineSignup"><div class="c-inlineSignup__content">'
             '<h2 class="c-inlineSignup__title">Get the morning markets briefing</h2>'
             '<div class="c-inlineSignup__blurb">Top stories on stocks and bonds in your inbox every weekday '
             'before the opening bell.</div></div></div>'
             '<div class="article__teaser"><article class="recommended pull"><a href="/a/1">'
             '<p class="recommended__title"><b>Will chip stocks survive another rate hike?</b></p></a>'
             '</article></div>'
             '<section class="popular-articles"><div class="popular-articles__title-row"><h2>Popular</h2></div>'
             '<ol><li><h3><a href="/a/2">Banks brace for tougher capital rules next year</a></h3></li>'
             '<li><h3><a href="/a/3">Oil slides after an output surprise from producers</a></h3></li></ol></section>'
             '<p>Analysts at two brokers raised their targets after the call, citing stronger orders from '
             'cloud providers in the second half.</p>')
    body = extract(article(extra=extra, paragraphs=LOREM * 2), URL).body
    for chrome in ("morning markets briefing", "in your inbox", "survive another rate hike", "Popular",
                   "tougher capital rules", "output surprise"):
        assert chrome not in body
    assert body.endswith("citing stronger orders from cloud providers in the second half.")
    assert LOREM[0] in body
