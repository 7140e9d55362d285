"""The web app through Starlette's TestClient: every page and its JSON twin, on SQLite and
PostgreSQL, over the demo archive (crawled twice) and an article full of hostile payloads."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Iterator

import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from archive.api import Archive
from archive.errors import BadInput
from archive.query import Filters
from archive.export import CSV_COLUMNS
from archive.web import create_app
from archive.web.app import CSP, RAW_CSP

pytestmark = pytest.mark.slow
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def archive(archive_url: str) -> Iterator[Archive]:
    opened = Archive.open(archive_url)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def client(archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(archive.engine), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def ids(archive: Archive) -> dict[str, int]:
    """Article ids by the last part of their path."""
    return {v.canonical_url.rsplit("/", 1)[-1].removesuffix(".html"): v.article_id
            for v in archive.search(limit=100)}


def get(client: TestClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.text[:500])
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert re.fullmatch(r"app;dur=\d+\.\d", response.headers["server-timing"])  # what the web bench reads
    return response.text


def api(client: TestClient, path: str, status: int = 200) -> dict:
    response = client.get(path)
    assert response.status_code == status, (path, response.text[:500])
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


class Markup(HTMLParser):
    """The elements and attributes of a page, and its text (entities decoded)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def assert_inert(page: str) -> str:
    """No element or attribute in the page that could run, load or restyle anything but the app's
    own: no script/style/img/object elements, no on* or style attributes, no javascript: URLs, and
    the one frame sandboxed. Returns the page's text."""
    markup = Markup(page)
    for tag, attrs in markup.elements:
        assert tag not in ("script", "style", "img", "object", "embed", "base", "meta" if "http-equiv" in attrs
                           else "-"), (tag, attrs)
        assert not any(name.startswith("on") or name == "style" for name in attrs), (tag, attrs)
        for name in ("href", "src", "action", "formaction", "xlink:href"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (tag, attrs)
            assert not value.startswith(("http://", "https://", "//")) or tag == "a", (tag, attrs)
        if tag == "iframe":
            assert "sandbox" in attrs and not attrs["sandbox"] and (attrs.get("src") or "").startswith("/raw/"), attrs
        if tag == "link":
            assert attrs.get("href", "").startswith("/"), attrs
    return " ".join(markup.text)


def visible(html: str) -> str:
    """The page's text, tags dropped and entities kept: what escaping left of archived markup."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_search_page_results_total_chart_facets_and_paging(client: TestClient, archive: Archive) -> None:
    html = get(client, "/search?q=nvidia&ticker=NVDA")
    data = api(client, "/api/search?q=nvidia&ticker=NVDA")
    expected = archive.search("nvidia", ticker="NVDA", limit=50)
    assert data["total"] == len(expected) >= 2
    assert [r["article_id"] for r in data["results"]] == [v.article_id for v in expected]  # newest first
    assert f'<strong id="total">{len(expected)}</strong>' in html
    assert "<mark>Nvidia</mark>" in html or "<mark>nvidia</mark>" in html
    assert all("nvidia" in r["snippet"].lower() or "nvidia" in r["title"].lower() for r in data["results"])
    # attention: counts per period add up to the dated matches, and each share is of every article then
    periods = data["attention"]["periods"]
    assert sum(p["matching"] for p in periods) + data["attention"]["undated"] == data["total"]
    assert all(p["total"] >= p["matching"] for p in periods)
    assert any(p["total"] > p["matching"] for p in periods)
    assert html.count('<rect class="bar"') == len(periods) and html.count('<rect class="bar share"') == len(periods)
    assert api(client, "/api/attention?q=nvidia&ticker=NVDA") == data["attention"]
    assert api(client, "/api/attention?q=nvidia&ticker=NVDA&by=month")["by"] == "month"
    # facets: links that add the filter
    assert "NVDA" in data["facets"]["tickers"]
    assert '<a href="/search?q=nvidia&amp;ticker=NVDA&amp;ticker=AMD">AMD</a>' in html
    # Accept: application/json on the page itself gives its twin
    assert client.get("/search?q=nvidia&ticker=NVDA", headers={"Accept": "application/json"}).json() == data
    # pages: the second page continues the first, and the total is the same
    first, second = api(client, "/api/search?per=5"), api(client, "/api/search?per=5&page=2")
    assert first["total"] == second["total"] == len(archive.search(limit=100))
    assert [r["article_id"] for r in first["results"] + second["results"]] == \
        [v.article_id for v in archive.search(limit=10)]
    assert 'rel="next" href="/search?per=5&amp;page=3"' in get(client, "/search?per=5&page=2")


def test_search_filters_mean_what_the_cli_options_mean(client: TestClient, archive: Archive) -> None:
    cases = {"site=127.0.0.1&edited=1": dict(site="127.0.0.1", edited=True),
             "author=Edwin+Foster": dict(author="Edwin Foster"),
             "language=en&since=2025-02-01&until=2025-02-28": dict(language="en", since="2025-02-01",
                                                                   until="2025-02-28"),
             "ticker=AMD&as_of=2000-01-01": dict(ticker="AMD", as_of="2000-01-01"),
             "q=%22export+controls%22+OR+dividend": dict(query='"export controls" OR dividend')}
    for params, kwargs in cases.items():
        query = kwargs.pop("query", None)
        expected = [v.article_id for v in archive.search(query, limit=100, **kwargs)]
        assert [r["article_id"] for r in api(client, f"/api/search?{params}&per=100")["results"]] == expected, params
    assert api(client, "/api/search?edited=1")["total"] == 4  # three demo edits and the hostile article


def test_downloads_stream_exactly_the_query(client: TestClient, archive: Archive) -> None:
    expected = list(archive.rows("nvidia", ticker="NVDA", with_body=False))
    response = client.get("/export.csv?q=nvidia&ticker=NVDA")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(int(r["article_id"]), int(r["version"])) for r in rows] == \
        [(r["article_id"], r["version"]) for r in expected]
    lines = [json.loads(line) for line in client.get("/export.jsonl?q=nvidia&ticker=NVDA").text.splitlines()]
    assert [line["article_id"] for line in lines] == [r["article_id"] for r in expected] and lines[0]["body"]
    table = pq.read_table(io.BytesIO(client.get("/export.parquet?q=nvidia&ticker=NVDA").content))
    assert table.column("article_id").to_pylist() == [r["article_id"] for r in expected]
    everything = client.get("/export.jsonl").text.splitlines()
    assert len(everything) == api(client, "/api/search")["total"]


def test_article_page_fields_evidence_timeline_and_capture(client: TestClient, ids: dict[str, int]) -> None:
    article_id = ids["amd-datacenter-gpu-share"]
    html = get(client, f"/article/{article_id}")
    data = api(client, f"/api/article/{article_id}")
    assert [v["version"] for v in data["versions"]] == [1, 2]
    assert data["versions"][1]["changed"] == ["body", "tickers"] or sorted(data["versions"][1]["changed"]) == \
        ["body", "tickers"]
    tickers = {t["symbol"]: t for t in data["version"]["tickers"]}
    assert "AVGO" in tickers and tickers["AVGO"]["evidence"]
    assert "publisher edit" in html and f'/article/{article_id}/diff?from=1&amp;to=2' in html
    assert '<th>evidence</th>' in html and "validated by" in html
    assert f'<iframe class="raw" sandbox src="{data["raw"]}"' in html
    older = api(client, f"/api/article/{article_id}?v=1")
    assert older["version"]["version"] == 1 and "AVGO" not in {t["symbol"] for t in older["version"]["tickers"]}
    raw = client.get(data["raw"])
    assert raw.status_code == 200 and raw.headers["content-security-policy"] == RAW_CSP
    assert raw.headers["content-type"].startswith("text/html") and b"Broadcom" in raw.content
    # near-duplicates name each other
    wire, original = ids["apple-china-iphone-shipments-wire"], ids["apple-china-iphone-shipments"]
    pair = [api(client, f"/api/article/{i}") for i in (wire, original)]
    copy, first = (pair[0], pair[1]) if pair[0]["duplicate_of"] else (pair[1], pair[0])
    assert copy["duplicate_of"] == first["article_id"]
    assert [d["article_id"] for d in first["near_duplicates"]] == [copy["article_id"]]


def test_diff_inline_and_side_by_side(client: TestClient, ids: dict[str, int]) -> None:
    article_id = ids["boeing-deliveries-rebound"]
    data = api(client, f"/api/article/{article_id}/diff?from=1&to=2")
    assert set(data["changed"]) == {"updated_at", "body"}
    inline = get(client, f"/article/{article_id}/diff?from=1&to=2")
    assert "<ins>" in inline and "<del>" in inline and "closed up 2.4% on Tuesday." in visible(inline)
    side = get(client, f"/article/{article_id}/diff?from=1&to=2&view=side")
    old = "".join(re.findall(r'<div class="old[^"]*">(.*?)</div>', side, re.S))
    new = "".join(re.findall(r'<div class="new[^"]*">(.*?)</div>', side, re.S))
    assert "<del>" in old and "<ins>" not in old and "<ins>" in new and "<del>" not in new
    # unchanged paragraphs away from the changes are folded, and shown on request
    assert "unchanged paragraph" in inline and "unchanged paragraph" in side
    full = get(client, f"/article/{article_id}/diff?from=1&to=2&full=1")
    assert "unchanged paragraph" not in full and full.count("<p") > inline.count("<p")
    assert visible(full).count("Boeing") > visible(inline).count("Boeing")
    assert "Changed fields" in side and "updated_at" in side  # fields before the body
    title = api(client, f"/api/article/{ids['pharma-dividend-stocks']}/diff")
    assert title["fields"]["title"]["new"].endswith("Over 3% to Buy in March") and "body" not in title["changed"]
    get(client, f"/article/{article_id}/diff?from=1&to=7", 404)


def test_ticker_page(client: TestClient, archive: Archive) -> None:
    html = get(client, "/ticker/NVDA")
    data = api(client, "/api/ticker/nvda")
    assert data["ticker"] == "NVDA" and data["articles"] == len(archive.search(ticker="NVDA", limit=100))
    assert "AMD" in data["co_mentioned"] and "NVDA" not in data["co_mentioned"]
    assert sum(p["matching"] for p in data["attention"]["periods"]) <= data["articles"]
    assert '<rect class="bar"' in html and '<a href="/ticker/AMD">AMD</a>' in html
    amd = api(client, "/api/ticker/AMD")
    assert {(e["canonical_url"].rsplit("/", 1)[-1], e["edits"]) for e in amd["most_edited"]} == \
        {("amd-datacenter-gpu-share.html", 1), ("payloads.html", 1)}


def test_edits_page_and_atom_feed(client: TestClient, ids: dict[str, int]) -> None:
    data = api(client, "/api/edits")
    assert data["total"] == 4 and all(e["version"] >= 2 and e["origin"] == "fetch" for e in data["edits"])
    fetched = [e["fetched_at"] for e in data["edits"]]
    assert fetched == sorted(fetched, reverse=True)
    html = get(client, "/edits?ticker=AVGO")
    assert 'type="application/atom+xml"' in html and "/edits.atom?ticker=AVGO" in html
    response = client.get("/edits.atom?ticker=AVGO")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link.endswith(f"/article/{ids['amd-datacenter-gpu-share']}/diff?from=1&to=2")
    assert len(ET.fromstring(client.get("/edits.atom").content).findall(f"{ATOM}entry")) == 4


def test_crawls_page_and_failed_urls(client: TestClient) -> None:
    data = api(client, "/api/crawls")
    assert len(data["runs"]) == 4 and data["errors_by_kind"].get("http_404", 0) >= 1
    html = get(client, "/crawls")
    hostile = next(r for r in data["runs"] if r["errors"])
    assert f'<a href="/crawls/{hostile["id"]}">' in html
    run = api(client, f"/api/crawls/{hostile['id']}")
    assert [f["url"].rsplit("/", 1)[-1] for f in run["failed"]] == ["missing.html"]
    assert run["failed"][0]["kind"] == "http_404"
    assert "missing.html" in get(client, f"/crawls/{hostile['id']}")
    get(client, "/crawls/99999", 404)


@pytest.mark.parametrize("path", ["/search?q=chips", "/search?q=script", "/ARTICLE", "/ARTICLE/diff?from=1&to=2",
                                  "/ARTICLE/diff?from=1&to=2&view=side", "/ARTICLE?v=1", "/edits",
                                  "/ticker/NVDA", "/search?author=Mallory", "/api/search?q=chips"])
def test_hostile_text_is_escaped_everywhere(client: TestClient, ids: dict[str, int], path: str) -> None:
    path = path.replace("/ARTICLE", f"/article/{ids['payloads']}")
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-security-policy"] == CSP
    if path.startswith("/api/"):
        assert "<script>window.__pwned_title=1</script>" in json.dumps(response.json())  # the text as it is
        return
    text = assert_inert(response.text)
    if path != "/ticker/NVDA" and "author" not in path:
        assert "<script>window.__pwned" in text or "<img src=x" in text  # shown, as text


def test_hostile_capture_is_sandboxed_and_feed_escaped(client: TestClient, ids: dict[str, int]) -> None:
    data = api(client, f"/api/article/{ids['payloads']}")
    assert "<script>" in data["version"]["title"]  # JSON carries the text as it is; escaping is the reader's
    raw = client.get(data["raw"])
    assert raw.headers["content-security-policy"].startswith("sandbox;")
    assert "script-src" not in raw.headers["content-security-policy"] and b"__pwned_raw" in raw.content
    html = get(client, f"/article/{ids['payloads']}")
    assert re.search(r'<iframe class="raw" sandbox src="/raw/[0-9a-f]{64}"', html)
    assert 'sandbox="' not in html  # an empty sandbox attribute: nothing allowed
    assert_inert(html)
    feed = client.get("/edits.atom").text
    titles = [e.findtext(f"{ATOM}title") for e in ET.fromstring(feed.encode()).findall(f"{ATOM}entry")]
    assert any(t.startswith("Chips <script>window.__pwned_title=1</script>") for t in titles)  # text, not markup


@pytest.mark.parametrize("query, message", [
    ("chips AND", "bad search query: AND needs a term after it (column 7): chips AND"),
    ('"export controls', "bad search query: a quote opened at column 1 is never closed"),
    ("NOT intel", "bad search query: NOT needs a term to subtract from"),
])
def test_bad_query_is_the_cli_line_with_400(client: TestClient, query: str, message: str) -> None:
    with pytest.raises(BadInput) as raised:
        Filters(text=query)
    line = str(raised.value)  # what the CLI prints after "Error: "
    assert line.startswith(message) and "\n" not in line
    response = client.get("/search", params={"q": query})
    assert response.status_code == 400 and response.headers["content-security-policy"] == CSP
    assert f'<p class="error" id="error">{line}</p>' in html.unescape(response.text)
    assert "Traceback" not in response.text
    assert client.get("/api/search", params={"q": query}).json() == {"error": line}


@pytest.mark.parametrize("path, status, message", [
    ("/search?since=yesterday", 400, "not a date: 'yesterday' (use YYYY-MM-DD, an ISO 8601 time or now)"),
    ("/search?page=0", 400, "page must be a whole number from 1, not '0'"),
    ("/search?per=100000", 400, "per must be a whole number from 1 to 200, not '100000'"),
    ("/search?by=year", 400, "by must be one of auto, day, week, month, not 'year'"),
    ("/search?edited=maybe", 400, "edited must be yes or no, not 'maybe'"),
    ("/article/424242", 404, "no article '424242' in the archive"),
    ("/article/x'--", 404, "no article \"x'--\" in the archive"),
    ("/raw/" + "0" * 64, 404, "no stored page '" + "0" * 64 + "'"),
    ("/export.xml", 404, "no download format 'xml': use jsonl, csv or parquet"),
    ("/nowhere", 404, "Not Found"),
])
def test_bad_requests_are_one_line(client: TestClient, path: str, status: int, message: str) -> None:
    response = client.get(path)
    assert response.status_code == status and "Traceback" not in response.text
    assert response.headers["content-security-policy"] == CSP
    api_path = "/api" + path if path.startswith(("/search", "/article")) else path
    answer = client.get(api_path, headers={"Accept": "application/json"})
    assert answer.status_code == status and answer.json() == {"error": message}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_no_endpoint_writes(client: TestClient, method: str) -> None:
    for path in ("/search", "/api/search", "/article/1", "/edits", "/crawls", "/export.csv", "/raw/" + "0" * 64):
        assert client.request(method, path).status_code == 405, (method, path)


def test_many_matches_are_estimated_from_a_sample_and_labelled(client: TestClient, archive: Archive,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """When a sample says a text matches archive.attention.ESTIMATE_ABOVE articles or more, the search
    page's total, chart and facets are that fixed sample's counts scaled up, labelled as estimates;
    the results stay exact."""
    from archive import attention as counting  # noqa: PLC0415
    from sqlalchemy import select  # noqa: PLC0415
    from archive.models import Article, Snapshot  # noqa: PLC0415
    exact = api(client, "/api/search?q=the&per=100")
    assert exact["total_estimated"] is False and exact["attention"]["estimated"] is False
    monkeypatch.setattr(counting, "SAMPLE_VERSIONS", 8)
    monkeypatch.setattr(counting, "ESTIMATE_ABOVE", 4)
    data = api(client, "/api/search?q=the&per=100")
    rate = round(1 / data["attention"]["sample_rate"])
    assert data["total_estimated"] is True and data["attention"]["estimated"] is True and rate > 1
    assert data["facets"]["estimated"] is True and data["facets"]["sample_rate"] == 1 / rate
    assert [r["article_id"] for r in data["results"]] == [r["article_id"] for r in exact["results"]]
    with archive.engine.connect() as connection:
        current = dict(connection.execute(select(Article.id, Snapshot.id).join(Snapshot, (
            Snapshot.article_id == Article.id) & (Snapshot.version == Article.latest_version))).all())
    kept = [a for a in (r["article_id"] for r in exact["results"])
            if (current[a] * 2654435761) % 2 ** 32 < 2 ** 32 // rate]
    assert data["total"] == rate * len(kept)
    assert all(n % rate == 0 for n in data["facets"]["sites"].values())
    html = get(client, "/search?q=the")
    assert '<span class="estimate"' in html and f"one matching version in {rate}" in html
    assert api(client, "/api/attention?q=the")["estimated"] is True


def test_a_phrase_whose_full_count_checks_many_candidates_keeps_its_sample(client: TestClient, archive: Archive,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL checks a phrase the indexes cannot decide on each of its pair candidates, so a
    full count costs the candidates, not the matches: past archive.attention.CHECK_ABOVE of them the
    sample's counts stand however few match. Two-word phrases (the pair index decides them) and
    SQLite (FTS5 decides phrases) are counted as before."""
    from archive import attention as counting  # noqa: PLC0415
    monkeypatch.setattr(counting, "SAMPLE_VERSIONS", 8)
    monkeypatch.setattr(counting, "ESTIMATE_ABOVE", 4)
    monkeypatch.setattr(counting, "CHECK_ABOVE", 0)
    postgresql = archive.engine.dialect.name == "postgresql"
    # texts that match nothing: their samples say 0, far under ESTIMATE_ABOVE
    three = api(client, '/api/search?q="walrus quantum zebra"')
    assert three["total"] == 0
    assert three["total_estimated"] is postgresql and three["attention"]["estimated"] is postgresql
    assert api(client, '/api/search?q="walrus quantum"')["total_estimated"] is False
    assert api(client, "/api/search?q=walrus")["total_estimated"] is False
    monkeypatch.setattr(counting, "CHECK_ABOVE", 10 ** 9)
    assert api(client, '/api/search?q="walrus quantum zebra"')["total_estimated"] is False
