"""The one item the spiders yield: a fetched page (or a failed fetch), before extraction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class PageItem:
    """A response as fetched. `error` is set for failed fetches; pipelines fill in the rest."""

    url: str
    fetched_at: datetime
    status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    headers: list[tuple[str, str]] | None = None  # the response headers as served, in order
    error: str | None = None          # "kind: message"
    not_modified: bool = False         # a 304 answer to a conditional refetch: nothing to extract
    extracted: Any = None              # archive.extract.Extracted, set by ExtractPipeline
    same_raw: Any = None               # the previous Fetch when the bytes are unchanged
    #: From the spider: "article_id" (a known article's refetch), "article": False (the sources'
    #: URL rules say this page is not an article: stored as not_article without extraction),
    #: "first_fetch" (no earlier successful fetch of this URL: no raw-hash lookup).
    meta: dict[str, Any] = field(default_factory=dict)
