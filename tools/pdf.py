"""The PDF edition: the whole built book, in nav order, printed to one PDF by Chromium.

    python tools/pdf.py [--site site] [--out site/llmath.pdf]      (make pdf builds, then runs this)

It reads a site that `mkdocs build` has already made, so the PDF shows exactly what the site
shows: the numbers computed at build time, the numbered figures and tables, the maths KaTeX
rendered into HTML (its fonts are the site's own), the code. Then it

1. takes the order of the book from mkdocs.yml's `nav`, and each page's `<article>` from the
   built HTML;
2. joins them into one print view: a title page, a table of contents linking to every part and
   chapter, then each part under an `<h1>` with its pages' headings one level down, so that
   Chromium's document outline (the PDF's bookmarks) nests chapters under parts;
3. makes every id unique (prefixed by its page) and rewrites links between pages into links
   inside the PDF; links to anything else point at the published site;
4. serves the site and that view from a loopback-only HTTP server (fonts load as they do on the
   site) and prints it with Chromium's print-to-PDF, with a tagged PDF and its outline.
5. checks the PDF it printed (`check_pdf`): every part and page is a bookmark in nav order,
   the contents link inside the PDF, no TeX source is left as text. `make pdf` fails otherwise.

Nothing is written into the site folder except the PDF itself (the print view is served from
memory), and nothing is fetched from the network.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import posixpath
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml
from bs4 import BeautifulSoup, Tag

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:  # also when loaded by path, as the tests do
    sys.path.insert(0, str(ROOT / "tools"))
from chromium import FLAGS, find_chromium  # noqa: E402

__all__ = ["FLAGS", "build_pdf", "check_pdf", "find_chromium"]
PRINT_PATH = "/__print__.html"  # where the print view is served (never written to disk)


# ------------------------------------------------------------------------------------- the nav


@dataclass
class Entry:
    """A nav item: a page (`url` set) or a section of entries."""

    title: str | None
    url: str | None = None
    children: list[Entry] = field(default_factory=list)
    anchor: str = ""


class _Loader(yaml.SafeLoader):
    """mkdocs.yml's tags (`!ENV`, `!relative`) do not matter for the nav: read them as null."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def page_url(src: str) -> str:
    """The directory URL MkDocs gives a source file: `a/b.md` -> `a/b/`, `a/index.md` -> `a/`."""
    stem = posixpath.splitext(src)[0]
    if posixpath.basename(stem) in {"index", "README"}:
        stem = posixpath.dirname(stem)
    return f"{stem}/" if stem else ""


def _entry(item: Any) -> Entry:
    if isinstance(item, str):
        return Entry(None, page_url(item))
    if isinstance(item, dict) and len(item) == 1:
        ((title, value),) = item.items()
        if isinstance(value, str):
            return Entry(str(title), None if "://" in value else page_url(value))
        return Entry(str(title), children=[_entry(i) for i in value])
    raise ValueError(f"mkdocs.yml: cannot read the nav item {item!r}")


def read_nav(config: Path) -> list[Entry]:
    """The book's order from mkdocs.yml's `nav` (external links dropped)."""
    nav = yaml.load(config.read_text(encoding="utf-8"), Loader=_Loader).get("nav")
    if not nav:
        raise ValueError(f"{config}: no nav")

    def keep(entries: list[Entry]) -> list[Entry]:
        out = []
        for e in entries:
            e.children = keep(e.children)
            if e.url is not None or e.children:
                out.append(e)
        return out

    return keep([_entry(i) for i in nav])


def walk(entries: list[Entry]) -> Iterator[Entry]:
    for e in entries:
        yield e
        yield from walk(e.children)


# ---------------------------------------------------------------------------------- the print view

_DROP = ", ".join(
    [
        "a.headerlink",  # the permalink pilcrows
        ".md-content__button",  # edit and download buttons
        ".llm-errata",  # "Report a problem with this page"
        ".md-source-file",
        "details.mkdocstrings-source",  # API source code: docstrings in TeX source, site only
        "script",
    ]
)
_HEADING = re.compile(r"^h([1-6])$")
_LABEL_ATTRS = ("for", "aria-labelledby", "aria-describedby", "aria-controls")


def _clean_title(node: Tag) -> str:
    return " ".join(node.get_text(" ", strip=True).replace("¶", "").split())


def _in_svg(node: Tag) -> bool:
    return any(p.name == "svg" for p in node.parents)


@dataclass
class Book:
    site: Path
    nav: list[Entry]
    site_url: str = ""
    version: str = ""
    commit: str = ""
    head: list[str] = field(default_factory=list)

    def _soup(self, url: str) -> BeautifulSoup:
        path = self.site / url / "index.html"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not built (is {self.site} a built site?)")
        return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")

    def _collect_head(self, soup: BeautifulSoup, url: str, seen: set[str]) -> None:
        # every page's stylesheets, print.css (mkdocs.yml extra_css) included, once each
        for link in soup.head.find_all("link", rel="stylesheet"):
            href = posixpath.normpath(posixpath.join(url, link["href"]))
            if href not in seen:
                seen.add(href)
                self.head.append(f'<link rel="stylesheet" href="{href}">')
        for style in soup.find_all("style"):  # mkdocs-jupyter puts its CSS into every notebook
            text = style.get_text()
            digest = hashlib.sha256(text.encode()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                self.head.append(f"<style>{text}</style>")
            style.decompose()

    def render(self) -> str:
        """The whole book as one HTML document, to be served from the site's root."""
        pages = [e for e in walk(self.nav) if e.url is not None]
        ids = {e.url: f"p{i + 1}" for i, e in enumerate(pages)}
        for n, e in enumerate(walk(self.nav)):
            e.anchor = ids[e.url] if e.url is not None else f"s{n + 1}"
        home = self._soup(pages[0].url or "")
        canonical = home.find("link", rel="canonical")
        self.site_url = canonical["href"] if canonical else ""
        version = home.select_one("[data-llmath-version]")
        commit = home.select_one("[data-llmath-commit]")
        self.version = version.get_text(strip=True) if version else ""
        self.commit = commit.get_text(strip=True) if commit else ""
        seen: set[str] = set()
        body: list[str] = []
        for n, entry in enumerate(self.nav):
            body.append(self._section(entry, 0, ids, seen, first=n == 0))
        return self._document("\n".join(body))

    def _section(
        self, entry: Entry, depth: int, ids: dict[str, str], seen: set[str], *, first: bool = False
    ) -> str:
        if entry.url is not None:
            return self._page(entry, depth, ids, seen)
        level = min(depth + 1, 6)
        children = [self._section(c, depth + 1, ids, seen) for c in entry.children]
        first = entry.children[0]
        heading = f"<h{level}>{entry.title}</h{level}>"
        if first.url is not None and (first.title or "").lower() == (entry.title or "").lower():
            # a part's index page whose title is the part's: it carries the part's heading
            children[0] = self._page(first, depth, ids, seen)
            first.anchor, heading = entry.anchor, ""
        return (
            f'<section class="llm-print-part llm-print-page" id="{entry.anchor}">'
            f"{heading}\n{chr(10).join(children)}</section>"
        )

    def _page(self, entry: Entry, depth: int, ids: dict[str, str], seen: set[str]) -> str:
        assert entry.url is not None
        soup = self._soup(entry.url)
        self._collect_head(soup, entry.url, seen)
        article = soup.select_one("article")
        if article is None:
            raise ValueError(f"{entry.url}: no <article>")
        for node in article.select(_DROP):
            node.decompose()
        prefix = ids[entry.url]
        h1 = article.find("h1")
        title = _clean_title(h1) if h1 else entry.title or entry.url
        if entry.title and h1 is not None and entry.title.lower() not in title.lower():
            h1.insert(0, f"{entry.title}: ")  # "Companion notebook: Part 1 walkthrough: ..."
        entry.title = _clean_title(h1) if h1 else title
        for node in article.find_all(True):
            if _in_svg(node) or node.name == "svg":
                continue  # figures keep their own ids: their url(#...) references point at them
            if node.get("id"):
                node["id"] = f"{prefix}-{node['id']}"
            for attr in _LABEL_ATTRS:
                if node.get(attr):
                    node[attr] = " ".join(f"{prefix}-{v}" for v in str(node[attr]).split())
            if node.name == "a" and node.get("href"):
                node["href"] = self._link(str(node["href"]), entry.url, ids)
            for attr in ("src", "data"):
                value = node.get(attr)
                if value and not re.match(r"^[a-z][a-z0-9+.-]*:", str(value)):
                    node[attr] = posixpath.normpath(posixpath.join(entry.url or ".", str(value)))
            if node.name == "details":
                node["open"] = ""  # exercise solutions print open
            match = _HEADING.match(node.name)
            if match and depth:
                node.name = f"h{min(int(match[1]) + depth, 6)}"
        return (
            f'<section class="llm-print-page" id="{prefix}" data-url="{entry.url}">'
            f'<article class="md-content__inner md-typeset">{article.decode_contents()}'
            "</article></section>"
        )

    def _link(self, href: str, url: str, ids: dict[str, str]) -> str:
        """A link as the PDF needs it: inside the PDF if it names a page of the book."""
        if re.match(r"^[a-z][a-z0-9+.-]*:", href):
            return href  # https:, mailto:, ...
        target = urlsplit(urljoin(f"http://book/{url}", href))
        path = target.path.lstrip("/")
        if path.endswith("index.html"):
            path = path[: -len("index.html")]
        page = path if path.endswith("/") or path == "" else f"{path}/"
        if page in ids and (self.site / page / "index.html").is_file():
            return f"#{ids[page]}-{target.fragment}" if target.fragment else f"#{ids[page]}"
        return urljoin(self.site_url or "/", path) + (
            f"#{target.fragment}" if target.fragment else ""
        )

    def _toc(self, entries: list[Entry], parent: str = "") -> str:
        items = []
        for e in entries:
            if e.anchor == parent:
                continue  # a part's index page: listed as the part
            sub = self._toc(e.children, e.anchor) if e.children else ""
            items.append(f'<li><a href="#{e.anchor}">{e.title}</a>{sub}</li>')
        return f"<ol>{''.join(items)}</ol>"

    def _document(self, body: str) -> str:
        edition = f"llmath {self.version}" + (f" · commit {self.commit}" if self.commit else "")
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>llmath {self.version}</title>
<meta name="robots" content="noindex">
{chr(10).join(self.head)}
</head>
<body dir="ltr" data-md-color-scheme="default" data-md-color-primary="indigo"
      data-md-color-accent="indigo" class="llm-print">
<div class="md-container"><main class="md-main"><div class="md-main__inner md-grid">
<div class="md-content">
<section class="llm-print-title md-typeset">
  <p class="llm-print-booktitle">llmath</p>
  <p>An executable textbook on the mathematics behind large language models</p>
  <p>{edition}</p>
  <p>Every number in this book was computed by that code when the book was built.<br>
  Read online: <a href="{self.site_url}">{self.site_url}</a></p>
</section>
<nav class="llm-print-toc md-typeset" aria-label="Contents">
  <h1>Contents</h1>
  {self._toc(self.nav)}
</nav>
{body}
</div></div></main></div>
</body></html>
"""


# ---------------------------------------------------------------------------------- printing


class _Handler(http.server.SimpleHTTPRequestHandler):
    print_view = b""

    def do_GET(self) -> None:
        if self.path.split("?")[0] == PRINT_PATH:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.print_view)))
            self.end_headers()
            self.wfile.write(self.print_view)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(site: Path, print_view: str) -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"print_view": print_view.encode("utf-8")})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center;color:#555">'
    '<span class="title"></span> · <span class="pageNumber"></span> / '
    '<span class="totalPages"></span></div>'
)


def build_pdf(
    site: Path,
    out: Path,
    *,
    config: Path = ROOT / "mkdocs.yml",
    chromium: str | None = None,
    browser: Any = None,
    nav: list[Entry] | None = None,
) -> Book:
    """Print the built `site` to `out`; return the book (its nav now carries every page title).

    `browser` is a running Playwright Chromium to print with (the tests share one); without it
    one is launched from `chromium` or `find_chromium()`. `nav` prints only those entries (the
    tests print a sample of the book); by default, the whole nav of `config`.
    """
    book = Book(site, read_nav(config) if nav is None else nav)
    view = book.render()
    if browser is not None:
        _print(browser, site, view, out)
        return book
    from playwright.sync_api import sync_playwright

    executable = chromium or find_chromium()
    if executable is None:
        raise RuntimeError("no Chromium: install Debian's chromium or set LLMATH_CHROMIUM")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        try:
            _print(launched, site, view, out)
        finally:
            launched.close()
    return book


def _print(browser: Any, site: Path, view: str, out: Path) -> None:
    failed: list[str] = []
    with serve(site, view) as origin:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.set_default_timeout(600_000)
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.on(
                "response",
                lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.route(
                re.compile(r"^(?!http://127\.0\.0\.1:)"), lambda route: route.abort()
            )  # nothing leaves the machine
            page.goto(origin + PRINT_PATH, wait_until="load")
            page.evaluate("document.fonts.ready.then(() => true)")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(
                path=str(out),
                format="A4",
                print_background=True,
                margin={"top": "16mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
                display_header_footer=True,
                header_template="<div></div>",
                footer_template=FOOTER,
                outline=True,
                tagged=True,
            )
        finally:
            context.close()
    if failed:
        raise RuntimeError(f"the print view could not load: {failed[:10]}")


# ------------------------------------------------------------------------------------ the check


def _flat_outline(outline: list[Any], depth: int = 0) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for item in outline:
        if isinstance(item, list):
            out += _flat_outline(item, depth + 1)
        else:
            out.append((depth, str(item.title)))
    return out


def _squash(text: str) -> str:
    # Chromium's outline drops the space where a heading wraps ("a transformer" -> "atransformer")
    return re.sub(r"\s+", "", text).lower()


@functools.lru_cache(maxsize=4)
def _read_pdf(out: Path, mtime: int) -> tuple[list[tuple[int, str]], int, str]:
    """The PDF's bookmarks (depth, title), its links inside the PDF on the contents pages (the
    first four), and its text; read once per file version (`mtime`)."""
    import pypdf  # the test extra: `make pdf` installs it

    reader = pypdf.PdfReader(out)
    internal = 0
    for page in reader.pages[:4]:
        for annot in page.get("/Annots") or []:
            link = annot.get_object()
            action = link.get("/A")
            if link.get("/Subtype") == "/Link" and (
                "/Dest" in link or (action and action.get("/S") == "/GoTo")
            ):
                internal += 1
    text = "\n".join(page.extract_text() for page in reader.pages)
    return _flat_outline(reader.outline), internal, text


def check_pdf(out: Path, book: Book) -> list[str]:
    """What is wrong with the printed `book` in `out` (nothing, if the list is empty).

    Every part and page of the book's nav is a bookmark, in nav order, parts at the top level;
    the contents link inside the PDF to every page; no TeX source is left as text; the edition is
    named; figures and tables carry their numbers.
    """
    outline, internal, text = _read_pdf(out, out.stat().st_mtime_ns)
    titles = [_squash(t) for _, t in outline]
    problems = []
    position = 0
    for entry in walk(book.nav):
        title = _squash(entry.title or "")
        found = [i for i, t in enumerate(titles) if title and title in t and i >= position]
        if not found:
            problems.append(f"{entry.title!r} is not a bookmark after position {position}")
            continue
        position = found[0]
    top = {_squash(t) for d, t in outline if d == 0}
    problems += [
        f"the part {e.title!r} is not a top-level bookmark"
        for e in book.nav
        if e.url is None and _squash(e.title or "") not in top
    ]
    pages = [e for e in walk(book.nav) if e.url is not None]
    if internal < len(pages) - 4:
        problems.append(
            f"only {internal} links inside the PDF in the contents, for {len(pages)} pages"
        )
    for raw in (r"\frac", "$$", r"\("):
        if raw in text:
            at = text.find(raw)
            problems.append(f"TeX source {raw!r} left as text: {text[max(0, at - 80) :][:160]!r}")
    if not book.version:
        problems.append("the home page names no edition (data-llmath-version)")
    elif f"llmath {book.version}" not in text:
        problems.append(f"the edition 'llmath {book.version}' is not named")
    problems += [f"no {n!r} in the text" for n in ("Figure 1", "Table 1") if n not in text]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--site", type=Path, default=ROOT / "site", help="a built site (make build)"
    )
    parser.add_argument("--out", type=Path, help="the PDF (default: <site>/llmath.pdf)")
    parser.add_argument("--config", type=Path, default=ROOT / "mkdocs.yml")
    args = parser.parse_args(argv)
    out = args.out or args.site / "llmath.pdf"
    book = build_pdf(args.site, out, config=args.config)
    problems = check_pdf(out, book)
    if problems:
        print(f"{out}: the PDF edition is wrong:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    pages = sum(1 for e in walk(book.nav) if e.url is not None)
    size = out.stat().st_size / 1e6
    print(f"{out}: llmath {book.version}, the {pages} pages of the nav in one PDF, {size:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
