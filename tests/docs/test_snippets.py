"""Every `--8<--` snippet reference on every page resolves to a file and a marked section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.bookfiles import ROOT, pages, snippet_refs

REFS = [(page, ref) for page in pages() for ref in snippet_refs(page)]


def test_the_book_includes_package_code() -> None:
    assert len(REFS) >= 5


@pytest.mark.parametrize(("page", "ref"), REFS, ids=[f"{p.name}:{r}" for p, r in REFS])
def test_snippet_resolves(page: Path, ref: str) -> None:
    path, _, section = ref.partition(":")
    source = ROOT / path
    assert source.is_file(), f"{page.name}: snippet file {path} does not exist"
    assert path.startswith(("src/llmath/", "docs/examples/")), (
        "include package or example code only"
    )
    if section:
        text = source.read_text(encoding="utf-8")
        start, end = f"--8<-- [start:{section}]", f"--8<-- [end:{section}]"
        assert text.count(start) == 1, f"{path}: section {section!r} has no unique start marker"
        assert text.count(end) == 1, f"{path}: section {section!r} has no unique end marker"
        assert text.index(start) < text.index(end)


# The book's code column fits 88 characters (plus the copy button) on a 1280 px screen; a wider
# line scrolls sideways. Pragmas are not counted: the build strips them from the display.
CODE_COLUMN = 88
_PRAGMA = re.compile(r"\s*# (type: ignore|noqa|pragma)[^\n]*")


def displayed_lines(ref: str) -> list[tuple[int, str]]:
    """The numbered source lines a reference shows: its section, or the whole file without one.

    A section whose markers are missing shows nothing here; test_snippet_resolves reports it.
    """
    path, _, section = ref.partition(":")
    text = (ROOT / path).read_text(encoding="utf-8").splitlines()
    if not section:
        return list(enumerate(text, 1))
    start = next((i for i, line in enumerate(text) if f"--8<-- [start:{section}]" in line), None)
    end = next((i for i, line in enumerate(text) if f"--8<-- [end:{section}]" in line), None)
    if start is None or end is None:
        return []
    return list(enumerate(text[start + 1 : end], start + 2))


def test_displayed_code_fits_the_column() -> None:
    too_wide: set[tuple[str, int, int]] = set()
    for _, ref in REFS:
        path = ref.partition(":")[0]
        for number, line in displayed_lines(ref):
            width = len(_PRAGMA.sub("", line))
            if width > CODE_COLUMN:
                too_wide.add((path, number, width))
    listing = "\n".join(f"{p}:{n}: {w} characters" for p, n, w in sorted(too_wide))
    assert not too_wide, f"code lines wider than the book's {CODE_COLUMN} columns:\n{listing}"
