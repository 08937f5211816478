"""Part 1's chapters keep the book's shape: key results and links at the end of every chapter,
two to four exercises, further reading on the part's index that the bibliography repeats,
captioned figures and display maths that fits a phone. Pure text checks on the Markdown and
example sources: no build needed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.bookfiles import DOCS

PART = DOCS / "linear-algebra"
CHAPTERS = sorted(p for p in PART.glob("*.md") if p.name != "index.md")
EXAMPLES = sorted((DOCS / "examples" / "linear_algebra").glob("*.py"))


def _sections(page: Path) -> list[str]:
    return re.findall(r"^## (.+)$", page.read_text(encoding="utf-8"), flags=re.M)


def _section(page: Path, heading: str) -> str:
    return page.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_there_are_five_chapters() -> None:
    assert len(CHAPTERS) == 5


@pytest.mark.parametrize("page", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_ends_with_key_results_and_used_next(page: Path) -> None:
    sections = [s for s in _sections(page) if s != "API"]
    assert sections[-2:] == ["Key results", "Used next"], sections
    assert 3 <= len(re.findall(r"^- ", _section(page, "Key results"), flags=re.M)) <= 6
    used = _section(page, "Used next")
    assert "Back:" in used and "Next:" in used


@pytest.mark.parametrize("page", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_has_two_to_four_exercises(page: Path) -> None:
    n = len(re.findall(r'^\?\?\? question "Exercise', page.read_text(encoding="utf-8"), re.M))
    assert 2 <= n <= 4


def _entries(text: str) -> list[str]:
    """The bold author-year heads of a reference list."""
    return re.findall(r"^- \*\*(.+?)\*\*", text, flags=re.M)


def test_further_reading_is_in_the_bibliography() -> None:
    assert _sections(PART / "index.md")[-1] == "Further reading"
    reading = _entries(_section(PART / "index.md", "Further reading"))
    bib = (DOCS / "bibliography.md").read_text(encoding="utf-8")
    part1 = bib.split("\n## Part 1: Linear algebra and attention\n", 1)[1].split("\n## ", 1)[0]
    assert reading and reading == _entries(part1)


@pytest.mark.parametrize("page", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_figure_has_a_caption(page: Path) -> None:
    """Figures are made by `svg(...)` on the page or in its example module; each gets a caption."""
    sources = [page.read_text(encoding="utf-8")] + [p.read_text(encoding="utf-8") for p in EXAMPLES]
    for text in sources:
        for call in re.findall(r"\bsvg\((?:[^()]|\([^()]*\))*\)", text, flags=re.S):
            assert "caption=" in call, call


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
