"""Search: a light index, fetched only when the reader searches, that still finds things.

The index leaves out tables of computed numbers, figures and code (tests/book/test_site.py's
neighbour checks the built file); its maths is plain text. A first visit downloads none of it:
the request waits until the reader opens search, and then results appear.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.book.conftest import BuiltSite

pytestmark = pytest.mark.site


def test_index_has_no_tables_figures_code_or_tex(site: BuiltSite) -> None:
    data = json.loads((site.path / "search" / "search_index.json").read_text(encoding="utf-8"))
    text = " ".join(doc["title"] + " " + doc["text"] for doc in data["docs"])
    for leaked in ("<table", "<svg", "Matplotlib", "<pre", "def ", r"\(", r"\[", r"\frac"):
        assert leaked not in text, f"the search index contains {leaked!r}"
    assert "softmax" in text.lower() and "perplexity" in text.lower()


@pytest.mark.browser
def test_index_waits_for_the_reader_then_search_works(origin: str, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{origin}/linear-algebra/attention/", wait_until="networkidle")
    page.wait_for_timeout(500)
    assert not [u for u in requested if "search_index" in u], "index loaded on page load"
    page.keyboard.press("/")  # Material's shortcut into the search box
    page.keyboard.type("perplexity")
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    titles = page.locator(".md-search-result__item").all_inner_texts()
    context.close()
    assert [u for u in requested if u.endswith("search/search_index.json")]
    assert any("erplexity" in t for t in titles), titles[:5]
