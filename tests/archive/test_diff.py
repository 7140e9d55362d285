"""Word diffs of two versions: plain markers for pipes and files, colours for a terminal."""

from __future__ import annotations

from archive.diff import body_chunks, diff_versions, render_body
from archive.query import find_article
from archive.store import ArchiveStore
from tests import research


def test_word_diff_marks_only_the_changed_words() -> None:
    old = "Nvidia fell 4% on Friday.\n\nAnalysts were cautious."
    new = "Nvidia fell 5% on Friday.\n\nAnalysts were cautious.\n\nAMD slipped too."
    assert render_body(body_chunks(old, new), context=None) == (
        "Nvidia fell [-4%-] {+5%+} on Friday.\n\nAnalysts were cautious.\n\n{+AMD slipped too.+}")


def test_long_unchanged_stretches_are_cut_to_the_context() -> None:
    old = " ".join(f"w{i}" for i in range(100))
    new = old.replace("w50", "CHANGED")
    assert render_body(body_chunks(old, new), context=3) == "… w47 w48 w49 [-w50-] {+CHANGED+} w51 w52 w53 …"


def test_versions_diff_plain_and_coloured(store: ArchiveStore) -> None:
    ids = research.fill(store)
    history = find_article(store.engine, ids["nvda"])
    diff = diff_versions(history.version(1), history.version(2))
    assert diff.changed == ["tickers", "body"]
    plain = diff.text()
    assert plain.splitlines()[0].startswith(f"article {ids['nvda']}: version 1 (2025-01-10 15:00 UTC) -> version 2")
    assert "tickers:\n  - NVDA\n  + AMD, NVDA" in plain
    assert "[-4%-] {+5%+}" in plain and "{+Rival AMD slipped 3% as investors weighed its own exposure.+}" in plain
    assert "\x1b[" not in plain

    def colour(text: str, op: str) -> str:
        return f"\x1b[{31 if op == 'delete' else 32}m{text}\x1b[0m"
    coloured = diff.text(style=colour)
    assert "\x1b[31m4%\x1b[0m \x1b[32m5%\x1b[0m" in coloured
    assert "[-" not in coloured and "{+" not in coloured
    assert diff.as_dict()["fields"] == {"tickers": {"old": ["NVDA"], "new": ["AMD", "NVDA"]}}


def test_identical_versions_say_so(store: ArchiveStore) -> None:
    ids = research.fill(store)
    history = find_article(store.engine, ids["nvda"])
    same = diff_versions(history.version(2), history.version(2))
    assert same.changed == [] and "changed: nothing" in same.text() and "body: unchanged" in same.text()
