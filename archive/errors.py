"""The archive's own exceptions: the CLI turns each into a one-line message and a non-zero exit."""


class ArchiveError(Exception):
    """Base class for every error the archive raises on purpose."""


class ExtractionError(ArchiveError):
    """A page could not be turned into an article (not HTML, empty, truncated, parser failure).

    `kind` is a short machine-readable reason that crawl summaries count by.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class NotFound(ArchiveError):
    """The article, version or crawl asked for is not in the archive."""


class BadInput(ArchiveError):
    """A value given by the user (date, URL, option) cannot be understood."""


class RefusedWrite(ArchiveError):
    """The database refused a value of this write (too long, a byte it cannot hold): retrying it
    would fail the same way, and the database itself is healthy (the crawl goes on)."""
