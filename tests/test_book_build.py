"""The book builds strictly, and every page renders in a headless browser.

The browser test serves the built HTML on 127.0.0.1, opens every page in Debian's
Chromium (driven by Playwright), saves a screenshot of its first screen to
``_build/screenshots/`` (the whole page with ``MEMLAB_FULL_SCREENSHOTS=1``; a chapter's
full-page screenshot takes 2-4 s, half of the test's time) and fails on
images that did not load, stored errors or tracebacks, MathJax errors, broken internal links
and any request that would need the network.

All tests here share one build (and one browser): they are one pytest-xdist work unit (conftest).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from conftest import ROOT, require_tool

SCREENSHOTS = ROOT / "_build" / "screenshots"
FULL_SCREENSHOTS = os.environ.get("MEMLAB_FULL_SCREENSHOTS", "") not in ("", "0")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """``$MEMLAB_CHROMIUM`` if set, else the first Chromium or Chrome on the PATH."""
    if os.environ.get("MEMLAB_CHROMIUM"):
        path = os.environ["MEMLAB_CHROMIUM"]
        return path if Path(path).exists() else None
    names = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    return next((found for found in map(shutil.which, names) if found), None)


HOW_TO_GET_CHROMIUM = (
    "Chromium not found (looked for $MEMLAB_CHROMIUM, then chromium, chromium-browser, "
    "google-chrome on the PATH). On Debian or Ubuntu: `make browser` (apt-get install chromium); "
    "elsewhere install Chromium or Google Chrome and, if it is not on the PATH, set "
    "MEMLAB_CHROMIUM=/path/to/the/browser"
)


@pytest.mark.slow
def test_book_builds_without_warnings(book_build):
    proc, html = book_build
    assert proc.returncode == 0, (
        "strict book build failed:\n" + proc.stdout[-4000:] + proc.stderr[-4000:]
    )
    assert (html / "index.html").exists()


@pytest.mark.slow
def test_mathjax_is_served_locally(book_build):
    proc, html = book_build
    assert proc.returncode == 0
    page = (html / "chapters" / "01_hopfield.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in page, "MathJax is not loaded from _static"
    assert "cdn.jsdelivr" not in page
    assert (html / "_static" / "mathjax" / "tex-chtml.js").exists()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 (a free port) for the duration of the block."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require_tool(
        sync_playwright is not None,
        "playwright is not installed: `make setup` (or .venv/bin/pip install -r "
        "requirements/dev.txt) installs it",
    )
    chromium = find_chromium()
    require_tool(chromium is not None, HOW_TO_GET_CHROMIUM)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _pages(html: Path):
    return sorted(
        str(p.relative_to(html))
        for p in html.rglob("*.html")
        if not p.relative_to(html).parts[0].startswith("_")
        and p.name not in {"search.html", "genindex.html"}
    )


_REDIRECT = re.compile(r'<meta http-equiv="refresh" content="\d+;\s*url=([^"]+)"', re.IGNORECASE)

_REPORT_JS = """() => ({
    broken_images: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
                      .map(i => i.src.slice(0, 80)),
    math_errors: [...document.querySelectorAll('mjx-merror, .MathJax_Error')]
                    .map(e => e.textContent),
    raw_math: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('mjx-container').length,
    errors: [...document.querySelectorAll('.output.error, .output.traceback, .traceback')].length,
    text: document.body.innerText,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
})"""


def check_site(browser, html: Path, base: str, screenshots: Path | None = None) -> list[str]:
    """Open every page of the site in ``html`` (served at ``base``); return the problems found.

    Problems: a page that does not load, an image that did not load, a MathJax error, math that
    was not typeset, a stored error or traceback, a request that needs the network, a failed
    request, an internal link to a missing page or anchor.
    """
    problems, link_targets = [], set()
    # One browser context for all pages, as a reader's browser: scripts, fonts and style sheets
    # are fetched and compiled once, not once per page (a new context per page cost 12 % more
    # CPU, 2026-12-03). The shared cache hides nothing: every check reads the page itself (its
    # images, math, text and links), and Playwright reports a request served from the cache too.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    for rel in _pages(html):
        redirect = _REDIRECT.search((html / rel).read_text())
        if redirect:  # e.g. index.html -> intro.html: check the target, do not render
            link_targets.add((rel, urljoin(urljoin(base, rel), redirect.group(1))))
            continue
        page = context.new_page()
        external, failed = [], []
        page.on(
            "request",
            lambda r, external=external: (
                external.append(r.url)
                if urlparse(r.url).hostname not in ("127.0.0.1", None)
                and not r.url.startswith("data:")
                else None
            ),
        )
        page.on("requestfailed", lambda r, failed=failed: failed.append(r.url))
        response = page.goto(urljoin(base, rel), wait_until="load")
        if response is None or response.status != 200:
            problems.append(f"{rel}: HTTP {response and response.status}")
            page.close()
            continue
        page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
        if screenshots is not None:
            screenshots.mkdir(parents=True, exist_ok=True)
            name = rel.replace("/", "__").replace(".html", ".jpg")
            # JPEG: a chapter's full-page PNG takes about a third longer to encode
            page.screenshot(
                path=str(screenshots / name), full_page=FULL_SCREENSHOTS, type="jpeg", quality=80
            )
        report = page.evaluate(_REPORT_JS)
        if report["broken_images"]:
            problems.append(f"{rel}: images did not load: {report['broken_images']}")
        if report["math_errors"]:
            problems.append(f"{rel}: MathJax errors: {report['math_errors'][:5]}")
        if report["raw_math"] and not report["typeset"]:
            problems.append(f"{rel}: {report['raw_math']} math blocks but none typeset by MathJax")
        if report["errors"] or "Traceback (most recent call last)" in report["text"]:
            problems.append(f"{rel}: a stored error or traceback is shown")
        if external:
            problems.append(f"{rel}: requests that need the network: {external[:5]}")
        if failed:
            problems.append(f"{rel}: failed requests: {failed[:5]}")
        link_targets.update((rel, link) for link in report["links"] if link.startswith(base))
        page.close()
    context.close()

    # Internal links: the target page exists and, if there is a fragment, the anchor exists.
    anchors: dict[str, set[str]] = {}
    for rel, link in sorted(link_targets):
        target, fragment = urldefrag(link)
        path = urlparse(target).path.lstrip("/") or "index.html"
        if path.endswith("/"):
            path += "index.html"
        file = html / path
        if not file.exists():
            problems.append(f"{rel}: broken link to {link}")
            continue
        if fragment and file.suffix == ".html":
            if path not in anchors:
                anchors[path] = set(re.findall(r'id="([^"]+)"', file.read_text()))
            if fragment not in anchors[path]:
                problems.append(f"{rel}: link to missing anchor {link}")
    return problems


@pytest.mark.browser
def test_every_page_renders(book_build, browser):
    proc, html = book_build
    if proc.returncode != 0:
        pytest.fail("book build failed; see test_book_builds_without_warnings")
    assert "chapters/01_hopfield.html" in _pages(html)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # no screenshot left over from an earlier run
    with serve(html) as base:
        problems = check_site(browser, html, base, screenshots=SCREENSHOTS)
    assert not problems, "\n".join(problems)
    assert (SCREENSHOTS / "chapters__01_hopfield.jpg").exists()


@pytest.mark.browser
def test_site_checker_catches_broken_pages(browser, tmp_path):
    """The checker itself must fail on each kind of defect it is meant to catch."""
    (tmp_path / "good.html").write_text('<html><body><p id="here">fine</p></body></html>')
    (tmp_path / "bad.html").write_text(
        "<html><body>"
        '<img src="missing.png">'
        "<pre>Traceback (most recent call last):\n  ZeroDivisionError</pre>"
        "<mjx-merror>Undefined control sequence \\foo</mjx-merror>"
        '<a href="nowhere.html">dead link</a>'
        '<a href="good.html#not-an-anchor">dead anchor</a>'
        '<a href="good.html#here">live anchor</a>'
        "</body></html>"
    )
    # the same missing image on a second page: each page's problems are reported on their own
    (tmp_path / "bad_too.html").write_text('<html><body><img src="missing.png"></body></html>')
    with serve(tmp_path) as base:
        problems = check_site(browser, tmp_path, base)
    text = "\n".join(problems)
    assert any(p.startswith("bad_too.html: images did not load") for p in problems), text
    assert not any(p.startswith("good.html") for p in problems), text
    assert "images did not load" in text
    assert "stored error or traceback" in text
    assert "MathJax errors" in text
    assert "broken link to" in text and "nowhere.html" in text
    assert "missing anchor" in text and "not-an-anchor" in text
    assert "#here" not in text


def test_chromium_is_looked_up_where_the_message_says(monkeypatch, tmp_path):
    monkeypatch.setenv("MEMLAB_CHROMIUM", str(tmp_path / "missing"))
    assert find_chromium() is None
    browser_binary = tmp_path / "my-chromium"
    browser_binary.write_text("#!/bin/sh\n")
    monkeypatch.setenv("MEMLAB_CHROMIUM", str(browser_binary))
    assert find_chromium() == str(browser_binary)
    monkeypatch.delenv("MEMLAB_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() is None
    assert "MEMLAB_CHROMIUM" in HOW_TO_GET_CHROMIUM and "apt-get" in HOW_TO_GET_CHROMIUM
