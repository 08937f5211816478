"""Every markdown-exec block on every page runs, outside the site builder.

Blocks that share a session run in page order in one namespace, as markdown-exec runs them.
While they run, every `llmath` and `docs/examples` source file whose code executes is recorded:
the execution cache (hooks/execcache.py) must list each of them among the page's dependencies,
or an edit to that file could leave the page's numbers stale.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from tests.docs.bookfiles import ROOT, exec_blocks, execcache, pages

PAGES = [p for p in pages() if exec_blocks(p)]
TRACKED = (str(ROOT / "src" / "llmath"), str(ROOT / "docs" / "examples"))


def test_the_book_computes_its_numbers() -> None:
    assert len(PAGES) >= 5
    assert sum(len(exec_blocks(p)) for p in PAGES) >= 30


@contextlib.contextmanager
def executed_files() -> Any:
    """Record the tracked source files whose functions run inside the block."""
    seen: set[str] = set()
    codes: dict[object, None] = {}

    def trace(frame: FrameType, event: str, arg: object) -> None:
        code = frame.f_code
        if code in codes:
            return
        if not code.co_filename.startswith(TRACKED):
            codes[code] = None
            return
        caller: FrameType | None = frame
        while caller is not None:  # code run by an import (a module body) is not a use
            if caller.f_code.co_filename.startswith("<frozen importlib"):
                return
            caller = caller.f_back
        codes[code] = None
        seen.add(code.co_filename)

    previous = sys.gettrace()
    sys.settrace(trace)  # type: ignore[arg-type]
    try:
        yield seen
    finally:
        sys.settrace(previous)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(p.parents[1])) for p in PAGES])
def test_page_blocks_run(page: Path) -> None:
    """Every block runs, every block but the page's first (its imports) prints something, and
    every module the blocks execute is a dependency the execution cache knows about."""
    sessions: dict[str | None, dict[str, object]] = {}
    with executed_files() as ran:
        for i, block in enumerate(exec_blocks(page)):
            namespace = sessions.setdefault(block.session, {}) if block.session else {}
            namespace.setdefault("__name__", "__main__")
            out = io.StringIO()
            try:
                with contextlib.redirect_stdout(out):
                    exec(compile(block.code, f"{page.name}:{block.line}", "exec"), namespace)
            except Exception as exc:
                pytest.fail(f"{page.name} line {block.line}: {type(exc).__name__}: {exc}")
            assert i == 0 or out.getvalue().strip(), (
                f"{page.name} line {block.line}: printed nothing"
            )
    known = {str(p) for p in execcache.PagePlan.of(page).exec_deps}
    ran = {f for f in ran if not f.endswith("__init__.py")}
    missing = sorted(Path(f).relative_to(ROOT).as_posix() for f in ran - known)
    assert not missing, f"{page.name} runs code the execution cache does not key on: {missing}"
