"""What the templates draw, computed as plain values: chart geometry, diff paragraphs, fields.

Templates get numbers and plain strings only, and Jinja2 escapes every string: no archived text
is ever marked safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from archive.attention import Attention
from archive.diff import PARAGRAPH, Chunk, VersionDiff
from archive.export import local_time

#: The attention chart's drawing area, in SVG user units.
CHART_WIDTH, CHART_HEIGHT = 720, 110


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


def paragraphs(chunks: Sequence[Chunk], side: str | None = None) -> list[list[tuple[str, str]]]:
    """The body diff as paragraphs of (op, text) runs; `side` "old" or "new" keeps that side alone."""
    skip = {"old": "insert", "new": "delete"}.get(side or "")
    out: list[list[tuple[str, str]]] = [[]]
    for chunk in chunks:
        if chunk.op == skip:
            continue
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


def shown(value: Any) -> str:
    """A field's value as one line of text."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def diff_view(diff: VersionDiff) -> dict[str, Any]:
    """The diff for the template: changed fields first, then the body inline and side by side."""
    return {"fields": [(c.name, shown(c.old), shown(c.new)) for c in diff.fields],
            "inline": paragraphs(diff.body), "old": paragraphs(diff.body, "old"),
            "new": paragraphs(diff.body, "new"), "body_changed": diff.body_changed}


def published(snapshot: Any) -> str:
    return local_time(snapshot.published_at, snapshot.published_offset_min, snapshot.published_precision) or "—"
