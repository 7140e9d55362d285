"""Turning raw bytes into a parsed page, refusing what is not HTML before any parser sees it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from lxml import etree, html as lxml_html
from trafilatura.utils import decode_file

from archive.errors import ExtractionError

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
_CLOSING = re.compile(rb"</(html|body)\s*>", re.IGNORECASE)


@dataclass
class Page:
    """The decoded text of a page and its lxml tree, shared by every field extractor."""

    url: str
    text: str
    tree: lxml_html.HtmlElement

    def meta(self, *names: str) -> str | None:
        """The first non-empty <meta> content among `names` (name=, property= or itemprop=)."""
        for name in names:
            for attr in ("property", "name", "itemprop"):
                for node in self.tree.xpath(f"//meta[@{attr}=$n]", n=name):
                    value = (node.get("content") or node.get("value") or "").strip()
                    if value:
                        return value
        return None

    def meta_all(self, *names: str) -> list[str]:
        """Every non-empty <meta> content among `names`, in document order, without repeats."""
        values: list[str] = []
        for node in self.tree.xpath("//meta[@property or @name or @itemprop]"):
            key = node.get("property") or node.get("name") or node.get("itemprop")
            value = (node.get("content") or node.get("value") or "").strip()
            if key in names and value and value not in values:
                values.append(value)
        return values

    def link_rel(self, rel: str) -> str | None:
        for node in self.tree.xpath("//link[@rel=$r][@href]", r=rel):
            return node.get("href")
        return None

    def json_ld(self) -> Iterator[dict[str, Any]]:
        """Every JSON-LD object on the page, @graph members flattened; broken blocks skipped."""
        for script in self.tree.xpath("//script[@type='application/ld+json']"):
            try:
                data = json.loads(script.text or "")
            except ValueError:
                continue
            yield from _flatten(data)


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for entry in data:
            yield from _flatten(entry)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"])


def load_page(raw: bytes | str, url: str) -> Page:
    """Decode and parse, raising ExtractionError with a kind for empty, binary or truncated input.

    A truncated document is refused rather than stored: a page cut short in transfer would
    otherwise look like the publisher deleting half the article.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not data.strip():
        raise ExtractionError("empty", "the page is empty")
    head = data[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionError("not_html", "the page holds binary data, not HTML")
    text = decode_file(data)
    if len(_CONTROL.findall(text[:4096])) > 8:
        raise ExtractionError("not_html", "the page holds binary data, not HTML")
    if b"<" not in head:
        raise ExtractionError("not_html", "the page has no HTML markup")
    if _looks_truncated(data, text):
        raise ExtractionError("truncated", "the page stops mid-document (no </body> or </html>): truncated")
    try:
        tree = lxml_html.document_fromstring(text.encode("utf-8"), parser=_parser())
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError("parse_error", f"the page cannot be parsed: {exc}") from exc
    return Page(url=url, text=text, tree=tree)


def _looks_truncated(data: bytes, text: str) -> bool:
    """No closing </body>/</html> and the bytes stop mid-text or mid-tag.

    Old pages often omit the closing tags but still end on a complete tag or comment; a transfer
    cut short almost never does.
    """
    if _CLOSING.search(data[-4096:]) or re.search(r"</(html|body)\s*>", text[-4096:], re.IGNORECASE):
        return False
    return not text.rstrip().endswith(">")


def _parser() -> lxml_html.HTMLParser:
    return lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=False)
