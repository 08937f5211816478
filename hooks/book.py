"""MkDocs hooks for the llmath book.

1. Math: every TeX expression is rendered to KaTeX HTML at build time (pykatex), so pages need no
   math JavaScript and no network; a TeX error is a WARNING, which fails `mkdocs build --strict`.
   This covers arithmatex output in Markdown pages and docstrings, and `$...$` / `$$...$$` in
   notebook Markdown cells (which arithmatex never sees).
2. Freshness: before each build, llmath and the book's example modules are dropped from
   `sys.modules`, so `mkdocs serve` re-imports the edited package instead of showing old numbers.
3. Provenance: the llmath version and the git commit are put in `config.extra` for the footer.
4. nbconvert's MathJax-2 configuration block is removed from notebook pages (nothing uses it).
5. Execution cache (hooks/execcache.py): markdown-exec blocks are replayed from a cache keyed by
   their code and the source of the modules they use; notebooks are executed in background
   threads into real `.ipynb` files (outputs included, offered for download), cached the same way.
   In a `--dirty` build (`make serve`), a page whose code, API or included source changed since
   its HTML was written is rebuilt even if its Markdown did not change.
6. Search: tables, figures and code are kept out of the index; maths in it becomes plain text.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import execcache  # hooks/ is on sys.path while MkDocs loads this file
import pykatex

log = logging.getLogger("mkdocs.hooks.book")

EXEC = getattr(execcache, "EXEC", None) or execcache.ExecCache()
NOTEBOOKS = getattr(execcache, "NOTEBOOKS", None) or execcache.Notebooks()
# kept on the module, which stays imported across `mkdocs serve` rebuilds (this hook file does not)
execcache.EXEC, execcache.NOTEBOOKS = EXEC, NOTEBOOKS
_KATEX: dict[str, str] = getattr(execcache, "KATEX", {})
execcache.KATEX = _KATEX
_STATE: dict[str, Any] = {}

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
    key = f"{int(display)}{tex}"
    if key in _KATEX:  # KaTeX's output is a pure function of (TeX, display mode)
        return _KATEX[key]
    try:
        rendered = str(
            pykatex.renderToString(
                tex, displayMode=display, output=pykatex.OUTPUT_HTML_AND_MATHML, throwOnError=True
            )
        )
    except pykatex.ParseError as exc:
        raise TexError(f"KaTeX cannot render {tex!r}: {exc}") from None
    _KATEX[key] = rendered
    return rendered


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
    EXEC.install()
    root = execcache.cache_root()
    _STATE.update(root=root, plans={}, sources={}, keys={})
    if root is not None and not _KATEX:
        _KATEX.update(execcache._read_json(root / "katex.json") or {})
    _STATE["katex_size"] = len(_KATEX)
    return config


def on_pre_build(config: Any) -> None:
    _purge_modules()
    import llmath

    config.extra["llmath_version"] = llmath.__version__
    config.extra["llmath_commit"] = _git_commit()
    EXEC.hits = EXEC.misses = 0
    NOTEBOOKS.executed = 0


def _record_file(root: Path | None) -> Path | None:
    """Where the key each page's HTML was built from is kept (for `--dirty` rebuilds)."""
    return root / "built-pages.json" if root else None


def on_files(files: Any, config: Any) -> Any:
    """Plan every page's code and start the notebooks; drop outputs whose inputs changed."""
    root = _STATE["root"]
    execcache.reset()  # names resolve against the modules this build re-imported
    built: dict[str, str] = execcache._read_json(_record_file(root)) or {}
    for file in files:
        src = Path(file.abs_src_path) if file.abs_src_path else None
        if src is None:
            continue
        if file.src_uri.startswith("notebooks/") and file.src_uri.endswith(".py"):
            run = NOTEBOOKS.plan(src, root)
            _STATE["sources"][file.src_uri] = src
            file.abs_src_path = str(run.executed)  # mkdocs-jupyter renders the executed notebook
            key = run.key
        elif file.src_uri.endswith(".md") and file.is_documentation_page():
            plan = execcache.PagePlan.of(src)
            _STATE["plans"][file.src_uri] = plan
            key = plan.page_key
        else:
            continue
        _STATE["keys"][file.abs_dest_path] = key
        # A --dirty build rebuilds only pages whose Markdown is newer than their HTML. Removing
        # the HTML of a page whose code, API or included source changed makes it rebuild too.
        if built.get(file.abs_dest_path) != key and os.path.isfile(file.abs_dest_path):
            os.remove(file.abs_dest_path)
    return files


def on_pre_page(page: Any, config: Any, files: Any) -> Any:
    source = _STATE["sources"].get(page.file.src_uri)
    if source is not None:
        try:
            NOTEBOOKS.wait(source)
        except Exception as exc:  # a failing cell: fail the build, show the unexecuted notebook
            log.warning("%s: the notebook failed to execute:\n%s", page.file.src_uri, exc)
            page.file.abs_src_path = str(source)
    return page


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    plan = _STATE["plans"].get(page.file.src_uri)
    if plan is not None:
        EXEC.begin(plan, _STATE["root"])
    return markdown


def _is_notebook(page: Any) -> bool:
    where = str(page.file.src_uri)
    return getattr(page, "nb_url", None) is not None or where.endswith((".py", ".ipynb"))


# Elements that Material's search plugin skips (it strips the attribute from the page afterwards).
_UNSEARCHED = re.compile(
    r'<(?P<tag>table|figure|pre|div(?= class="(?:highlight|doc-signature|jp-InputArea|jp-OutputArea)))'
)


def on_page_content(html_content: str, page: Any, config: Any, files: Any) -> str:
    EXEC.end()
    if _is_notebook(page):
        html_content = _NBCONVERT_MATHJAX.sub("", html_content)
    return _UNSEARCHED.sub(r'<\g<tag> data-search-exclude="true"', html_content)


def on_post_page(output: str, page: Any, config: Any) -> str:
    # All math is rendered in the finished page rather than in on_page_content, so the search
    # index holds the short TeX source instead of KaTeX's markup (whose text, HTML and MathML
    # copies would all be indexed); parsing that markup cost the search plugin about a fifth
    # of the build.
    where = page.file.src_uri
    if _is_notebook(page):
        # re-serialise only the article, not the theme's whole page
        start, end = output.find("<article"), output.rfind("</article>")
        if start < 0 or end < start:
            log.warning("%s: no <article> to render notebook math in", where)
        else:
            body = render_notebook_math(output[start:end], where=where)
            output = output[:start] + body + output[end:]
        output = _share_notebook_styles(output, page, config)
        # offer the jupytext source beside the executed .ipynb
        source = _STATE["sources"].get(page.file.src_uri)
        if source is not None:
            dest = Path(page.file.abs_dest_path).parent / source.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
    return render_page_math(output, where=where)


_STYLE = re.compile(r"<style[^>]*>(?P<css>.*?)</style>\s*", re.DOTALL)
_MERMAID = re.compile(
    r"<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*</script>\s*", re.DOTALL
)


def _share_notebook_styles(output: str, page: Any, config: Any) -> str:
    """Move nbconvert's inlined JupyterLab CSS (about 600 KB on every notebook page) into one
    shared stylesheet that a browser caches once, and drop its Mermaid loader (a CDN import the
    book never needs: no notebook draws a Mermaid diagram)."""
    from mkdocs.utils import get_relative_url

    start, end = output.find("<article"), output.rfind("</article>")
    if start < 0 or end < start:
        return output
    article = _MERMAID.sub("", output[start:end])
    blocks = [m["css"] for m in _STYLE.finditer(article)]
    # mkdocs-jupyter also writes Pygments' CSS as a Python list repr: not CSS, so not kept
    css = "\n".join(b.strip() for b in blocks if not b.lstrip().startswith("['"))
    if not css:
        return output
    name = f"assets/notebook.{hashlib.sha256(css.encode()).hexdigest()[:12]}.css"
    target = Path(config.site_dir) / name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(css + "\n", encoding="utf-8")
    link = f'<link rel="stylesheet" href="{get_relative_url(name, page.url)}">'
    article = _STYLE.sub("", article)
    return output[:start] + link + article + output[end:]


_INDEX_MATH = re.compile(r"\\\((?P<inline>.+?)\\\)|\\\[(?P<display>.+?)\\\]", re.DOTALL)


@functools.cache
def _latex_to_text() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="text", strict_latex_spaces=True).latex_to_text


def _plain_math(text: str, *, dollars: bool = False) -> str:
    r"""TeX in search snippets as readable text: `\(p = 0.9\)` -> `p = 0.9`."""
    convert = _latex_to_text()  # built once: it is called for every entry of the index

    def replace(match: re.Match[str]) -> str:
        tex = html.unescape(match["inline"] or match["display"] or "")
        try:
            return html.escape(" ".join(convert(tex).split()), quote=False)
        except Exception:  # pylatexenc is lenient; keep the TeX if it ever gives up
            return match[0]

    text = _INDEX_MATH.sub(replace, text)
    # notebook Markdown keeps its $...$ (arithmatex never sees it)
    return _NOTEBOOK_MATH.sub(replace, text) if dollars else text


def on_post_build(config: Any) -> None:
    root = _STATE["root"]
    index = Path(config.site_dir) / "search" / "search_index.json"
    if index.is_file():
        data = json.loads(index.read_text(encoding="utf-8"))
        for doc in data.get("docs", []):
            dollars = doc.get("location", "").startswith("notebooks/")
            if dollars and "#" not in doc["location"]:
                # nbconvert's markup does not nest as Material's search parser expects, so the
                # text of the code cells lands in a notebook's untitled first entry despite
                # data-search-exclude; its Markdown cells are the entries after it
                doc["text"] = ""
            doc["title"] = _plain_math(doc.get("title", ""), dollars=dollars)
            doc["text"] = _plain_math(doc.get("text", ""), dollars=dollars)
        index.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), "utf-8")
    record_file = _record_file(root)
    if root is not None and record_file is not None:
        built: dict[str, str] = execcache._read_json(record_file) or {}
        built.update(_STATE["keys"])
        execcache._write_atomic(record_file, json.dumps(built, indent=0, sort_keys=True))
        if len(_KATEX) != _STATE["katex_size"]:
            execcache._write_atomic(root / "katex.json", json.dumps(_KATEX))
    log.info(
        "exec cache: %d pages replayed, %d executed; notebooks executed: %d%s",
        EXEC.hits,
        EXEC.misses,
        NOTEBOOKS.executed,
        "" if root else " (cache off)",
    )
