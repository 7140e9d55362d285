"""How a site filter matches the sites stored with articles (and the day counts' rows): one
condition for archive.query and archive.day_counts, which archive.query's imports reach."""

from __future__ import annotations

import re
from typing import Any, Iterable

from sqlalchemy import ColumnElement, or_

from archive.models import Article


def escape_like(term: str) -> str:
    """A term matched literally by LIKE ... ESCAPE '\\'."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_PORT = re.compile(r":\d+$")


def site_condition(sites: Iterable[str], column: Any = Article.site) -> ColumnElement[bool]:
    """Articles of these sites; a site named without a port (127.0.0.1) matches it on any port
    (127.0.0.1:8765), as a site is stored with the port its URLs name. `column`: where the site is
    (archive.day_counts asks its own table the same)."""
    names = [site.strip().lower().removeprefix("www.") for site in sites]
    any_port = [column.like(escape_like(name) + ":%", escape="\\") for name in names if not _PORT.search(name)]
    return or_(column.in_(names), *any_port)
