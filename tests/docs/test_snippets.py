"""Every `--8<--` snippet reference on every page resolves to a file and a marked section."""

from __future__ import annotations

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
