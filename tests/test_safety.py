"""Safe by construction: no SQL is built by formatting strings, hostile input cannot change a query,
and nothing from a page reaches the terminal as a control sequence or is ever rendered as HTML."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from archive.cli import cli
from archive.extract import extract
from archive.store import ArchiveStore
from tests.pages import LOREM, article

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("archive", "crawler", "pipelines", "bench", "support")
#: Calls whose first argument is SQL.
SQL_CALLS = {"text", "execute", "exec_driver_sql", "executescript", "executemany", "literal_column", "TextClause"}
#: Formatted SQL that was read and found safe, by file and exact expression: a change to either
#: needs a new review. Why each is safe:
REVIEWED = {
    # EXPLAIN of a statement SQLAlchemy compiled: its SQL has placeholders, the user's query travels
    # in compiled.params.
    ("archive/search_index.py", '"EXPLAIN (FORMAT JSON) " + str(compiled)'),
    # A scratch database named from uuid4().hex (support.scratch, for the benchmarks): CREATE/DROP DATABASE take no
    # bound parameter for the name.
    ("support/scratch.py", "f'CREATE DATABASE \"{name}\"'"),
    ("support/scratch.py", "f'DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)'"),
}


def constant(node: ast.AST) -> bool:
    """A literal, or a module constant by the naming convention (UPPER_CASE): not input."""
    return isinstance(node, ast.Constant) or isinstance(node, ast.Name) and node.id.isupper()


def formatted(node: ast.AST) -> str | None:
    """How `node` builds a string at run time from values that are not constants, if it does."""
    if isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue) and not constant(v.value)
                                               for v in node.values):
        return "an f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
        return "% formatting"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and (
            formatted(node.left) or formatted(node.right)
            or not (isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Constant))):
        return "concatenation"
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join")
            and isinstance(node.func.value, ast.Constant)):
        return f"str.{node.func.attr}()"
    return None


def sql_built_by_formatting() -> Iterator[str]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                how = formatted(node.args[0]) if name in SQL_CALLS else None
                where = str(path.relative_to(ROOT))
                if how and (where, ast.get_source_segment(path.read_text(), node.args[0])) not in REVIEWED:
                    yield f"{where}:{node.lineno}: {name}() given SQL built by {how}"


def test_no_sql_is_built_by_string_formatting() -> None:
    """A static check: SQL text is a constant; values travel as bound parameters, identifiers
    through SQLAlchemy's quoting. (Migrations pass frozen DDL held in constants.)"""
    assert list(sql_built_by_formatting()) == []


def test_the_static_check_catches_what_it_looks_for() -> None:
    for source in ('conn.execute(text(f"SELECT * FROM t WHERE a = {a}"))', 'conn.exec_driver_sql("x %s" % a)',
                   'text("SELECT " + column)', 'cursor.execute("SELECT {}".format(a))'):
        call = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)
                    and (getattr(n.func, "attr", None) or getattr(n.func, "id", None)) in SQL_CALLS
                    and formatted(n.args[0]))
        assert call is not None, source
    for safe in ('"SELECT 1"', 'f"SELECT {TABLE}"', 'select(a).join(b)'):
        assert formatted(ast.parse(safe, mode="eval").body) is None, safe


HOSTILE = ["'; DROP TABLE article; --", "\" OR 1=1 --", "x%' OR '1'='1", "NVDA' OR '1'='1", "*", "\\",
           "NEAR(", "title:x", "') UNION SELECT sql FROM sqlite_master --", "$$", "%_%", "\x00"]


@pytest.fixture
def archived(db_url: str) -> Iterator[str]:
    store = ArchiveStore.open(db_url)
    hostile = article("Hostile <script>alert(1)</script> \x1b[2J OSC title",  # escaped by article(): text
                      paragraphs=LOREM + ["<b>bold</b> <img src=x onerror=alert(1)>"],
                      extra="<script>document.write('executed')</script><p onclick=\"alert(2)\">Clicked.</p>")
    hostile = hostile.replace("OSC", "&#27;]52;c;ZXZpbA==&#7;&#x9b;31m")  # references to control codes
    store.save(extract(hostile, "https://news.example.com/markets/hostile.html"))
    store.save(extract(article("Chipmakers rally"), "https://news.example.com/markets/chips.html"))
    store.close()
    yield db_url


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_search_input_changes_no_query(archived: str, value: str) -> None:
    runner = CliRunner()
    for args in (["search", value], ["search", "--ticker", value], ["search", "--site", value],
                 ["search", "--author", value], ["export", "--ticker", value, "-o", "-"]):
        result = runner.invoke(cli, [*args, "--db", archived])
        assert result.exit_code in (0, 1, 2), result.output
        assert "Traceback" not in result.output and len(result.output.splitlines()) < 30
        if result.exit_code:  # refused: one line, not a crash
            assert result.output.strip().splitlines()[-1].startswith("Error")
    exported = runner.invoke(cli, ["export", "--db", archived, "-o", "-"])
    assert len(exported.output.splitlines()) == 2  # both articles still there: nothing dropped or leaked


def test_nothing_from_a_page_reaches_the_terminal_as_control_codes(archived: str) -> None:
    runner = CliRunner()
    outputs = [runner.invoke(cli, args + ["--db", archived]).output for args in (
        ["search", "hostile"], ["search"], ["show", "https://news.example.com/markets/hostile.html", "--versions"],
        ["show", "https://news.example.com/markets/hostile.html", "--json"], ["export", "-o", "-"])]
    for output in outputs:
        assert not any(ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F for c in output), repr(output)
    shown = outputs[2]
    assert "<script>alert(1)</script>" in shown  # the title's text, shown as text, never as markup


def test_scripts_and_handlers_are_never_content(archived: str) -> None:
    lines = CliRunner().invoke(cli, ["export", "--db", archived, "-o", "-"]).output.splitlines()
    hostile = next(json.loads(line) for line in lines if "hostile" in line)
    assert "document.write" not in hostile["body"] and "alert(2)" not in hostile["body"]
    assert "Clicked." in hostile["body"]


def test_export_paths_are_validated(archived: str, tmp_path: Path) -> None:
    runner = CliRunner()
    for target in (tmp_path / "missing-dir" / "out.jsonl", tmp_path):
        result = runner.invoke(cli, ["export", "--db", archived, "-o", str(target)])
        assert result.exit_code != 0 and "not a file in an existing directory" in result.output
        assert "Traceback" not in result.output


def test_export_never_overwrites_the_archive_itself(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    store = ArchiveStore.open(f"sqlite:///{db}")
    store.save(extract(article(), "https://news.example.com/a.html"))
    store.close()
    result = CliRunner().invoke(cli, ["export", "--db", f"sqlite:///{db}", "-o", str(db)])
    assert result.exit_code != 0
    assert db.read_bytes()[:16] == b"SQLite format 3\x00"  # still the archive
