"""Results that take long to compute (a training run, a sweep), kept between builds.

`@persistent` stores what a function returns in the book's execution cache, keyed by

* the source of the function's module (the function and every helper beside it) and the
  arguments it was called with,
* the source of every `llmath` and `docs/examples` module its module reaches (the same dependency
  finder the page cache uses, hooks/execcache.py), and the library versions,

so editing the function, or any function it can call, computes it again; anything else reuses the
stored result. The stored value is only ever a copy of what the function returns: a test
(tests/docs/test_cached.py) runs decorated functions afresh and compares. With the cache off
(`LLMATH_BOOK_CACHE=off`, and under CI) the function simply runs.

`LLMATH_RESULTS_CACHE=<folder>` keeps these results in that folder whatever the page cache does.
The test suite points it at a folder of its own, new for each session, so the cold builds, the
notebooks and the page tests of one session train each model once, not once each (a lock makes a
second process wait for the first instead of training too).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import inspect
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

_HOOKS = Path(__file__).resolve().parents[2] / "hooks"
if str(_HOOKS) not in sys.path:
    sys.path.insert(0, str(_HOOKS))
import execcache  # noqa: E402  (pure Python: the build's dependency finder)

P = ParamSpec("P")
R = TypeVar("R")


def result_key(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The cache key of one call: function source, arguments, reachable module sources."""
    module = inspect.getmodule(fn)
    module_source = inspect.getsource(module) if module is not None else None
    call = repr(args) + repr(sorted(kwargs.items()))
    deps = execcache.dependencies(module_source)
    # The whole module's source, not only the function's: a helper next to it is part of it too.
    return execcache.signature([module_source or inspect.getsource(fn), call], deps)


def results_dir() -> Path | None:
    """Where results are kept: `LLMATH_RESULTS_CACHE`, else the page cache's `results/`, else None."""
    named = os.environ.get("LLMATH_RESULTS_CACHE", "").strip()
    if named:
        return Path(named).resolve()
    root = execcache.cache_root()
    return None if root is None else root / "results"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path`.lock: one process computes a result, the others wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def persistent(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a deterministic, expensive function whose result should survive between builds.

    The function must take its randomness as an explicit seed or `Generator` argument (its repr
    is part of the key) and return something picklable.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        folder = results_dir()
        if folder is None:
            return fn(*args, **kwargs)
        key = result_key(fn, args, dict(kwargs))
        path = folder / f"{fn.__module__}.{fn.__qualname__}-{key[:32]}.pickle"
        with _locked(path):
            if path.is_file():
                with path.open("rb") as f:
                    return pickle.load(f)  # type: ignore[no-any-return]
            result = fn(*args, **kwargs)
            execcache._write_atomic(path, pickle.dumps(result))
        return result

    wrapper.uncached = fn  # type: ignore[attr-defined]
    return wrapper
