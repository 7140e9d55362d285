"""Screenshots of the web app for docs/browsing.md: the demo archive, built and served here.

    python scripts/screenshots.py [--out docs/img]

Builds the demo archive (`archive demo`) in a temporary folder, starts `archive serve` on a
loopback port and photographs the search, article, diff and ticker pages with the system's
Chromium through Playwright (`apt-get install chromium`; Playwright downloads nothing here).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.web.serving import serving  # noqa: E402 - after the path is set

#: (file name, path, what to wait for, viewport height): each page as a reader first sees it.
SHOTS = [
    ("search.png", "/search?q=chip*+OR+shares", "figure.attention", 1180),
    ("article.png", "/article/{edited}", "table.versions", 1180),
    ("diff.png", "/article/{edited}/diff?from=1&to=2&view=side", "#diff", 1000),
    ("diff-inline.png", "/article/{reworded}/diff?from=1&to=2", "#diff", 900),
    ("ticker.png", "/ticker/NVDA", "figure.attention", 1100),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("no chromium installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - the test extra

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        db_url = f"sqlite:///{Path(work) / 'demo.db'}"
        env = {**os.environ, "ARCHIVE_ALLOW_PRIVATE_ADDRESSES": "1"}
        subprocess.run([sys.executable, "-m", "archive", "demo", "--db", db_url, "--port", "0"], cwd=work, env=env,
                       check=True, capture_output=True)
        with serving(db_url) as base:
            edits = json.load(urllib.request.urlopen(base + "/api/edits"))["edits"]
            edited = next(e["article_id"] for e in edits if "tickers" in e["changed_fields"])
            reworded = next(e["article_id"] for e in edits if "updated_at" in e["changed_fields"])
            with sync_playwright() as playwright:
                launch_args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
                browser = playwright.chromium.launch(executable_path=chromium, args=launch_args)
                for name, path, ready, height in SHOTS:
                    page = browser.new_page(viewport={"width": 1280, "height": height}, device_scale_factor=1)
                    page.goto(base + path.format(edited=edited, reworded=reworded))
                    page.wait_for_selector(ready)
                    page.screenshot(path=str(args.out / name))
                    page.close()
                    print(f"wrote {args.out / name}")
                browser.close()


if __name__ == "__main__":
    main()
