"""Correction and update notices in an article's body: what a publisher adds when it fixes a story.

A notice is found where a sentence starts (a paragraph's start, or after a full stop) and runs to
the end of its paragraph, so that "Correction: An earlier version ... misstated X. It is Y." is kept
whole. Each pattern follows a published convention or a form many newsrooms use; none matches a word
in passing ("the latest update: ..." is not a notice), and labels must end with a colon:
"Updated 4:10 pm" alone is the page's update time (archive.extract.dates), not a notice.
"""

from __future__ import annotations

import re

#: Longest note kept (characters): a notice is a sentence or two; a longer paragraph is cut at a sentence end.
MAX_CHARS = 500
#: Most notes kept for one version (a live blog's "Update:" entries would otherwise be dozens).
MAX_NOTES = 10

#: A label's end: "Update (Jan 5):", "UPDATE, 4:10 p.m. ET:", "Correction 2:", "Clarification, Jan. 6:".
#: What may stand between the word and its colon is a date, a time or a number, never a word
#: ("Updated guidance: ..." starts a sentence of a story); a colon inside a time ("Updated 4:10 pm
#: ET", the page's time stamp) does not end a label.
_WHEN = r"(?:\d|at\b|on\b|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?\s)"
_LABEL = r"(?:\s*\([^()\n]{1,40}\)|,?\s+" + _WHEN + r"[^\n]{0,36}?)?:(?=\s|$)"
#: Where a notice may start: a paragraph's start (bullets, brackets and dashes aside) or a new sentence.
_START = r"(?:^|(?<=[.!?])\s+)[\s*•·\-–—\[(]*"

NOTICE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(_START + f"(?P<notice>{pattern})", re.I)) for name, pattern in (
    # A labelled correction or clarification: the New York Times, the Washington Post, the AP ("Correction:",
    # "Clarification:"), the BBC ("Correction 12 May: ...").
    ("correction", r"(?:correction|clarification)s?" + _LABEL),
    # "Editor's note:" (CNN, the New York Times, Poynter's guidance), "Editors' Note:", "Ed. note:".
    ("editors_note", r"(?:editor[’']?s[’']?|ed\.)\s+note" + _LABEL),
    # A labelled update, as blogs and live pages add them: "Update:", "UPDATE 2:", "Updated (Jan 5):".
    ("update", r"updated?" + _LABEL),
    # "An earlier version of this article misstated ..." (the New York Times, the Washington Post, AP),
    # "A previous version of this story ..." (NPR, CNBC).
    ("earlier_version", r"an?\s+(?:earlier|previous|prior)\s+version\s+of\s+this\s+(?:article|story|post|report|piece)\b"),
    # "This article has been updated / was amended on 5 March to ..." (CNN, the Guardian's "This article was
    # amended"), "This story has been corrected to show ..." (AP, Reuters).
    ("amended", r"this\s+(?:article|story|post|report|piece)\s+(?:has\s+been|was|is\s+being)\s+"
                r"(?:updated|corrected|amended|clarified|revised)\b"),
    # A wire service's refile line at the top: "(Corrects paragraph 3 to show ...)", "(Updates with ...)" (Reuters).
    ("wire_refile", r"(?<=\()(?:corrects|updates)\s+\w"),
))


#: A word every notice pattern holds, in every alternative: a paragraph without any cannot match,
#: so the patterns (which try a match at each sentence start, most of the time on long bodies)
#: are not run on it. Case-insensitive like the patterns, so it finds whatever they would ("ı" or
#: "ſ" match "i" and "s" under re.I, which str.lower() would miss); the lookahead names the words'
#: first letters and changes no match.
_KEYWORD = re.compile(r"(?=[cnuvar])(?:correct|clarif|note|update|version|amend|revised)", re.IGNORECASE)


def find_notes(body: str) -> tuple[str, ...]:
    """The correction and update notices of a body, in reading order, each once."""
    notes: list[str] = []
    paragraphs = [p for p in body.split("\n") if p.strip()]
    for number, paragraph in enumerate(paragraphs):
        if not _KEYWORD.search(paragraph):
            continue
        starts = [m.start("notice") for _, pattern in NOTICE_PATTERNS for m in pattern.finditer(paragraph)]
        if starts:  # from the first notice to the paragraph's end: later ones in it are part of it
            note = " ".join(paragraph[min(starts):].split()).rstrip(")] ")
            if note.endswith(":") and number + 1 < len(paragraphs):  # a label on a line of its own
                note += " " + " ".join(paragraphs[number + 1].split())
            note = _cut(note)
            if note and note not in notes:
                notes.append(note)
        if len(notes) >= MAX_NOTES:
            break
    return tuple(notes)


def _cut(note: str) -> str:
    if len(note) <= MAX_CHARS:
        return note
    head = note[:MAX_CHARS]
    end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    return head[:end + 1] if end > MAX_CHARS // 3 else head.rstrip() + "…"
