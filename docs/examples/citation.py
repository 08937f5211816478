r"""The book's citation, generated from CITATION.cff so the home page and the file cannot disagree.

The home page's "How to cite" box prints `cite_box()` when the site is built; tests/docs checks the
BibTeX against the CFF file and the CFF file against the CFF 1.2.0 schema.
"""

from __future__ import annotations

import html
import re
import textwrap
from pathlib import Path
from typing import Any

import yaml

import llmath

CFF = Path(__file__).resolve().parents[2] / "CITATION.cff"

__all__ = ["CFF", "bibtex", "cite_box", "load", "plain"]


def load(path: Path = CFF) -> dict[str, Any]:
    """The CFF file as a mapping (dates are quoted in the file, so they stay strings)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping, got {type(data).__name__}")
    return data


def _names(cff: dict[str, Any]) -> list[str]:
    """Authors as BibTeX names: "Family, Given" for persons, braced for organisations."""
    out = []
    for author in cff["authors"]:
        if "family-names" in author:
            given = author.get("given-names", "")
            out.append(f"{author['family-names']}, {given}".rstrip(", "))
        else:
            out.append("{" + author["name"] + "}")
    return out


def _escape(text: str) -> str:
    return re.sub(r"([&%#_$])", r"\\\1", text)


def _year(cff: dict[str, Any]) -> str:
    return str(cff["date-released"])[:4]


def bibtex(cff: dict[str, Any] | None = None) -> str:
    """A BibTeX `@misc` entry for the book (plain BibTeX and biblatex both read it)."""
    cff = load() if cff is None else cff
    title = _escape(cff["title"])
    title = re.sub(r"^llmath\b", "{llmath}", title)  # keep the lower case in title-casing styles
    fields = {
        "author": " and ".join(_escape(n) for n in _names(cff)),
        "title": title,
        "year": _year(cff),
        "version": str(cff["version"]),
        "url": cff["url"],
        "howpublished": "\\url{" + cff["url"] + "}",
        "note": f"Version {cff['version']}. Source code: \\url{{{cff['repository-code']}}}",
    }
    width = max(map(len, fields))
    indent = " " * (width + 6)  # continuation lines start under the opening brace's content
    body = ",\n".join(
        textwrap.fill(
            f"  {k.ljust(width)} = {{{v}}}",
            width=80,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for k, v in fields.items()
    )
    return f"@misc{{llmath{_year(cff)},\n{body}\n}}"


def plain(cff: dict[str, Any] | None = None) -> str:
    """The citation as one line of text."""
    cff = load() if cff is None else cff
    authors = "; ".join(
        a.get("name") or f"{a['family-names']}, {a['given-names']}" for a in cff["authors"]
    )
    return f"{authors} ({_year(cff)}). {cff['title']}. Version {cff['version']}. {cff['url']}"


def cite_box(cff: dict[str, Any] | None = None) -> str:
    """The home page's box (Markdown with a little HTML): plain citation, BibTeX, the CFF file."""
    cff = load() if cff is None else cff
    # the version a citer quotes is the package's: a release bumps both or the build fails here
    assert str(cff["version"]) == llmath.__version__, (cff["version"], llmath.__version__)
    repo = cff["repository-code"].rstrip("/")
    return "\n".join(
        [
            '!!! quote "Cite this book"',
            "",
            f"    {html.escape(plain(cff))}",
            "",
            "    ```bibtex",
            *("    " + line for line in bibtex(cff).splitlines()),
            "    ```",
            "",
            f"    Generated from [`CITATION.cff`]({repo}/blob/main/CITATION.cff) when this page was "
            "built; GitHub's *Cite this repository* button reads the same file. Quote the version "
            "shown in the footer of the page you cite.",
        ]
    )
