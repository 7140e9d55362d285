"""What a crawl prints when it ends: a row per crawl, and what the archive holds.

Plain text from the crawls' statistics and the archive's counts, shared by the crawling commands
(archive/cli/crawling.py) and the demo (archive/demo/run.py), neither of which imports the other.
"""

from __future__ import annotations

from typing import Any

from archive.text_table import render


def crawl_summary(all_stats: list[dict[str, Any]]) -> str:
    """One row per crawl: what it fetched and what it kept, errors by kind. The crawl column is the
    run's id, as `archive crawls` lists it (`-` for a crawl that could not record one)."""
    rows = []
    for stats in all_stats:
        get = lambda key: int(stats.get(f"archive/{key}", 0))  # noqa: E731
        errors = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("archive/errors/")}
        crawl_id = stats.get("archive/crawl_id")
        rows.append([crawl_id if crawl_id is not None else "-", get("fetches"), get("new"), get("changed"), get("unchanged") + get("same_raw"),
                     get("not_modified"), get("not_article"), get("error"),
                     ", ".join(f"{k} {v}" for k, v in sorted(errors.items())) or "-"])
    table = render(["crawl", "fetches", "new articles", "new versions", "unchanged", "304", "not articles",
                    "errors", "error kinds"], rows, max_width=70)
    disallowed = sum(int(stats.get("archive/robots_disallowed", 0)) for stats in all_stats)
    private = sum(int(stats.get("archive/refused_private", 0)) for stats in all_stats)
    fresh = sum(int(stats.get("archive/skipped_fresh", 0)) for stats in all_stats)
    refused: dict[str, int] = {}
    for stats in all_stats:
        for key, value in stats.items():
            if key.startswith("crawl/sitemaps_refused/"):
                kind = key.rsplit("/", 1)[1].replace("_", " ")
                refused[kind] = refused.get(kind, 0) + int(value)
    followed = sum(int(stats.get("crawl/stored_pages_followed", 0)) for stats in all_stats)
    return (table + (f"\n{disallowed} link(s) disallowed by robots.txt were not fetched" if disallowed else "")
            + (f"\nthe last run of this crawl did not finish: the links of {followed} stored page(s) not fetched "
               "again were followed" if followed else "")
            + (f"\n{sum(refused.values())} listed sitemap(s) not read: "
               + ", ".join(f"{kind} {n}" for kind, n in sorted(refused.items())) if refused else "")
            + (f"\n{fresh} link(s) to articles archived by earlier crawls and not due for a revisit were not "
               "followed (--refresh-after 0s asks for them again)"
               if fresh else "")
            + (f"\n{private} request(s) to private, loopback or link-local addresses were refused; to crawl "
               "your own network, pass --allow-private-addresses (or set ARCHIVE_ALLOW_PRIVATE_ADDRESSES=1)"
               if private else ""))


def archive_summary(numbers: dict[str, int]) -> str:
    return render(["articles", "versions", "fetches", "errors", "raw pages", "near-duplicates"],
                  [[numbers["articles"], numbers["versions"], numbers["fetches"], numbers["errors"],
                    numbers["raw_pages"], numbers["duplicates"]]])
