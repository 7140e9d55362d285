"""Write docs/cli.md, the CLI reference, from the click commands themselves, so that it cannot drift.

Usage:  python scripts/cli_reference.py          # rewrite docs/cli.md
        python scripts/cli_reference.py --check  # exit 1 if docs/cli.md is not what the commands say

tests/docs/test_cli_reference.py runs the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.cli import cli  # noqa: E402

TARGET = ROOT / "docs" / "cli.md"
WIDTH = 100

HEADER = """# CLI reference

Every `archive` command and option, as `archive COMMAND --help` prints it. This page is generated
from the commands by `python scripts/cli_reference.py`: do not edit it by hand (a test fails when
it is stale). All commands take `--db URL` (or `ARCHIVE_DB_URL`); the default is
`sqlite:///archive.db` in the current directory.
"""


def commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command under the group, depth first, in the order `--help` lists them."""
    found: list[tuple[tuple[str, ...], click.Command]] = []
    ctx = click.Context(group, info_name=" ".join(("archive",) + path))
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        found.append((path + (name,), command))
        if isinstance(command, click.Group):
            found += commands(command, path + (name,))
    return found


def help_text(path: tuple[str, ...], command: click.Command) -> str:
    ctx = click.Context(command, info_name=" ".join(("archive",) + path), terminal_width=WIDTH,
                        max_content_width=WIDTH)
    return command.get_help(ctx)


def render() -> str:
    parts = [HEADER, "| command | what it does |", "| --- | --- |"]
    listed = commands(cli)
    for path, command in listed:
        name = " ".join(("archive",) + path)
        anchor = "-".join(("archive",) + path)
        parts.append(f"| [`{name}`](#{anchor}) | {command.get_short_help_str(limit=90)} |")
    for path, command in listed:
        name = " ".join(("archive",) + path)
        parts += ["", f"## {name}", "", "```text", help_text(path, command).rstrip(), "```"]
    return "\n".join(parts) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run python scripts/cli_reference.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
