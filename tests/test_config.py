"""Configuration (archive/config.py): command line > environment > archive.toml > default, through
the CLI; a bad archive.toml is one line and a non-zero exit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import config
from archive.cli import cli

CSV = "symbol,name\nZZZQ,Example Corp\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, with no configuration from the environment or the user's home."""
    for key in config.KEYS.values():
        monkeypatch.delenv(key.env, raising=False)
    monkeypatch.delenv(config.CONFIG_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    (folder / "w.csv").write_text(CSV, encoding="utf-8")
    return folder


def import_to(args: list[str], env: dict[str, str] | None = None) -> str:
    """Where `archive symbols import-csv` put the list: it names the data_dir in use."""
    result = CliRunner().invoke(cli, ["symbols", "import-csv", "w.csv", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output.split(" to ", 1)[1].split("/symbols/user.csv")[0]


def test_precedence_option_over_environment_over_file_over_default(workdir: Path) -> None:
    (workdir / "archive.toml").write_text(f'data_dir = "{workdir / "from-toml"}"\n', encoding="utf-8")
    env = {"ARCHIVE_DATA_DIR": str(workdir / "from-env")}
    assert import_to([]) == str(workdir / "from-toml")
    assert import_to([], env) == str(workdir / "from-env")
    assert import_to(["--data-dir", str(workdir / "from-option")], env) == str(workdir / "from-option")
    (workdir / "archive.toml").unlink()
    assert config.load()["data_dir"] == Path.home() / ".local" / "share" / "commentary-archive"


def test_one_key_resolves_as_the_whole_configuration_does(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """config.value (asked by extraction on every page) agrees with config.load for each source."""
    assert config.value("data_dir") == config.load()["data_dir"]  # the default
    (workdir / "archive.toml").write_text(f'data_dir = "{workdir / "from-toml"}"\nwrite_batch = 7\n', encoding="utf-8")
    assert config.value("data_dir") == config.load()["data_dir"] == workdir / "from-toml"
    assert config.value("write_batch") == config.load()["write_batch"] == 7
    monkeypatch.setenv("ARCHIVE_DATA_DIR", str(workdir / "from-env"))
    assert config.value("data_dir") == config.load()["data_dir"] == workdir / "from-env"
    (workdir / "archive.toml").write_text("nonsense = 1\n", encoding="utf-8")  # a bad file fails either way
    with pytest.raises(config.ConfigError):
        config.value("data_dir")


def test_the_database_url_comes_from_archive_toml(workdir: Path) -> None:
    (workdir / "archive.toml").write_text('db_url = "sqlite:///from-toml.db"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert (workdir / "from-toml.db").exists() and not (workdir / "archive.db").exists()
    result = CliRunner().invoke(cli, ["init"], env={"ARCHIVE_DB_URL": "sqlite:///from-env.db"})
    assert result.exit_code == 0 and (workdir / "from-env.db").exists()
    result = CliRunner().invoke(cli, ["init", "--db", "sqlite:///from-option.db"],
                                env={"ARCHIVE_DB_URL": "sqlite:///from-env.db"})
    assert result.exit_code == 0 and (workdir / "from-option.db").exists()


def test_config_file_named_by_option_by_variable_and_in_the_user_folder(workdir: Path) -> None:
    user = workdir.parent / "xdg" / "archive"
    user.mkdir(parents=True)
    (user / "archive.toml").write_text(f'data_dir = "{workdir / "from-user"}"\n', encoding="utf-8")
    named = workdir / "named.toml"
    named.write_text(f'data_dir = "{workdir / "from-named"}"\n', encoding="utf-8")
    assert import_to([]) == str(workdir / "from-user")
    (workdir / "archive.toml").write_text(f'data_dir = "{workdir / "from-cwd"}"\n', encoding="utf-8")
    assert import_to([]) == str(workdir / "from-cwd")  # the working folder's before the user's
    assert import_to([], {"ARCHIVE_CONFIG": str(named)}) == str(workdir / "from-named")
    result = CliRunner().invoke(cli, ["--config", str(named), "symbols", "import-csv", "w.csv"])
    assert result.exit_code == 0, result.output
    assert str(workdir / "from-named") in result.output
    assert os.environ.get("ARCHIVE_CONFIG") is None  # --config does not leak past the command


@pytest.mark.parametrize("text, message", [
    ("delai = 2\n", "unknown key(s) delai"),
    ('write_batch = "many"\n', "write_batch = 'many' is not a whole number"),
    ("extract_workers = 0\n", "extract_workers = 0 is not a whole number of at least 1"),
    ("allow_private_addresses = 3\n", "allow_private_addresses = 3 is not true or false"),
    ("db_url = \n", "not valid TOML"),
])
def test_a_bad_archive_toml_is_one_line_and_nonzero(workdir: Path, text: str, message: str) -> None:
    (workdir / "archive.toml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["stats"])
    assert result.exit_code == 1
    assert message in result.output and "archive.toml" in result.output
    assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output


def test_a_bad_variable_or_a_missing_named_file_is_one_line(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["stats"], env={"ARCHIVE_WRITE_BATCH": "lots"})
    assert result.exit_code == 1 and "ARCHIVE_WRITE_BATCH: write_batch = 'lots'" in result.output
    result = CliRunner().invoke(cli, ["--config", "nowhere.toml", "stats"])
    assert result.exit_code == 1 and "--config: no config file at nowhere.toml" in result.output
    result = CliRunner().invoke(cli, ["stats"], env={"ARCHIVE_CONFIG": "gone.toml"})
    assert result.exit_code == 1 and "ARCHIVE_CONFIG: no config file at gone.toml" in result.output


def test_a_crawl_takes_its_settings_from_the_configuration(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.runner import CrawlJob

    (workdir / "archive.toml").write_text('user_agent = "my-lab-bot/1.0"\nwrite_batch = 9\n'
                                          'extract_workers = 3\n', encoding="utf-8")
    monkeypatch.setenv("ARCHIVE_WRITE_BATCH", "7")
    settings = CrawlJob(["https://example.com/"], "sqlite:///a.db").scrapy_settings()
    assert settings.get("USER_AGENT") == "my-lab-bot/1.0"
    assert settings.getint("ARCHIVE_WRITE_BATCH") == 7  # the variable over the file
    assert settings.getint("ARCHIVE_EXTRACT_WORKERS") == 3
    assert settings.getfloat("ARCHIVE_GAP_MARGIN") == config.default("gap_margin")


def test_every_key_is_documented() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key in config.KEYS.values():
        assert f"`{key.name}`" in page and f"`{key.env}`" in page, key.name


def test_the_python_api_opens_the_configured_archive(workdir: Path) -> None:
    import archive

    (workdir / "archive.toml").write_text('db_url = "sqlite:///notebook.db"\n', encoding="utf-8")
    with archive.open() as db:
        assert db.engine.url.database == "notebook.db"
    assert (workdir / "notebook.db").exists()
