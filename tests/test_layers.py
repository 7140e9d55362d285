"""The layers and the import graph: crawler -> pipelines -> archive, and no circles inside archive/.

archive/ never imports Scrapy, crawler/ or pipelines/ at module level: only the CLI and the demo
(the composition root) start crawls, importing crawler/ inside the function that needs it.
Inside archive/ an import of another archive module is at module level, except the few made
late for their import cost (LAZY, each with its reason), and the graph of all of them, late ones
included, has no circle: an import inside a function must never be what hides a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE = ROOT / "archive"
OUTSIDE = ("scrapy", "crawler", "pipelines", "twisted", "scrapy_redis")
#: archive imports made inside a function, and why: all for import cost, none to break a circle.
LAZY = {
    ("archive", "archive.api"): "`import archive.extract` in crawl workers must not load the database layer",
    ("archive.store", "archive.extract"): "trafilatura, only when a stored page is read again",
    ("archive.warc", "archive.extract"): "trafilatura, only when a WARC is imported",
    ("archive.export", "archive.warc"): "warcio, only when a WARC is exported",
    ("archive.check", "archive.fingerprint"): "datasketch and numpy, only for that check",
    ("archive.cli.extract", "archive.fetch"): "the crawl's address guard (Twisted), only when a URL is given",
    ("archive.cli.serve", "archive.web"): "the optional web extra (Starlette), only for `archive serve`",
    ("archive.__main__", "archive.cli"): "after a crawl's extraction workers have started (their fork server)",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(tree: ast.Module) -> list[tuple[str, bool]]:
    """(module imported, at module level?) for every import in a file."""
    top = {id(node) for node in tree.body} | {id(n) for node in tree.body if isinstance(node, ast.If)
                                               for n in node.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, id(node) in top))
            # `from archive.cli import crawl` may import the submodule archive.cli.crawl
            found += [(f"{node.module}.{alias.name}", id(node) in top) for alias in node.names]
    return found


def sources() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text(encoding="utf-8"))
            for path in ARCHIVE.rglob("*.py") if "migrations" not in path.parts}


def test_archive_imports_no_crawler_at_module_level() -> None:
    for name, tree in sources().items():
        for module, top_level in imports(tree):
            if module.split(".")[0] in OUTSIDE:
                assert not top_level, f"{name} imports {module} at module level"
                # archive.fetch (`archive extract URL`) fetches one page behind the crawl's address guard;
                # archive.__main__ starts a crawl's extraction workers before the CLI's own imports
                assert name.startswith(("archive.cli", "archive.demo", "archive.fetch", "archive.__main__")), \
                    f"{name} imports {module}"


def test_archive_modules_import_each_other_at_module_level_without_a_circle() -> None:
    trees = sources()
    graph: dict[str, set[str]] = {name: set() for name in trees}
    for name, tree in trees.items():
        for module, top_level in imports(tree):
            if module.split(".")[0] != "archive" or module == "archive":
                continue
            if module not in trees and module.rsplit(".", 1)[0] not in trees:
                continue  # a name imported from a module, not a module
            target = module if module in trees else module.rsplit(".", 1)[0]
            if not top_level:
                assert (name, target) in LAZY, f"{name} imports {module} inside a function"
            # Importing a.b.c runs the package a.b's __init__ first: an edge to each parent package.
            parts = target.split(".")
            for end in range(2, len(parts) + 1):
                step = ".".join(parts[:end])
                if step in trees and step != name and not name.startswith(step + "."):
                    graph[name].add(step)
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(node):] + [node]))
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, path + [node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])


def test_the_store_does_not_depend_on_the_query_language() -> None:
    """The tokenizer both the index and the queries use is archive.words, below both."""
    trees = sources()
    for name in ("archive.db", "archive.store", "archive.models"):
        assert not any(module.startswith("archive.search") for module, _ in imports(trees[name])), name
