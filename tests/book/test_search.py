"""Search: a light index, fetched only when the reader searches, that still finds things.

The index leaves out tables of computed numbers, figures and code (tests/book/test_site.py's
neighbour checks the built file); its maths is plain text. A first visit downloads none of it:
the request waits until the reader opens search, and then results appear.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator

import pytest

from tests.book.conftest import BuiltSite

pytestmark = pytest.mark.site

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


def test_index_has_no_tables_figures_code_or_tex(site: BuiltSite) -> None:
    data = json.loads((site.path / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = " ".join(doc["title"] + " " + doc["text"] for doc in data["docs"])
    for leaked in ("<table", "<svg", "Matplotlib", "<pre", "def ", r"\(", r"\[", r"\frac"):
        assert leaked not in text, f"the search index contains {leaked!r}"
    assert "softmax" in text.lower() and "perplexity" in text.lower()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origin(site: BuiltSite) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site.path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_index_waits_for_the_reader_then_search_works(origin: str) -> None:
    from playwright.sync_api import sync_playwright

    chromium = next(
        (
            shutil.which(c)
            for c in (os.environ.get("LLMATH_CHROMIUM"), "chromium", "google-chrome")
            if c and shutil.which(c)
        ),
        None,
    )
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI")
        pytest.skip("no Chromium found")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        page = browser.new_page()
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.goto(f"{origin}/linear-algebra/attention/", wait_until="networkidle")
        page.wait_for_timeout(500)
        assert not [u for u in requested if "search_index" in u], "index loaded on page load"
        page.keyboard.press("/")  # Material's shortcut into the search box
        page.keyboard.type("perplexity")
        page.wait_for_selector(".md-search-result__item", timeout=15_000)
        titles = page.locator(".md-search-result__item").all_inner_texts()
        browser.close()
    assert [u for u in requested if u.endswith("search/search_index.json")]
    assert any("erplexity" in t for t in titles), titles[:5]
