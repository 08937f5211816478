"""Part 2's chapters keep the book's shape: key results and links at the end of every chapter,
further reading on the part's index that the bibliography repeats, and display maths that fits a
phone. Pure text checks on the Markdown sources: no build needed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.bookfiles import DOCS

PART = DOCS / "calculus"
CHAPTERS = sorted(p for p in PART.glob("*.md") if p.name != "index.md")


def _sections(page: Path) -> list[str]:
    return re.findall(r"^## (.+)$", page.read_text(encoding="utf-8"), flags=re.M)


def _bullets(page: Path, heading: str) -> list[str]:
    text = page.read_text(encoding="utf-8")
    body = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\* ", body, flags=re.M)


def test_there_are_six_chapters() -> None:
    assert len(CHAPTERS) == 6


@pytest.mark.parametrize("page", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_ends_with_key_results_and_used_next(page: Path) -> None:
    sections = [s for s in _sections(page) if s != "API"]
    assert sections[-2:] == ["Key results", "Used next"], sections
    assert 3 <= len(_bullets(page, "Key results")) <= 6
    used = page.read_text(encoding="utf-8").split("\n## Used next\n", 1)[1]
    assert "Back:" in used and "Next:" in used


@pytest.mark.parametrize("page", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_has_two_to_four_exercises(page: Path) -> None:
    n = len(re.findall(r'^\?\?\? question "Exercise', page.read_text(encoding="utf-8"), re.M))
    assert 2 <= n <= 4


def _entries(text: str) -> list[str]:
    """The bold author-year heads of a reference list."""
    return re.findall(r"^- \*\*(.+?)\*\*", text, flags=re.M)


def test_further_reading_is_in_the_bibliography() -> None:
    index = (PART / "index.md").read_text(encoding="utf-8")
    assert _sections(PART / "index.md")[-1] == "Further reading"
    reading = _entries(index.split("\n## Further reading\n", 1)[1])
    bib = (DOCS / "bibliography.md").read_text(encoding="utf-8")
    part2 = bib.split("\n## Part 2: Calculus and backpropagation\n", 1)[1].split("\n## ", 1)[0]
    assert reading and reading == _entries(part2)


def _display_lines(text: str) -> list[str]:
    lines = []
    for block in re.findall(r"\$\$(.*?)\$\$", text, flags=re.S):
        for line in re.split(r"\\\\", block):
            lines.append(" ".join(re.sub(r"\\(begin|end)\{[a-z*]+\}", "", line).split()))
    return lines


def _visible_width(tex: str) -> int:
    """A rough count of the characters a line of TeX shows (a fraction as its wider part)."""
    while m := re.search(r"\\[td]?frac\{((?:[^{}]|\{[^{}]*\})*)\}\{((?:[^{}]|\{[^{}]*\})*)\}", tex):
        a, b = m.group(1), m.group(2)
        wider = a if _visible_width(a) >= _visible_width(b) else b
        tex = tex[: m.start()] + wider + tex[m.end() :]
    tex = re.sub(r"\\(left|right|[Bb]ig+[lr]?|[,;!:]|displaystyle|textstyle)", "", tex)
    tex = tex.replace("\\qquad", " " * 6).replace("\\quad", " " * 3)
    tex = re.sub(r"\\(operatorname|text|math[a-z]+|overline|hat|bar|tilde)\{([^{}]*)\}", r"\2", tex)
    tex = re.sub(r"\\[a-zA-Z]+", "x", tex)
    return len(re.sub(r"[{}&^_ ]", "", tex))


@pytest.mark.parametrize("page", sorted(PART.glob("*.md")), ids=lambda p: p.stem)
def test_display_maths_fits_a_phone(page: Path) -> None:
    """About 35 visible characters fit the ~330 px a 390 px phone leaves for maths."""
    wide = [
        ln for ln in _display_lines(page.read_text(encoding="utf-8")) if _visible_width(ln) > 35
    ]
    assert not wide, wide
