"""The code examples of the docs and the README, read from their Markdown.

A fenced block is an example when its language is `sh`, `python` or `toml`. The docs tests run
the `sh` and `python` ones, in page order, against a copy of the demo's archive, and load the
`toml` ones as sources files (as archive.toml when their first line is `# archive.toml`). A block that cannot run offline (a crawl of example.com, a command
that needs PostgreSQL or Redis) says so on the line before its fence:

    <!-- not run: needs the network -->

A block that needs an optional package names it the same way, and is left out (with a one-line
note in the test's output) only where that package is not installed:

    <!-- needs: pyarrow -->

Examples are written for the demo site's default address, http://127.0.0.1:8765/; the tests put
in the address their own demo used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
RUN = ("sh", "python")
DEMO_SITE = "127.0.0.1:8765"

_NOT_RUN = re.compile(r"^<!-- not run: (?P<reason>[^>]+?) -->\s*$")
_NEEDS = re.compile(r"^<!-- needs: (?P<module>[A-Za-z_][\w.]*) -->\s*$")


@dataclass(frozen=True)
class Example:
    page: Path
    line: int
    lang: str
    code: str
    not_run: str | None  # the reason given, when it is marked not to run
    needs: str | None = None  # an optional module it runs only with

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def examples(page: Path) -> list[Example]:
    """Every fenced block of a page, with its language and its not-run mark."""
    text = page.read_text(encoding="utf-8")
    found = []
    lines = text.splitlines(keepends=True)
    inside = False
    start = 0
    lang = ""
    for number, line in enumerate(lines):
        if not inside and line.startswith("```"):
            inside, start, lang = True, number, line[3:].strip().split(" ")[0]
        elif inside and line.rstrip() == "```":
            inside = False
            previous = lines[start - 1].strip() if start else ""
            mark, needs = _NOT_RUN.match(previous), _NEEDS.match(previous)
            found.append(Example(page, start + 1, lang, "".join(lines[start + 1:number]),
                                 mark.group("reason") if mark else None, needs.group("module") if needs else None))
    assert not inside, f"{page}: a code fence is not closed"
    return found
