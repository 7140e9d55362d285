"""How large a page may be: one limit for a crawl's downloads and a WARC import's records.

A page larger than this is not an article (or is an attack): the crawler cuts the download off
(Scrapy's DOWNLOAD_MAXSIZE, set from it in crawler/settings.py), and import-warc records the
capture as too_large without reading the rest, whatever the record's size or compression.
Feeds and sitemaps have their own, larger limit.
"""

from __future__ import annotations

from datetime import timedelta

MAX_PAGE_BYTES = 8 * 1024 * 1024
#: A feed or sitemap may be this large, uncompressed: the sitemaps protocol's limit (big publishers'
#: news sitemaps pass the page limit). The crawler gives its feed and sitemap requests this limit.
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
#: A capture dated later than now by more than this is refused (clocks disagree by less).
MAX_CLOCK_SKEW = timedelta(days=1)
