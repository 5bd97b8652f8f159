"""The committed reports in a real browser: Debian's headless Chromium, driven by Playwright.

Each ``reports/*/index.html`` is opened at 1400 and 414 px wide. No request may leave the page, the
console must stay free of errors, nothing may overflow sideways, every image has alt text or a
title, and the headline box is the first thing in ``<main>``. Screenshots go to a temporary folder
(``SIMULATE_SCREENSHOTS=DIR`` keeps them there, to look at).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The machine's network is closed: without these flags Chromium keeps trying to reach its services.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPORTS = sorted(p.parent.name for p in (ROOT / "reports").glob("*/index.html"))
WIDTHS = (1400, 414)


def _missing_browser():
    if os.path.exists(CHROMIUM):
        return None
    if os.environ.get("CI") == "true":     # CI installs it (.ci/run): its absence is a failure there
        pytest.fail(f"Chromium not found at {CHROMIUM}")
    return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path_factory.mktemp("chromium-profile")     # a new, empty user-data-dir
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True,
                                                       args=ARGS, viewport={"width": 1400, "height": 900})
        yield context
        context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    keep = os.environ.get("SIMULATE_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_every_committed_report_is_checked():
    assert set(REPORTS) == {"chatgpt-2023-01", "chatgpt-2025", "ai-fleet-2023-2028", "generation-media"}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", REPORTS)
def test_report_in_a_real_browser(browser, shots, name, width):
    page_url = (ROOT / "reports" / name / "index.html").resolve().as_uri()
    page = browser.new_page()
    requests, problems = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(page_url, wait_until="load")

    assert [u for u in requests if u != page_url and not u.startswith("data:")] == []   # nothing leaves the page
    assert problems == []
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth]")
    assert max(widths[0], widths[2]) <= widths[1], f"{name} overflows sideways at {width} px: {widths}"
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('img, svg')]
        .filter(e => e.closest('svg') === e || e.tagName.toLowerCase() === 'img')
        .filter(e => !(e.getAttribute('alt') || e.getAttribute('aria-label')
                       || [...e.children].some(c => c.tagName.toLowerCase() === 'title' && c.textContent.trim())))
        .map(e => e.outerHTML.slice(0, 80))""")
    assert unlabelled == []
    first = page.evaluate("document.querySelector('main').firstElementChild.className")
    assert first == "headline"
    answer = page.inner_text("main > .headline .answer")
    assert "90% interval" in answer
    figures = page.evaluate("document.querySelectorAll('main figure svg').length")
    assert figures >= 2
    page.screenshot(path=str(shots / f"{name}_{width}.png"), full_page=True)
    page.close()
