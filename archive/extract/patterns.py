"""Regex building blocks the field modules share.

Python's regex engine tries the words of an alternation ("nav|navbar|menu|...") one by one at
every place it could start, even where the place's first letter rules most of them out. Grouped
by first letter ("n(?:av|avbar)|m(?:enu)|..."), a word is tried only where its letter is: the
same matches, found in about half the time in the long case-insensitive word lists (exchange
names, chrome class words).
"""

from __future__ import annotations

from typing import Iterable


def by_first_letter(alternatives: Iterable[str], ignore_case: bool = False) -> str:
    """`alternatives` (regex fragments, each opening with a literal letter or digit that no
    quantifier follows) as one alternation grouped by first letter (lower-cased with `ignore_case`,
    for a re.IGNORECASE pattern). Within a group the order is kept, and two words with different
    first letters never match at the same place: where "a|b|c" matches, this matches the same text
    with the same word."""
    groups: dict[str, list[str]] = {}
    for alternative in alternatives:
        first = alternative[:1]
        if not first.isalnum() or alternative[1:2] in ("*", "+", "?", "{"):
            raise ValueError(f"{alternative!r} does not open with a literal letter or digit of its own")
        groups.setdefault(first.lower() if ignore_case else first, []).append(alternative[1:])
    return "|".join(f"{first}(?:{'|'.join(rests)})" for first, rests in groups.items())
