"""Results that take long to compute (a training run, a sweep), kept between builds.

`@persistent` stores what a function returns in the book's execution cache, keyed by

* the function's own source and the arguments it was called with,
* the source of every `llmath` and `docs/examples` module its module reaches (the same dependency
  finder the page cache uses, hooks/execcache.py), and the library versions,

so editing the function, or any function it can call, computes it again; anything else reuses the
stored result. The stored value is only ever a copy of what the function returns: a test
(tests/docs/test_cached.py) runs decorated functions afresh and compares. With the cache off
(`LLMATH_BOOK_CACHE=off`, and under CI) the function simply runs.
"""

from __future__ import annotations

import functools
import inspect
import pickle
import sys
from collections.abc import Callable
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
    return execcache.signature([inspect.getsource(fn), call], deps)


def persistent(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a deterministic, expensive function whose result should survive between builds.

    The function must take its randomness as an explicit seed or `Generator` argument (its repr
    is part of the key) and return something picklable.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        root = execcache.cache_root()
        if root is None:
            return fn(*args, **kwargs)
        key = result_key(fn, args, dict(kwargs))
        path = root / "results" / f"{fn.__module__}.{fn.__qualname__}-{key[:32]}.pickle"
        if path.is_file():
            with path.open("rb") as f:
                return pickle.load(f)  # type: ignore[no-any-return]
        result = fn(*args, **kwargs)
        execcache._write_atomic(path, pickle.dumps(result))
        return result

    wrapper.uncached = fn  # type: ignore[attr-defined]
    return wrapper
