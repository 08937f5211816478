"""MkDocs hooks for the llmath book.

1. Math: every TeX expression is rendered to KaTeX HTML at build time (pykatex), so pages need no
   math JavaScript and no network; a TeX error is a WARNING, which fails `mkdocs build --strict`.
   This covers arithmatex output in Markdown pages and docstrings, and `$...$` / `$$...$$` in
   notebook Markdown cells (which arithmatex never sees).
2. Freshness: before each build, llmath and the book's example modules are dropped from
   `sys.modules`, so `mkdocs serve` re-imports the edited package instead of showing old numbers.
3. Provenance: the llmath version and the git commit are put in `config.extra` for the footer.
4. nbconvert's MathJax-2 configuration block is removed from notebook pages (nothing uses it).
"""

from __future__ import annotations

import html
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pykatex

log = logging.getLogger("mkdocs.hooks.book")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

_ARITHMATEX = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?P<body>.*?)</(?P=tag)>', flags=re.DOTALL
)
_NBCONVERT_MATHJAX = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", flags=re.DOTALL
)
# $$...$$ first, then $...$ that does not start or end with a space (so "$5 and $6" is text).
_NOTEBOOK_MATH = re.compile(
    r"\$\$(?P<display>.+?)\$\$|\$(?P<inline>[^\s$](?:[^$]*?[^\s$])?)\$", re.DOTALL
)


class TexError(ValueError):
    """KaTeX could not parse an expression."""


def render_tex(tex: str, *, display: bool) -> str:
    """Render one TeX expression to KaTeX HTML (with MathML for screen readers).

    Raises:
        TexError: if KaTeX rejects the expression (syntax error, unknown macro, ...).
    """
    try:
        return str(
            pykatex.renderToString(
                tex, displayMode=display, output=pykatex.OUTPUT_HTML_AND_MATHML, throwOnError=True
            )
        )
    except pykatex.ParseError as exc:
        raise TexError(f"KaTeX cannot render {tex!r}: {exc}") from None


def _strip_arithmatex_delimiters(body: str) -> tuple[str, bool]:
    tex = html.unescape(body).strip()
    for left, right, display in ((r"\[", r"\]", True), (r"\(", r"\)", False)):
        if tex.startswith(left) and tex.endswith(right):
            return tex[len(left) : -len(right)], display
    raise TexError(f"unexpected arithmatex body {body[:80]!r}")


def render_page_math(content: str, *, where: str) -> str:
    """Replace every arithmatex span/div in `content` with rendered KaTeX HTML."""

    def replace(match: re.Match[str]) -> str:
        try:
            tex, display = _strip_arithmatex_delimiters(match["body"])
            rendered = render_tex(tex, display=display)
        except TexError as exc:
            log.warning("%s: %s", where, exc)
            return match[0]
        return f'<{match["tag"]} class="arithmatex">{rendered}</{match["tag"]}>'

    return _ARITHMATEX.sub(replace, content)


def render_notebook_math(content: str, *, where: str) -> str:
    """Render `$...$` and `$$...$$` inside notebook Markdown cells, leaving code alone."""
    from bs4 import BeautifulSoup, NavigableString

    soup = BeautifulSoup(content, "html.parser")
    for cell in soup.select(".jp-RenderedMarkdown"):
        for node in list(cell.find_all(string=True)):
            if node.find_parent(["code", "pre", "script", "style"]) or "$" not in node:
                continue
            text = str(node)
            pieces: list[str] = []
            last = 0
            for m in _NOTEBOOK_MATH.finditer(text):
                display = m["display"] is not None
                tex = m["display"] if display else m["inline"]
                try:
                    rendered = render_tex(tex, display=display)
                except TexError as exc:
                    log.warning("%s: %s", where, exc)
                    continue
                tag = "div" if display else "span"
                pieces.append(html.escape(text[last : m.start()], quote=False))
                pieces.append(f'<{tag} class="arithmatex notebook-math">{rendered}</{tag}>')
                last = m.end()
            if not pieces:
                continue
            pieces.append(html.escape(text[last:], quote=False))
            node.replace_with(BeautifulSoup("".join(pieces), "html.parser"))
            assert isinstance(node, NavigableString)
    return str(soup)


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _git_commit() -> str:
    sha = os.environ.get("GITHUB_SHA", "")
    if sha:
        return sha[:12]
    try:
        commit = _git("rev-parse", "--short=12", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+local changes" if dirty else "")


def _purge_modules() -> None:
    for name in list(sys.modules):
        if name == "llmath" or name.startswith(("llmath.", "examples")):
            del sys.modules[name]


def on_config(config: Any) -> Any:
    if str(DOCS) not in sys.path:
        sys.path.insert(0, str(DOCS))  # `from examples.<part> import ...` in exec blocks
    return config


def on_pre_build(config: Any) -> None:
    _purge_modules()
    import llmath

    config.extra["llmath_version"] = llmath.__version__
    config.extra["llmath_commit"] = _git_commit()


def _is_notebook(page: Any) -> bool:
    where = str(page.file.src_uri)
    return getattr(page, "nb_url", None) is not None or where.endswith((".py", ".ipynb"))


def on_page_content(html_content: str, page: Any, config: Any, files: Any) -> str:
    if _is_notebook(page):
        html_content = _NBCONVERT_MATHJAX.sub("", html_content)
    return html_content


def on_post_page(output: str, page: Any, config: Any) -> str:
    # All math is rendered in the finished page rather than in on_page_content, so the search
    # index holds the short TeX source instead of KaTeX's markup (whose text, HTML and MathML
    # copies would all be indexed); parsing that markup cost the search plugin about a fifth
    # of the build.
    where = page.file.src_uri
    if _is_notebook(page):  # re-serialise only the article, not the theme's whole page
        start, end = output.find("<article"), output.rfind("</article>")
        if start < 0 or end < start:
            log.warning("%s: no <article> to render notebook math in", where)
        else:
            body = render_notebook_math(output[start:end], where=where)
            output = output[:start] + body + output[end:]
    return render_page_math(output, where=where)
