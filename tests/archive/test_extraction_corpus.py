"""Extraction quality on the development corpus never drops below the agreed floors.

Runs this project's extractor (only) over ../shared/fixtures (pages/ and corpus/) through
bench/extraction.py's scoring, and compares each field on the whole corpus with a floor a little
under the figure measured when the floor was set (docs/performance.md, "Extraction quality").
Skipped when ../shared is absent (a fresh clone has none).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import SHARED

def _bench():  # type: ignore[no-untyped-def]
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "bench" / "extraction.py"
    spec = importlib.util.spec_from_file_location("bench_extraction", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_extraction"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


#: Field -> the lowest share of corpus pages it may score (tickers: recall; f1: mean token F1).
FLOORS = {"title": 0.89, "authors": 0.92, "date": 0.965, "time": 0.82, "body": 0.93, "bounds": 0.59,
          "f1": 0.96, "article": 0.99}
#: Ticker precision on the labelled corpus pages may not drop below this.
TICKER_PRECISION = 0.95
MAX_ERRORS = 0

pytestmark = pytest.mark.skipif(not (SHARED / "fixtures" / "corpus" / "manifest.jsonl").exists(),
                                reason="../shared/fixtures/corpus is absent")


def test_corpus_fields_stay_above_their_floors() -> None:
    bench = _bench()
    cases = [c for c in bench.load_cases(SHARED / "fixtures") if c.suite != "fixtures"]
    scores, _, _ = bench.run(cases, ["ours"])
    rows = [row for by in scores.values() for row in by["ours"]]
    measured = {field: bench.summarise(rows, field)[0] for field in FLOORS}
    low = {field: round(value, 3) for field, value in measured.items() if value is None or value < FLOORS[field]}
    assert not low, f"below the floor: {low} (floors {FLOORS})"
    tickers = [r["tickers"] for r in rows if r["tickers"] is not None]
    tp, fp = sum(t[0] for t in tickers), sum(t[1] for t in tickers)
    assert tp / (tp + fp) >= TICKER_PRECISION
    assert bench.summarise(rows, "errors")[0] <= MAX_ERRORS
