"""Extraction accuracy and speed per source suite: this project, plain trafilatura and htmldate.

Usage:  python bench/extraction.py [--shared DIR] [--suite NAME] [--only ours] [--misses FIELD]

`--misses bounds` also counts the misses by cause (first/last sentence missing, extra lead/tail).

Reads both fixture sets under ../shared/fixtures: `pages/` (suite "fixtures", 19 financial pages)
and `corpus/` (299 pages; one suite per source project: fundus, readability, postlight, ...).
For every suite it prints each field for this project, for plain trafilatura (`bare_extraction`
with metadata) and, for dates, for htmldate's extensive mode (original date), in one run.

Fields (a page counts for a field only where its manifest gives the expected value):
  title      exact headline (whitespace-normalised)
  authors    exact list of person names, in order, up to letter case (this project writes an
             all-capitals byline "By JANE DOE" as "Jane Doe"); an empty list where the page has none
  date       publication calendar date right: the page's own calendar day, or where the expected
             value has a zone, the day in that offset (postlight/metascraper give UTC)
  time       publication instant right to the minute, where the expected value has a time and zone
  tickers    micro precision / recall of symbols, on the pages labelled for tickers
  body       first and last expected sentences both present in the body (their first/last 60 chars)
  bounds     the body starts with the first expected sentence and ends with the last one (for
             fundus, starting with its summary counts too: its body is the summary and then the
             sections, and so is this project's: a standfirst shown above the body belongs to it)
  body F1    token F1 against the whole expected body (corpus bodies/*.txt), or for the fixtures the
             page's visible text from the first expected sentence to the last one
  lead       the suite's lead excerpt (and tail excerpt) at the start (end) of the body
  (body, bounds and lead compare text without whitespace: the suites join blocks their own way,
  "CORRISPONDENTENEW YORK" where the page has a <br>, "once.So" across two paragraphs)
  article    share of pages classified as articles (every page in both sets is an article)
  errors     pages on which the extractor raised
Time per page is printed as ratios to trafilatura's, measured in the same run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.errors import ExtractionError  # noqa: E402
from archive.extract import extract  # noqa: E402

SHARED = Path(os.environ.get("ARCHIVE_SHARED") or ROOT.parent / "shared") / "fixtures"
FIELDS = ("title", "authors", "date", "time", "tickers", "body", "bounds", "f1", "lead", "article", "errors")


@dataclass
class Case:
    """One page with its expected values."""

    suite: str
    id: str
    url: str | None  # None: the suite does not know the page's address
    raw: bytes
    expected: dict[str, Any]
    reference: str | None  # the whole expected body, or a span of the page's text


def norm(text: str | None) -> str:
    return " ".join((text or "").split())


def squeeze(text: str | None) -> str:
    """The text without any whitespace."""
    return "".join((text or "").split())


def load_cases(shared: Path = SHARED, suites: Iterable[str] | None = None) -> list[Case]:
    """Every page of fixtures/pages and fixtures/corpus with its expectations (none if absent)."""
    wanted = set(suites) if suites else None
    cases: list[Case] = []
    pages = shared / "pages"
    if (pages / "manifest.jsonl").exists() and (wanted is None or "fixtures" in wanted):
        for entry in _manifest(pages):
            raw = (pages / entry["file"]).read_bytes()
            ref = _reference_span(raw, norm(entry["first_sentence"]), norm(entry["last_sentence"]))
            cases.append(Case("fixtures", entry["file"], entry["url"], raw, entry, ref))
    corpus = shared / "corpus"
    if (corpus / "manifest.jsonl").exists():
        for entry in _manifest(corpus):
            suite = entry["id"].split("_")[0]
            if wanted is not None and suite not in wanted and "corpus" not in wanted:
                continue
            raw = (corpus / entry["file"]).read_bytes()
            if entry.get("stored_gzip"):
                raw = gzip.decompress(raw)
            body = (corpus / entry["body_file"]).read_text() if entry.get("body_file") else None
            cases.append(Case(suite, entry["id"], entry["url"],
                              raw, entry, body))
    return cases


def _manifest(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line.strip()]


def _reference_span(raw: bytes, first: str, last: str) -> str | None:
    """The page's visible text from the first expected sentence to the last one, or None."""
    from lxml import html as lxml_html
    tree = lxml_html.document_fromstring(raw)
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    text = norm(" ".join(tree.itertext()))
    start, end = text.find(first[:50]), text.rfind(last[-50:])
    if start < 0 or end < 0 or end < start:
        return None
    return text[start:end + len(last[-50:])]


# --- the extractors, each returning the same plain dict ------------------------------------------

def ours(case: Case) -> dict[str, Any]:
    try:
        result = extract(case.raw, case.url)
    except ExtractionError as exc:
        return {"error": f"{exc.kind}: {exc}"}
    return {"title": result.title, "authors": list(result.authors),
            "published": result.published.isoformat() if result.published else None,
            "tickers": sorted({t.symbol for t in result.tickers}), "body": result.body,
            "article": result.is_article, "reason": result.kind_reason}


def plain(case: Case) -> dict[str, Any]:
    from trafilatura import bare_extraction
    try:
        doc = bare_extraction(case.raw, url=case.url, with_metadata=True)
    except Exception as exc:  # noqa: BLE001 - counted as an error, like ours
        return {"error": f"{type(exc).__name__}: {exc}"}
    if doc is None:
        return {"title": None, "authors": [], "published": None, "body": ""}
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    return {"title": doc.title, "authors": authors, "published": doc.date, "body": doc.text or ""}


def htmldate_extensive(case: Case) -> dict[str, Any]:
    from htmldate import find_date
    try:
        found = find_date(case.raw, url=case.url, extensive_search=True, original_date=True)
    except Exception as exc:  # noqa: BLE001
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"published": found}


EXTRACTORS: dict[str, Callable[[Case], dict[str, Any]]] = {
    "ours": ours, "trafilatura": plain, "htmldate": htmldate_extensive}
#: The fields each extractor is scored on (htmldate gives only a date).
SCORED = {"ours": FIELDS, "trafilatura": tuple(f for f in FIELDS if f not in ("time", "tickers", "article")),
          "htmldate": ("date", "errors")}


# --- scoring --------------------------------------------------------------------------------------

def _parse(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def date_right(got: str | None, expected: str) -> bool:
    """The calendar date matches: in the expected value's own offset where it has one."""
    if not got:
        return False
    exp, have = _parse(expected), _parse(got)
    if got[:10] == expected[:10]:
        return True  # the publisher's calendar day
    if exp is not None and have is not None and exp.tzinfo is not None and have.tzinfo is not None \
            and len(got) > 10:
        return have.astimezone(exp.tzinfo).date() == exp.date()  # the day in the expected value's zone
    return False


def instant(value: str | None) -> datetime | None:
    if not value or len(value) <= 10:
        return None
    parsed = _parse(value)
    return parsed.replace(second=0, microsecond=0) if parsed and parsed.tzinfo else None


def token_f1(got: str, reference: str) -> float:
    ours_tokens, ref_tokens = Counter(got.lower().split()), Counter(reference.lower().split())
    overlap = sum((ours_tokens & ref_tokens).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(ours_tokens.values()), overlap / sum(ref_tokens.values())
    return 2 * precision * recall / (precision + recall)


def _has_authors_truth(expected: dict[str, Any]) -> bool:
    truth = expected.get("truth_from")
    return expected.get("authors") is not None or truth is None or "authors" in truth


def score(case: Case, got: dict[str, Any]) -> dict[str, Any]:
    """Field -> True/False (None where the page has no expected value), tickers as (tp, fp, fn)."""
    exp = case.expected
    if "error" in got:
        got = {}
        errored = True
    else:
        errored = False
    body = norm(got.get("body"))
    first, last = norm(exp.get("first_sentence")), norm(exp.get("last_sentence"))
    result: dict[str, Any] = {"errors": errored}
    result["title"] = norm(got.get("title")) == norm(exp["title"])
    result["authors"] = ([norm(a).casefold() for a in got.get("authors") or []] ==
                         [norm(a).casefold() for a in exp.get("authors") or []]
                         if _has_authors_truth(exp) else None)
    result["date"] = date_right(got.get("published"), exp["published"]) if exp.get("published") else None
    want = instant(exp.get("published"))
    result["time"] = (instant(got.get("published")) == want) if want else None
    if exp.get("tickers") is not None:
        want_t, got_t = set(exp["tickers"]), set(got.get("tickers") or [])
        result["tickers"] = (len(want_t & got_t), len(got_t - want_t), len(want_t - got_t))
    else:
        result["tickers"] = None
    # Sentences and excerpts are compared without whitespace: the suites join blocks their own
    # way (fundus drops a <br>: "CORRISPONDENTENEW YORK"; postlight glues paragraphs: "once.So"),
    # and where a line breaks is not what these fields measure.
    flat = squeeze(body)
    if first and last:
        excludes = exp.get("body_excludes") or []
        clean = not any(squeeze(x) in flat for x in excludes)
        result["body"] = squeeze(first[:60]) in flat and squeeze(last[-60:]) in flat and clean
        result["bounds"] = flat.startswith(openings(exp)) and flat.endswith(squeeze(last[-60:])) and clean
    else:
        result["body"] = result["bounds"] = None
    result["f1"] = token_f1(body, case.reference) if case.reference else None
    lead, tail = squeeze(exp.get("lead_excerpt")).lower(), squeeze(exp.get("tail_excerpt")).lower()
    if lead or tail:
        result["lead"] = (not lead or lead in flat[:len(lead) + 300].lower()) and \
                         (not tail or tail in flat[-len(tail) - 300:].lower())
    else:
        result["lead"] = None
    result["article"] = got.get("article") if "article" in got else None
    return result


def openings(expected: dict[str, Any]) -> tuple[str, ...]:
    """How a body within its bounds may start, without whitespace: the first expected sentence, or
    for fundus its summary too. fundus's body is its summary (a standfirst) and then its sections,
    and so is this project's; the manifest's first sentence is the one after the summary (corpus
    README)."""
    starts = [norm(expected.get("first_sentence"))[:60]]
    if expected.get("summary"):
        starts.append(norm(expected["summary"])[:60])
    return tuple(squeeze(start) for start in starts)


def bounds_causes(case: Case, body: str | None) -> list[str]:
    """Why the body's bounds miss: the first or last expected sentence missing, or extra text
    before the first / after the last one (with its first / last 60 characters, without whitespace
    as `score` compares them)."""
    text, first, last = squeeze(body), squeeze(norm(case.expected.get("first_sentence"))[:60]), \
        squeeze(norm(case.expected.get("last_sentence"))[-60:])
    causes = []
    if first not in text:
        causes.append("first missing")
    elif not text.startswith(openings(case.expected)):
        causes.append(f"extra lead {text[:text.find(first)][:60]!r}")
    if last not in text:
        causes.append("last missing")
    elif not text.endswith(last):
        causes.append(f"extra tail {text[text.rfind(last) + len(last):][-60:]!r}")
    return causes


# --- running and printing -------------------------------------------------------------------------

#: Seconds per page of each extractor in the last run (medians are not moved by one-off costs:
#: htmldate's extensive search compiles dateparser's language data on first use, seconds once).
PER_PAGE: dict[str, list[float]] = defaultdict(list)


def run(cases: list[Case], names: Iterable[str] = ("ours", "trafilatura", "htmldate")
        ) -> tuple[dict[str, dict[str, list[dict[str, Any]]]], dict[str, float], dict[str, list[dict[str, Any]]]]:
    """(suite -> extractor -> scores per page, extractor -> seconds, extractor -> raw results)."""
    scores: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    seconds: dict[str, float] = defaultdict(float)
    outputs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        for name in names:
            start = time.perf_counter()
            got = EXTRACTORS[name](case)
            spent = time.perf_counter() - start
            seconds[name] += spent
            PER_PAGE[name].append(spent)
            outputs[name].append(got)
            scores[case.suite][name].append(score(case, got))
    return scores, seconds, outputs


def summarise(rows: list[dict[str, Any]], field: str) -> tuple[float | None, str]:
    """(the field's value as a fraction, how it prints)."""
    if field == "tickers":
        values = [r["tickers"] for r in rows if r.get("tickers") is not None]
        tp, fp, fn = (sum(v[i] for v in values) for i in range(3))
        if not values:
            return None, "-"
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return r, f"{p:.2f}/{r:.2f}"
    values = [r[field] for r in rows if r.get(field) is not None]
    if not values:
        return None, "-"
    if field == "f1":
        mean = sum(values) / len(values)
        return mean, f"{mean:.3f} ({len(values)})"
    if field == "errors":
        return sum(values), f"{sum(values)}"
    share = sum(values) / len(values)
    return share, f"{share:.3f} ({sum(values)}/{len(values)})"


def table(scores: dict[str, dict[str, list[dict[str, Any]]]], names: list[str]) -> str:
    """One block per suite, and one for the whole corpus: field rows, extractor columns."""
    groups = dict(scores)
    corpus = {name: [r for suite, by in scores.items() if suite != "fixtures" for r in by.get(name, [])]
              for name in names}
    if len([s for s in scores if s != "fixtures"]) > 1:
        groups["corpus (all)"] = corpus
    lines = []
    for suite, by in groups.items():
        pages = len(next(iter(by.values())))
        lines.append(f"\n== {suite}: {pages} pages")
        lines.append(f"{'field':<10}" + "".join(f"{name:>20}" for name in names))
        for field in FIELDS:
            cells = [summarise(by.get(name, []), field)[1] if field in SCORED[name] else "" for name in names]
            if any(c not in ("", "-") for c in cells):
                lines.append(f"{field:<10}" + "".join(f"{c:>20}" for c in cells))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=SHARED, help="the fixtures folder (pages/, corpus/)")
    parser.add_argument("--suite", action="append", help="only this suite (fixtures, corpus, fundus, ...)")
    parser.add_argument("--only", action="append", choices=list(EXTRACTORS), help="only these extractors")
    parser.add_argument("--misses", help="list the pages where this project misses FIELD "
                                         "(bounds: with the cause, and counted by cause)")
    args = parser.parse_args()
    cases = load_cases(args.shared, args.suite)
    if not cases:
        sys.exit(f"no fixtures under {args.shared}")
    names = args.only or list(EXTRACTORS)
    scores, seconds, outputs = run(cases, names)
    print(f"{len(cases)} pages from {args.shared}")
    print(table(scores, names))
    if "trafilatura" in seconds:
        base = seconds["trafilatura"]
        print("\ntime per page (mean): " + ", ".join(
            f"{n} {seconds[n] / len(cases) * 1000:.1f} ms ({seconds[n] / base:.2f}x)" for n in names))
        medians = {n: statistics.median(PER_PAGE[n]) for n in names}
        print("time per page (median): " + ", ".join(
            f"{n} {medians[n] * 1000:.1f} ms ({medians[n] / medians['trafilatura']:.2f}x)" for n in names))
    if args.misses == "bounds" and "ours" in names:
        causes = Counter(" ".join(cause.split()[:2]) for case, got in zip(cases, outputs["ours"])
                         if score(case, got).get("bounds") is False for cause in bounds_causes(case, got.get("body")))
        print("\nbounds misses by cause: " + ", ".join(f"{cause} {n}" for cause, n in causes.most_common()))
    if args.misses and "ours" in names:
        print(f"\npages where this project misses {args.misses}:")
        for case, got in zip(cases, outputs["ours"]):
            result = score(case, got)
            value = result.get(args.misses)
            if args.misses == "errors":
                missed = bool(value)
            elif args.misses == "f1":
                missed = value is not None and value < 0.9
            elif args.misses == "tickers":
                missed = value is not None and bool(value[1] or value[2])
            else:
                missed = value is False
            if missed:
                shown = {"article": got.get("reason"), "errors": got.get("error"), "f1": value,
                         "tickers": got.get("tickers"),
                         "bounds": "; ".join(bounds_causes(case, got.get("body")))}.get(args.misses)
                if shown is None:
                    key = {"date": "published", "time": "published", "lead": "body", "bounds": "body"}.get(
                        args.misses, args.misses)
                    shown = got.get(key)
                    if isinstance(shown, str) and len(shown) > 160:
                        shown = shown[:80] + " ... " + shown[-80:]
                want = {"date": "published", "time": "published", "body": "first_sentence",
                        "bounds": "first_sentence", "lead": "lead_excerpt", "f1": None}.get(args.misses, args.misses)
                print(f"  {case.id}: got {shown!r}" + (f" want {case.expected.get(want)!r}" if want else ""))


if __name__ == "__main__":
    main()
