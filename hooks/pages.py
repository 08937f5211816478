r"""MkDocs hook: make each page read like a book on a phone and a desktop (runs after hooks/book.py).

1. Figures and tables: every `<figure class="llm-figure">` is numbered "Figure N." and every
   captioned numeric table "Table N.", per page, with ids `figure-N` / `table-N` to link to.
2. Code: tool pragmas (`# type: ignore[...]`, `# noqa`, `# pragma: ...`, snippet markers
   `# --8<-- [start:x]`, ...) are removed from highlighted code; readers need none of them.
3. API headings: `<wbr>` after dots and underscores in mkdocstrings object names, so a long name
   breaks between its parts on a phone instead of mid-word.
4. Table of contents: mkdocstrings' entries (ids `llmath.…`) are pruned from `page.toc`, keeping
   the chapter's own structure plus one "API" entry; maths in a heading is shown as maths there
   too (it was raw `\(V\)` text).

Everything here works on the article HTML with regular expressions over markup that Pygments,
mkdocstrings and examples/show.py generate, so it is fast and leaves all other markup byte for
byte as it was (hooks/book.py renders math afterwards, matching `<div class="arithmatex">`).
"""

from __future__ import annotations

import re
from typing import Any

from mkdocs.structure.toc import AnchorLink

API_PREFIX = "llmath."

# A Pygments comment span, with the spaces before it on the same line.
_COMMENT = re.compile(r'(?P<space>[ \t]*)<span class="(?P<cls>c1|c|ch|cm)">(?P<text>[^<]*)</span>')
# One pragma comment: from its '#' to the end of the comment (pragmas come last on a line).
_PRAGMA = re.compile(
    r"\s*#\s*(?:type:\s*ignore|noqa\b|pragma:|--8&lt;--|--8<--|fmt:\s*(?:off|on|skip)\b"
    r"|ruff:\s*noqa|pyright:\s*ignore|mypy:|isort:\s*skip|pylint:\s*disable).*$"
)
# Other hooks may add attributes (hooks/book.py adds data-search-exclude), so match any order.
_FIGURE = re.compile(
    r'<figure(?P<attrs>[^>]*\bclass="llm-figure"[^>]*)>(?P<body>.*?)</figure>', re.DOTALL
)
_TABLE_CAPTION = re.compile(
    r"<table(?P<attrs>[^>]*\bdata-key=[^>]*)><caption>(?P<caption>.*?)</caption>", re.DOTALL
)
_OBJECT_NAME = re.compile(r'(<span class="doc doc-object-name[^"]*">)([^<]*)(</span>)')


def strip_pragmas(content: str) -> str:
    """Remove tool pragmas from Pygments-highlighted comments (and the spaces before them)."""

    def replace(m: re.Match[str]) -> str:
        text = m["text"]
        kept = _PRAGMA.sub("", text)
        if kept == text:
            return m[0]
        if not kept.strip():
            return ""
        return f'{m["space"]}<span class="{m["cls"]}">{kept.rstrip()}</span>'

    return _COMMENT.sub(replace, content)


def number_figures(content: str) -> str:
    """Label figures "Figure N." (adding a caption when there is none) and give them ids."""
    count = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        label = f'<span class="llm-label">Figure {count}.</span>'
        body = m["body"]
        if "<figcaption>" in body:
            body = body.replace("<figcaption>", f"<figcaption>{label} ", 1)
        else:
            body += f"<figcaption>{label}</figcaption>"
        attrs = m["attrs"] if " id=" in m["attrs"] else f'{m["attrs"]} id="figure-{count}"'
        return f"<figure{attrs}>{body}</figure>"

    return _FIGURE.sub(replace, content)


def number_tables(content: str) -> str:
    """Label captioned numeric tables "Table N." and give them ids."""
    count = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        label = f'<span class="llm-label">Table {count}.</span>'
        attrs = m["attrs"] if " id=" in m["attrs"] else f'{m["attrs"]} id="table-{count}"'
        return f"<table{attrs}><caption>{label} {m['caption']}</caption>"

    return _TABLE_CAPTION.sub(replace, content)


def break_api_names(content: str) -> str:
    """Allow line breaks after `.` and `_` in API object names, and nowhere else."""

    def replace(m: re.Match[str]) -> str:
        name = re.sub(r"([._])(?=\w)", r"\1<wbr>", m[2])
        return m[1] + name + m[3]

    return _OBJECT_NAME.sub(replace, content)


def prune_api_toc(items: list[Any]) -> list[Any]:
    """Drop mkdocstrings entries from a TOC (list of AnchorLink), keeping one "API" entry.

    A page with its own "API" heading keeps that heading (without the API children); a page whose
    API entries stand alone gets one "API" entry pointing at the first of them.
    """

    def anywhere(nodes: list[Any], test: Any) -> bool:
        return any(test(n) or anywhere(n.children, test) for n in nodes)

    has_api_heading = anywhere(items, lambda n: n.id == "api" or n.title.strip() == "API")
    added = False

    def walk(nodes: list[Any]) -> list[Any]:
        nonlocal added
        kept: list[Any] = []
        for node in nodes:
            if node.id.startswith(API_PREFIX):
                if not has_api_heading and not added:
                    kept.append(AnchorLink("API", node.id, node.level))
                    added = True
                continue
            node.children = walk(node.children)
            kept.append(node)
        return kept

    return walk(items)


_TOC_MATH = re.compile(r"\\\((.+?)\\\)")


def typeset_toc_math(items: list[Any]) -> None:
    r"""Show `\(...\)` in TOC titles as maths: hooks/book.py renders the arithmatex spans.

    Material shows `toc_item.typeset.title` as HTML when it is set (its typeset plugin's slot)
    and keeps `toc_item.title` for the nested list's aria-label, which gets the bare TeX.
    """
    for item in items:
        if _TOC_MATH.search(item.title):
            item.typeset = {
                "title": _TOC_MATH.sub(r'<span class="arithmatex">\\(\1\\)</span>', item.title)
            }
            item.title = _TOC_MATH.sub(r"\1", item.title)
        typeset_toc_math(item.children)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    html = strip_pragmas(html)
    html = number_figures(html)
    html = number_tables(html)
    return break_api_names(html)


def on_page_context(context: Any, page: Any, config: Any, nav: Any) -> Any:
    # After the search plugin has indexed the page by its full TOC (hooks run after plugins), so
    # API entries stay searchable; only the sidebar loses them.
    if page.toc is not None:
        page.toc.items = prune_api_toc(list(page.toc.items))
        typeset_toc_math(page.toc.items)
    return context
