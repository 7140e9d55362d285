"""mkdocs hooks: the changelog page is CHANGELOG.md at the top of the repository, not a copy of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files


def on_files(files: Files, config: Any) -> Files:
    changelog = Path(config.config_file_path).parent / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8").replace("](docs/", "](")  # its links, seen from docs/
    files.append(File.generated(config, "changelog.md", content=text))
    return files
