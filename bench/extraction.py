"""Extraction accuracy and speed: this project against plain trafilatura, on pages with expected values.

Usage:  python bench/extraction.py [DIR]   (default ../shared/fixtures/pages; DIR holds manifest.jsonl)

Per field it prints how many pages each extractor gets right, and the time per page of both as a
ratio measured in the same run. Fields:
  title      exact headline (whitespace-normalised)
  authors    exact list of person names (an empty list where the manifest has none)
  date       publication date right (the calendar date the page gives)
  time       publication instant right to the minute, where the page gives a time and zone
  tickers    micro precision / recall of symbols
  body       first and last sentence of the article are the first and last of the body,
             and none of the page's listed chrome texts are in it
  body F1    token F1 of the body against a reference span: the page's visible text from the
             expected first sentence to the expected last one (the manifest has no full gold
             bodies; captions or promos inside that span count as reference, so this slightly
             favours recall)
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from trafilatura import bare_extraction

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.errors import ExtractionError  # noqa: E402
from archive.extract import extract  # noqa: E402


def norm(text: str | None) -> str:
    return " ".join((text or "").split())


def ours(raw: bytes, url: str) -> dict[str, Any]:
    try:
        result = extract(raw, url)
    except ExtractionError as exc:
        return {"error": str(exc)}
    return {"title": result.title, "authors": list(result.authors),
            "published": result.published.isoformat() if result.published else None,
            "tickers": sorted({t.symbol for t in result.tickers}), "body": result.body}


def plain(raw: bytes, url: str) -> dict[str, Any]:
    doc = bare_extraction(raw.decode("utf-8", "replace"), url=url, with_metadata=True)
    if doc is None:
        return {}
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    return {"title": doc.title, "authors": authors, "published": doc.date, "tickers": [],
            "body": doc.text or ""}


def instant(value: str | None) -> datetime | None:
    if not value or len(value) <= 10:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(timezone.utc).replace(second=0, microsecond=0) if parsed.tzinfo else None


def reference_span(raw: bytes, first: str, last: str) -> str | None:
    """The page's visible text from the first expected sentence to the last one, or None."""
    from lxml import html as lxml_html
    tree = lxml_html.document_fromstring(raw)
    for bad in tree.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    text = norm(" ".join(tree.itertext()))
    start = text.find(first[:50])
    end = text.rfind(last[-50:])
    if start < 0 or end < 0 or end < start:
        return None
    return text[start:end + len(last[-50:])]


def token_f1(got: str, reference: str | None) -> float | None:
    if reference is None:
        return None
    from collections import Counter
    ours_tokens, ref_tokens = Counter(got.lower().split()), Counter(reference.lower().split())
    overlap = sum((ours_tokens & ref_tokens).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(ours_tokens.values()), overlap / sum(ref_tokens.values())
    return 2 * precision * recall / (precision + recall)


def score(expected: dict[str, Any], got: dict[str, Any], reference: str | None = None) -> dict[str, Any]:
    exp_date = (expected.get("published") or "")[:10] or None
    body = got.get("body") or ""
    paragraphs = [p for p in body.split("\n") if p.strip()]
    first, last = norm(expected.get("first_sentence")), norm(expected.get("last_sentence"))
    excludes = expected.get("body_excludes") or []
    exp_tickers, got_tickers = set(expected.get("tickers") or []), set(got.get("tickers") or [])
    return {
        "title": norm(got.get("title")) == norm(expected["title"]),
        "authors": [norm(a) for a in got.get("authors") or []] == (expected.get("authors") or []),
        "date": (got.get("published") or "")[:10] == exp_date if exp_date else None,
        "time": (instant(got.get("published")) == instant(expected["published"]))
                if instant(expected.get("published")) else None,
        "tp": len(exp_tickers & got_tickers), "fp": len(got_tickers - exp_tickers),
        "fn": len(exp_tickers - got_tickers),
        "f1": token_f1(body, reference),
        "body": bool(paragraphs) and norm(paragraphs[0]).startswith(first[:60]) and
                norm(paragraphs[-1]).endswith(last[-60:]) and not any(x in body for x in excludes),
    }


def timed(func: Callable[[bytes, str], dict[str, Any]], raw: bytes, url: str, repeat: int) -> tuple[dict[str, Any], float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = func(raw, url)
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "fixtures" / "pages"
    manifest = [json.loads(line) for line in (folder / "manifest.jsonl").read_text().splitlines() if line.strip()]
    totals: dict[str, dict[str, list[Any]]] = {"ours": {}, "trafilatura": {}}
    seconds = {"ours": 0.0, "trafilatura": 0.0}
    failures: list[str] = []
    per_page_f1: list[tuple[str, float, float]] = []
    for entry in manifest:
        raw = (folder / entry["file"]).read_bytes()
        reference = reference_span(raw, norm(entry["first_sentence"]), norm(entry["last_sentence"]))
        f1s = {}
        for name, func in (("trafilatura", plain), ("ours", ours)):
            got, spent = timed(func, raw, entry["url"], repeat=3)
            seconds[name] += spent
            scores = score(entry, got, reference)
            f1s[name] = scores["f1"]
            for field, value in scores.items():
                totals[name].setdefault(field, []).append(value)
            if name == "ours":
                failures += [f"{entry['file']}: {f}" for f, v in scores.items()
                             if v is False and f not in ("tp", "fp", "fn")]
        if f1s["ours"] is not None:
            per_page_f1.append((entry["file"], f1s["trafilatura"], f1s["ours"]))
    print(f"{len(manifest)} pages from {folder}\n")
    print(f"{'field':<18}{'trafilatura':>14}{'this project':>14}")
    for field in ("title", "authors", "date", "time", "body"):
        cells = []
        for name in ("trafilatura", "ours"):
            values = [v for v in totals[name][field] if v is not None]
            cells.append(f"{sum(values)}/{len(values)}")
        print(f"{field:<18}{cells[0]:>14}{cells[1]:>14}")
    for name in ("trafilatura", "ours"):
        tp, fp, fn = (sum(totals[name][k]) for k in ("tp", "fp", "fn"))
        precision = f"{tp / (tp + fp):.2f}" if tp + fp else "n/a"
        recall = f"{tp / (tp + fn):.2f}" if tp + fn else "n/a"
        totals[name]["pr"] = [f"{precision}/{recall}"]
    print(f"{'tickers P/R':<18}{totals['trafilatura']['pr'][0]:>14}{totals['ours']['pr'][0]:>14}")
    for name in ("trafilatura", "ours"):
        values = [v for v in totals[name]["f1"] if v is not None]
        totals[name]["mean_f1"] = [f"{statistics.mean(values):.3f}"]
    print(f"{'body token F1':<18}{totals['trafilatura']['mean_f1'][0]:>14}{totals['ours']['mean_f1'][0]:>14}"
          f"   (mean over {len(per_page_f1)} pages with a reference span)")
    worse = [(f, t, o) for f, t, o in per_page_f1 if o + 0.005 < t]
    if worse:
        print("pages where this project's body F1 is below trafilatura's: " +
              ", ".join(f"{f} {o:.3f} < {t:.3f}" for f, t, o in worse))
    per_page = {k: v / len(manifest) * 1000 for k, v in seconds.items()}
    print(f"\ntime per page: trafilatura {per_page['trafilatura']:.1f} ms, this project {per_page['ours']:.1f} ms,"
          f" ratio {per_page['ours'] / per_page['trafilatura']:.2f}x")
    if failures:
        print("\nwhere this project misses:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
