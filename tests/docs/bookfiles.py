"""Read the book's Markdown sources without MkDocs: pages, exec blocks and snippet references.

These helpers let the guards in tests/docs check the book independently of the site builder, so
they keep working if the builder changes (MkDocs today, its successor tomorrow).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
if str(ROOT / "hooks") not in sys.path:
    sys.path.insert(0, str(ROOT / "hooks"))
import execcache  # noqa: E402  (the build's own parser: pure Python, no MkDocs)


@dataclass(frozen=True)
class ExecBlock:
    page: Path
    line: int
    session: str | None
    code: str


def pages() -> list[Path]:
    """Every Markdown page of the book (the examples folder holds code, not pages)."""
    return sorted(p for p in DOCS.rglob("*.md") if "examples" not in p.relative_to(DOCS).parts)


def exec_blocks(page: Path) -> list[ExecBlock]:
    """The markdown-exec Python blocks of a page, in order (parsed as the execution cache does)."""
    return [
        ExecBlock(page, f.line, f.attrs.get("session"), f.body)
        for f in execcache.exec_code(page.read_text(encoding="utf-8"))
    ]


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
