"""Every chapter keeps the book's shape, read from the Markdown and example sources (no build).

For each part in the nav: every chapter ends with "Key results" (3–6 bullets) and "Used next"
(links back and forward), has two to four exercises, and captions every figure; the part's index
ends with "Further reading", whose entries are the bibliography's section for that part; display
maths fits a phone; and the reading map covers every chapter. A new part is covered as soon as it
is in the nav.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.docs.bookfiles import DOCS, ROOT


def _nav_parts() -> list[tuple[str, list[Path]]]:
    """(part title, [index, chapters...]) for every "Part N: ..." section of mkdocs.yml's nav."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)  # !ENV and friends
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    parts = []
    for section in config["nav"]:
        ((title, items),) = section.items()
        if not title.startswith("Part "):
            continue
        pages = [DOCS / (i if isinstance(i, str) else next(iter(i.values()))) for i in items]
        parts.append((title, [p for p in pages if p.suffix == ".md"]))
    return parts


PARTS = _nav_parts()
INDEXES = [(title, pages[0]) for title, pages in PARTS]
CHAPTERS = [page for _, pages in PARTS for page in pages[1:]]
ALL_PAGES = [page for _, pages in PARTS for page in pages]


def _ids(pages: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in pages]


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def _sections(page: Path) -> list[str]:
    return re.findall(r"^## (.+)$", _text(page), flags=re.M)


def _section(text: str, heading: str) -> str:
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _bullets(body: str) -> list[str]:
    return re.findall(r"^[-*] ", body, flags=re.M)


def test_the_nav_has_parts_with_chapters() -> None:
    assert len(PARTS) >= 3
    assert all(len(pages) >= 3 and pages[0].name == "index.md" for _, pages in PARTS)


@pytest.mark.parametrize("page", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_ends_with_key_results_and_used_next(page: Path) -> None:
    sections = [s for s in _sections(page) if s != "API"]
    assert sections[-2:] == ["Key results", "Used next"], sections
    assert 3 <= len(_bullets(_section(_text(page), "Key results"))) <= 6
    used = _section(_text(page), "Used next")
    assert "Back:" in used or "Next:" in used
    assert re.search(r"\]\([^)]+\.md[^)]*\)", used), "Used next links no chapter"


@pytest.mark.parametrize("page", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_has_two_to_four_exercises(page: Path) -> None:
    n = len(re.findall(r'^\?\?\?\+? question "Exercise', _text(page), flags=re.M))
    assert 2 <= n <= 4, n


def _entries(body: str) -> list[str]:
    """The bold author-year heads of a reference list."""
    return re.findall(r"^[-*] \*\*(.+?)\*\*", body, flags=re.M)


@pytest.mark.parametrize(("title", "index"), INDEXES, ids=[t for t, _ in INDEXES])
def test_further_reading_is_the_bibliographys_section(title: str, index: Path) -> None:
    assert _sections(index)[-1] == "Further reading"
    reading = _entries(_section(_text(index), "Further reading"))
    bib = _section(_text(DOCS / "bibliography.md"), title)
    assert reading and reading == _entries(bib)


@pytest.mark.parametrize("page", CHAPTERS, ids=_ids(CHAPTERS))
def test_every_figure_has_a_caption(page: Path) -> None:
    """Figures are drawn by `svg(...)` on the page or in the example modules it imports."""
    text = _text(page)
    sources = [text]
    for module in set(re.findall(r"from examples\.(\w+) import (\w+)", text)):
        path = DOCS / "examples" / module[0] / f"{module[1]}.py"
        if path.is_file():
            sources.append(_text(path))
    for source in sources:
        for call in re.findall(r"\bsvg\((?:[^()]|\([^()]*\))*\)", source, flags=re.S):
            assert "caption=" in call, call


def _display_lines(text: str) -> list[str]:
    lines = []
    for block in re.findall(r"\$\$(.*?)\$\$", text, flags=re.S):
        for line in re.split(r"\\\\", block):
            lines.append(" ".join(re.sub(r"\\(begin|end)\{[a-z*]+\}", "", line).split()))
    return lines


def _visible_width(tex: str) -> int:
    """A rough count of the characters a line of TeX shows (a fraction as its wider part)."""
    frac = r"\\[td]?frac\{((?:[^{}]|\{[^{}]*\})*)\}\{((?:[^{}]|\{[^{}]*\})*)\}"
    while m := re.search(frac, tex):
        a, b = m.group(1), m.group(2)
        wider = a if _visible_width(a) >= _visible_width(b) else b
        tex = tex[: m.start()] + wider + tex[m.end() :]
    tex = re.sub(r"\\(left|right|[Bb]ig+[lr]?|[,;!:]|displaystyle|textstyle)", "", tex)
    tex = tex.replace("\\qquad", " " * 6).replace("\\quad", " " * 3)
    tex = re.sub(r"\\(operatorname|text|math[a-z]+|overline|hat|bar|tilde)\{([^{}]*)\}", r"\2", tex)
    tex = re.sub(r"\\[a-zA-Z]+", "x", tex)
    return len(re.sub(r"[{}&^_ ]", "", tex))


@pytest.mark.parametrize("page", ALL_PAGES, ids=_ids(ALL_PAGES))
def test_display_maths_fits_a_phone(page: Path) -> None:
    """About 35 visible characters fit the ~330 px a 390 px phone leaves for maths; the browser
    test measures the rendered width, this catches a long line before any build."""
    wide = [line for line in _display_lines(_text(page)) if _visible_width(line) > 35]
    assert not wide, wide


def test_the_reading_map_covers_every_chapter() -> None:
    reading_map = _text(DOCS / "reading-map.md")
    missing = [
        str(p.relative_to(DOCS))
        for p in CHAPTERS
        if f"{p.relative_to(DOCS).as_posix()}" not in reading_map
        and f"({p.name}" not in reading_map
    ]
    assert not missing, f"chapters the reading map does not place: {missing}"
