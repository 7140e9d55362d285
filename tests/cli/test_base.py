"""The CLI's contract: bad input gives one clear line and a non-zero exit; every command is documented."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    assert CliRunner().invoke(cli, ["init", "--db", url]).exit_code == 0
    return url


@pytest.mark.parametrize("args, message", [
    (["search", "x", "--since", "last tuesday"], "not a date"),
    (["show", "12345"], "no article '12345'"),
    (["show", "https://nowhere.example/x"], "no article"),
    (["export", "-o", "/nonexistent-dir/out.jsonl"], "not a file in an existing directory"),
    (["crawl", "ftp://example.com/"], "not an http(s) URL"),
])
def test_bad_input_is_one_line_and_nonzero(args: list[str], message: str, db: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--db", db])
    assert result.exit_code != 0
    assert message in result.output
    assert result.output.strip().count("\n") <= 3  # click's usage line at most, never a traceback
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args", [["search", "chips"], ["search", "--ticker", "NVDA"], ["show", "1"],
                                  ["export", "-o", "-"], ["stats"], ["crawls"], ["check"]])
def test_reading_commands_refuse_a_missing_sqlite_archive(tmp_path: Path, args: list[str]) -> None:
    """A mistyped --db used to create an empty archive, and the search found nothing, silently."""
    missing = tmp_path / "mistyped.db"
    for url in (f"sqlite:///{missing}", str(missing)):
        result = CliRunner().invoke(cli, [*args, "--db", url])
        assert result.exit_code == 1
        assert result.output == f"Error: no archive at {missing}: check --db (archive init or archive crawl creates one)\n"
        assert not missing.exists()


def test_init_creates_the_archive_reading_commands_then_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert CliRunner().invoke(cli, ["init", "--db", url]).exit_code == 0
    result = CliRunner().invoke(cli, ["search", "chips", "--db", url])
    assert result.exit_code == 0 and "no matching articles" in result.output


def test_unreachable_database_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["search", "x", "--db", "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot migrate the archive")
    assert result.output.strip().count("\n") == 0


def test_bad_database_url_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["init", "--db", "nosuchdriver://x/y"])
    assert result.exit_code == 1 and result.output.count("\n") == 1


def test_db_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "env.db"
    result = CliRunner().invoke(cli, ["init"], env={"ARCHIVE_DB_URL": f"sqlite:///{path}"})
    assert result.exit_code == 0, result.output
    assert path.exists()


def test_every_command_is_documented_in_readme() -> None:
    readme = README.read_text()
    for name in cli.commands:
        assert re.search(rf"archive {name}\b", readme), f"README does not document `archive {name}`"


def test_every_command_has_an_example() -> None:
    for name, command in cli.commands.items():
        assert "Example:" in (command.help or ""), f"`archive {name} --help` has no example"


@pytest.mark.parametrize("url", ["mysql://user@localhost/news", "postgresql+psycopg2://user@localhost/news"])
def test_an_unsupported_database_names_the_supported_ones(url: str) -> None:
    result = CliRunner().invoke(cli, ["init", "--db", url])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "unsupported database" in result.output
    assert "sqlite:///FILE" in result.output and "postgresql+psycopg" in result.output
    assert "extra" not in result.output  # no extra installs mysql or psycopg2


def test_a_typo_in_the_sources_defaults_names_the_defaults_table(tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text('[defaults]\ndelai = 2\n\n[[site]]\nname = "a"\nstart_urls = ["https://a.example/"]\n',
                       encoding="utf-8")
    result = CliRunner().invoke(cli, ["crawl", "--sources", str(sources), "--db", f"sqlite:///{tmp_path / 'a.db'}"])
    assert result.exit_code != 0
    assert "[defaults]: unknown key(s) delai" in result.output and "site 1" not in result.output


def test_shell_completion_script_is_printed() -> None:
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", "from archive.cli import main; main()"],
                            env={**os.environ, "_ARCHIVE_COMPLETE": "bash_source"},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "_archive_completion" in result.stdout


STARTS = textwrap.dedent("""
    import json, sys
    import pipelines.workers as workers
    seen = []  # for each start of the fork server: was the command line already imported?
    workers.start_fork_server = lambda: seen.append("archive.cli" in sys.modules)
    sys.argv = ["archive", *json.loads(sys.argv[1])]
    from archive.__main__ import main
    try:
        main()
    except SystemExit:
        pass
    print(json.dumps(seen))
""")


@pytest.mark.parametrize("args, starts", [
    # first, then again (a no-op) by the command, before it opens the (here unusable) database
    (["crawl", "http://127.0.0.1:9/", "--db", "nosuch://x"], [False, True]),
    (["--config", "archive.toml", "crawl", "http://127.0.0.1:9/", "--db", "nosuch://x"], [True]),  # ARCHIVE_CONFIG set first
    (["search", "x", "--db", "sqlite://"], []),
])
def test_a_crawl_starts_its_extraction_workers_before_the_command_lines_imports(
        args: list[str], starts: list[bool], tmp_path: Path) -> None:
    (tmp_path / "archive.toml").write_text("")
    done = subprocess.run([sys.executable, "-c", STARTS, json.dumps(args)], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(README.parent)}, timeout=60)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == starts, done.stderr
