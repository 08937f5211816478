"""Break one Part 1 function and the chapter that shows it stops.

Every comparison a Part 1 page prints goes through `examples.show.check`, and every sentence
about a computed result is asserted, so a wrong function raises inside the page's blocks, which
markdown-exec turns into a warning and `mkdocs build --strict` into a failure. Here each
function is replaced by a subtly wrong version (through the `llmath` attribute the examples
call) and the page's blocks are run as tests/docs/test_exec_blocks.py runs them.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import llmath
from tests.docs.bookfiles import DOCS, exec_blocks


def _scaled_queries(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda q, k, v, mask=None: f(1.01 * np.asarray(q), k, v, mask)


def _swapped_qk(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda x, wq, wk, wv, wo, **kw: f(x, wk, wq, wv, wo, **kw)


def _reversed(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda p: f(p)[::-1]


def _one_rank_more(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda w, r: f(w, min(r + 1, min(np.shape(w))))


def _shrunk(f: Callable[..., Any]) -> Callable[..., Any]:
    return lambda a, b: 0.999 * f(a, b)


def _bias_scaled(f: Callable[..., Any]) -> Callable[..., Any]:
    def wrong(layers: Any) -> Any:
        w, b = f(layers)
        return w, 1.01 * b

    return wrong


MUTATIONS = [
    ("attention", "scaled_dot_product_attention", _scaled_queries),
    ("attention", "multi_head_attention", _swapped_qk),
    ("eigenvalues", "stationary_distribution", _reversed),
    ("low-rank", "low_rank_approx", _one_rank_more),
    ("vectors", "cosine_similarity", _shrunk),
    ("linear-maps", "compose_affine", _bias_scaled),
]


def _run_page(page: Path) -> None:
    sessions: dict[str | None, dict[str, object]] = {}
    for block in exec_blocks(page):
        namespace = sessions.setdefault(block.session, {"__name__": "__main__"})
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block.code, f"{page.name}:{block.line}", "exec"), namespace)


@pytest.mark.parametrize(("page", "name", "mutate"), MUTATIONS, ids=[m[1] for m in MUTATIONS])
def test_a_wrong_function_stops_its_page(
    page: str, name: str, mutate: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # fresh example modules, so that no result cached before the mutation survives it
    for module in [m for m in sys.modules if m.startswith("examples.linear_algebra")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(llmath, name, mutate(getattr(llmath, name)))
    with pytest.raises(AssertionError):
        _run_page(DOCS / "linear-algebra" / f"{page}.md")
