"""The book as it is published: canonical links, sitemap, edit and errata links, the 404 page as a
static host serves it, the citation box, and the PDF edition printed from the built site.
"""

from __future__ import annotations

import copy
import http.server
import importlib.util
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from examples import citation

import llmath
from tests.book.conftest import ROOT, BuiltSite
from tests.docs.test_publishing import book_config

pytestmark = pytest.mark.site


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llmath_pdf_tool", ROOT / "tools" / "pdf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


pdf_tool = _tool()


def _setting(key: str, var: str) -> str:
    return os.environ.get(var) or str(book_config()[key])


SITE_URL = _setting("site_url", "LLMATH_SITE_URL")
REPO_URL = _setting("repo_url", "LLMATH_REPO_URL").rstrip("/")


def _url(site: BuiltSite, page: Path) -> str:
    rel = page.parent.relative_to(site.path)
    return "" if rel == Path(".") else f"{rel.as_posix()}/"


def test_canonical_links_and_sitemap_name_the_published_pages(site: BuiltSite) -> None:
    canonical = set()
    for page in site.pages():
        link = site.soup(page).find("link", rel="canonical")
        assert link is not None, page
        assert link["href"] == SITE_URL + _url(site, page), page
        canonical.add(link["href"])
    sitemap = (site.path / "sitemap.xml").read_text(encoding="utf-8")
    assert set(re.findall(r"<loc>([^<]+)</loc>", sitemap)) == canonical


def test_edit_links_open_the_source_file_on_github(site: BuiltSite) -> None:
    for page in site.pages():
        link = site.soup(page).select_one('article a[rel="edit"]')
        assert link is not None, f"{page}: no edit link"
        prefix = f"{REPO_URL}/edit/main/"
        assert link["href"].startswith(prefix), link["href"]
        source = ROOT / link["href"][len(prefix) :]
        assert source.is_file(), f"{page}: edit link to a missing file {source}"
        inside = source.relative_to(ROOT).parents
        assert not any((ROOT / p).is_symlink() for p in inside), (
            f"{page}: GitHub cannot edit {source} through a symlink"
        )


def test_every_page_links_to_a_prefilled_errata_form(site: BuiltSite) -> None:
    for page in site.pages():
        links = site.soup(page).select("article a[data-llmath-errata]")
        assert len(links) == 1, f"{page}: {len(links)} errata links"
        assert links[0].get_text(strip=True) == "Report a problem with this page"
        url = urlsplit(links[0]["href"])
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{REPO_URL}/issues/new"
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert query["template"] == "errata.yml"
        assert query["page"] == SITE_URL + _url(site, page)
        assert query["version"].startswith(f"llmath {llmath.__version__}, commit ")
    assert not site.soup(site.path / "404.html").select("a[data-llmath-errata]")


def test_footer_quotes_the_edition(site: BuiltSite) -> None:
    soup = site.soup(site.page("probability/perplexity"))
    edition = soup.select_one(".llm-edition")
    assert edition is not None
    text = " ".join(edition.get_text(" ", strip=True).split())
    version = re.escape(llmath.__version__)
    assert re.fullmatch(
        rf"llmath {version} · commit ([0-9a-f]{{7,40}}(\+local changes)?|unknown)", text
    ), text


def test_home_page_cites_from_citation_cff_and_links_the_pdf(site: BuiltSite) -> None:
    soup = site.soup(site.path / "index.html")
    assert soup.find(id="how-to-cite") is not None
    blocks = [code.get_text() for code in soup.select("article pre code")]
    assert citation.bibtex().strip() in [b.strip() for b in blocks]
    assert citation.plain() in soup.get_text(" ")
    assert soup.select_one('article a[href="llmath.pdf"]') is not None
    errata = site.soup(site.page("errata"))
    assert (
        errata.find("h2", id=re.compile(re.escape(llmath.__version__.replace(".", "")))) is not None
    )


# --------------------------------------------------------------------------------------- browser


class StaticHost(http.server.SimpleHTTPRequestHandler):
    """A host like GitHub Pages: the site under its path, `404.html` (status 404) for the rest."""

    mount = "/"
    site = Path()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        target: Path | None = None
        if path.startswith(self.mount):
            candidate = self.site / path[len(self.mount) :]
            if candidate.is_dir():
                candidate = candidate / "index.html"
            if candidate.is_file() and candidate.resolve().is_relative_to(self.site.resolve()):
                target = candidate
        status = 200 if target else 404
        body = (target or self.site / "404.html").read_bytes()
        self.send_response(status)
        self.send_header("Content-Type", self.guess_type(str(target or "404.html")))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def host(site: BuiltSite) -> Iterator[str]:
    mount = urlsplit(SITE_URL).path or "/"
    handler = type("Host", (StaticHost,), {"mount": mount, "site": site.path})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{mount}"
    server.shutdown()
    server.server_close()


STYLED_JS = """async () => {
  await document.fonts.ready;
  const sheets = [...document.querySelectorAll('link[rel=stylesheet]')].map(l => ({
    href: l.href, rules: l.sheet ? l.sheet.cssRules.length : -1}));
  const logo = document.querySelector('.md-header .md-logo');
  const box = logo && logo.querySelector('svg, img') && logo.querySelector('svg, img').getBoundingClientRect();
  const icon = document.querySelector('link[rel=icon]');
  const iconStatus = icon ? (await fetch(icon.href)).status : 0;
  return {sheets, logo: box ? [box.width, box.height] : null, logoHref: logo && logo.href,
          icon: icon && icon.href, iconStatus,
          header: getComputedStyle(document.querySelector('.md-header')).position,
          h1: (document.querySelector('article h1') || {}).textContent};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("missing", ["a/b/c/", "nope", "linear-algebra/attention/gone/deeper.html"])
def test_404_page_is_styled_at_any_depth(host: str, missing: str, browser: Any) -> None:
    failed: list[str] = []
    context = browser.new_context()  # a fresh profile on the session's browser
    try:
        page = context.new_page()
        page.on("requestfailed", lambda r: failed.append(f"failed {r.url}"))
        page.on(
            "response",
            lambda r: (
                failed.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.url != host + missing
                else None
            ),
        )
        response = page.goto(host + missing, wait_until="load")
        assert response is not None and response.status == 404
        state = page.evaluate(STYLED_JS)
    finally:
        context.close()
    assert not failed, failed
    assert state["sheets"] and all(s["rules"] > 0 for s in state["sheets"]), state["sheets"]
    assert any("main" in s["href"] for s in state["sheets"])
    assert state["header"] in {"sticky", "fixed"}, "Material's stylesheet is not applied"
    assert state["logo"] and min(state["logo"]) > 0, "the logo is not drawn"
    assert state["logoHref"] == host, state["logoHref"]
    assert state["icon"] is None or state["iconStatus"] == 200, state["icon"]
    assert "404" in (state["h1"] or "")


SELECT_JS = """(id) => {
  let p = document.getElementById(id).nextElementSibling;
  while (p && p.tagName !== 'P') p = p.nextElementSibling;
  const range = document.createRange();
  range.selectNodeContents(p);
  document.getSelection().removeAllRanges();
  document.getSelection().addRange(range);
  return p.textContent.trim().replace(/\\s+/g, ' ');
}"""


@pytest.mark.browser
def test_errata_link_sends_the_selected_text_and_its_section(
    site: BuiltSite, host: str, browser: Any
) -> None:
    article = site.soup(site.page("linear-algebra/attention")).select_one("article")
    assert article is not None
    heading = next(h for h in article.select("h2[id]") if h.find_next_sibling("p"))
    context = browser.new_context()  # a fresh context (profile) on the session's browser
    try:
        page = context.new_page()
        page.route(re.compile(r"^https://github\.com/"), lambda route: route.abort())
        page.goto(host + "linear-algebra/attention/", wait_until="load")
        selected = page.evaluate(SELECT_JS, heading["id"])
        with page.expect_request(re.compile(r"^https://github\.com/")) as request:
            page.click("a[data-llmath-errata]")
        url = request.value.url
    finally:
        context.close()
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    title = " ".join(heading.get_text(" ").replace("¶", "").split())
    assert query["section"] == f"{title} (#{heading['id']})"
    assert query["wrong"].strip() == f"> {selected}"[:1502].strip()
    assert query["page"] == SITE_URL + "linear-algebra/attention/"


def _sample(nav: list[Any]) -> list[Any]:
    """The book in small: each section with its first two pages and its last (a notebook).

    Printing all of it takes Chromium three minutes; `make pdf` prints and checks the whole book
    with the same `check_pdf` when it is published.
    """
    for entry in nav:
        if entry.url is None and len(entry.children) > 3:
            entry.children = [*entry.children[:2], entry.children[-1]]
    return nav


@pytest.fixture(scope="module")
def sample_pdf(site: BuiltSite, tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Any:
    out = tmp_path_factory.mktemp("pdf") / "llmath.pdf"
    nav = _sample(pdf_tool.read_nav(ROOT / "mkdocs.yml"))
    return out, pdf_tool.build_pdf(site.path, out, browser=browser, nav=nav)


@pytest.mark.browser
def test_pdf_edition_has_every_part_and_chapter_and_no_raw_tex(sample_pdf: Any) -> None:
    import pypdf

    out, book = sample_pdf
    assert pdf_tool.check_pdf(out, book) == []
    assert book.version == llmath.__version__
    parts = [e.title for e in book.nav if e.url is None]
    assert sum(str(t).startswith("Part ") for t in parts) == 8, parts
    pages = [e for e in pdf_tool.walk(book.nav) if e.url is not None]
    assert len(pages) == 3 * len(parts)
    assert len(pypdf.PdfReader(out).pages) > 2 * len(pages)


@pytest.mark.browser
def test_the_pdf_check_finds_what_is_wrong(sample_pdf: Any) -> None:
    """A page that is not in the PDF, and an edition it does not name, are reported."""
    out, book = sample_pdf
    wrong = copy.deepcopy(book)
    wrong.nav[1].children.append(pdf_tool.Entry("A chapter never printed", "nowhere/"))
    wrong.version = "0.0.0-not-this"
    problems = pdf_tool.check_pdf(out, wrong)
    assert len(problems) == 2, problems
    assert "A chapter never printed" in problems[0] and "0.0.0-not-this" in problems[1]
