"""Read the book's Markdown sources without MkDocs: pages, exec blocks and snippet references.

These helpers let the guards in tests/docs check the book independently of the site builder, so
they keep working if the builder changes (MkDocs today, its successor tomorrow).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import shlex
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_FENCE_OPEN = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)(?P<attrs>[^\n`]*)$"
)


@dataclass(frozen=True)
class ExecBlock:
    page: Path
    line: int
    session: str | None
    code: str


def pages() -> list[Path]:
    """Every Markdown page of the book (the examples folder holds code, not pages)."""
    return sorted(p for p in DOCS.rglob("*.md") if "examples" not in p.relative_to(DOCS).parts)


def _fences(text: str) -> list[tuple[int, str, str, str]]:
    """Return (line, lang, attrs, dedented body) for every fenced block, at any indentation."""
    lines = text.splitlines()
    out = []
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m["indent"], m["fence"]
        close = re.compile(rf"^{re.escape(indent)}{fence[0]}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        body = "\n".join(
            line[len(indent) :] if line.startswith(indent) else line.lstrip()
            for line in lines[i + 1 : j]
        )
        out.append((i + 1, m["lang"], m["attrs"], textwrap.dedent(body)))
        i = j + 1
    return out


def exec_blocks(page: Path) -> list[ExecBlock]:
    """The markdown-exec Python blocks of a page, in order."""
    blocks = []
    for line, lang, attrs, body in _fences(page.read_text(encoding="utf-8")):
        if lang not in {"python", "py"}:
            continue
        opts = dict(tok.split("=", 1) for tok in shlex.split(attrs) if "=" in tok)
        if opts.get("exec") not in {"on", "true", "1", "yes"}:
            continue
        blocks.append(ExecBlock(page, line, opts.get("session"), body))
    return blocks


_SNIPPET = re.compile(r'^\s*(?:;)?--8<--\s+"(?P<ref>[^"]+)"\s*$', re.MULTILINE)


def snippet_refs(page: Path) -> list[str]:
    """Every `--8<-- "path[:section]"` reference on a page."""
    return _SNIPPET.findall(page.read_text(encoding="utf-8"))


def example_modules() -> list[str]:
    """Dotted names of every module under docs/examples (importable with docs/ on sys.path)."""
    import examples

    return sorted(
        m.name for m in pkgutil.walk_packages(examples.__path__, prefix="examples.") if not m.ispkg
    )


def registered_tables() -> dict[str, object]:
    """Union of every example module's `tables()`; a key defined twice is an error."""
    registry: dict[str, object] = {}
    for name in example_modules():
        module = importlib.import_module(name)
        if not hasattr(module, "tables"):
            continue
        for key, value in module.tables().items():
            if key in registry:
                raise AssertionError(f"table key {key!r} is defined by two example modules")
            registry[key] = value
    return registry
