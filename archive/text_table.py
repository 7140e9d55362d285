"""Plain-text tables for the terminal: aligned columns, long cells cut, no dependencies.

Widths are display widths (terminal columns), not character counts: a CJK character or a wide
emoji takes two columns and a combining accent none, so a table with a Japanese title stays aligned.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Sequence


def width(text: str) -> int:
    """Terminal columns `text` takes (East Asian wide and fullwidth characters take two)."""
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _pad(text: str, columns: int, right: bool) -> str:
    fill = " " * max(0, columns - width(text))
    return fill + text if right else text + fill


def render(headers: Sequence[str], rows: Sequence[Sequence[Any]], max_width: int = 60) -> str:
    cells = [[_cell(v, max_width) for v in row] for row in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], (int, float)) for row in rows) and rows for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(_pad(v, w, bool(numeric[i]))
                         for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def _cell(value: Any, max_width: int) -> str:
    text = "" if value is None else ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    text = " ".join(text.split())
    if width(text) <= max_width:
        return text
    kept, used = [], 0
    for char in text:
        used += _char_width(char)
        if used > max_width - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"
