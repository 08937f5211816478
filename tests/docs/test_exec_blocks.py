"""Every markdown-exec block on every page runs, outside the site builder.

Blocks that share a session run in page order in one namespace, as markdown-exec runs them.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from tests.docs.bookfiles import exec_blocks, pages

PAGES = [p for p in pages() if exec_blocks(p)]


def test_the_book_computes_its_numbers() -> None:
    assert len(PAGES) >= 5
    assert sum(len(exec_blocks(p)) for p in PAGES) >= 30


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(p.parents[1])) for p in PAGES])
def test_page_blocks_run(page: Path) -> None:
    """Every block runs, and every block but the page's first (its imports) prints something."""
    sessions: dict[str | None, dict[str, object]] = {}
    for i, block in enumerate(exec_blocks(page)):
        namespace = sessions.setdefault(block.session, {}) if block.session else {}
        namespace.setdefault("__name__", "__main__")
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(block.code, f"{page.name}:{block.line}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(f"{page.name} line {block.line}: {type(exc).__name__}: {exc}")
        assert i == 0 or out.getvalue().strip(), f"{page.name} line {block.line}: printed nothing"
