"""The systemd units in deploy/systemd (docs/scaling-out.md#deployment) parse, and run commands
with options and environment variables the CLI has."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from archive.cli import cli
from archive.config import KEYS

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "deploy" / "systemd"
SERVICES = sorted(UNITS.glob("*.service"))
TIMERS = sorted(UNITS.glob("*.timer"))


def sections(path: Path) -> dict[str, dict[str, str]]:
    """A unit file's sections and keys (systemd's syntax: comments, [Section], Key=value)."""
    found: dict[str, dict[str, str]] = {}
    current = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = found.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"{path.name}:{number}: not Key=value in a section: {line}"
        key, value = line.split("=", 1)
        current[key.strip()] = value.strip()
    return found


def options_of(command: click.Command) -> set[str]:
    return {name for param in command.params if isinstance(param, click.Option) for name in param.opts}


def envvars_of(command: click.Command) -> set[str]:
    return {param.envvar for param in command.params if isinstance(param, click.Option) and isinstance(param.envvar, str)}


def test_there_are_units_for_a_worker_its_timer_and_the_scheduler() -> None:
    assert {p.name for p in SERVICES} == {"archive-worker@.service", "archive-schedule.service"}
    assert {p.name for p in TIMERS} == {"archive-worker@.timer"}


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_a_service_runs_an_archive_command_with_options_it_has(path: Path) -> None:
    unit = sections(path)
    assert {"Unit", "Service", "Install"} <= set(unit)
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/bin/archive")
    command = cli.commands[argv[1]]
    used = [arg for arg in argv[2:] if arg.startswith("--")]
    assert used and set(used) <= options_of(command), set(used) - options_of(command)
    context = command.make_context(argv[1], argv[2:], parent=click.Context(cli))  # values parse too
    assert Path("/etc/archive/sources.toml") in context.params.values()
    assert service["KillSignal"] == "SIGTERM"  # archive stops cleanly on it (crawler/runner.py)
    assert service["EnvironmentFile"] == "/etc/archive/archive.env"


def test_the_environment_file_sets_only_variables_the_archive_reads() -> None:
    names = re.findall(r"^([A-Z_]+)=", (UNITS / "archive.env.example").read_text(), re.MULTILINE)
    read = {key.env for key in KEYS.values()} | envvars_of(cli.commands["crawl"])
    read |= {name for name in names if f'"{name}"' in (ROOT / "archive" / "db.py").read_text()}
    assert names and set(names) <= read, set(names) - read
    assert {"ARCHIVE_DB_URL", "ARCHIVE_FRONTIER_URL"} <= set(names)


def test_the_timer_starts_the_worker() -> None:
    timer = sections(UNITS / "archive-worker@.timer")
    assert timer["Timer"]["Unit"] == "archive-worker@%i.service" and timer["Timer"]["OnCalendar"]
    assert (UNITS / "archive-worker@.service").exists()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_finds_nothing_to_complain_about(tmp_path: Path) -> None:
    archive = Path(sys.executable).with_name("archive")
    for path in [*SERVICES, *TIMERS]:
        text = path.read_text().replace("/srv/archive/.venv/bin/archive", str(archive))
        (tmp_path / path.name).write_text(text)
        if path.name.endswith("@.service") or path.name.endswith("@.timer"):  # an instance, as enabled
            (tmp_path / path.name.replace("@.", "@1.")).write_text(text)
    units = [str(tmp_path / name) for name in ("archive-worker@1.service", "archive-worker@1.timer",
                                               "archive-schedule.service")]
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
