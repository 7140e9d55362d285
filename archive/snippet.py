"""Snippets of a result with the query's words marked: pieces of plain text, never markup.

Computed here from the stored text with the query language's own token rules
(search_syntax.highlight_spans), not with FTS5's snippet() or PostgreSQL's ts_headline: the same
marks on both databases, and a caller (the web app's template) escapes each piece itself, so
archived text never passes through a string that already holds HTML.
"""

from __future__ import annotations

from archive.search_syntax import Node, highlight_spans

#: A snippet is about this many characters of the body around the first match.
SNIPPET_CHARS = 260
ELLIPSIS = "…"

Pieces = list[tuple[str, bool]]


def marked(text: str, node: Node | None) -> Pieces:
    """`text` cut into (piece, is_match) pairs, in order; joined, the pieces are `text` again."""
    pieces: Pieces = []
    position = 0
    for start, end in highlight_spans(text, node):
        if start > position:
            pieces.append((text[position:start], False))
        pieces.append((text[start:end], True))
        position = end
    if position < len(text) or not pieces:
        pieces.append((text[position:], False))
    return pieces


def snippet(body: str, node: Node | None, size: int = SNIPPET_CHARS) -> Pieces:
    """A window of the body around its first match (or its opening), cut at spaces, marked."""
    body = " ".join((body or "").split())
    spans = highlight_spans(body, node)
    start = max(0, spans[0][0] - size // 3) if spans else 0
    end = min(len(body), start + size)
    if start > 0:
        space = body.find(" ", start)
        start = space + 1 if 0 <= space < (spans[0][0] if spans else end) else start
    if end < len(body):
        space = body.rfind(" ", start, end)
        end = space if space > start else end
    pieces = marked(body[start:end], node)
    if start > 0:
        pieces.insert(0, (ELLIPSIS + " ", False))
    if end < len(body):
        pieces.append((" " + ELLIPSIS, False))
    return pieces
