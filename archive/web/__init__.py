"""`archive serve`: a read-only research web app over the archive's own query layer (extra: web)."""

from archive.web.app import create_app

__all__ = ["create_app"]
