"""Every code example in the docs and the README runs, against the demo's archive.

Each page's `sh` and `python` blocks run in order (a later block may read what an earlier one
wrote) in a fresh folder holding a copy of the demo's archive as ./demo-archive.db, with
ARCHIVE_DB_URL pointing at it and `archive` on PATH. A block fails the test when it exits non-zero
or prints a traceback. `toml` blocks are loaded as sources files. Blocks marked
`<!-- not run: REASON -->` (see tests/docs/examples.py) are the only ones left out.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archive.config import read_file
from crawler.sources import load_sources
from tests.docs.examples import DEMO_SITE, PAGES, ROOT, RUN, Example, examples

pytestmark = pytest.mark.slow

#: What a page's examples must print, beyond running: the claims its text makes about them.
EXPECTED: dict[str, list[str | tuple[str, str]]] = {
    "python-api.md": ["Chip stocks mixed as US unveils new AI chip export framework", "changed: title",
                      "rows; article_id,version,url", ("pyarrow", "columns: article_id, version, url, canonical_url"),
                      ("pandas", "NVDA versions in a DataFrame")],
    "README.md": ["Nvidia's Blackwell Ramp", "{+Custom silicon is the other competitive front."],
    "getting-started.md": ["wrote 2 rows to nvda-january.csv"],
    "configuration.md": ["my-lab-bot/1.0 (jane@example.com)", '"source": "environment"'],
    "cookbook.md": ["wrote 2 rows to nvda-january.csv", "AMD's Data Center Quarter", "['INTC', 'AMD', 'AVGO']"],
}


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo's archive (built once by `archive demo`) and the host:port its site had."""
    where = tmp_path_factory.mktemp("demo")
    result = subprocess.run([sys.executable, "-m", "archive", "demo", "--port", "0"], cwd=where,
                            env={**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(where / "demo-archive.db") as db:
        site = db.execute("select site from article limit 1").fetchone()[0]
    return where / "demo-archive.db", site


def run_page(page: Path, demo: tuple[Path, str], workdir: Path) -> str:
    """Run a page's examples in order in `workdir`; returns what they printed."""
    archive_file, site = demo
    shutil.copy(archive_file, workdir / "demo-archive.db")
    env = {**os.environ, "ARCHIVE_DB_URL": f"sqlite:///{workdir / 'demo-archive.db'}",
           "ARCHIVE_DATA_DIR": str(workdir / "data"), "NO_COLOR": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    printed = []
    for example in examples(page):
        if example.not_run or example.lang not in RUN:
            continue
        if example.needs and importlib.util.find_spec(example.needs) is None:
            print(f"{example.where}: skipped, needs {example.needs}")
            printed.append(f"(skipped: needs {example.needs})")
            continue
        code = example.code.replace(DEMO_SITE, site)
        command = ["bash", "-e", "-c", code] if example.lang == "sh" else [sys.executable, "-c", code]
        result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
        output = result.stdout + result.stderr
        assert result.returncode == 0 and "Traceback" not in output, \
            f"{example.where} failed (exit {result.returncode}):\n{code}\n{output}"
        printed.append(output)
    return "\n".join(printed)


@pytest.mark.parametrize("page", [p for p in PAGES if any(e.lang in RUN and not e.not_run for e in examples(p))],
                         ids=lambda p: p.name)
def test_examples_run_against_the_demo_archive(page: Path, demo_archive: tuple[Path, str],
                                               tmp_path: Path) -> None:
    printed = run_page(page, demo_archive, tmp_path)
    for expected in EXPECTED.get(page.name, []):
        if isinstance(expected, tuple):  # printed by an example that needs an optional module
            module, expected = expected
            if importlib.util.find_spec(module) is None:
                continue
        assert expected in printed.replace(demo_archive[1], DEMO_SITE), f"{page.name}: no {expected!r} in\n{printed}"


@pytest.mark.parametrize("example", [e for p in PAGES for e in examples(p) if e.lang == "toml"],
                         ids=lambda e: e.where)
def test_sources_examples_load(example: Example, tmp_path: Path) -> None:
    code = example.code
    if code.startswith("# archive.toml"):  # a configuration file, not a sources file
        target = tmp_path / "archive.toml"
        target.write_text(code, encoding="utf-8")
        assert read_file(target)
        return
    if not any(line.strip().startswith("[[site]]") for line in code.splitlines()):  # a fragment of keys
        code += '\n[[site]]\nname = "example"\nstart_urls = ["https://www.example-news.com/"]\n'
    target = tmp_path / "sources.toml"
    target.write_text(code, encoding="utf-8")
    assert load_sources(target)


def test_every_block_says_its_language_and_every_skip_its_reason() -> None:
    """An unlabelled fence could hide an example from these tests; a skip must say why."""
    for page in PAGES:
        for example in examples(page):
            assert example.lang, f"{example.where}: a fence without a language (sh, python, text, ...)"
            assert example.not_run is None or example.not_run.strip(), example.where
    assert (ROOT / "sources.example.toml").exists()
    assert load_sources(ROOT / "sources.example.toml")
