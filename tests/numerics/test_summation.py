"""Tests for llmath.numerics.summation: errors against math.fsum, and each method's bound."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmath.numerics.summation import kahan_sum, naive_sum, pairwise_sum

U = {"float64": 2.0**-53, "float32": 2.0**-24, "float16": 2.0**-11}


def test_naive_is_left_to_right() -> None:
    x = np.array([1.0, 2.0**-24, 2.0**-24, 2.0**-24, 2.0**-24], dtype=np.float64)
    s = np.float32(0)
    for v in x.astype(np.float32):
        s = np.float32(s + v)
    assert naive_sum(x, dtype="float32") == float(s) == 1.0
    assert pairwise_sum(x, dtype="float32") == 1.0 + 2.0**-22
    assert kahan_sum(x, dtype="float32") == 1.0 + 2.0**-22


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_errors_against_fsum(dtype: str, rng: np.random.Generator) -> None:
    n = 2**16
    x = rng.uniform(0, 1, size=n).astype(dtype).astype(np.float64)  # exact in dtype
    exact = math.fsum(x)
    u = U[dtype]
    bound = {
        "naive": (n - 1) * u,
        "pairwise": math.ceil(math.log2(n)) * u,
        "kahan": 2 * u + n * u * u,
    }
    errs = {
        "naive": abs(naive_sum(x, dtype=dtype) - exact) / exact,
        "pairwise": abs(pairwise_sum(x, dtype=dtype) - exact) / exact,
        "kahan": abs(kahan_sum(x, dtype=dtype) - exact) / exact,
    }
    for k in errs:  # all terms positive: relative error bounds of Higham (2002), ch. 4
        assert errs[k] <= bound[k] * 1.0001, (k, errs[k], bound[k])
    assert errs["kahan"] <= errs["naive"]
    if dtype == "float32":
        assert errs["naive"] > 10 * errs["pairwise"]


def test_pairwise_matches_explicit_recursion(rng: np.random.Generator) -> None:
    x = rng.normal(size=37).astype(np.float16)

    def tree(v: list[np.float16]) -> np.float16:
        level = list(v)
        while len(level) > 1:
            if len(level) % 2:
                level.append(np.float16(0))
            level = [np.float16(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
        return level[0]

    assert pairwise_sum(x.astype(np.float64), dtype="float16") == float(tree(list(x)))


@given(arrays(np.float64, st.integers(1, 60), elements=st.floats(-1e3, 1e3)))
def test_float64_sums_close_to_fsum(x: np.ndarray) -> None:
    exact = math.fsum(x)
    scale = float(np.abs(x).sum())
    n = x.size
    assert abs(kahan_sum(x) - exact) <= (2 * U["float64"] + n * U["float64"] ** 2) * scale + 1e-300
    assert abs(pairwise_sum(x) - exact) <= max(1, math.ceil(math.log2(n))) * U["float64"] * scale
    assert abs(naive_sum(x) - exact) <= max(1, n - 1) * U["float64"] * scale


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="dtype must be"):
        naive_sum([1.0], dtype="float8")
    with pytest.raises(ValueError, match="beyond float16"):
        kahan_sum([1e5], dtype="float16")
    with pytest.raises(ValueError, match="x must have shape"):
        pairwise_sum([[1.0]])
    with pytest.raises(ValueError, match="overflows"):
        naive_sum([6e4, 6e4], dtype="float16")
