"""`examples.cached.persistent`: long results are reused until their code changes, and a fresh
run reproduces what the cache holds."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

MODULE = """
import numpy as np
from examples.cached import persistent
import llmath

CALLS = []

@persistent
def train(steps: int, seed: int) -> dict:
    CALLS.append(steps)
    rng = np.random.default_rng(seed)
    w = rng.normal(size=3)
    for _ in range(steps):
        w = w - 0.1 * llmath.softmax(w)  # BODY
    return {"w": w, "steps": steps}
"""


def _load(folder: Path, source: str) -> object:
    (folder / "slow_example.py").write_text(source, encoding="utf-8")
    sys.modules.pop("slow_example", None)
    importlib.invalidate_caches()
    return importlib.import_module("slow_example")


@pytest.fixture
def module_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LLMATH_BOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LLMATH_RESULTS_CACHE", raising=False)  # the session's, set by conftest
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("slow_example", None)


def test_second_call_is_served_from_the_cache_and_equals_a_fresh_run(module_dir: Path) -> None:
    mod = _load(module_dir, MODULE)
    first = mod.train(5, seed=1)  # type: ignore[attr-defined]
    again = mod.train(5, seed=1)  # type: ignore[attr-defined]
    assert mod.CALLS == [5]  # type: ignore[attr-defined]
    fresh = mod.train.uncached(5, seed=1)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(again["w"], fresh["w"])
    np.testing.assert_array_equal(first["w"], fresh["w"])
    assert list((module_dir / "cache" / "results").glob("slow_example.train-*.pickle"))


def test_other_arguments_or_edited_code_compute_again(module_dir: Path) -> None:
    mod = _load(module_dir, MODULE)
    mod.train(5, seed=1)  # type: ignore[attr-defined]
    mod.train(5, seed=2)  # type: ignore[attr-defined]
    assert mod.CALLS == [5, 5]  # type: ignore[attr-defined]
    edited = _load(module_dir, MODULE.replace("0.1 * llmath", "0.2 * llmath"))
    result = edited.train(5, seed=1)  # type: ignore[attr-defined]
    assert edited.CALLS == [5]  # type: ignore[attr-defined]
    np.testing.assert_array_equal(result["w"], edited.train.uncached(5, seed=1)["w"])  # type: ignore[attr-defined]


def test_cache_off_always_runs(module_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMATH_BOOK_CACHE", "off")
    mod = _load(module_dir, MODULE)
    mod.train(2, seed=0)  # type: ignore[attr-defined]
    mod.train(2, seed=0)  # type: ignore[attr-defined]
    assert mod.CALLS == [2, 2]  # type: ignore[attr-defined]


def test_key_follows_the_llmath_modules_the_code_reaches() -> None:
    from examples.cached import execcache

    deps = {p.relative_to(execcache.ROOT).as_posix() for p in execcache.dependencies(MODULE)}
    assert "src/llmath/attention/softmax.py" in deps
    assert "docs/examples/cached.py" in deps


def test_a_named_results_folder_is_used_even_with_the_page_cache_off(
    module_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMATH_BOOK_CACHE", "off")
    monkeypatch.setenv("LLMATH_RESULTS_CACHE", str(module_dir / "results"))
    mod = _load(module_dir, MODULE)
    first = mod.train(3, seed=0)  # type: ignore[attr-defined]
    again = mod.train(3, seed=0)  # type: ignore[attr-defined]
    assert mod.CALLS == [3]  # type: ignore[attr-defined]
    np.testing.assert_array_equal(first["w"], again["w"])
    assert list((module_dir / "results").glob("slow_example.train-*.pickle"))


def test_editing_a_helper_beside_the_function_computes_again(module_dir: Path) -> None:
    with_helper = (
        MODULE.replace("0.1 * llmath", "step() * llmath") + "\n\ndef step():\n    return 0.1\n"
    )
    mod = _load(module_dir, with_helper)
    before = mod.train(4, seed=3)  # type: ignore[attr-defined]
    edited = _load(module_dir, with_helper.replace("return 0.1", "return 0.3"))
    after = edited.train(4, seed=3)  # type: ignore[attr-defined]
    assert edited.CALLS == [4]  # type: ignore[attr-defined]
    assert not np.array_equal(before["w"], after["w"])
