"""A real browser on the demo archive: headless Chromium (the system's `chromium` package) driven
by Playwright, against `archive serve` on a loopback port. Skipped where no Chromium is installed
(CI installs it: .ci/run). Playwright never downloads a browser here."""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.web.conftest import build
from tests.web.hostile import FLAGS
from tests.web.serving import serving

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("no chromium installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        # As root (CI), Chromium's own process sandbox cannot start; the page-level sandboxes
        # under test (iframe sandbox, CSP sandbox) are the renderer's and are unaffected.
        args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if CHROMIUM is None:
        pytest.skip("no chromium installed (apt-get install chromium)")
    work = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{work / 'demo.db'}"
    build(url, work)
    with serving(url) as address:
        yield address


def test_search_follow_diff_chart_and_download(browser: object, base: str, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(base + "/")
    page.fill("form.filters input[name=q]", "export")
    page.press("form.filters input[name=q]", "Enter")
    page.wait_for_url("**/search?q=export**")
    total = int(page.inner_text("#total"))
    assert total >= 2 and page.locator("li.result").count() == min(total, 20)
    assert page.locator("li.result mark").first.inner_text().lower() == "export"

    # the attention chart is drawn: bars with a height, laid out on screen
    bars = page.locator("svg.chart.counts rect.bar")
    assert bars.count() >= 1
    heights = [float(bars.nth(i).get_attribute("height")) for i in range(bars.count())]
    assert sum(heights) > 0
    box = page.locator("svg.chart.counts").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 40

    # download exactly this query as CSV
    with page.expect_download() as download_info:
        page.click("a[href^='/export.csv']")
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert download.suggested_filename == "archive-export.csv" and len(rows) == total

    # follow the first result to its article
    first_title = page.locator("li.result a.title").first.inner_text()
    page.locator("li.result a.title").first.click()
    page.wait_for_url("**/article/*")
    assert page.inner_text("#article-title") == first_title

    # an edit: from the Edits page to its diff, both views
    page.goto(base + "/edits")
    page.locator("table.edits a[href*='/diff?from=']").first.click()
    page.wait_for_url("**/diff?**")
    assert page.locator("#diff ins, #diff del, table.diff-fields ins").count() >= 1
    page.select_option("form.diffpick select[name=view]", "side")
    page.click("form.diffpick button")
    page.wait_for_url("**view=side**")
    assert page.locator("#diff .old.changed").first.is_visible() and page.locator("#diff .new.changed").first.is_visible()
    assert violations == []  # the app's own pages never trip its policy
    context.close()


def test_hostile_pages_run_nothing(browser: object, base: str) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    checked = 0
    page.goto(base + "/search?q=pwned")
    assert "<script>window.__pwned_title=1</script>" in page.inner_text("li.result a.title")  # shown as text
    article_href = page.locator("li.result a.title").first.get_attribute("href")
    for path in ("/search?q=pwned", article_href, article_href + "/diff?from=1&to=2",
                 article_href + "/diff?from=1&to=2&view=side", "/edits", "/ticker/NVDA"):
        page.goto(base + path)
        page.wait_for_load_state("load")
        for frame in page.frames:  # the page, and the sandboxed capture inside it
            flags = frame.evaluate(f"() => {list(FLAGS)}.filter(name => window[name] !== undefined)")
            assert flags == [], (path, frame.url, flags)
            checked += 1
    # the capture itself, in its frame and opened alone: its inline script never ran
    page.goto(base + article_href)
    frame = page.frame_locator("iframe.raw")
    assert "Chips" in frame.locator("h1").inner_text()
    raw = next(f for f in page.frames if "/raw/" in f.url)
    assert raw.evaluate("() => [window.__pwned_raw, window.__pwned_onload, window.__pwned_img]") == [None] * 3
    page.goto(raw.url)
    assert page.evaluate("() => [window.__pwned_raw, window.__pwned_onload, window.__pwned_img]") == [None] * 3
    assert page.evaluate("() => document.title").startswith("Chips <script>")
    assert dialogs == [] and checked >= 7
    context.close()
