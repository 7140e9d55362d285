"""The docs site builds with `mkdocs build --strict` (a broken link or anchor fails), and the CLI
reference in docs/cli.md is what the click commands say."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.examples import DOCS, ROOT


def test_site_builds_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"),
                             "--config-file", str(ROOT / "mkdocs.yml")], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "changelog" / "index.html").exists()  # CHANGELOG.md, through the hook


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        assert f": {page.name}" in nav, f"docs/{page.name} is not in mkdocs.yml's nav"


def test_cli_reference_is_current() -> None:
    script = runpy.run_path(str(ROOT / "scripts" / "cli_reference.py"))
    assert script["render"]() == (DOCS / "cli.md").read_text(encoding="utf-8"), \
        "docs/cli.md is stale: run python scripts/cli_reference.py"


def test_readme_is_short_and_its_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 10_500
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README links to {target}, which does not exist"


def test_the_export_page_documents_every_field() -> None:
    from archive.export import FIELD_NAMES, FORMATS
    page = (DOCS / "exports.md").read_text(encoding="utf-8")
    for name in FIELD_NAMES:
        assert f"| `{name}` |" in page, f"docs/exports.md has no row for the field {name}"
    for name in FORMATS:
        assert f"| `{name}` |" in page, f"docs/exports.md has no row for the format {name}"


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    """.ci/run's last line is the README's test command: a newcomer runs what CI runs."""
    command = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert command == "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest"
    assert f"```sh\n{command}\n```" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```sh\npython3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/archive demo\n```" in \
        (ROOT / "README.md").read_text(encoding="utf-8")
