"""The built pages read like a book: what hooks/pages.py promises, checked in the HTML.

The browser-only checks (layout, contrast, scrolling) are in test_browser.py.
"""

from __future__ import annotations

import re
import sys

import pytest

from tests.book.conftest import ROOT, BuiltSite

pytestmark = pytest.mark.site

PRAGMA = re.compile(r"#\s*(type:\s*ignore|noqa|pragma:|--8(&lt;|<)--)")


def test_code_shows_no_tool_pragmas(site: BuiltSite) -> None:
    for page in site.pages():
        soup = site.soup(page)
        for pre in soup.select("pre"):
            text = pre.get_text()
            assert not PRAGMA.search(text), f"{page}: pragma shown in code: {text[:200]!r}"


def test_toc_keeps_the_chapter_structure(site: BuiltSite) -> None:
    api_pages = 0
    for page in site.pages():
        soup = site.soup(page)
        toc = soup.select_one("nav.md-nav--secondary")
        if toc is None:
            continue
        links = [a["href"] for a in toc.select("a.md-nav__link")]
        assert not [h for h in links if h.startswith("#llmath.")], f"{page}: API entries in the TOC"
        if soup.select("article .doc-heading[id^='llmath.']"):
            api_pages += 1
            titles = [a.get_text(" ", strip=True) for a in toc.select("a.md-nav__link")]
            assert titles.count("API") == 1, f"{page}: expected one API entry, got {titles}"
    assert api_pages >= 10


def test_api_headings_break_between_name_parts(site: BuiltSite) -> None:
    names = 0
    for page in site.pages():
        for name in site.soup(page).select(".doc-heading .doc-object-name"):
            text = name.get_text()
            if "_" in text.strip("_") or "." in text:
                assert name.find("wbr") is not None, f"{page}: {text} cannot break between parts"
                names += 1
    assert names > 10


def test_prune_keeps_one_api_entry() -> None:
    from mkdocs.structure.toc import AnchorLink

    sys.path.insert(0, str(ROOT / "hooks"))
    try:
        import pages
    finally:
        sys.path.remove(str(ROOT / "hooks"))

    intro = AnchorLink("Intro", "intro", 2)
    module = AnchorLink("softmax", "llmath.attention.softmax", 2)
    module.children = [AnchorLink("softmax", "llmath.attention.softmax.softmax", 3)]
    pruned = pages.prune_api_toc([intro, module, AnchorLink("x", "llmath.attention.x", 2)])
    assert [(a.title, a.id) for a in pruned] == [
        ("Intro", "intro"),
        ("API", "llmath.attention.softmax"),
    ]
    api = AnchorLink("API", "api", 2)
    api.children = [AnchorLink("softmax", "llmath.attention.softmax", 3)]
    pruned = pages.prune_api_toc([intro, api])
    assert [(a.title, len(a.children)) for a in pruned] == [("Intro", 0), ("API", 0)]
    code = '<span class="p">)</span>  <span class="c1"># (B, T)  # type: ignore[misc]</span>'
    assert pages.strip_pragmas(code) == '<span class="p">)</span>  <span class="c1"># (B, T)</span>'
    assert pages.strip_pragmas('x  <span class="c1"># noqa: E501</span>') == "x"
