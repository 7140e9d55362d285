"""The full-text query language: parsed here into a small tree, rendered for each database.

One syntax on SQLite (FTS5) and PostgreSQL (tsquery), so that a query means the same thing on
both. The user's text never reaches SQL as SQL: each word is cut into letters-and-digits tokens
here, and the rendered query (which contains only those tokens, quotes and operators) is sent as
a bound parameter to FTS5's MATCH or PostgreSQL's to_tsquery.

    chips                   a word (case-insensitive, no stemming)
    "export controls"       a phrase: these words, adjacent, in the title or in the body
    chip*  "export contr"*  a prefix (of a word, or of a phrase's last word)
    chips export            both (AND is implied between terms)
    chips AND export        both
    nvidia OR amd           either
    chips NOT intel         the first without the second; also written chips -intel
    (nvidia OR amd) AND "data center"

AND, OR and NOT are operators only in capitals; NOT binds tightest, then AND, then OR.
NOT must subtract from something ("NOT intel" alone is refused: FTS5 cannot answer it and it
would match nearly the whole archive). Words are maximal runs of letters and digits: "BRK.B"
is the phrase "brk b", "$NVDA" is "nvda", punctuation alone is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Sequence, Union

from archive.errors import BadInput
from archive.words import FTS5_PAIR_JOIN, tokens_of

__all__ = ["Term", "And", "Or", "Not", "Node", "parse", "tokens_of", "render_fts5", "render_tsquery",
           "document", "matches", "positive_terms", "highlight_spans", "render_word_pairs", "pairs_decide",
           "split_on_pairs", "PAIR_SEPARATOR"]

_LEXEME = re.compile(r"""\s+|\(|\)|"[^"]*"?\*?|[^\s()"]+""")
OPERATORS = ("AND", "OR", "NOT")
#: How deep parentheses and NOTs may nest: far beyond any real query, and far below Python's
#: recursion limit (500 nested parentheses raised RecursionError in the parser).
MAX_DEPTH = 100


@dataclass(frozen=True)
class Term:
    """One word, or a phrase of several adjacent words; `prefix` makes the last word a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class And:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    item: "Node"


Node = Union[Term, And, Or, Not]


# -- lexing ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Lexeme:
    kind: str            # ( ) AND OR NOT - term
    at: int              # 1-based column, for error messages
    term: Term | None = None
    text: str = ""


def _lex(query: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    for match in _LEXEME.finditer(query):
        raw, at = match.group(), match.start() + 1
        if raw.isspace():
            continue
        if raw in ("(", ")") or raw in OPERATORS:
            out.append(_Lexeme(raw, at, text=raw))
            continue
        if raw == "-" and query[match.end():match.end() + 1] in ('"', "("):
            out.append(_Lexeme("NOT", at, text="-"))  # -"a phrase", -(a group)
            continue
        negated = raw.startswith("-") and len(raw) > 1
        if negated:
            out.append(_Lexeme("NOT", at, text="-"))
            raw, at = raw[1:], at + 1
        if raw.startswith('"'):
            out.append(_Lexeme("term", at, _phrase(raw, at, query), raw))
            continue
        prefix = raw.endswith("*")
        word = raw[:-1] if prefix else raw
        if "*" in word:
            raise BadInput(f"bad search query: '*' goes at the end of a word (column {at}): {query}")
        tokens = tokens_of(word)
        if not tokens:
            if prefix or negated:
                raise BadInput(f"bad search query: {raw!r} has no letters or digits (column {at}): {query}")
            continue  # punctuation between words, e.g. "S & P"
        out.append(_Lexeme("term", at, Term(tokens, prefix), raw))
    return out


def _phrase(raw: str, at: int, query: str) -> Term:
    prefix = raw.endswith("*")
    body = raw[:-1] if prefix else raw
    if len(body) < 2 or not body.endswith('"'):
        raise BadInput(f"bad search query: a quote opened at column {at} is never closed: {query}")
    tokens = tokens_of(body[1:-1])
    if not tokens:
        raise BadInput(f"bad search query: the phrase at column {at} has no words: {query}")
    return Term(tokens, prefix)


# -- parsing --------------------------------------------------------------------------------------
class _Parser:
    """query := or ; or := and (OR and)* ; and := unary ([AND] unary)* ; unary := NOT unary | atom."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.lexemes = _lex(query)
        self.pos = 0
        self.depth = 0

    def fail(self, message: str, lexeme: _Lexeme | None = None) -> BadInput:
        where = f" (column {lexeme.at})" if lexeme else ""
        return BadInput(f"bad search query: {message}{where}: {self.query}")

    def peek(self) -> _Lexeme | None:
        return self.lexemes[self.pos] if self.pos < len(self.lexemes) else None

    def take(self) -> _Lexeme:
        lexeme = self.lexemes[self.pos]
        self.pos += 1
        return lexeme

    def parse(self) -> Node:
        if not self.lexemes:
            raise BadInput(f"bad search query: nothing to search for: {self.query!r}")
        node = self.or_()
        extra = self.peek()
        if extra is not None:
            raise self.fail("')' without a matching '('" if extra.kind == ")" else f"unexpected {extra.text!r}", extra)
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while (lexeme := self.peek()) is not None and lexeme.kind == "OR":
            self.take()
            items.append(self.and_(after=lexeme))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self, after: _Lexeme | None = None) -> Node:
        items = [self.unary(after)]
        while (lexeme := self.peek()) is not None and lexeme.kind in ("AND", "NOT", "(", "term"):
            if lexeme.kind == "AND":
                self.take()
                items.append(self.unary(after=lexeme))
            else:
                items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self, after: _Lexeme | None = None) -> Node:
        lexeme = self.peek()
        if lexeme is None:
            raise self.fail(f"{after.text} needs a term after it" if after else "unexpected end", after)
        if lexeme.kind in ("NOT", "("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(f"parentheses and NOTs nested more than {MAX_DEPTH} deep", lexeme)
            try:
                return self.nested(lexeme)
            finally:
                self.depth -= 1
        if lexeme.kind == "term":
            self.take()
            assert lexeme.term is not None
            return lexeme.term
        if after is not None:
            raise self.fail(f"{after.text} needs a term after it", after)
        raise self.fail("')' without a matching '('" if lexeme.kind == ")"
                        else f"{lexeme.text} needs a term before it", lexeme)

    def nested(self, lexeme: _Lexeme) -> Node:
        """NOT x, or a parenthesised group."""
        self.take()
        if lexeme.kind == "NOT":
            return Not(self.unary(after=lexeme))
        if (closing := self.peek()) is not None and closing.kind == ")":
            raise self.fail("empty parentheses", lexeme)
        node = self.or_()
        if (closing := self.peek()) is None or closing.kind != ")":
            raise self.fail("'(' is never closed", lexeme)
        self.take()
        return node


def _simplify(node: Node) -> Node:
    """Flatten nested AND/OR, drop double negation."""
    if isinstance(node, Not):
        inner = _simplify(node.item)
        return inner.item if isinstance(inner, Not) else Not(inner)
    if isinstance(node, (And, Or)):
        kind = type(node)
        items: list[Node] = []
        for item in map(_simplify, node.items):
            items.extend(item.items if isinstance(item, kind) else (item,))
        return kind(tuple(items))
    return node


def _check_negations(node: Node, query: str) -> None:
    """Every NOT must be one of several ANDed terms with at least one positive among them."""
    def refuse() -> BadInput:
        return BadInput(f"bad search query: NOT needs a term to subtract from, e.g. 'chips NOT intel': {query}")
    if isinstance(node, Not):
        raise refuse()
    if isinstance(node, Or):
        for item in node.items:
            _check_negations(item, query)
    if isinstance(node, And):
        if all(isinstance(item, Not) for item in node.items):
            raise refuse()
        for item in node.items:
            _check_negations(item.item if isinstance(item, Not) else item, query)


def parse(query: str) -> Node:
    """The tree of a user's query; raises BadInput (one line, with the column) when malformed."""
    node = _simplify(_Parser(query).parse())
    _check_negations(node, query)
    return node


def document(*fields: str) -> tuple[str, ...]:
    """Fields (title, body) in the form `matches` reads: lower-cased."""
    return tuple(text.lower() for text in fields)


@lru_cache(maxsize=512)
def _pattern(term: Term) -> re.Pattern[str]:
    """The term's tokens, each after the one before with separators between, the last one whole
    unless a prefix. It starts with a literal, so that the regex engine scans for it at C speed (a
    leading look-behind for the token boundary made it ten times slower): `_contains` checks that."""
    tokens = [re.escape(token) for token in term.tokens]
    return re.compile(r"[\W_]+".join(tokens) + ("" if term.prefix else r"(?![^\W_])"))


def _contains(text: str, term: Term) -> bool:
    """Whether the term's tokens occur in `text` as whole, consecutive tokens (the last one a prefix)."""
    pattern = _pattern(term)
    position = 0
    while (found := pattern.search(text, position)) is not None:
        start = found.start()
        if start == 0 or not text[start - 1].isalnum():
            return True
        position = start + 1  # a match may begin inside one that failed ("ba a a" holds "a a")
    return False


def matches(node: Node, fields: Sequence[str]) -> bool:
    """Whether a document (see `document`) matches the query.

    The same answer the indexes give, computed here for a handful of rows at a time (plain
    string search, no index): a token is a maximal run of letters and digits, and a phrase lies
    within one field, as FTS5 keeps its columns apart.
    """
    if isinstance(node, Term):
        return any(_contains(field, node) for field in fields)
    if isinstance(node, Not):
        return not matches(node.item, fields)
    if isinstance(node, And):
        return all(matches(item, fields) for item in node.items)
    return any(matches(item, fields) for item in node.items)


def positive_terms(node: Node) -> Iterator[Term]:
    """The terms a match must (or may) contain: for highlighting, never under a NOT."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, (And, Or)):
        for item in node.items:
            yield from positive_terms(item)


# -- rendering ------------------------------------------------------------------------------------
#: SQLite's index (migration 0006) keeps each field's words in `title` and `body`, and their adjacent
#: pairs (archive.words.word_pairs) in `title_pairs` and `body_pairs`.
_FTS5_WORDS, _FTS5_PAIRS = "{title body}", "{title_pairs body_pairs}"


def render_fts5(node: Node) -> str:
    """An FTS5 MATCH expression: every phrase double-quoted (tokens hold no quotes), explicit parentheses.

    A word is asked of the word columns; a phrase of n words, of the pair columns as the phrase of
    its n-1 pairs ("up the for" -> "up+the the+for"), which holds exactly the same versions (FTS5
    keeps a phrase within one column, so it never runs from the title into the body) and reads
    lists far shorter than the words' when the words are common.
    """
    if isinstance(node, Term):
        if len(node.tokens) == 1:
            return f'{_FTS5_WORDS} : "{node.tokens[0]}"' + (" *" if node.prefix else "")
        pairs = [a + FTS5_PAIR_JOIN + b for a, b in zip(node.tokens, node.tokens[1:])]
        return f'{_FTS5_PAIRS} : "' + " ".join(pairs) + '"' + (" *" if node.prefix else "")
    if isinstance(node, Or):
        return "(" + " OR ".join(render_fts5(item) for item in node.items) + ")"
    if isinstance(node, And):
        positive = [render_fts5(item) for item in node.items if not isinstance(item, Not)]
        negative = [render_fts5(item.item) for item in node.items if isinstance(item, Not)]
        text = "(" + " AND ".join(positive) + ")"
        if negative:  # FTS5's NOT is binary: a NOT (b OR c), flat (one NOT each nested: parser stack overflow)
            text = f"({text} NOT {negative[0] if len(negative) == 1 else '(' + ' OR '.join(negative) + ')'})"
        return text
    raise AssertionError(f"unchecked NOT reached the renderer: {node!r}")


def _lexeme(token: str, prefix: bool, weight: str = "") -> str:
    quoted = "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"
    label = ("*" if prefix else "") + weight
    return f"{quoted}:{label}" if label else quoted


def render_tsquery(node: Node) -> str:
    """A to_tsquery('simple', ...) expression matching what render_fts5 matches.

    A phrase must not run from the title into the body (FTS5 keeps columns apart), so a
    phrase is asked for within the title (weight A) or within the body (weight B).
    """
    if isinstance(node, Term):
        *head, last = node.tokens
        if not head:
            return _lexeme(last, node.prefix)
        def phrase(weight: str) -> str:
            return " <-> ".join([_lexeme(t, False, weight) for t in head] + [_lexeme(last, node.prefix, weight)])
        return f"({phrase('A')} | {phrase('B')})"
    if isinstance(node, Or):
        return "(" + " | ".join(render_tsquery(item) for item in node.items) + ")"
    if isinstance(node, And):
        return "(" + " & ".join("!" + render_tsquery(item.item) if isinstance(item, Not) else render_tsquery(item)
                                for item in node.items) + ")"
    raise AssertionError(f"unchecked NOT reached the renderer: {node!r}")


#: Joins the two words of an adjacent pair in PostgreSQL's pair index (migration 0005); never in a token.
PAIR_SEPARATOR = "_"
#: The longest lexeme a tsvector holds, in bytes: longer pairs are not indexed, so never asked for.
_MAX_PAIR_BYTES = 2046


def _pairs_of(term: Term) -> str | None:
    if len(term.tokens) < 2:
        return None
    pairs = [(a + PAIR_SEPARATOR + b, term.prefix and i == len(term.tokens) - 2)
             for i, (a, b) in enumerate(zip(term.tokens, term.tokens[1:]))]
    if any(len(pair.encode()) > _MAX_PAIR_BYTES for pair, _ in pairs):
        return None
    rendered = " & ".join(_lexeme(pair, prefix) for pair, prefix in pairs)
    return f"({rendered})" if len(pairs) > 1 else rendered


def render_word_pairs(node: Node) -> str | None:
    """A tsquery (tsquery input syntax, not to_tsquery's) of the adjacent word pairs every match holds.

    PostgreSQL's GIN index keeps no positions, so a phrase of common words has to be checked on
    every version holding all its words; its pairs ("export controls" -> 'export_controls') are
    rare, and an index of each version's pairs (migration 0005) finds the few versions worth
    checking. A necessary condition only, never the answer: "a b c" needs 'a_b' & 'b_c' but
    they may be apart. None when the query requires no pair (single words, or an OR with one).
    """
    if isinstance(node, Term):
        return _pairs_of(node)
    if isinstance(node, And):
        parts = [rendered for item in node.items if not isinstance(item, Not)
                 if (rendered := render_word_pairs(item)) is not None]
        return "(" + " & ".join(parts) + ")" if parts else None
    if isinstance(node, Or):
        parts = [render_word_pairs(item) for item in node.items]
        if any(part is None for part in parts):
            return None
        return "(" + " | ".join(parts) + ")"  # type: ignore[arg-type]
    return None


def pairs_decide(node: Node) -> bool:
    """Whether the pairs alone answer the query: ANDs and ORs of two-word phrases, where holding
    the pair is being the phrase (render_word_pairs gives each pair, the last one a prefix if asked)."""
    if isinstance(node, Term):
        return _pairs_of(node) is not None and len(node.tokens) == 2
    if isinstance(node, (And, Or)):
        return all(pairs_decide(item) for item in node.items)
    return False


def split_on_pairs(node: Node) -> tuple[Node, Node] | None:
    """(words, phrases): an AND whose items are either decided by their pairs (pairs_decide) or hold
    no phrase at all, split into those two parts, each exact in its own index without reading a
    row (GIN is exact for words, prefixes and NOT, and the pair index for two-word phrases); None
    for any other query. `(demand OR gpu) "banks and"` is ((demand OR gpu), "banks and")."""
    if not isinstance(node, And):
        return None
    phrases = tuple(item for item in node.items if pairs_decide(item))
    words = tuple(item for item in node.items if not pairs_decide(item))
    if not phrases or not words or not all(_phrase_free(item) for item in words):
        return None
    return And(words), (phrases[0] if len(phrases) == 1 else And(phrases))


def _phrase_free(node: Node) -> bool:
    if isinstance(node, Term):
        return len(node.tokens) == 1
    if isinstance(node, Not):
        return _phrase_free(node.item)
    return all(_phrase_free(item) for item in node.items)


def highlight_spans(text: str, node: Node | None) -> list[tuple[int, int]]:
    """Where the query's positive terms occur in `text`, as sorted, non-overlapping (start, end)
    spans: the same token rules as `matches`, so that what is marked is what matched."""
    if node is None or not text:
        return []
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: positions would drift
        lowered = "".join(c.lower()[:1] or c for c in text)
    spans: list[tuple[int, int]] = []
    for term in set(positive_terms(node)):
        for found in _pattern(term).finditer(lowered):
            start = found.start()
            if start == 0 or not lowered[start - 1].isalnum():
                end = found.end()
                while term.prefix and end < len(lowered) and lowered[end].isalnum():
                    end += 1  # a prefix marks the whole word it begins
                spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
