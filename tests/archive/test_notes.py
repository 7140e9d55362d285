"""Correction and update notices: found where publishers put them, never in passing, kept with the
version, and a researcher can find the versions that carry one (through the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.demo.server import SiteServer
from archive.extract import extract
from archive.extract.notes import MAX_CHARS, find_notes
from tests.conftest import SHARED, run_cli
from tests.pages import LOREM, article


@pytest.mark.parametrize("body, note", [
    ("Shares rose.\nCorrection: An earlier version of this article misstated the revenue. It was $5 billion.",
     "Correction: An earlier version of this article misstated the revenue. It was $5 billion."),
    ("Clarification, Jan. 6: The filing was made by the subsidiary.",
     "Clarification, Jan. 6: The filing was made by the subsidiary."),
    ("Editor’s note: This story was written with the help of an AI tool.",
     "Editor’s note: This story was written with the help of an AI tool."),
    ("Shares rose. Update: the company later raised its guidance.", "Update: the company later raised its guidance."),
    ("UPDATE, 4:10 p.m. ET: The Fed chair spoke.", "UPDATE, 4:10 p.m. ET: The Fed chair spoke."),
    ("Update (Jan 5): Nvidia declined to comment.", "Update (Jan 5): Nvidia declined to comment."),
    ("Stocks fell. A previous version of this story gave the wrong ticker.",
     "A previous version of this story gave the wrong ticker."),
    ("This article was amended on 5 March 2025 to correct the spelling of a name.",
     "This article was amended on 5 March 2025 to correct the spelling of a name."),
    ("Text. This story has been updated with additional developments.",
     "This story has been updated with additional developments."),
    ("(Corrects paragraph 3 to show the company is based in Ohio)\nNEW YORK (Reuters) - Stocks rose.",
     "Corrects paragraph 3 to show the company is based in Ohio"),
    ("• Correction:\nThe fund's name was misspelled.", "Correction: The fund's name was misspelled."),
])
def test_notices_publishers_write(body: str, note: str) -> None:
    assert find_notes(body) == (note,)


@pytest.mark.parametrize("body", [
    "Updated 4:10 pm ET Jan 5, 2025",  # the page's update time, not a notice
    "Updated guidance: revenue of $5 billion.",
    "The latest update: shares rose.",
    "A market correction: stocks fell 10% from their high.",
    "Analysts expect an update to guidance. Corrections in the market are normal.",
    "The article was updated by the wire service and the stock has been corrected lower.",
])
def test_words_in_passing_are_not_notices(body: str) -> None:
    assert find_notes(body) == ()


def test_long_notes_are_cut_at_a_sentence_and_repeated_ones_kept_once() -> None:
    long = "Correction: " + "The figure was wrong. " * 60
    found, = find_notes(long + "\n" + long)
    assert len(found) <= MAX_CHARS and found.endswith("wrong.")


def test_corpus_notices_are_found_and_ordinary_text_is_quiet() -> None:
    """On real article bodies: few notices, each one really starting like a notice."""
    bodies = sorted((SHARED / "fixtures" / "corpus" / "bodies").glob("*.txt"))
    if not bodies:
        pytest.skip("../shared/fixtures/corpus is absent")
    found = [note for path in bodies for note in find_notes(path.read_text(encoding="utf-8"))]
    assert found and len(found) <= len(bodies) // 20
    assert all(note.lower().startswith(("editor", "update", "correction", "clarification", "an earlier",
                                        "a previous", "this article", "this story")) for note in found)


def test_a_late_correction_through_the_cli(tmp_path: Path) -> None:
    """A story crawled, corrected by its publisher a month later and crawled again: the new version
    carries the note, `search --has-notes` and `export --has-notes` find it, `show` prints it."""
    db = f"sqlite:///{tmp_path / 'archive.db'}"
    root = tmp_path / "site"
    (root / "news").mkdir(parents=True)
    (root / "index.html").write_text('<html><body><a href="/news/1.html">1</a> <a href="/news/2.html">2</a>'
                                     '</body></html>')
    (root / "news" / "1.html").write_text(article("Chipmakers rally", time_text="Jan 28, 2025 11:57 pm ET"))
    (root / "news" / "2.html").write_text(article("Banks slip on rate worries", paragraphs=list(reversed(LOREM)),
                                                  time_text="Jan 28, 2025 10:00 pm ET"))
    correction = "Correction: An earlier version of this article gave the wrong date for the earnings call."
    with SiteServer(root) as server:
        run_cli("crawl", server.url, "--db", db)
        assert "Chipmakers" not in run_cli("search", "--has-notes", "--db", db).stdout
        (root / "news" / "1.html").write_text(article("Chipmakers rally", time_text="Jan 28, 2025 11:57 pm ET",
                                                      paragraphs=LOREM + [correction]))
        run_cli("crawl", server.url, "--db", db, "--refresh-after", "0s")
        url = server.url.rstrip("/") + "/news/1.html"
    found = run_cli("search", "--has-notes", "--db", db).stdout
    assert "Chipmakers rally" in found and "Banks slip" not in found
    rows = [json.loads(line) for line in run_cli("export", "--has-notes", "--all-versions", "-o", "-", "--db", db).stdout.splitlines()]
    assert [(r["title"], r["version"], r["notes"], r["changed_fields"]) for r in rows] == [
        ("Chipmakers rally", 2, [correction], ["body", "notes"])]
    everything = [json.loads(line) for line in run_cli("export", "-o", "-", "--db", db).stdout.splitlines()]
    assert sorted(len(r["notes"]) for r in everything) == [0, 1]
    shown = run_cli("show", url, "--versions", "--db", db).stdout
    assert f"note: {correction}" in shown
    assert extract((root / "news" / "1.html").read_text(), url).notes == (correction,)
