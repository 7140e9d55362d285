"""What the templates draw, computed as plain values: chart geometry, diff paragraphs, fields.

Templates get numbers and plain strings only, and Jinja2 escapes every string: no archived text
is ever marked safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from archive.attention import Attention
from archive.diff import PARAGRAPH, Chunk, VersionDiff
from archive.export import local_time

#: The attention chart's drawing area, in SVG user units.
CHART_WIDTH, CHART_HEIGHT = 720, 64


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


def bars(values: Sequence[float], labels: Sequence[str], shown: Sequence[str],
         width: int = CHART_WIDTH, height: int = CHART_HEIGHT) -> list[Bar]:
    """One bar per value, scaled to the largest; a value above zero is at least one unit tall."""
    if not values:
        return []
    top = max(values) or 1
    step = width / len(values)
    gap = min(2.0, step * 0.2) if step > 3 else 0.0
    out = []
    for index, (value, label, text) in enumerate(zip(values, labels, shown)):
        tall = 0.0 if value <= 0 else max(1.0, value / top * height)
        out.append(Bar(round(index * step, 2), round(height - tall, 2), round(step - gap, 2), round(tall, 2),
                       label, text))
    return out


def chart(series: Attention) -> dict[str, Any]:
    """Two bar charts over the same periods: matching articles, and their share of all articles."""
    labels = [p.label(series.by) for p in series.points]
    counts = [p.matching for p in series.points]
    shares = [p.share * 100 for p in series.points]
    return {
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "by": series.by,
        "first": labels[0] if labels else "", "last": labels[-1] if labels else "",
        "most": max(counts, default=0), "most_share": f"{max(shares, default=0):.1f}",
        "counts": bars(counts, labels, [f"{c} article{'s' if c != 1 else ''}" for c in counts]),
        "shares": bars(shares, labels, [f"{p.matching} of {p.total} ({p.share * 100:.1f}%)"
                                        for p in series.points]),
    }


Runs = list[tuple[str, str]]


def paragraphs(chunks: Sequence[Chunk]) -> list[Runs]:
    """The body diff as paragraphs of (op, text) runs, in reading order (a paragraph break inside
    an added or removed run starts a paragraph of its own)."""
    out: list[Runs] = [[]]
    for chunk in chunks:
        words: list[str] = []
        for token in chunk.words:
            if token == PARAGRAPH:
                if words:
                    out[-1].append((chunk.op, " ".join(words)))
                    words = []
                out.append([])
            else:
                words.append(token)
        if words:
            out[-1].append((chunk.op, " ".join(words)))
    return [p for p in out if p]


@dataclass(frozen=True)
class Row:
    """One paragraph of the diff: inline runs, and the old and new sides for side by side (aligned:
    a paragraph only added has an empty old side). `skipped` > 0: that many unchanged paragraphs
    left out here."""

    inline: Runs
    old: Runs
    new: Runs
    changed: bool
    skipped: int = 0


def rows(chunks: Sequence[Chunk], *, context: int | None = 1) -> list[Row]:
    """The diff's paragraphs as rows; unchanged paragraphs more than `context` away from a change
    are folded into one row that says how many (None: every paragraph)."""
    every = [Row(p, [r for r in p if r[0] != "insert"], [r for r in p if r[0] != "delete"],
                 any(op != "equal" for op, _ in p)) for p in paragraphs(chunks)]
    if context is None:
        return every
    changed = [i for i, row in enumerate(every) if row.changed]
    near = {i + d for i in changed for d in range(-context, context + 1)}
    out: list[Row] = []
    for index, row in enumerate(every):
        if index in near:
            out.append(row)
        elif out and out[-1].skipped:
            out[-1] = Row([], [], [], False, out[-1].skipped + 1)
        else:
            out.append(Row([], [], [], False, 1))
    return out


def shown(value: Any) -> str:
    """A field's value as one line of text."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def diff_view(diff: VersionDiff, *, full: bool = False) -> dict[str, Any]:
    """The diff for the template: changed fields first, then the body's rows (changes in context,
    or every paragraph with `full`)."""
    return {"fields": [(c.name, shown(c.old), shown(c.new)) for c in diff.fields],
            "rows": rows(diff.body, context=None if full else 1), "body_changed": diff.body_changed}


def published(snapshot: Any) -> str:
    """The publication time as the publisher gave it, for reading: 2025-03-02 10:30 -05:00."""
    shown = local_time(snapshot.published_at, snapshot.published_offset_min, snapshot.published_precision)
    parts = _LOCAL.match(shown or "")
    if parts is None:
        return shown or "—"  # a date alone
    day, clock, offset = parts.groups()
    return f"{day} {clock} {'UTC' if offset in (None, '+00:00') else offset}"


_LOCAL = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})[\d:.]*([+-]\d{2}:\d{2})?$")
