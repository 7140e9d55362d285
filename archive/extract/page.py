"""Turning raw bytes into a parsed page, refusing what is not HTML before any parser sees it."""

from __future__ import annotations

import codecs
import html
import json
import re
from dataclasses import dataclass
from email.message import Message
from functools import cached_property
from typing import Any, Iterator

from lxml import etree, html as lxml_html
from trafilatura.utils import detect_encoding

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
                found = self._metas.get((attr, name))
                if found:
                    return found
        return None

    @cached_property
    def _metas(self) -> dict[tuple[str, str], str]:
        """(attribute, name) -> the first non-empty content: extraction asks for dozens of names per page."""
        found: dict[tuple[str, str], str] = {}
        for attrs, value in self._meta_tags:
            for key in attrs:
                found.setdefault(key, value)
        return found

    @cached_property
    def _meta_tags(self) -> list[tuple[list[tuple[str, str]], str]]:
        """Each <meta> with a non-empty content, in document order: its (attribute, name) pairs and
        its content (as plain_text), read in one pass over the page (a pass costs as much as all
        lookups together)."""
        tags = []
        for node in self.tree.iter("meta"):
            value = plain_text(node.get("content") or node.get("value") or "").strip()
            if value:
                tags.append(([(attr, key) for attr in ("property", "name", "itemprop")
                              if (key := node.get(attr)) is not None], value))
        return tags

    def meta_all(self, *names: str) -> list[str]:
        """Every non-empty <meta> content among `names`, in document order, without repeats."""
        values: list[str] = []
        for attrs, value in self._meta_tags:
            name = next((key for _, key in attrs if key), None)  # the first non-empty of property, name, itemprop
            if name in names and value not in values:
                values.append(value)
        return values

    def link_rel(self, rel: str) -> str | None:
        for node in self.tree.xpath("//link[@rel=$r][@href]", r=rel):
            return node.get("href")
        return None

    def json_ld(self) -> Iterator[dict[str, Any]]:
        """Every JSON-LD object on the page, @graph members flattened; broken blocks skipped."""
        return iter(self._json_ld)

    @cached_property
    def _json_ld(self) -> list[dict[str, Any]]:
        """Parsed once: titles, authors, dates, tickers and kind all ask."""
        found: list[dict[str, Any]] = []
        for script in self.tree.xpath("//script[@type='application/ld+json']"):
            text = script.text or ""
            if "<![CDATA[" in text or "]]>" in text:  # each of _CDATA's two forms holds one
                text = _CDATA.sub("", text)
            try:
                data = json.loads(text)
            except ValueError:
                continue
            found.extend(_flatten(_unescaped(data)))
        return found


#: One complete HTML character reference (`&#8217;`, `&#x2019;`, `&quot;`). JSON-LD values are
#: plain text (schema.org Text), yet many CMSs write them HTML-escaped (on the corpus, headlines of
#: eight sites, WordPress and others, came out as "&#8216;illogical&#8217;"); trafilatura's own
#: JSON-LD reader unescapes them too. Only complete references are decoded: "AT&T" and "S&P 500"
#: stay as written, and so does "&not" or "&copy" without its semicolon.
_CHARACTER_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


#: A rich-text editor's formatting tag written inside a value that is plain text ("<p>Prime
#: Minister ...", "<em>NDR</em>", "<a href=...>"). Only these: any other "<...>" is the publisher's
#: literal text ("How the <blink> tag died") and stays, to be escaped wherever it is shown.
_TAG = re.compile(r"</?(?:p|em|strong|b|i|u|a|span|br|div|sup|sub)(?:\s[^<>]*)?/?>", re.IGNORECASE)


def plain_text(value: str) -> str:
    """A value that is plain text by its standard (a <meta> content, a JSON-LD Text) as a reader
    sees it: character references that survived parsing decoded (the CMS escaped the value twice,
    "CD&amp;amp;V"), formatting tags an editor left in removed. Whitespace is left as it is."""
    if "<" in value:
        value = _TAG.sub("", value)
    return _decoded(value)


def _decoded(value: str) -> str:
    """`value` with its complete character references decoded (see _CHARACTER_REFERENCE)."""
    return _CHARACTER_REFERENCE.sub(lambda match: html.unescape(match[0]), value) if "&" in value else value


def _unescaped(data: Any) -> Any:
    """`data` (parsed JSON) with the character references in its strings decoded."""
    if isinstance(data, str):
        return _decoded(data)
    if isinstance(data, list):
        return [_unescaped(value) for value in data]
    if isinstance(data, dict):
        return {key: _unescaped(value) for key, value in data.items()}
    return data


#: XHTML-era wrappers around a script's JSON (`<![CDATA[ ... ]]>`, also inside `/* */` or `//`
#: comments): markup for XML parsers that lxml's HTML parser leaves in the text.
_CDATA = re.compile(r"^\s*(?:/\*|//)?\s*<!\[CDATA\[(?:\s*\*/)?|(?:/\*|//)?\s*\]\]>\s*(?:\*/)?\s*$")


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for entry in data:
            yield from _flatten(entry)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"])


def load_page(raw: bytes | str, url: str, content_type: str | None = None) -> Page:
    """Decode and parse, raising ExtractionError with a kind for empty, binary or truncated input.

    `content_type` is the HTTP Content-Type header the page was served with: its charset is
    what many servers declare instead of a <meta> in the page (see decode).

    A truncated document is refused rather than stored: a page cut short in transfer would
    otherwise look like the publisher deleting half the article.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not data.strip():
        raise ExtractionError("empty", "the page is empty")
    head = data.lstrip()[:4096]  # a page may open with kilobytes of blank lines
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        if head.count(b"\x00") > _MAX_STRAY_NULS:
            raise ExtractionError("not_html", "the page holds binary data, not HTML")
        data = data.replace(b"\x00", b"")  # a stray NUL or two (a template's bug): never text, dropped
        head = data.lstrip()[:4096]
    text = decode(data, charset_of(content_type))
    if len(_CONTROL.findall(text[:4096])) > 8:
        raise ExtractionError("not_html", "the page holds binary data, not HTML")
    if b"<" not in head:
        raise ExtractionError("not_html", "the page has no HTML markup")
    if _looks_truncated(data, text):
        raise ExtractionError("truncated", "the page stops mid-document (no </body> or </html>): truncated")
    text, encoded = _without_controls(text)
    try:
        tree = lxml_html.document_fromstring(encoded or text.encode("utf-8"), parser=_parser())
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError("parse_error", f"the page cannot be parsed: {exc}") from exc
    return Page(url=url, text=text, tree=tree)


#: NUL bytes in a page's first 4 KiB above which it is binary data (or UTF-16 without a byte-order
#: mark); fewer are a stray byte in an HTML page, dropped (one rejected the whole page).
_MAX_STRAY_NULS = 8

#: C0 controls but tab, newline and carriage return; DEL; C1 controls. Never text in a page, and a
#: terminal obeys them: ESC [2J clears the screen, ESC ] 52 writes the clipboard. Removed before
#: parsing, as raw characters and as character references, so no field can carry them to
#: `archive show`, a table or an export.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_REFERENCE = re.compile(r"&#([xX][0-9a-fA-F]{1,8}|[0-9]{1,10});?")


#: The same characters as _UNSAFE, as UTF-8 bytes: C0 and DEL single bytes, C1 as \xc2\x80-\xc2\x9f.
_UNSAFE_C0 = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_UNSAFE_C1 = re.compile(rb"\xc2[\x80-\x9f]")


def without_controls(text: str) -> str:
    """The text with control characters (see _UNSAFE) and references to them removed."""
    return _without_controls(text)[0]


def _without_controls(text: str) -> tuple[str, bytes | None]:
    """without_controls(text), and its UTF-8 bytes when nothing was removed (None: not at hand).

    Whether the text holds an _UNSAFE character is asked of its UTF-8 bytes, much faster than the
    regex over a page's str, which then runs only on the rare page that has one; the same bytes are
    what the parser reads. References are replaced only on a page that has an unsafe one."""
    try:
        data: bytes | None = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: tested as it is, never parsed (see load_page)
        data = None
    raw = data if data is not None else text.encode("utf-8", "surrogatepass")
    if len(raw.translate(None, _UNSAFE_C0)) != len(raw) or _UNSAFE_C1.search(raw) is not None:
        text, data = _UNSAFE.sub("", text), None
    if "&#" in text and any(_drop_unsafe_reference(m) != m.group(0) for m in _REFERENCE.finditer(text)):
        text, data = _REFERENCE.sub(_drop_unsafe_reference, text), None
    return text, data


def _drop_unsafe_reference(match: re.Match[str]) -> str:
    number = match.group(1)
    code = int(number[1:], 16) if number[0] in "xX" else int(number)
    if code >= 0x110000 or not _UNSAFE.match(chr(code)):
        return match.group(0)
    if 0x80 <= code <= 0x9F:  # HTML reads &#128;..&#159; as windows-1252 (&#150; is an en dash)
        return "" if _UNSAFE.match(_CP1252[code]) else _CP1252[code]
    return ""


_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_DECLARED = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""", re.IGNORECASE)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
#: Labels that mean windows-1252 on the web (WHATWG Encoding): pages labelled latin-1 use its quotes.
_MEANS_CP1252 = {"ascii", "iso8859-1", "cp1252"}
#: What a statistical detector answers for Latin-script text in a single-byte encoding; its few
#: accented letters are too little evidence to tell these apart, and windows-1252 is what pages use.
_LATIN_GUESSES = {"cp1250", "cp1252", "cp1254", "cp1257", "iso8859-1", "iso8859-2", "iso8859-9",
                  "iso8859-13", "iso8859-15", "iso8859-16", "mac-latin2", "mac-roman", "cp437", "cp850", "cp775"}
#: windows-1252 with its five unassigned bytes as the C1 controls they stand for (as browsers do).
_CP1252 = [bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(256)]


def _legacy_bytes(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes that failed as windows-1252: stray legacy bytes inside a UTF-8 page."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(_CP1252[b] for b in error.object[error.start:error.end]), error.end


codecs.register_error("archive-cp1252", _legacy_bytes)


def charset_of(content_type: str | None) -> str | None:
    """The codec named by a Content-Type header's charset parameter ("text/html; charset=EUC-KR"), if Python knows it."""
    if not content_type or "charset" not in content_type.lower():
        return None
    message = Message()
    message["Content-Type"] = content_type
    label = message.get_param("charset")
    return _codec_name(label.strip()) if isinstance(label, str) and label.strip() else None


def decode(data: bytes, charset: str | None = None) -> str:
    """Bytes to text, the way browsers read real pages: a BOM wins, then valid UTF-8, then the
    charset the server sent (`charset`, from the Content-Type header), then the one the page
    declares, then windows-1252 for Latin text.

    Why not a detector alone: a page in windows-1252 mislabelled UTF-8 is common, and detectors
    take its few accented letters for Central European text ("naïve" came out "naďve").
    A UTF-8 page with a few stray windows-1252 bytes keeps its UTF-8 and reads only those as 1252.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(codec, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for declared in dict.fromkeys((charset, _declared_charset(data[:4096]))):
        if declared is None or declared == "utf-8":
            continue
        codec = "cp1252" if declared in _MEANS_CP1252 else declared
        try:
            return data.decode(codec, "archive-cp1252" if codec == "cp1252" else "strict")
        except UnicodeDecodeError:
            pass  # labelled wrongly as well
    in_sequences = sum(len(m) for m in _UTF8_SEQUENCE.findall(data))
    if in_sequences and in_sequences * 2 >= sum(1 for b in data if b >= 0x80):
        return data.decode("utf-8", "archive-cp1252")
    guesses = [_codec_name(g) for g in detect_encoding(data)]
    if not guesses or guesses[0] in _LATIN_GUESSES:
        return data.decode("cp1252", "archive-cp1252")
    for guess in guesses:
        try:
            return data.decode(guess or "", "strict")
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("cp1252", "archive-cp1252")


def _declared_charset(head: bytes) -> str | None:
    match = _DECLARED.search(head)
    return _codec_name(match.group(1).decode("ascii")) if match else None


def _codec_name(label: str) -> str | None:
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _looks_truncated(data: bytes, text: str) -> bool:
    """No closing </body>/</html> and the bytes stop mid-text or mid-tag.

    Old pages often omit the closing tags but still end on a complete tag or comment; a transfer
    cut short almost never does.
    """
    if _CLOSING.search(data[-4096:]) or re.search(r"</(html|body)\s*>", text[-4096:], re.IGNORECASE):
        return False
    return not text.rstrip().endswith(">")


#: Every element an HtmlElement, chosen in C: lxml.html's own lookup (FormElement for <form>,
#: InputElement for <input>, ...) is Python code called for each element proxy lxml creates,
#: thousands of times a page; nothing here uses the form classes.
_ELEMENTS = etree.ElementDefaultClassLookup(element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment,
                                            pi=lxml_html.HtmlProcessingInstruction, entity=lxml_html.HtmlEntity)


def _parser() -> lxml_html.HTMLParser:
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, huge_tree=False)
    parser.set_element_class_lookup(_ELEMENTS)
    return parser
