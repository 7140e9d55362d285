"""Pages for measuring near-duplicate links (bench/near_duplicates.py, tests/test_near_duplicates.py).

Two sets, written for this project:

- templated: market commentary made from one template, one page per company (different names,
  tickers and figures, the same sentences otherwise), all published the same morning: distinct
  articles whose bodies share most of their word 3-grams. None may be linked to another.
- syndicated: short news stories, each served twice: the wire copy on a wire service's site, and
  the copy a news site republished later, with its own chrome (navigation, related links, an
  attribution line), its own headline style, and its last paragraph dropped. Each pair must be
  linked; no two stories may be.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass
from pathlib import Path

#: (company, ticker, exchange, sector): fictional issuers, so that no real company is misquoted.
COMPANIES = (
    ("Halvorsen Microsystems", "HLVM", "NASDAQ", "semiconductor"), ("Brightwater Utilities", "BWTU", "NYSE", "utility"),
    ("Corvane Therapeutics", "CRVN", "NASDAQ", "biotech"), ("Mistral Freight Lines", "MSFL", "NYSE", "transport"),
    ("Quillon Software", "QUIL", "NASDAQ", "software"), ("Tamsin Retail Group", "TMRG", "NYSE", "retail"),
    ("Oberlin Energy Partners", "OBEP", "NYSE", "energy"), ("Pellucid Bancorp", "PLBC", "NASDAQ", "banking"),
    ("Wexford Aerospace", "WXAR", "NYSE", "aerospace"), ("Galloway Foods", "GLWF", "NASDAQ", "food"),
    ("Ardent Mining Corp", "ARDM", "NYSE", "mining"), ("Linnet Cloud Systems", "LNCS", "NASDAQ", "cloud"),
)

TEMPLATE = (
    "Shares of {company} ({exchange}: {ticker}) {moved} {pct}% to ${price} in morning trading on {day}, "
    "as investors weighed the {sector} company's latest outlook against a softer session for the broader market.",
    "The stock has {ytd_verb} {ytd}% so far this year, compared with a {index}% move in the S&P 500, and trades "
    "at about {pe} times expected earnings.",
    "Analysts polled by the data provider expect {company} to report earnings of ${eps} a share on revenue of "
    "${revenue} billion for the quarter, when it releases results on {report}.",
    "Trading volume reached {volume} million shares by midday, above the stock's 30-day average, as options "
    "activity pointed to continued interest from institutional holders.",
    "Of the {analysts} analysts covering {ticker}, {buys} rate the shares a buy, and their average price target of "
    "${target} implies {upside}% upside from current levels.",
    "The broader market was mixed in early trading, with investors looking ahead to the central bank's policy "
    "meeting later in the week and to a busy stretch of quarterly reports from large companies. Treasury yields "
    "edged lower, and the dollar was little changed against a basket of major currencies.",
    "Investors have rewarded companies that beat expectations this reporting season less than usual, while those "
    "that missed have been punished more sharply, a pattern strategists attribute to high valuations and to "
    "uncertainty over the path of interest rates in the months ahead.",
    "Market commentary of this kind looks at how a stock traded during the session, how it compares with its "
    "peers and with the index, what analysts expect from the next report, and how the options market is "
    "positioned, so that readers can see at a glance what moved the shares and why it may matter.",
    "Price moves in a single session can reverse quickly, particularly in weeks when several large companies "
    "report results and when economic data releases shift expectations for growth, inflation and rates.",
    "This commentary was generated automatically from market data and is not investment advice. Figures are "
    "delayed by at least 15 minutes. Past performance does not guarantee future results, and readers should do "
    "their own research before making any investment decision.",
)


@dataclass(frozen=True)
class Page:
    """One page to serve: its path on its site, its HTML, and the key of the story it tells."""

    site: str   # "wire", "news" or "markets": which local site serves it
    path: str
    html: str
    story: str  # pages with the same story key are the same story: they should be linked


def templated_pages(count: int = len(COMPANIES)) -> list[Page]:
    """`count` commentary pages from TEMPLATE, one company each, published within one morning."""
    pages = []
    for number, (company, ticker, exchange, sector) in enumerate(COMPANIES[:count]):
        rng = random.Random(number)
        up = rng.random() < 0.5
        price = rng.uniform(20, 400)
        values = dict(company=company, ticker=ticker, exchange=exchange, sector=sector,
                      moved="rose" if up else "fell", pct=f"{rng.uniform(0.4, 6):.1f}", price=f"{price:.2f}",
                      day="Tuesday", ytd_verb="gained" if rng.random() < 0.6 else "lost",
                      ytd=f"{rng.uniform(1, 40):.1f}", index=f"{rng.uniform(2, 9):.1f}", pe=f"{rng.uniform(9, 45):.1f}",
                      eps=f"{rng.uniform(0.1, 4):.2f}", revenue=f"{rng.uniform(0.3, 30):.2f}",
                      report=f"{rng.choice(['Feb.', 'March'])} {rng.randint(2, 27)}",
                      volume=f"{rng.uniform(1, 25):.1f}", analysts=str(rng.randint(8, 30)), buys=str(rng.randint(3, 8)),
                      target=f"{price * rng.uniform(1.05, 1.4):.2f}", upside=f"{rng.uniform(5, 40):.1f}")
        title = f"{company} ({ticker}) shares {'rise' if up else 'fall'} {values['pct']}% as investors weigh outlook"
        paragraphs = [sentence.format(**values) for sentence in TEMPLATE]
        published = f"2025-01-28T{9 + number // 4:02d}:{(number * 13) % 60:02d}:00-05:00"
        pages.append(Page("markets", f"/stocks/{ticker.lower()}-shares-move.html",
                          _markets_page(title, paragraphs, published), f"templated-{ticker}"))
    return pages


#: Stories written for this set: (slug, wire headline, republished headline, dateline, paragraphs).
STORIES = (
    ("port-strike", "Dockworkers at three Gulf ports walk out over automation plan",
     "Gulf port workers strike over automation",
     "HOUSTON",
     ["Dockworkers at three Gulf Coast ports walked off the job on Tuesday after talks over a plan to automate "
      "container cranes broke down late on Monday, union officials said.",
      "The stoppage halted loading at terminals in Houston, Mobile and Gulfport, which together handle about "
      "a fifth of the region's container traffic, according to figures from the port authorities.",
      "Employers said the new cranes would be introduced over four years and that no current worker would lose "
      "a job, but the union said the plan would cut hiring by half within a decade.",
      "Shipping lines began diverting vessels to East Coast ports, and freight forwarders warned customers of "
      "delays of up to a week for goods already at sea.",
      "Federal mediators were expected to meet both sides on Wednesday morning."]),
    ("copper-smelter", "Chilean copper smelter shut after fire, output hit for weeks",
     "Fire shuts major Chilean copper smelter for weeks",
     "SANTIAGO",
     ["A fire at one of Chile's largest copper smelters forced its operator to halt production on Monday, and "
      "repairs are expected to take at least three weeks, the company said in a statement.",
      "No workers were injured in the blaze, which started in a conveyor system feeding the plant's main "
      "furnace shortly after midnight, the statement said.",
      "The smelter processes roughly 400,000 tonnes of copper concentrate a year, and traders said the outage "
      "could tighten supplies of refined metal in South America during the first quarter.",
      "Benchmark copper prices on the London Metal Exchange rose as much as 1.8% after the news before paring "
      "gains in afternoon trading.",
      "Chile's mining ministry said it had sent inspectors to the site to investigate the cause of the fire."]),
    ("rail-merger", "Regulators open in-depth review of regional rail merger",
     "Regulators open deep probe into rail merger",
     "WASHINGTON",
     ["U.S. regulators on Thursday opened an in-depth review of a proposed merger between two regional freight "
      "railroads, saying the deal could reduce competition for grain and chemical shippers in the Midwest.",
      "The Surface Transportation Board said it would take public comments for 60 days and expected to issue a "
      "decision by the end of the year, later than the companies had hoped.",
      "The railroads have argued that combining their networks would shorten transit times and take trucks off "
      "highways, and they have offered to keep open every interchange with rival carriers.",
      "Several farm groups and a coalition of chemical makers urged the board last month to attach strict "
      "conditions to any approval, including caps on rates for captive shippers.",
      "Shares of both railroads were little changed after the announcement."]),
    ("coffee-prices", "Arabica coffee futures hit two-month low as Brazil rains return",
     "Coffee prices slide to two-month low on Brazil rain",
     "NEW YORK",
     ["Arabica coffee futures fell to their lowest level in two months on Wednesday as forecasts of steady rain "
      "in Brazil's main growing regions eased worries about the coming harvest.",
      "The most-active contract on ICE Futures U.S. settled down 4.2% at $3.12 per pound, extending a slide that "
      "began last week when weather models first showed wetter conditions.",
      "Dealers said roasters had held back purchases during the rally of the past quarter and were now "
      "returning to the market, which could limit further losses.",
      "Robusta futures in London also declined, though by less, as exports from Vietnam remained slow.",
      "Brazil's crop agency is due to publish its first estimate of the new season's output next month."]),
    ("airline-pilots", "Pilots at budget airline approve contract with 22% raises",
     "Budget carrier's pilots back contract with big raises",
     "DALLAS",
     ["Pilots at a fast-growing budget airline voted to approve a four-year contract that raises their pay by 22% "
      "over its term, ending nearly two years of negotiations, their union said on Friday.",
      "About 87% of the pilots who voted backed the agreement, which also improves scheduling rules and adds "
      "retirement contributions, the union said.",
      "The airline said the contract would add about $180 million to its costs this year and that it still "
      "expected to be profitable, helped by strong demand for leisure travel.",
      "Analysts said the deal removed a source of uncertainty but would pressure margins as other carriers also "
      "negotiate higher pay for pilots and flight attendants.",
      "The company's shares rose 2% in early trading."]),
)

WIRE_CHROME = ("<header><a href='/'>Wire Service</a> <nav><a href='/world'>World</a> <a href='/business'>Business</a> "
               "<a href='/markets'>Markets</a></nav></header>")
NEWS_CHROME = ("<header><div class='logo'><a href='/'>The Daily Ledger</a></div><nav><a href='/local'>Local</a> "
               "<a href='/money'>Money</a> <a href='/opinion'>Opinion</a> <a href='/sports'>Sports</a></nav></header>")


def syndicated_pages() -> list[Page]:
    """Each story twice: the wire copy, and a newspaper's republished copy hours later."""
    pages = []
    for number, (slug, wire_title, news_title, dateline, paragraphs) in enumerate(STORIES):
        wire_body = [f"{dateline}, Jan 28 (Wire Service) - {paragraphs[0]}", *paragraphs[1:],
                     "Reporting by the newsroom; editing by the desk."]
        pages.append(Page("wire", f"/business/{slug}-2025-01-28/", _wire_page(
            wire_title, wire_body, f"2025-01-28T{8 + number}:05:00Z"), slug))
        news_body = [f"{dateline} — {paragraphs[0]}", *paragraphs[1:-1],
                     "This story was originally published by Wire Service."]
        pages.append(Page("news", f"/money/{number + 1000}/{slug}.html", _news_page(
            news_title, news_body, f"2025-01-28T{14 + number}:40:00-05:00"), slug))
    return pages


def pairs(pages: list[Page]) -> set[frozenset[str]]:
    """The pairs of paths that tell the same story: what should be linked."""
    found: set[frozenset[str]] = set()
    for a in pages:
        for b in pages:
            if a.path < b.path and a.story == b.story:
                found.add(frozenset({a.path, b.path}))
    return found


def write_pages(root: Path, pages: list[Page]) -> dict[str, Path]:
    """Each site's pages under root/<site>/, with an index.html linking to them; site -> folder."""
    folders: dict[str, Path] = {}
    for page in pages:
        folder = folders.setdefault(page.site, root / page.site)
        target = folder / page.path.lstrip("/")
        if page.path.endswith("/"):
            target = target / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.html, encoding="utf-8")
    for site, folder in folders.items():
        links = "".join(f'<li><a href="{html.escape(p.path)}">{html.escape(p.path)}</a></li>'
                        for p in pages if p.site == site)
        (folder / "index.html").write_text(f"<!DOCTYPE html><html><body><ul>{links}</ul></body></html>",
                                           encoding="utf-8")
    return folders


def _paragraphs(paragraphs: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def _markets_page(title: str, paragraphs: list[str], published: str) -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | Market Pulse</title>
<meta property="og:type" content="article"><meta property="article:published_time" content="{published}">
</head><body><header><a href="/">Market Pulse</a> <nav><a href="/stocks">Stocks</a> <a href="/etf">ETFs</a></nav></header>
<main><article><h1>{html.escape(title)}</h1><p class="byline">By Market Pulse Bot</p>
<div class="article-body">{_paragraphs(paragraphs)}</div></article></main>
<footer>&copy; 2025 Market Pulse</footer></body></html>"""


def _wire_page(title: str, paragraphs: list[str], published: str) -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | Wire Service</title>
<meta property="og:type" content="article"><meta property="article:published_time" content="{published}">
</head><body>{WIRE_CHROME}<main><article><h1>{html.escape(title)}</h1><p class="byline">By Wire Service staff</p>
<div class="article-body">{_paragraphs(paragraphs)}</div></article>
<aside><h3>Most read</h3><ul><li><a href="/world/a">Ceasefire talks resume</a></li></ul></aside></main>
<footer>Our standards: the Trust Principles. &copy; 2025 Wire Service</footer></body></html>"""


def _news_page(title: str, paragraphs: list[str], published: str) -> str:
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} - The Daily Ledger</title>
<meta property="og:type" content="article"><meta property="og:site_name" content="The Daily Ledger">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "{html.escape(title)}", "datePublished": "{published}"}}</script>
</head><body>{NEWS_CHROME}<main><article><h1>{html.escape(title)}</h1>
<div class="byline">From Wire Service</div>
<div class="story">{_paragraphs(paragraphs)}</div></article>
<section class="related"><h3>Related</h3><ul><li><a href="/money/1">Local gas prices climb</a></li>
<li><a href="/money/2">What rising rates mean for your mortgage</a></li></ul></section>
<section class="newsletter"><p>Sign up for our morning newsletter.</p></section></main>
<footer>&copy; 2025 The Daily Ledger. All rights reserved.</footer></body></html>"""
