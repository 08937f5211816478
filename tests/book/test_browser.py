"""Open every page of the built book in headless Chromium, on loopback only.

Checks what only a real browser shows: every equation rendered with the site's own KaTeX fonts,
no request leaving the site, no JavaScript error, figures following the dark theme, and no page
wider than a phone screen.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.book.conftest import BuiltSite

pytestmark = [pytest.mark.site, pytest.mark.browser]

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    for candidate in (
        os.environ.get("LLMATH_CHROMIUM"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if candidate and shutil.which(candidate):
            return str(shutil.which(candidate))
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI: `apt-get install chromium` (make test does it)")
    pytest.skip("no Chromium found: install Debian's chromium or set LLMATH_CHROMIUM")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origin(site: BuiltSite) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site.path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as p:
        # launch() gives every run a fresh, empty profile (a new --user-data-dir)
        chromium = p.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


MATH_JS = """async () => {
  await document.fonts.ready;
  const all = [...document.querySelectorAll('article .arithmatex')];
  const rendered = all.filter(n => n.querySelector('.katex-html'));
  const errors = document.querySelectorAll('.katex-error').length;
  return {all: all.length, rendered: rendered.length, errors,
          font: document.fonts.check('16px KaTeX_Main'),
          fontsLoaded: [...document.fonts].filter(f => f.family.includes('KaTeX') && f.status === 'loaded').length,
          overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""


def _urls(site: BuiltSite) -> list[str]:
    urls = []
    for page in site.pages():
        rel = page.parent.relative_to(site.path)
        urls.append("" if rel == Path(".") else f"{rel.as_posix()}/")
    return urls


def test_every_page_renders_offline(site: BuiltSite, origin: str, browser: object) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    total_math = 0
    for url in _urls(site):
        page.goto(f"{origin}/{url}", wait_until="load")
        m = page.evaluate(MATH_JS)
        assert m["rendered"] == m["all"], (
            f"/{url}: {m['all'] - m['rendered']} equations not rendered"
        )
        assert m["errors"] == 0, f"/{url}: KaTeX error nodes"
        if m["all"]:
            assert m["fontsLoaded"] > 0, f"/{url}: KaTeX fonts did not load"
        assert m["overflow"] <= 1, (
            f"/{url}: page is {m['overflow']}px wider than a 390px phone screen"
        )
        total_math += m["all"]
    assert total_math > 100
    remote = [u for u in requests if not u.startswith((origin, "data:", "blob:"))]
    assert not remote, f"requests left the site: {remote[:5]}"
    assert not errors, f"JavaScript errors: {errors[:5]}"
    context.close()


def test_figures_follow_the_dark_theme(site: BuiltSite, origin: str, browser: object) -> None:
    context = browser.new_context(color_scheme="dark", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    figures = 0
    for url in _urls(site):
        if "llm-figure" not in (site.path / url / "index.html").read_text(encoding="utf-8"):
            continue
        page.goto(f"{origin}/{url}", wait_until="load")
        colours = page.evaluate("""() => {
          const body = getComputedStyle(document.querySelector('.md-typeset')).color;
          return [...document.querySelectorAll('.llm-figure svg text')].slice(0, 5)
            .map(t => [getComputedStyle(t).fill, body]);
        }""")
        assert colours, f"/{url}: figure without text"
        for fill, body in colours:
            assert fill == body, (
                f"/{url}: figure text {fill} does not follow the theme colour {body}"
            )
        figures += 1
    assert figures >= 3
    context.close()
