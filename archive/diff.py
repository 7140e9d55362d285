"""What changed between two versions of an article: a word diff of the body, and the metadata fields.

Word-level (difflib over word tokens, paragraph breaks kept as tokens) because publishers' edits
are a number changed, a sentence added, a hedge softened: a line diff of a paragraph-long line
would show the whole paragraph. Rendering is plain text with [-removed-] {+added+} markers (as
`git diff --word-diff` writes them), or coloured when a `style` function is given.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

from archive.records import local_time

Op = Literal["equal", "delete", "insert"]
Styler = Callable[[str, Op], str]

PARAGRAPH = "\n\n"
_WORDS = re.compile(r"\n\s*\n|\S+")

#: Metadata compared besides the body, in display order.
FIELDS = ("title", "authors", "published_at", "updated_at", "tickers", "language", "site_name", "description",
          "ai_generated", "paywalled", "url", "origin", "extractor_version")


def words(text: str) -> list[str]:
    """Word tokens; a blank line between paragraphs is one token of its own."""
    return [PARAGRAPH if token.isspace() else token for token in _WORDS.findall(text or "")]


@dataclass(frozen=True)
class Chunk:
    op: Op
    words: tuple[str, ...]


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class VersionDiff:
    """Two versions of one article compared: body chunks in order, and the metadata that changed."""

    article_id: int
    old_version: int
    new_version: int
    old_fetched_at: str
    new_fetched_at: str
    fields: tuple[FieldChange, ...]
    body: tuple[Chunk, ...]

    @property
    def body_changed(self) -> bool:
        return any(chunk.op != "equal" for chunk in self.body)

    @property
    def changed(self) -> list[str]:
        """Names of what differs, body included."""
        return [change.name for change in self.fields] + (["body"] if self.body_changed else [])

    def text(self, context: int | None = 12, style: Styler | None = None) -> str:
        """The whole diff for a terminal or a file (see render)."""
        return render(self, context=context, style=style)

    def as_dict(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "from_version": self.old_version, "to_version": self.new_version,
                "changed": self.changed,
                "fields": {c.name: {"old": c.old, "new": c.new} for c in self.fields},
                "body": [[chunk.op, " ".join(chunk.words)] for chunk in self.body]}


def _metadata(snapshot: Any) -> dict[str, Any]:
    return {
        "title": snapshot.title,
        "authors": list(snapshot.authors),
        "published_at": local_time(snapshot.published_at, snapshot.published_offset_min, snapshot.published_precision),
        "updated_at": local_time(snapshot.updated_at, snapshot.updated_offset_min, snapshot.updated_precision),
        "tickers": sorted(t["symbol"] for t in snapshot.tickers),
        **{name: getattr(snapshot, name) for name in FIELDS[5:]},
    }


def body_chunks(old: str, new: str) -> tuple[Chunk, ...]:
    """The body's word diff: equal, deleted and inserted runs in reading order."""
    a, b = words(old), words(new)
    chunks: list[Chunk] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            chunks.append(Chunk("equal", tuple(a[i1:i2])))
            continue
        if i2 > i1:
            chunks.append(Chunk("delete", tuple(a[i1:i2])))
        if j2 > j1:
            chunks.append(Chunk("insert", tuple(b[j1:j2])))
    return tuple(chunks)


def diff_versions(old: Any, new: Any) -> VersionDiff:
    """Compare two stored versions (Snapshot rows) of the same article."""
    before, after = _metadata(old), _metadata(new)
    fields = tuple(FieldChange(name, before[name], after[name]) for name in FIELDS if before[name] != after[name])
    return VersionDiff(old.article_id, old.version, new.version, f"{old.fetched_at:%Y-%m-%d %H:%M} UTC",
                       f"{new.fetched_at:%Y-%m-%d %H:%M} UTC", fields, body_chunks(old.body, new.body))


def plain(text: str, op: Op) -> str:
    """Markers that survive a pipe or a file: [-removed-] {+added+}."""
    return {"delete": f"[-{text}-]", "insert": f"{{+{text}+}}"}.get(op, text)


def _join(tokens: Sequence[str]) -> str:
    out = ""
    for token in tokens:
        if token == PARAGRAPH:
            out = out.rstrip(" ") + PARAGRAPH
        else:
            out += token if not out or out.endswith(("\n", " ")) else " " + token
    return out


def _elide(tokens: tuple[str, ...], context: int | None, first: bool, last: bool) -> str:
    """An unchanged run, cut to `context` words beside each change (None: keep it all)."""
    if context is None or len(tokens) <= 2 * context + 1:
        return _join(tokens)
    head = () if first else tokens[:context]
    tail = () if last else tokens[len(tokens) - context:]
    return " ".join(part for part in (_join(head), "…", _join(tail)) if part)


def render_body(chunks: Sequence[Chunk], context: int | None = 12, style: Styler | None = None) -> str:
    """The body with changes marked in place; unchanged stretches cut to `context` words around them."""
    style = style or plain
    parts: list[str] = []
    for index, chunk in enumerate(chunks):
        if chunk.op == "equal":
            text = piece = _elide(chunk.words, context, first=index == 0, last=index == len(chunks) - 1)
        else:
            marked = _join(chunk.words).strip()
            if not marked:
                continue
            # An added paragraph keeps its break outside the markers, so the layout stays readable.
            lead = PARAGRAPH if chunk.op == "insert" and chunk.words[0] == PARAGRAPH else ""
            trail = PARAGRAPH if chunk.op == "insert" and chunk.words[-1] == PARAGRAPH else ""
            text = lead + marked
            piece = lead + style(marked, chunk.op) + trail
        if not text:
            continue
        if parts and not parts[-1].endswith(("\n", " ")) and not text.startswith("\n"):
            parts.append(" ")
        parts.append(piece)
    return "".join(parts).strip()


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(none)"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def render(diff: VersionDiff, context: int | None = 12, style: Styler | None = None) -> str:
    """Header, changed metadata (old line, new line) and the body's word diff.

    Without `style`, plain text: "- old" / "+ new" lines and [-removed-] {+added+} in the body;
    with one (e.g. colours for a terminal), it marks both instead.
    """
    def line(text: str, op: Op) -> str:
        return style(text, op) if style else text
    lines = [f"article {diff.article_id}: version {diff.old_version} ({diff.old_fetched_at}) -> "
             f"version {diff.new_version} ({diff.new_fetched_at})",
             f"changed: {', '.join(diff.changed) or 'nothing'}"]
    for change in diff.fields:
        lines += ["", f"{change.name}:", "  " + line(f"- {_shown(change.old)}", "delete"),
                  "  " + line(f"+ {_shown(change.new)}", "insert")]
    lines += ["", "body:" if diff.body_changed else "body: unchanged"]
    if diff.body_changed:
        lines.append(render_body(diff.body, context, style))
    return "\n".join(lines)
